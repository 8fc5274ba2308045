"""`fill`: the one primitive as a job: fill the masked part of a picture (see `retouch.pipeline`)."""

from __future__ import annotations

import numpy as np

from retouch.engines import Hooks
from retouch.errors import InputError
from retouch.imaging.io import Picture
from retouch.imaging.seams import has_boundary, seam_score
from retouch.pipeline import fill, plan, with_engine_defaults
from retouch.recipe import BBox, FillParams
from retouch.registry import get_engine
from retouch.workflows import seams
from retouch.workflows.base import Engines, EngineSource, MaskInput, WorkflowResult

kind = "fill"
summary = "Fill the masked part of a picture: the recipe plus which stored pictures to work on."
Params = FillParams
mask_input: MaskInput | None = MaskInput(
    required=False,
    description="Id of the uploaded mask (white = fill), the picture's size or, with a `bbox`, the box's size "
    "(it is then the mask of the box); optional where the picture's transparent pixels say what to fill.",
)


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
    fill_hooks = hooks.part(0, 2, "fill") if params.seam_pass else hooks
    result = fill(picture, place_mask(mask, picture, params), params, engine=engines(params.engine), hooks=fill_hooks)
    x, y, width, height = result.bbox
    recipe = {"kind": kind, **result.recipe}
    pixels = result.pixels
    if params.seam_pass and result.filled is not None and has_boundary(result.filled):
        pass_params = seams.SeamParams(seed=result.seed)
        pixels, _, records = seams.repair(
            pixels, result.filled, pass_params, result.seed, engines, hooks.part(1, 2, "seams")
        )
        recipe["seam_passes"] = {"engine": pass_params.engine, "band": pass_params.band, "passes": records}
        recipe["seam_before_passes"] = recipe["seam"]
        recipe["seam"] = seam_score(pixels, result.filled).as_dict()
    report = {"bbox": {"x": x, "y": y, "width": width, "height": height}, "seam": recipe["seam"]["score"]}
    if "seam_before_passes" in recipe:
        report["seam_before_passes"] = recipe["seam_before_passes"]["score"]
    return WorkflowResult(pixels, recipe, result.seed, report, result.exif, result.icc_profile)
