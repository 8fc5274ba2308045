"""Which devices this machine has for engines: each CUDA GPU, else Apple's MPS, else the CPU."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Device:
    name: str  # what torch calls it: "cuda:0", "mps", "cpu"
    label: str  # what people call it
    memory_bytes: int  # total memory the device offers models (0 = unknown)


def discover_devices() -> list[Device]:
    """Every usable accelerator, or the CPU alone. Imports torch, so call it at start-up, not at import."""
    import torch

    if torch.cuda.is_available():
        devices = []
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            devices.append(Device(f"cuda:{index}", props.name, int(props.total_memory)))
        return devices
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return [Device("mps", "Apple GPU (MPS)", 0)]
    try:
        import os

        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 0
    return [Device("cpu", "CPU", int(memory))]


def best_device() -> str:
    return discover_devices()[0].name
