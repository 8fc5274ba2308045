"""`fill`: the one primitive as a job: fill the masked part of a picture (see `retouch.pipeline`)."""

from __future__ import annotations

import numpy as np

from retouch.engines import Hooks
from retouch.errors import InputError
from retouch.imaging.io import Picture
from retouch.pipeline import fill, plan, with_engine_defaults
from retouch.recipe import BBox, FillParams
from retouch.registry import get_engine
from retouch.workflows.base import Engines, EngineSource, WorkflowResult

kind = "fill"
Params = FillParams
takes_mask = True


def engine_names(params: FillParams) -> list[str]:
    return [params.engine]


def label(params: FillParams) -> str:
    return params.engine


def place_mask(mask: np.ndarray | None, picture: Picture, params: FillParams) -> np.ndarray | None:
    """The mask at the picture's size. A mask the size of a given box is the mask of that box (the canvas
    sends only the crop it painted); any other size must be the picture's."""
    if mask is None:
        return None
    width, height = picture.size
    box = params.bbox
    if mask.shape == (height, width) or not isinstance(box, BBox) or mask.shape != (box.height, box.width):
        return mask
    if box.x + box.width > width or box.y + box.height > height:
        return mask  # plan() refuses the box with a message naming it
    full = np.zeros((height, width), np.uint8)
    full[box.y : box.y + box.height, box.x : box.x + box.width] = mask
    return full


def check(picture: Picture, mask: np.ndarray | None, params: FillParams, engines: Engines) -> None:
    if mask is None and not picture.has_alpha:
        raise InputError("mask: is required when the image has no transparent pixels to fill")
    engine = get_engine(params.engine, engines)
    params = with_engine_defaults(params, engine)
    engine.check(params)
    plan(picture.pixels, place_mask(mask, picture, params), params, engine)


def run(
    picture: Picture, mask: np.ndarray | None, params: FillParams, engines: EngineSource, hooks: Hooks
) -> WorkflowResult:
    if mask is None and not picture.has_alpha:
        raise InputError("a fill needs a mask, or transparent pixels to fill")
    result = fill(picture, place_mask(mask, picture, params), params, engine=engines(params.engine), hooks=hooks)
    x, y, width, height = result.bbox
    report = {"bbox": {"x": x, "y": y, "width": width, "height": height}}
    return WorkflowResult(
        result.pixels, {"kind": kind, **result.recipe}, result.seed, report, result.exif, result.icc_profile
    )
