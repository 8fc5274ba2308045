"""`seams`: find how visible the boundary of an earlier fill is, repair the band around it, repeat.

Each pass repairs the band (pixels within `band` px of the boundary) and scores the boundary again
(`retouch.imaging.seams`); passes go on while the score is above the target and the last pass lowered it.
A pass that does not lower the score is dropped. Engines: `poisson` (a gradient-domain blend over the
band, no weights, the default) or any fill engine (telea and navier-stokes for narrow bands, a diffusion
model at low strength), which refills the band through `retouch.pipeline.fill` and is faded in towards
the band's edges. Only the band changes: every pixel farther from the boundary keeps its exact value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from retouch import __version__
from retouch.engines import Hooks
from retouch.errors import InputError
from retouch.imaging import seams
from retouch.imaging.io import Picture
from retouch.pipeline import fill, plan, resolve_seed, with_engine_defaults
from retouch.recipe import SEED_MAX, FillParams, Strict
from retouch.registry import get_engine
from retouch.workflows.base import Engines, EngineSource, MaskInput, WorkflowResult

kind = "seams"
summary = "Repair the seam along the boundary of a mask (an earlier fill's), pass by pass, scoring each pass."
mask_input: MaskInput | None = MaskInput(
    required=True,
    description="Id of the uploaded mask, the picture's size: the region an earlier fill filled (white), whose "
    "edge is the seam to repair, or (with `painted`) a stroke painted over the seam.",
)
POISSON = "poisson"


class SeamParams(Strict):
    """Repair the seam along the boundary of a mask: an earlier fill's mask, or a region painted up to a seam."""

    engine: str = Field(
        POISSON,
        min_length=1,
        max_length=200,
        description="`poisson` (gradient-domain blend over the band, no weights), or a fill engine or model "
        "that refills the band (telea / navier-stokes for narrow bands, a diffusion model at low strength).",
    )
    painted: bool = Field(
        False,
        description="false: the mask is the region an earlier fill filled, and its edge is the seam; true: the mask "
        "is a stroke painted over the seam, which runs along its middle, and only the stroke may change.",
    )
    band: int = Field(
        8, ge=1, le=256, description="Pixels on each side of the boundary that a pass may change (not painted)."
    )
    passes: int = Field(3, ge=1, le=20, description="Most passes; they stop early once the target is met.")
    target: float = Field(
        1.1, ge=0.5, le=10, description="Stop once the seam score is at or below this (1 = as natural as around)."
    )
    strength: float = Field(
        0.4, ge=0.05, le=1, description="How much a diffusion model may change the band (diffusion engines)."
    )
    prompt: str = Field("", max_length=4000, description="What the band shows (diffusion engines).")
    seed: int = Field(-1, ge=-1, le=SEED_MAX, description="Random seed; -1 picks one (the one used is reported).")


Params = SeamParams


def engine_names(params: SeamParams) -> list[str]:
    return [] if params.engine == POISSON else [params.engine]


def label(params: SeamParams) -> str:
    return params.engine


def band_fill_params(params: SeamParams, seed: int) -> FillParams:
    """How an engine pass refills the band: exactly the band (no grow, no feather: the band's fade is ours),
    in a box around it with room for context, at the engine's working size."""
    return FillParams(
        engine=params.engine,
        bbox="auto",
        padding=max(16, params.band * 2),
        grow=0,
        feather=0,
        seed=seed,
        prompt=params.prompt,
        strength=params.strength,
    )


