"""Models that load through spandrel (the library ComfyUI, InvokeAI and chaiNNer use): LaMa and MAT object
removal, upscalers, face restorers. No architecture is written here; spandrel detects each from its weights.

`inspect_file(path)` says what a model file is (read safely: see `retouch.catalog.spandrel`); `spandrel_engine` builds the engine
for a registered model: an inpainting `Engine` for the pipeline, an upscaler, or a face restorer.
"""

from __future__ import annotations

from pathlib import Path

from retouch.catalog.spandrel import ModelInfo, check_usable, inspect_file
from retouch.catalog.speed import Precision, Speed
from retouch.engines.spandrel.faces import FaceRestorer
from retouch.engines.spandrel.inpaint import SpandrelInpainter
from retouch.engines.spandrel.model import SpandrelModel
from retouch.engines.spandrel.upscale import SpandrelUpscaler

ENGINE_CLASSES: dict[str, type[SpandrelModel]] = {
    "inpainting": SpandrelInpainter,
    "upscaling": SpandrelUpscaler,
    "face-restoration": FaceRestorer,
}


def spandrel_engine(
    name: str,
    path: Path | str,
    info: ModelInfo,
    description: str = "",
    *,
    dtype: Precision = "auto",
    speed: Speed | None = None,
) -> SpandrelModel:
    """The (unloaded) engine for a registered spandrel model, with its entry's precision and speed options."""
    check_usable(info, f"model {name!r}")
    return ENGINE_CLASSES[info.purpose](name, path, info, description, dtype=dtype, speed=speed)


__all__ = [
    "ENGINE_CLASSES",
    "FaceRestorer",
    "ModelInfo",
    "SpandrelInpainter",
    "SpandrelModel",
    "SpandrelUpscaler",
    "check_usable",
    "inspect_file",
    "spandrel_engine",
]
