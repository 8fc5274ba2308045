"""What every spandrel-backed engine shares: loading onto a device, precision, memory, tensors in and out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from retouch.catalog.spandrel import PURPOSE_LABELS, ModelInfo, describe, load_descriptor
from retouch.catalog.speed import Precision, Speed
from retouch.engines.base import Engine
from retouch.engines.memory import free_memory, is_oom
from retouch.engines.speed import tune_module
from retouch.errors import EngineError, InputError
from retouch.recipe import FillParams

#: torch's generators are per process: seeded runs take turns, so two jobs never draw from one sequence
_SEEDED_RUNS = threading.Lock()


@contextmanager
def seeded(seed: int, device: str) -> Iterator[None]:
    """torch's generators (CPU and `device`) seeded for the block and restored after it, for models that draw
    noise at inference (MAT's dropout, GFPGAN's noise injection): a seed reproduces their result."""
    import torch

    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with _SEEDED_RUNS, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def run_dtype(descriptor: Any, device: str, requested: str = "auto") -> Any:
    """`requested` (a catalog entry's `dtype`) unless `auto`: then float16 on CUDA where the architecture allows
    it, else bfloat16 where it allows that and the GPU has it, else float32 (always on the CPU and MPS: their
    half precision is slow or missing for these models)."""
    import torch

    if requested != "auto":
        return getattr(torch, requested)
    if not device.startswith("cuda"):
        return torch.float32
    if descriptor.supports_half:
        return torch.float16
    if descriptor.supports_bfloat16 and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def to_tensor(rgb: np.ndarray, device: str, dtype: Any) -> Any:
    """HxWx3 uint8 -> 1x3xHxW in [0, 1] on `device`."""
    import torch

    tensor = torch.from_numpy(np.require(rgb, requirements=["C", "W"])).to(device)  # copies only read-only arrays
    return tensor.permute(2, 0, 1).unsqueeze(0).to(dtype).div_(255.0)


def mask_tensor(mask: np.ndarray, device: str, dtype: Any) -> Any:
    """HxW uint8 (255 = fill) -> 1x1xHxW of 0 (keep) and 1 (fill)."""
    import torch

    return torch.from_numpy(mask > 0).to(device, dtype)[None, None]


def to_pixels(tensor: Any) -> np.ndarray:
    """1x3xHxW in [0, 1] -> HxWx3 uint8, rounded."""
    import torch

    image = tensor[0].float().clamp(0, 1).mul(255.0).round().to("cpu", torch.uint8)
    return np.ascontiguousarray(image.permute(1, 2, 0).numpy())


class SpandrelModel(Engine):
    """A model file spandrel loads. Cheap to build (the catalog's record says what it is); `load` reads it."""

    needs_weights = True

    def __init__(
        self,
        name: str,
        path: Path | str,
        info: ModelInfo,
        description: str = "",
        *,
        dtype: Precision = "auto",
        speed: Speed | None = None,
    ) -> None:
        self.name = name  # type: ignore[misc]
        self.requested_dtype: Precision = dtype
        self.speed = speed or Speed()
        self.path = Path(path)
        self.info = info
        self.description = description or f"{info.architecture}: {PURPOSE_LABELS[info.purpose]}"  # type: ignore[misc]
        self.descriptor: Any = None
        self.dtype_name = "float32"

    # ------------------------------------------------------------------ what the engine list shows

    def capabilities(self) -> dict[str, Any]:
        caps = super().capabilities()
        caps.update(
            family="spandrel",
            architecture=self.info.architecture,
            purpose=self.info.purpose,
            scale=self.info.scale,
            present=self.path.is_file(),
            source=str(self.path),
            licence=self.info.licence or None,
        )
        return caps

    def version(self) -> str:
        from importlib.metadata import version

        return f"spandrel {version('spandrel')}; {self.info.architecture} {self.path.name}; {self.dtype_name}"

    # ------------------------------------------------------------------ loading

    def load(self, device: str) -> None:
        """Read the weights (safely: see `files`) and put them on `device` in the precision they run best in."""
        if not self.path.is_file():
            raise EngineError(f"model {self.name!r} is not on this machine: file {self.path} does not exist")
        try:
            descriptor = load_descriptor(self.path)
        except InputError as exc:
            raise EngineError(f"model {self.name!r}: {exc.message}") from None
        found = describe(descriptor)
        if (found.architecture, found.purpose, found.scale) != (
            self.info.architecture,
            self.info.purpose,
            self.info.scale,
        ):
            raise EngineError(
                f"model {self.name!r}: {self.path} now holds a {found.architecture} "
                f"({found.purpose}, {found.scale}x), not the {self.info.architecture} it was added as; "
                "add it again"
            )
        dtype = run_dtype(descriptor, device, self.requested_dtype)
        try:
            descriptor.to(device, dtype)
            tune_module(descriptor.model, self.speed)
        except Exception as exc:
            descriptor = None
            free_memory()
            if is_oom(exc):
                raise EngineError(f"model {self.name!r} does not fit in the memory of {device}") from None
            raise
        descriptor.eval()
        self.descriptor = descriptor
        self.device = device
        self.dtype_name = str(dtype).removeprefix("torch.")

    def unload(self) -> None:
        self.descriptor = None
        free_memory()

    def size_bytes(self) -> int:
        if self.descriptor is None:
            return 0
        model = self.descriptor.model
        tensors = list(model.parameters()) + list(model.buffers())
        return sum(t.numel() * t.element_size() for t in tensors)

    def loaded(self) -> Any:
        if self.descriptor is None:
            raise EngineError(f"model {self.name!r} is not loaded")
        return self.descriptor

    @property
    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype_name)

    # ------------------------------------------------------------------ fills

    def check(self, params: FillParams) -> None:
        if self.purpose != "inpainting":
            raise InputError(
                f"model {self.name!r} is a {self.info.architecture} {PURPOSE_LABELS[self.info.purpose]} model"
                f"{f' ({self.info.scale}x)' if self.info.scale > 1 else ''}; it cannot fill a mask"
                + (" (use it with `retouch upscale` or an upscale job)" if self.purpose == "upscaling" else "")
            )
