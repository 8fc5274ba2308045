"""Spandrel model files (LaMa, MAT, upscalers, face restorers): read without running code from them, and
what each model is for, for the catalog (`retouch models add`) and the engines that load them.

`.safetensors` files hold only tensors. Pickled checkpoints (`.pth`, `.ckpt`, `.pt`) are read with
`torch.load(weights_only=True)`, which rebuilds tensors and plain containers and refuses every other global
before constructing it, so a file carrying code is refused without the code running. TorchScript archives
(IOPaint's `big-lama.pt`) give their tensors through `catalog.torchscript`, which never runs their program. The state dict then goes
to spandrel's `ModelLoader.load_from_state_dict`, which detects the architecture and its hyperparameters.

MAT, CodeFormer and other architectures under non-commercial licences live in the optional package
`spandrel_extra_arches`; when it is installed they join spandrel's registry on first use.
"""

from __future__ import annotations

import pickle
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from retouch.catalog.torchscript import is_torchscript, lama_state_dict, read_torchscript_tensors
from retouch.errors import InputError

WEIGHT_SUFFIXES = (".safetensors", ".pth", ".ckpt", ".pt")
PICKLE_SUFFIXES = (".pth", ".ckpt", ".pt")

Purpose = Literal["inpainting", "upscaling", "face-restoration", "restoration"]
#: spandrel's purposes, as Retouch names them
PURPOSES: dict[str, Purpose] = {
    "Inpainting": "inpainting",
    "SR": "upscaling",
    "FaceSR": "face-restoration",
    "Restoration": "restoration",
}
#: what Retouch runs spandrel models for (1x restoration models have no use here)
USABLE_PURPOSES: tuple[str, ...] = ("inpainting", "upscaling", "face-restoration")
PURPOSE_LABELS: dict[str, str] = {
    "inpainting": "object removal (inpainting, no prompt)",
    "upscaling": "upscaling",
    "face-restoration": "face restoration",
    "restoration": "restoration (denoise, deblur, JPEG artefacts)",
}

#: Side of the square face crops face restorers were trained on (GFPGAN, RestoreFormer(++), CodeFormer: 512).
FACE_SIZE = 512

EXTRA_ARCHES_PACKAGE = "spandrel_extra_arches"
#: Licences of the architectures spandrel_extra_arches carries that people use for Retouch's purposes.
EXTRA_LICENCES: dict[str, str] = {
    "MAT": "CC BY-NC 4.0 (non-commercial)",
    "CodeFormer": "S-Lab License 1.0 (non-commercial)",
}
EXTRA_NOTE = (
    f"architecture from {EXTRA_ARCHES_PACKAGE}, whose architectures carry non-commercial or copyleft "
    "licences; review them before commercial use"
)

_extra_installed: bool | None = None


def extra_arches_available() -> bool:
    """Add spandrel_extra_arches' architectures to spandrel's registry (once); False when it is not installed."""
    global _extra_installed
    if _extra_installed is None:
        try:
            import spandrel_extra_arches
        except ImportError:
            _extra_installed = False
        else:
            spandrel_extra_arches.install(ignore_duplicates=True)
            _extra_installed = True
    return _extra_installed


def licence_note(architecture: str) -> str:
    """What a user should know about an architecture's licence ("" for spandrel's own, permissive ones)."""
    if not extra_arches_available():
        return ""
    from spandrel_extra_arches import EXTRA_REGISTRY

    if architecture not in EXTRA_REGISTRY:
        return ""
    licence = EXTRA_LICENCES.get(architecture)
    return f"{licence}; {EXTRA_NOTE}" if licence else EXTRA_NOTE


def read_state_dict(path: Path) -> dict[str, Any]:
    """The tensors of a model file, read on the CPU without running any code the file might carry."""
    where = repr(str(path))
    suffix = path.suffix.lower()
    if suffix not in WEIGHT_SUFFIXES:
        raise InputError(f"{where} is not a model file Retouch reads ({', '.join(WEIGHT_SUFFIXES)})")
    if not path.is_file():
        raise InputError(f"{where} does not exist")
    if suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            state = load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as exc:
            raise InputError(f"{where} is not a valid .safetensors file ({_first_line(exc)})") from None
    else:
        state = _load_pickle(path)
    from spandrel import canonicalize_state_dict

    if not isinstance(state, dict) or not state:
        raise InputError(f"{where} holds no state dict (a mapping of tensor names to tensors)")
    state = canonicalize_state_dict(state)
    import torch

    if not any(isinstance(value, torch.Tensor) for value in state.values()):
        raise InputError(f"{where} holds no tensors")
    return state


