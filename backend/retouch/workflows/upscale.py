"""`upscale`: the whole picture at `scale` times its size, before inpainting it for finer detail.

`lanczos` needs no weights; upscaling models (ESRGAN and its kin, through spandrel) join as engines.
"""

from __future__ import annotations

import cv2
import numpy as np
from pydantic import Field

from retouch.engines import Hooks
from retouch.errors import InputError
from retouch.imaging.io import DEFAULT_MAX_PIXELS, Picture
from retouch.recipe import Strict
from retouch.workflows.base import Engines, EngineSource, WorkflowResult

kind = "upscale"
takes_mask = False
LANCZOS = "lanczos"


class UpscaleParams(Strict):
    """Scale the picture up by `scale` with a model or Lanczos resampling."""

    model: str = Field(LANCZOS, min_length=1, max_length=200, description="Upscaling model, or `lanczos`.")
    scale: float = Field(2.0, ge=1.0, le=8.0, description="How many times larger each side becomes.")
    max_pixels: int = Field(
        DEFAULT_MAX_PIXELS, ge=64, le=DEFAULT_MAX_PIXELS, description="Refuse results with more pixels than this."
    )


Params = UpscaleParams


def engine_names(params: UpscaleParams) -> list[str]:
    return [] if params.model == LANCZOS else [params.model]


def label(params: UpscaleParams) -> str:
    return params.model


def output_size(picture: Picture, params: UpscaleParams) -> tuple[int, int]:
    width, height = picture.size
    return max(1, round(width * params.scale)), max(1, round(height * params.scale))


def check(picture: Picture, mask: np.ndarray | None, params: UpscaleParams, engines: Engines) -> None:
    if params.model != LANCZOS:
        raise InputError(f"model: {params.model!r} is not an upscaler on this server; available: {LANCZOS}")
    width, height = output_size(picture, params)
    if width * height > params.max_pixels:
        raise InputError(
            f"scale: {params.scale} makes the {picture.size[0]}x{picture.size[1]} picture {width}x{height} = "
            f"{width * height} pixels, over the limit of {params.max_pixels}"
        )


def run(
    picture: Picture, mask: np.ndarray | None, params: UpscaleParams, engines: EngineSource, hooks: Hooks
) -> WorkflowResult:
    check(picture, mask, params, {})
    hooks.check()
    size = output_size(picture, params)
    pixels = np.ascontiguousarray(cv2.resize(picture.pixels, size, interpolation=cv2.INTER_LANCZOS4))
    hooks.step(1, 1)
    recipe = {"kind": kind, **params.model_dump(mode="json"), "width": size[0], "height": size[1]}
    report = {"width": size[0], "height": size[1]}
    return WorkflowResult(pixels, recipe, None, report, picture.exif, picture.icc_profile)