def widest_band(shape: tuple[int, ...]) -> int:
    """The widest band a picture allows: both sides of a boundary together fit in its shorter side."""
    return max(1, (min(shape[:2]) - 1) // 2)


def check(picture: Picture, mask: np.ndarray | None, params: SeamParams, engines: Engines) -> None:
    mask = check_mask(picture, mask, params)
    if params.engine == POISSON:
        return
    engine = get_engine(params.engine, engines)
    fill_params = with_engine_defaults(band_fill_params(params, 0), engine)
    engine.check(fill_params)
    plan(picture.pixels[..., :3], repair_region(mask, params), fill_params, engine)


def repair_region(mask: np.ndarray, params: SeamParams) -> np.ndarray:
    """What a pass may change: the painted stroke itself, or the band around the fill's edge."""
    return mask if params.painted else seams.band_mask(mask, params.band)


def check_mask(picture: Picture, mask: np.ndarray | None, params: SeamParams) -> np.ndarray:
    """The mask, or the `InputError` for one with no boundary to repair or too narrow for the band."""
    width, height = picture.size
    if mask is None:
        raise InputError("mask: is required: the mask of an earlier fill, or (painted) a stroke over the seam")
    if mask.shape != (height, width):
        raise InputError(f"mask: is {mask.shape[1]}x{mask.shape[0]} but the image is {width}x{height}; they must match")
    if not seams.has_boundary(mask):
        what = "empty" if not mask.any() else "the whole picture"
        raise InputError(f"mask: has no boundary to repair (it is {what}); send the mask of the fill whose edge shows")
    widest = widest_band(mask.shape)
    if not params.painted and params.band > widest:
        raise InputError(
            f"band: {params.band} px is wider than the {width}x{height} picture allows (at most {widest} px)"
        )
    return mask


def repair(
    pixels: np.ndarray, mask: np.ndarray, params: SeamParams, seed: int, engines: EngineSource, hooks: Hooks
) -> tuple[np.ndarray, seams.SeamScore, list[dict[str, Any]]]:
    """The passes: (the repaired pixels, the boundary's score before any pass, one record per pass run)."""
    first = score = seams.seam_score(pixels, mask, painted=params.painted)
    engine = None if params.engine == POISSON else engines(params.engine)
    band = repair_region(mask, params) if engine is not None else None
    records: list[dict[str, Any]] = []
    for index in range(params.passes):
        if score.score <= params.target:
            break
        part = hooks.part(index, params.passes, f"pass {index + 1} of {params.passes}")
        if engine is None and params.painted:
            candidate = seams.poisson_stroke(pixels, mask)
        elif engine is None:
            candidate = seams.poisson_blend(pixels, mask, params.band)
        else:
            refilled = fill(
                np.ascontiguousarray(pixels[..., :3]), band, band_fill_params(params, (seed + index) % (SEED_MAX + 1)),
                engine=engine, hooks=part,
            )  # fmt: skip
            if params.painted:
                candidate = seams.blend_stroke(pixels, refilled.pixels, mask)
            else:
                candidate = seams.blend_band(pixels, refilled.pixels, mask, params.band)
        after = seams.seam_score(candidate, mask, painted=params.painted)
        kept = after.score < score.score
        records.append({"pass": index + 1, "score": round(after.score, 3), "kept": kept})
        part.on_step(1, 1, None, f"seam {score.score:.2f} → {after.score:.2f}" + ("" if kept else " (dropped)"))
        hooks.check()
        if not kept:
            break
        pixels, score = candidate, after
    return pixels, first, records


def run(
    picture: Picture, mask: np.ndarray | None, params: SeamParams, engines: EngineSource, hooks: Hooks
) -> WorkflowResult:
    mask = check_mask(picture, mask, params)  # the engine's own checks run in pipeline.fill
    seed = resolve_seed(params.seed)
    pixels, before, records = repair(picture.pixels, mask, params, seed, engines, hooks)
    after = seams.seam_score(pixels, mask, painted=params.painted)
    height, width = pixels.shape[:2]
    recipe = {
        "kind": kind,
        **params.model_dump(mode="json"),
        "seed": seed,
        "width": width,
        "height": height,
        "seam_before": before.as_dict(),
        "seam": after.as_dict(),
        "pass_scores": records,
        "version": __version__,
    }
    report = {"seam_before": round(before.score, 3), "seam": round(after.score, 3), "passes": records}
    return WorkflowResult(pixels, recipe, seed, report, picture.exif, picture.icc_profile)