def _load_pickle(path: Path) -> Any:
    import torch

    where = repr(str(path))
    try:
        if is_torchscript(path):  # IOPaint's big-lama.pt: its tensors, read without running its program
            return lama_state_dict(read_torchscript_tensors(path))
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except InputError:
        raise
    except pickle.UnpicklingError as exc:
        # weights_only refuses any global other than tensors and plain containers, before constructing it
        raise InputError(
            f"{where} is a pickle that needs more than tensors to load ({_refused_global(exc)}); Retouch does not "
            "run code from model files. Use a .safetensors file, or a .pth that holds only a state dict"
        ) from None
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise InputError(f"{where} cannot be read as a PyTorch checkpoint ({_first_line(exc)})") from None


def _refused_global(exc: BaseException) -> str:
    text = str(exc)
    for line in text.splitlines():
        if "Unsupported global" in line or "GLOBAL" in line:
            return line.strip().rstrip(".")[:200]
    return _first_line(exc)


def load_descriptor(path: Path) -> Any:
    """spandrel's model descriptor for a file, on the CPU in float32; `InputError` for what spandrel does not know."""
    from spandrel import ModelLoader, UnsupportedModelError

    state = read_state_dict(path)
    extra = extra_arches_available()
    try:
        return ModelLoader("cpu").load_from_state_dict(state)
    except UnsupportedModelError:
        hint = "" if extra else f" (MAT, CodeFormer and others need `pip install {EXTRA_ARCHES_PACKAGE}`)"
        raise InputError(f"{str(path)!r} is not a model architecture spandrel knows{hint}") from None
    except (RuntimeError, KeyError, ValueError, IndexError, AssertionError) as exc:  # tensors that do not fit it
        raise InputError(f"{str(path)!r} could not be loaded by spandrel: {_first_line(exc)}") from None


@dataclass(frozen=True)
class ModelInfo:
    """What `retouch models add` records about a spandrel model."""

    architecture: str  # spandrel's id, e.g. "LaMa", "ESRGAN", "RestoreFormer"
    purpose: Purpose
    scale: int  # output size / input size (1 except for upscalers)
    parameters: int
    size_bytes: int  # weights in memory at float32
    supports_half: bool
    supports_bfloat16: bool
    native_size: int | None  # face restorers' crop side; MAT's square
    licence: str  # "" for spandrel's own architectures

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def native_size_of(descriptor: Any, purpose: str) -> int | None:
    """The square side a model works on: face restorers' crops, MAT's 512; None where any size works."""
    required = descriptor.size_requirements
    if purpose == "face-restoration":
        return max(FACE_SIZE, required.minimum)
    if required.square and required.minimum:
        return required.minimum
    return None


def describe(descriptor: Any) -> ModelInfo:
    purpose = PURPOSES.get(descriptor.purpose)
    if purpose is None:  # pragma: no cover - spandrel's purposes are a closed list
        raise InputError(f"spandrel model of purpose {descriptor.purpose!r} has no use in Retouch")
    model = descriptor.model
    tensors = list(model.parameters()) + list(model.buffers())
    architecture = str(descriptor.architecture.id)
    return ModelInfo(
        architecture=architecture,
        purpose=purpose,
        scale=int(descriptor.scale),
        parameters=sum(t.numel() for t in model.parameters()),
        size_bytes=sum(t.numel() * 4 if t.is_floating_point() else t.numel() * t.element_size() for t in tensors),
        supports_half=bool(descriptor.supports_half),
        supports_bfloat16=bool(descriptor.supports_bfloat16),
        native_size=native_size_of(descriptor, purpose),
        licence=licence_note(architecture),
    )


def check_usable(info: ModelInfo, where: str) -> None:
    """Refuse models Retouch has no use for (1x restoration models: denoisers, deblurrers)."""
    if info.purpose not in USABLE_PURPOSES:
        raise InputError(
            f"{where} is a {info.architecture} {PURPOSE_LABELS[info.purpose]} model; Retouch uses spandrel models "
            "for inpainting, upscaling and face restoration"
        )


def inspect_file(path: Path) -> ModelInfo:
    """Load a model file on the CPU (safely) and say what it is. For `retouch models add`."""
    return describe(load_descriptor(path))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
