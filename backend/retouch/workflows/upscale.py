"""`upscale`: the whole picture at `scale` times its size, before inpainting it for finer detail.

`lanczos` needs no weights. Upscaling models (ESRGAN, Real-ESRGAN, Compact, SwinIR, ... through spandrel) run at
their own factor tile by tile (`retouch.imaging.tiles`: bounded memory, no seams, smaller tiles on running out of
GPU memory) and are resized to the factor asked for; transparency is resized with Lanczos. Everything a request
could get wrong (a model that does not upscale, a factor above the model's, a result over the pixel limit) is
refused by `check`, before any work.
"""

from __future__ import annotations

import cv2
import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from retouch.engines import Engine, Hooks
from retouch.engines.upscaling import UpscaleEngine, upscaled_size
from retouch.errors import InputError
from retouch.imaging.io import DEFAULT_MAX_PIXELS, Picture
from retouch.imaging.tiles import min_tile
from retouch.recipe import Strict
from retouch.registry import get_engine
from retouch.workflows.base import Engines, EngineSource, MaskInput, WorkflowResult

kind = "upscale"
summary = "Scale a whole picture up (e.g. before inpainting it for finer detail)."
mask_input: MaskInput | None = None
LANCZOS = "lanczos"
LANCZOS_SCALE = 2.0  # lanczos's factor when a request gives none


class UpscaleParams(Strict):
    """Scale the picture up by `scale` with a model or Lanczos resampling."""

    model: str = Field(LANCZOS, min_length=1, max_length=200, description="Upscaling model, or `lanczos`.")
    scale: float | None = Field(
        None,
        ge=1.0,
        le=8.0,
        description="How many times larger each side becomes; null = the model's own factor (2 for `lanczos`). "
        "A model runs at its own factor and the result is resized to this one, so it may not exceed it.",
    )
    tile: int = Field(
        512,
        ge=64,
        le=4096,
        description="Side of the square tiles a model runs on, in input pixels: bounds its memory. Halved for the "
        "rest of the picture when a GPU runs out of memory.",
    )
    overlap: int = Field(
        32,
        ge=0,
        le=256,
        description="Context in pixels around each tile, run and then cut away, so tiles leave no seams.",
    )
    max_pixels: int = Field(
        DEFAULT_MAX_PIXELS, ge=64, le=DEFAULT_MAX_PIXELS, description="Refuse results with more pixels than this."
    )

    @field_validator("overlap")
    @classmethod
    def _tile_holds_its_overlap(cls, overlap: int, info: ValidationInfo) -> int:
        tile = info.data.get("tile")
        if tile is not None and tile < min_tile(overlap):
            raise ValueError(f"overlap {overlap} needs tiles of at least {min_tile(overlap)} px, got tile {tile}")
        return overlap


Params = UpscaleParams


def engine_names(params: UpscaleParams) -> list[str]:
    return [] if params.model == LANCZOS else [params.model]


def label(params: UpscaleParams) -> str:
    return params.model


def _upscalers(engines: Engines) -> list[str]:
    return [LANCZOS] + sorted(name for name, factory in engines.items() if factory().purpose == "upscaling")


def resolve(picture: Picture, params: UpscaleParams, engine: Engine | None, engines: Engines) -> float:
    """The factor the job runs at, or the `InputError` for a request that cannot run. Cheap: `engine` is
    unloaded in `check` and loaded in `run`; nothing is computed on pixels."""
    factor = params.scale
    if engine is not None:
        if not isinstance(engine, UpscaleEngine) or engine.purpose != "upscaling":
            what = engine.capabilities().get("architecture") or engine.name
            raise InputError(
                f"model: {params.model!r} ({what}) is for {engine.purpose}; it does not upscale. "
                f"Upscalers here: {', '.join(_upscalers(engines)) if engines else LANCZOS}"
            )
        native = engine.scale or 1
        factor = float(native) if factor is None else factor
        if factor > native:
            raise InputError(
                f"scale: {factor:g} is more than the {native}x model {params.model!r} makes; ask for at most {native} "
                "(or use lanczos)"
            )
    factor = LANCZOS_SCALE if factor is None else factor
    width, height = upscaled_size(picture.size, factor)
    if width * height > params.max_pixels:
        raise InputError(
            f"scale: {factor:g} makes the {picture.size[0]}x{picture.size[1]} picture {width}x{height} = "
            f"{width * height} pixels, over the limit of {params.max_pixels}"
        )
    return factor


def check(picture: Picture, mask: np.ndarray | None, params: UpscaleParams, engines: Engines) -> None:
    if params.model != LANCZOS and params.model not in engines:
        raise InputError(f"model: {params.model!r} is unknown; upscalers here: {', '.join(_upscalers(engines))}")
    engine = None if params.model == LANCZOS else get_engine(params.model, engines)
    resolve(picture, params, engine, engines)


def run(
    picture: Picture, mask: np.ndarray | None, params: UpscaleParams, engines: EngineSource, hooks: Hooks
) -> WorkflowResult:
    engine = None if params.model == LANCZOS else engines(params.model)
    factor = resolve(picture, params, engine, {})
    size = upscaled_size(picture.size, factor)
    hooks.check()
    recipe: dict = {"kind": kind, **params.model_dump(mode="json"), "scale": factor}
    if isinstance(engine, UpscaleEngine):
        upscaled = engine.upscale(picture.pixels[..., :3], factor, hooks, tile=params.tile, overlap=params.overlap)
        pixels = upscaled.pixels
        if picture.has_alpha:
            alpha = cv2.resize(picture.pixels[..., 3], size, interpolation=cv2.INTER_LANCZOS4)
            pixels = np.dstack([pixels, alpha])
        recipe.update(upscaled.details, engine_version=engine.version())
        report = {"tiles": upscaled.details.get("tiles"), "tile": upscaled.details.get("tile")}
    else:
        pixels = cv2.resize(picture.pixels, size, interpolation=cv2.INTER_LANCZOS4)
        hooks.step(1, 1)
        recipe.update(engine_version=f"opencv {cv2.__version__} lanczos")
        report = {}
    recipe.update(width=size[0], height=size[1], source_width=picture.size[0], source_height=picture.size[1])
    report.update(width=size[0], height=size[1], scale=factor)
    return WorkflowResult(np.ascontiguousarray(pixels), recipe, None, report, picture.exif, picture.icc_profile)
