"""`seams`: find how visible the boundary of an earlier fill is, repair it, repeat.

Each round runs two steps along the fill's edge, each scored (`retouch.imaging.seams`, with references
beyond the band) and kept only if it lowers the score: the fill's tone matched to its surroundings over the
whole region, with the band (pixels within `band` px of the boundary) blended; then the band re-synthesised
where the picture's structure breaks (PatchMatch for the default `poisson`, else the chosen fill engine:
telea and navier-stokes for narrow bands, a diffusion model at low strength, through
`retouch.pipeline.fill`, faded in towards the band's edges). Rounds go on while the score is above the target
and a step of the last round was kept. Only the region and the band outside it change: every pixel outside
the region farther from the boundary than the band keeps its exact value. A painted seam changes only the
stroke.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from retouch import __version__
from retouch.engines import Engine, Hooks
from retouch.errors import InputError
from retouch.imaging import seams
from retouch.imaging.io import Picture
from retouch.imaging.patchmatch import patchmatch_fill
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
    passes: int = Field(
        3,
        ge=1,
        le=20,
        description="Most rounds (each: the fill's tone, then its broken structure; a painted seam: one pass); "
        "they stop once the target is met or a round keeps nothing.",
    )
    target: float = Field(
        0.9, ge=0.5, le=10, description="Stop once the seam score is at or below this (1 = as natural as around)."
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
    """The passes: (the repaired pixels, the boundary's score before any pass, one record per pass run).

    Along a fill's edge each round runs two steps, each kept only if it lowers the score: `tone` (the whole
    region's tone matched to its surroundings, then the band blended) and `structure` (the band re-synthesised
    where the picture's structure breaks: PatchMatch for `poisson`, else the engine, then blended in).
    Rounds go on while the score is above the target and some step of the last round was kept.
    """
    band = params.band
    painted = params.painted

    def score_of(picture: np.ndarray) -> seams.SeamScore:
        return seams.seam_score(picture, mask, painted=painted, band=band)

    first = score = score_of(pixels)
    engine = None if params.engine == POISSON else engines(params.engine)
    steps = ["stroke"] if painted else ["tone", "structure"]
    records: list[dict[str, Any]] = []
    total = params.passes * len(steps)
    for _ in range(params.passes):
        kept_any = False
        for step in steps:
            if score.score <= params.target:
                break
            index = len(records)
            part = hooks.part(index, total, f"pass {index + 1} of {total}")
            seed_now = (seed + index) % (SEED_MAX + 1)
            candidate = _step(step, pixels, mask, params, seed_now, engine, part)
            if candidate is None:  # nothing to re-synthesise: the structure already continues
                continue
            after = score_of(candidate)
            kept = after.score < score.score
            records.append({"pass": index + 1, "step": step, "score": round(after.score, 3), "kept": kept})
            part.on_step(1, 1, None, f"seam {score.score:.2f} → {after.score:.2f}" + ("" if kept else " (dropped)"))
            hooks.check()
            if kept:
                pixels, score, kept_any = candidate, after, True
        if not kept_any or score.score <= params.target:
            break
    return pixels, first, records


def _step(
    step: str, pixels: np.ndarray, mask: np.ndarray, params: SeamParams, seed: int, engine: Engine | None, hooks: Hooks
) -> np.ndarray | None:
    """One repair step's candidate picture, or None when the step has nothing to do."""
    band = params.band
    if step == "stroke":
        if engine is None:
            return seams.poisson_stroke(pixels, mask)
        return seams.blend_stroke(pixels, _engine_fill(pixels, mask, params, seed, engine, hooks), mask)
    if step == "tone":
        return seams.poisson_blend(seams.tone_match(pixels, mask, band), mask, band)
    if engine is not None:
        refilled = _engine_fill(pixels, seams.band_mask(mask, band), params, seed, engine, hooks)
        return seams.blend_band(pixels, refilled, mask, band)
    broken = seams.broken_structure(pixels, mask, band)
    if not broken.any():
        return None
    try:
        resynthesised = patchmatch_fill(np.ascontiguousarray(pixels[..., :3]), broken, seed)
    except InputError:  # too little around the band to copy from
        return None
    out = pixels.copy()
    out[..., :3] = resynthesised
    return seams.poisson_blend(out, mask, band)


def _engine_fill(
    pixels: np.ndarray, region: np.ndarray, params: SeamParams, seed: int, engine: Engine, hooks: Hooks
) -> np.ndarray:
    """`region` refilled by the engine through the fill pipeline (RGB only: transparent pixels stay out)."""
    rgb = np.ascontiguousarray(pixels[..., :3])
    return fill(rgb, region, band_fill_params(params, seed), engine=engine, hooks=hooks).pixels


def outcome(before: float, records: list[dict[str, Any]], target: float) -> str:
    """What a repair did, in a sentence for the user."""
    kept = [r for r in records if r["kept"]]
    if not records:
        if before <= target:
            return f"no pass needed: seam {before:.2f} is under the target {target:g}"
        return f"no pass changed anything: seam {before:.2f}"
    if not kept:
        after = records[0]["score"]
        if f"{after:.2f}" == f"{before:.2f}":
            return f"pass dropped: it did not lower the seam ({before:.3f} → {after:.3f})"
        return f"pass dropped: it made the seam worse ({before:.2f} → {after:.2f})"
    steps = ", ".join(dict.fromkeys(r["step"] for r in kept))
    return f"{len(kept)} of {len(records)} passes kept ({steps}): seam {before:.2f} → {kept[-1]['score']:.2f}"


def run(
    picture: Picture, mask: np.ndarray | None, params: SeamParams, engines: EngineSource, hooks: Hooks
) -> WorkflowResult:
    mask = check_mask(picture, mask, params)  # the engine's own checks run in pipeline.fill
    seed = resolve_seed(params.seed)
    pixels, before, records = repair(picture.pixels, mask, params, seed, engines, hooks)
    after = seams.seam_score(pixels, mask, painted=params.painted, band=params.band)
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
    report = {
        "seam_before": round(before.score, 3),
        "seam": round(after.score, 3),
        "passes": records,
        "changed": any(r["kept"] for r in records),
        "outcome": outcome(before.score, records, params.target),
    }
    return WorkflowResult(pixels, recipe, seed, report, picture.exif, picture.icc_profile)
