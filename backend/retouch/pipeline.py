"""The one path every fill takes: check, region, outpaint mask, infill, scale, engine, composite, recipe.

Each stage is a pure function in `retouch.imaging`; this module only strings them together, so the
command line, the server's workers and the tests all run exactly the same code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np

from retouch import __version__
from retouch.engines import Engine, Hooks
from retouch.errors import InputError
from retouch.imaging import composite as comp
from retouch.imaging import infill as inf
from retouch.imaging import mask as msk
from retouch.imaging import scale as scl
from retouch.imaging import seams
from retouch.imaging.io import Picture, encode_png
from retouch.imaging.region import Box, crop, resolve_bbox
from retouch.recipe import FillParams
from retouch.registry import get_engine


@dataclass
class FillResult:
    pixels: np.ndarray  # same size and channels as the input picture
    recipe: dict  # FillParams with the seed and box made concrete, plus provenance
    seed: int
    bbox: Box
    working_size: tuple[int, int]
    exif: bytes | None = None
    icc_profile: bytes | None = None
    filled: np.ndarray | None = None  # the picture-sized mask of what was filled (grown; alpha-0 pixels too)

    @property
    def seam(self) -> float:
        """How visible the fill's boundary is (1 = as natural as the picture around it; see imaging.seams)."""
        return float(self.recipe["seam"]["score"])

    def png(self) -> bytes:
        return encode_png(self.pixels, self.recipe, exif=self.exif, icc_profile=self.icc_profile)


def fill_mask(pixels: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The painted mask joined by every pixel that has no content (alpha 0): outpainting."""
    height, width = pixels.shape[:2]
    if mask is None:
        mask = np.zeros((height, width), np.uint8)
    elif mask.shape != (height, width):
        raise InputError(f"mask is {mask.shape[1]}x{mask.shape[0]} but the image is {width}x{height}; they must match")
    if pixels.shape[2] == 4:
        mask = np.where(pixels[..., 3] == 0, 255, mask).astype(np.uint8)
    return mask


def with_engine_defaults(params: FillParams, engine: Engine) -> FillParams:
    """Fill the settings a request left out (steps, guidance, sampler) with the engine's own defaults.

    FLUX.1 Fill wants guidance 30 and 50 steps where SD wants 7.5 and 30, so a bare request gets what suits
    the model, and the recipe records the values that actually ran (it reproduces even if a default changes).
    """
    if not engine.needs_weights:
        return params
    defaults = engine.capabilities().get("defaults") or {}
    unset = [key for key in ("steps", "guidance") if key in defaults and key not in params.model_fields_set]
    update = {key: defaults[key] for key in unset}
    if params.scheduler is None and defaults.get("scheduler"):
        update["scheduler"] = defaults["scheduler"]
    return params.model_copy(update=update) if update else params


def plan(pixels: np.ndarray, mask: np.ndarray | None, params: FillParams, engine: Engine) -> tuple[np.ndarray, Box]:
    """Stages 1-2, cheap and side-effect free: the grown fill mask and the box, or the `InputError` that
    `fill` would raise for this input. A batch checks every picture with it before writing anything."""
    wanted = msk.grow(fill_mask(pixels, mask), params.grow)
    box = resolve_bbox(params.bbox, wanted, params.padding)
    region_mask = crop(wanted, box)
    if not region_mask.any():
        raise InputError("nothing to fill: the mask is empty inside the box")
    if engine.needs_context and not msk.has_unmasked_block(region_mask):
        raise InputError(
            f"engine {engine.name!r} fills from the unmasked pixels around the hole, but the mask leaves "
            f"no unmasked 3x3 area in the {box[2]}x{box[3]} box; leave more of it unmasked or use a larger box"
        )
    return wanted, box


MODEL_SETTINGS = ("steps", "guidance", "strength", "scheduler", "negative_prompt")


def applied(recipe: dict, engine: Engine, *, empty_pixels: bool) -> dict:
    """`recipe` (the fill's settings) without those that did nothing for this fill, so that a result's PNG
    says what made it: model settings the engine does not use, the prompt for engines without one, the
    infill where the box held no empty pixels, an automatic scale for engines that work at the region's own
    size (the working size is recorded either way), the padding of an automatic box when a box was given."""
    out = dict(recipe)
    for key in MODEL_SETTINGS:
        if key not in engine.parameters:
            out.pop(key, None)
    if not engine.takes_prompt:
        out.pop("prompt", None)
        out.pop("negative_prompt", None)
    if not empty_pixels:
        out.pop("infill", None)
    if engine.native_size is None and out.get("scale", {}).get("mode") == "auto":
        out.pop("scale", None)
    if isinstance(out.get("bbox"), dict):
        out.pop("padding", None)
    return out


def resolve_seed(seed: int) -> int:
    return secrets.randbelow(2**32) if seed < 0 else seed


def fill(
    picture: Picture | np.ndarray,
    mask: np.ndarray | None,
    params: FillParams,
    *,
    engine: Engine | None = None,
    hooks: Hooks | None = None,
) -> FillResult:
    """Fill the masked part of `picture` (HxWx3/4 uint8) as `params` say."""
    if isinstance(picture, np.ndarray):
        picture = Picture(pixels=picture)
    pixels = picture.pixels
    hooks = hooks or Hooks()
    engine = engine or get_engine(params.engine)
    params = with_engine_defaults(params, engine)
    engine.check(params)
    seed = resolve_seed(params.seed)
    rng = np.random.default_rng(seed)

    wanted, box = plan(pixels, mask, params, engine)
    region = crop(pixels, box)
    region_mask = crop(wanted, box)

    rgb = np.ascontiguousarray(region[..., :3])
    empty = region[..., 3] == 0 if region.shape[2] == 4 else np.zeros(region.shape[:2], bool)
    if empty.any():
        rgb = inf.infill(rgb, empty, params.infill, rng)

    size = (box[2], box[3])
    work = scl.working_size(
        size,
        params.scale,
        native_size=engine.native_size,
        grid=engine.grid,
        max_area=engine.max_area,
        max_side=engine.max_side,
    )
    hooks.check()
    produced = engine.fill(scl.resize(rgb, work), scl.resize_mask(region_mask, work), params, seed, hooks)
    produced = scl.resize(produced, size)
    if params.color_match:
        produced = comp.match_colours(produced, rgb, region_mask)

    out = pixels.copy()
    x, y, w, h = box
    if params.tone_match:  # the fill's tone met to the picture's at its edge; its own colours kept inside
        produced = seams.tone_match_fill(rgb, produced, region_mask, params.feather)
    out[y : y + h, x : x + w] = comp.composite(region, produced, region_mask, params.feather)

    recipe = applied(params.model_dump(mode="json"), engine, empty_pixels=bool(empty.any()))
    recipe.update(
        seed=seed,
        bbox={"x": x, "y": y, "width": w, "height": h},
        width=pixels.shape[1],
        height=pixels.shape[0],
        working_size={"width": work[0], "height": work[1]},
        engine_version=engine.version(),
        version=__version__,
        seam=seams.seam_score(out, wanted).as_dict(),
    )
    return FillResult(out, recipe, seed, box, work, picture.exif, picture.icc_profile, wanted)
