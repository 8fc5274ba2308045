"""Models that load through spandrel (the library ComfyUI, InvokeAI and chaiNNer use): LaMa and MAT object
removal, upscalers, face restorers. No architecture is written here; spandrel detects each from its weights.

`inspect_file(path)` says what a model file is (read safely: see `files`); `spandrel_engine` builds the engine
for a registered model: an inpainting `Engine` for the pipeline, an upscaler, or a face restorer.
"""

from __future__ import annotations

from pathlib import Path

from retouch.engines.spandrel.faces import FaceRestorer
from retouch.engines.spandrel.files import (
    EXTRA_ARCHES_PACKAGE,
    PICKLE_SUFFIXES,
    PURPOSE_LABELS,
    WEIGHT_SUFFIXES,
    ModelInfo,
    inspect_file,
)
from retouch.engines.spandrel.inpaint import SpandrelInpainter
from retouch.engines.spandrel.model import SpandrelModel
from retouch.engines.spandrel.upscale import SpandrelUpscaler
from retouch.errors import InputError

ENGINE_CLASSES: dict[str, type[SpandrelModel]] = {
    "inpainting": SpandrelInpainter,
    "upscaling": SpandrelUpscaler,
    "face-restoration": FaceRestorer,
}


def check_usable(info: ModelInfo, where: str) -> None:
    """Refuse models Retouch has no use for (1x restoration models: denoisers, deblurrers)."""
    if info.purpose not in ENGINE_CLASSES:
        raise InputError(
            f"{where} is a {info.architecture} {PURPOSE_LABELS[info.purpose]} model; Retouch uses spandrel models "
            "for inpainting, upscaling and face restoration"
        )


def spandrel_engine(name: str, path: Path | str, info: ModelInfo, description: str = "") -> SpandrelModel:
    """The (unloaded) engine for a registered spandrel model."""
    check_usable(info, f"model {name!r}")
    return ENGINE_CLASSES[info.purpose](name, path, info, description)


__all__ = [
    "ENGINE_CLASSES",
    "EXTRA_ARCHES_PACKAGE",
    "PICKLE_SUFFIXES",
    "WEIGHT_SUFFIXES",
    "FaceRestorer",
    "ModelInfo",
    "SpandrelInpainter",
    "SpandrelModel",
    "SpandrelUpscaler",
    "check_usable",
    "inspect_file",
    "spandrel_engine",
]
