"""The `seams` job kind as the worker and the command line run it, on real photographs with seams made here."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from retouch.engines import Engine, Hooks
from retouch.errors import InputError
from retouch.imaging.composite import composite
from retouch.imaging.io import Picture, read_recipe
from retouch.imaging.seams import seam_score
from retouch.recipe import FillParams, Infill
from retouch.registry import get_engine
from retouch.workflows import WORKFLOWS
from retouch.workflows import fill as fill_workflow
from retouch.workflows.seams import SeamParams, check, run
from tests.support import (
    PHOTOS,
    SEAM_PHOTOS,
    drifted_paste,
    edge_mask,
    ellipse_mask,
    hard_paste,
    photo,
    stroke_over_edge,
    tinted_paste,
)

#: Where the repair tests save before | after pictures (set RETOUCH_SHOTS to look at them).
SHOTS = Path(os.environ["RETOUCH_SHOTS"]) / "seams" if os.environ.get("RETOUCH_SHOTS") else None


class DriftEngine(Engine):
    """Gives back the region with the hole's colours drifted, as a diffusion model's VAE sometimes does."""

    name = "drift"

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        hooks.step(1, 1)
        return tinted_paste(image, mask)


class NoiseEngine(Engine):
    """Gives back the region as noise: a refill that can only make a seam worse."""

    name = "noise"

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        out = image.copy()
        out[mask > 0] = np.random.default_rng(seed).integers(0, 256, (int((mask > 0).sum()), 3), dtype=np.uint8)
        return out


def engines(name: str) -> Engine:
    return {"drift": DriftEngine, "noise": NoiseEngine}.get(name, lambda: get_engine(name))()


def farther_than(mask: np.ndarray, band: int) -> np.ndarray:
    """Pixels more than `band` px (exact Euclidean) from every pixel on the other side of the boundary."""
    inside = mask > 0
    return np.where(inside, ndimage.distance_transform_edt(inside), ndimage.distance_transform_edt(~inside)) > band


@pytest.fixture(scope="module", params=PHOTOS)
def seamed(request) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    picture = photo(request.param)
    mask = ellipse_mask(picture.shape)
    return request.param, picture, mask, hard_paste(picture, mask)


def test_seams_is_a_job_kind():
    assert WORKFLOWS["seams"].Params is SeamParams


def test_a_repair_brings_the_score_close_to_the_natural_figure_and_reports_every_pass(seamed):
    name, picture, mask, pasted = seamed
    stages: list[str] = []
    hooks = Hooks(on_step=lambda step, total, preview, stage: stages.append(stage))
    result = run(Picture(pasted), mask, SeamParams(seed=1), engines, hooks)

    natural = seam_score(picture, mask).score
    before, after = result.report["seam_before"], result.report["seam"]
    assert before > 2 and abs(after - natural) < 0.6, (name, natural, before, after)
    passes = result.recipe["pass_scores"]
    assert passes and passes[0]["kept"] and [p for p in passes if p["kept"]][-1]["score"] == after
    assert any(stage.startswith("pass 1 of 6, seam ") and "→" in stage for stage in stages)  # 3 rounds of 2 steps
    assert result.recipe["kind"] == "seams" and result.recipe["engine"] == "poisson"
    assert result.recipe["seam"]["score"] == after
    assert read_recipe(result.png())["pass_scores"] == passes


@pytest.mark.parametrize("engine", ["poisson", "telea", "navier-stokes"])
def test_nothing_outside_the_region_and_its_band_changes(engine):
    picture = photo("chelsea")
    mask = ellipse_mask(picture.shape)
    seamed = tinted_paste(picture, mask)
    result = run(Picture(seamed), mask, SeamParams(engine=engine, band=6, seed=2), engines, Hooks())
    keep = (mask == 0) & farther_than(mask, 6)
    np.testing.assert_array_equal(result.pixels[keep], seamed[keep])
    assert result.pixels.shape == seamed.shape


@pytest.mark.parametrize("engine", ["poisson", "telea"])
def test_a_painted_seam_is_repaired_inside_the_stroke_only(engine):
    picture = photo("astronaut")
    mask = ellipse_mask(picture.shape)
    stroke = stroke_over_edge(mask)
    seamed = hard_paste(picture, mask)
    result = run(Picture(seamed), stroke, SeamParams(engine=engine, painted=True, seed=3), engines, Hooks())
    np.testing.assert_array_equal(result.pixels[stroke == 0], seamed[stroke == 0])
    assert result.report["seam"] < result.report["seam_before"] - 0.5
    assert result.recipe["painted"] is True


def test_passes_stop_when_a_pass_does_not_lower_the_score():
    picture = photo("coffee")
    mask = ellipse_mask(picture.shape)
    seamed = tinted_paste(picture, mask)
    result = run(Picture(seamed), mask, SeamParams(engine="navier-stokes", passes=5, seed=2), engines, Hooks())
    records = result.recipe["pass_scores"]
    assert len(records) < 5
    assert records[-1]["kept"] is False or result.report["seam"] <= 1.1
    kept = [r["score"] for r in records if r["kept"]]
    assert kept == sorted(kept, reverse=True), "each kept pass lowered the score"
    assert result.report["seam"] <= result.report["seam_before"]


def test_a_natural_boundary_already_at_the_target_needs_no_pass():
    picture = photo("rocket")
    mask = edge_mask(picture.shape)
    result = run(Picture(picture), mask, SeamParams(target=2.0), engines, Hooks())
    assert result.recipe["pass_scores"] == []
    np.testing.assert_array_equal(result.pixels, picture)


@pytest.mark.parametrize("engine", ["poisson", "telea"])
def test_same_seed_same_bytes(engine):
    picture = photo("astronaut")
    mask = ellipse_mask(picture.shape)
    seamed = Picture(hard_paste(picture, mask))
    params = SeamParams(engine=engine, seed=7, band=5)
    assert run(seamed, mask, params, engines, Hooks()).png() == run(seamed, mask.copy(), params, engines, Hooks()).png()


def test_alpha_is_kept():
    picture = photo("chelsea")
    mask = ellipse_mask(picture.shape)
    rgba = np.dstack([hard_paste(picture, mask), np.full(mask.shape, 255, np.uint8)])
    rgba[:8, :8, 3] = 0
    result = run(Picture(rgba), mask, SeamParams(engine="telea", seed=1), engines, Hooks())
    np.testing.assert_array_equal(result.pixels[..., 3], rgba[..., 3])


@pytest.mark.parametrize(
    ("mask_value", "band", "message"),
    [
        (0, 8, "mask: has no boundary to repair (it is empty)"),
        (255, 8, "mask: has no boundary to repair (it is the whole picture)"),
        (None, 100, "band: 100 px is wider than the 200x150 picture allows (at most 74 px)"),
    ],
)
def test_bad_input_is_refused_with_a_message(mask_value, band, message):
    picture = Picture(photo("coffee", 0.5)[:150, :200].copy())
    mask = ellipse_mask((150, 200)) if mask_value is None else np.full((150, 200), mask_value, np.uint8)
    with pytest.raises(InputError) as error:
        check(picture, mask, SeamParams(band=band), {})
    assert message in error.value.message


def test_check_names_unknown_engines_and_wrong_mask_sizes():
    picture = Picture(photo("coffee"))
    mask = ellipse_mask(picture.pixels.shape)
    with pytest.raises(InputError, match="'nope' is unknown; available:"):
        check(picture, mask, SeamParams(engine="nope"), {"telea": lambda: get_engine("telea")})
    with pytest.raises(InputError, match="mask: is 10x10 but the image is"):
        check(picture, np.zeros((10, 10), np.uint8), SeamParams(), {})


def test_every_fill_reports_its_seam_score_and_the_seam_pass_lowers_it():
    picture = photo("coffee")
    mask = edge_mask(picture.shape, 0.25)
    natural = fill_workflow.run(Picture(picture), mask, fill_workflow.Params(engine="telea", seed=1), engines, Hooks())
    assert 0.7 < natural.report["seam"] < 1.3, "telea continues the picture: no seam"

    params = fill_workflow.Params(engine="drift", feather=0, seed=1)
    plain = fill_workflow.run(Picture(picture), mask, params, engines, Hooks())
    assert plain.report["seam"] == plain.recipe["seam"]["score"] > 1.5
    assert read_recipe(plain.png())["seam"]["score"] == plain.report["seam"]

    with_pass = params.model_copy(update={"seam_pass": True})
    repaired = fill_workflow.run(Picture(picture), mask, with_pass, engines, Hooks())
    assert repaired.report["seam_before_passes"] == plain.report["seam"]
    assert repaired.report["seam"] < plain.report["seam"] - 0.2
    assert repaired.recipe["seam_passes"]["passes"][0]["kept"]
    # the pass works on the fill and its edge: beyond its 8 px band outside nothing differs from the plain fill
    keep = (mask == 0) & farther_than(mask, 8)
    np.testing.assert_array_equal(repaired.pixels[keep], plain.pixels[keep])


def test_a_diffusion_pass_runs_through_the_fill_and_changes_only_the_band(loaded_engines):
    picture = photo("chelsea", 0.25)  # 113x75: a few tiny-model steps on the CPU
    mask = ellipse_mask(picture.shape)
    seamed = Picture(tinted_paste(picture, mask))
    params = SeamParams(engine="tiny-sd-inpaint", band=4, passes=1, target=0.5, strength=0.3, seed=5)
    steps: list[str] = []
    hooks = Hooks(on_step=lambda step, total, preview, stage: steps.append(stage))

    result = run(seamed, mask, params, loaded_engines, hooks)

    keep = (mask == 0) & farther_than(mask, 4)
    np.testing.assert_array_equal(result.pixels[keep], seamed.pixels[keep])
    tone, model = result.recipe["pass_scores"]  # the region's tone first, then the model refills the band
    assert (tone["step"], model["step"]) == ("tone", "structure")
    assert tone["kept"] and model["kept"] == (model["score"] < tone["score"])
    assert any(stage.startswith("pass 2 of 2, step ") for stage in steps), "the model's steps show per pass"
    again = run(seamed, mask, params, loaded_engines, Hooks())
    assert again.png() == result.png()


def test_lama_repairs_a_seam_through_the_fill_and_changes_only_the_band(spandrel_loaded):
    """LaMa (a tiny random one, built from spandrel's own class) refills the band as any fill engine does."""
    lama = spandrel_loaded("lama")
    picture = photo("coffee", 0.12)  # 72x48: LaMa's architecture is full size even with random weights
    mask = ellipse_mask(picture.shape)
    seamed = Picture(hard_paste(picture, mask))
    params = SeamParams(engine="lama", band=3, passes=1, target=0.5, seed=3)

    def source(name: str) -> Engine:
        assert name == "lama"
        return lama

    check(seamed, mask, params, {"lama": lambda: lama})
    result = run(seamed, mask, params, source, Hooks())

    keep = (mask == 0) & farther_than(mask, 3)
    np.testing.assert_array_equal(result.pixels[keep], seamed.pixels[keep])
    records = result.recipe["pass_scores"]
    assert result.recipe["engine"] == "lama"
    assert [r["step"] for r in records] == ["tone", "structure"][: len(records)]
    kept = [r["score"] for r in records if r["kept"]]
    assert result.report["seam"] == (kept[-1] if kept else result.report["seam_before"])


PASTES = {
    "drifted": drifted_paste,  # shifted by (23, 37) px and 20 levels brighter
    "tinted": tinted_paste,
    "feathered": lambda picture, mask: composite(picture, np.roll(picture, (23, 37), axis=(0, 1)), mask, 4),
    "structure": lambda picture, mask: hard_paste(picture, mask, (0, 9)),  # lines crossing the edge jump 9 px
}


@pytest.fixture(scope="module", params=list(SEAM_PHOTOS))
def untouched(request) -> tuple[str, np.ndarray, np.ndarray]:
    picture = photo(request.param, SEAM_PHOTOS[request.param])
    return request.param, picture, ellipse_mask(picture.shape)


@pytest.mark.parametrize("paste", list(PASTES))
def test_the_default_repair_brings_a_paste_back_to_the_photo_s_own_seam_score(untouched, paste):
    """Far-reference score after `seams` with defaults: within 1.25x of the same boundary on the untouched
    photo and not below 0.6x of it; beyond the band outside the region nothing changes; same seed, same bytes."""
    name, picture, mask = untouched
    seamed = PASTES[paste](picture, mask)
    params = SeamParams(seed=4)
    result = run(Picture(seamed), mask, params, engines, Hooks())

    natural = seam_score(picture, mask)
    after = result.report["seam"]
    assert 0.6 * natural.score <= after <= 1.25 * natural.score, (name, paste, natural, result.report)
    # no blur: the band keeps texture like the picture beyond it (the score's detail term, natural 0.9-1.2)
    assert seam_score(result.pixels, mask).detail <= max(1.25, 1.25 * natural.detail), (name, paste)
    assert result.report["seam_before"] > after
    outside = (mask == 0) & farther_than(mask, params.band)
    np.testing.assert_array_equal(result.pixels[outside], seamed[outside])
    if paste == "structure":  # the paste made for the PatchMatch step: same seed, same bytes
        assert run(Picture(seamed), mask.copy(), params, engines, Hooks()).png() == result.png()
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.hstack([seamed, result.pixels])).save(SHOTS / f"repair-{name}-{paste}.png")


def test_the_report_says_why_nothing_changed():
    picture = photo("rocket")
    mask = ellipse_mask(picture.shape)
    met = run(Picture(picture), mask, SeamParams(target=5, seed=1), engines, Hooks())
    natural = met.report["seam_before"]
    assert met.report["changed"] is False
    assert met.report["outcome"] == f"no pass needed: seam {natural:.2f} is under the target 5"
    # a painted stroke refilled with noise: the pass makes the seam worse
    stroke = stroke_over_edge(mask)
    dropped = run(
        Picture(picture), stroke, SeamParams(engine="noise", painted=True, target=0.5, seed=1), engines, Hooks()
    )
    [record] = dropped.report["passes"]
    assert dropped.report["changed"] is False and not record["kept"]
    before = dropped.report["seam_before"]
    assert dropped.report["outcome"] == f"pass dropped: it made the seam worse ({before:.2f} → {record['score']:.2f})"
    np.testing.assert_array_equal(dropped.pixels, picture)


def test_an_outpainting_edge_is_repaired_the_same_way():
    """The edge where the old picture ended: a fill over the transparent right quarter, with its seam pass.
    The pass matches the new part's tone to the old picture and blends the edge; the old picture beyond the
    band keeps its pixels."""
    picture = photo("coffee", 0.3)
    rgba = np.dstack([picture, np.full(picture.shape[:2], 255, np.uint8)])
    rgba[:, -picture.shape[1] // 4 :, 3] = 0  # the canvas grown to the right: no picture there yet
    params = fill_workflow.Params(engine="drift", feather=0, seed=1, infill=Infill(method="tile"))
    plain = fill_workflow.run(Picture(rgba), None, params, engines, Hooks())
    repaired = fill_workflow.run(Picture(rgba), None, params.model_copy(update={"seam_pass": True}), engines, Hooks())

    region = (rgba[..., 3] == 0).astype(np.uint8) * 255
    assert repaired.report["seam_before_passes"] == plain.report["seam"] > 1.5
    assert repaired.report["seam"] < plain.report["seam"] - 0.5
    assert repaired.recipe["seam_passes"]["passes"][0] == {
        **repaired.recipe["seam_passes"]["passes"][0],
        "step": "tone",
    }
    old = (region == 0) & farther_than(region, 8)
    np.testing.assert_array_equal(repaired.pixels[old], plain.pixels[old])
    np.testing.assert_array_equal(repaired.pixels[old], rgba[old])


def test_a_fill_s_tone_match_meets_the_picture_at_the_edge_and_keeps_the_fill_s_own_detail():
    picture = photo("chelsea")
    mask = ellipse_mask(picture.shape)
    params = fill_workflow.Params(engine="drift", feather=0, seed=1)  # the fill comes back tinted
    plain = fill_workflow.run(Picture(picture), mask, params, engines, Hooks())
    matched = fill_workflow.run(
        Picture(picture), mask, params.model_copy(update={"tone_match": True}), engines, Hooks()
    )
    natural = seam_score(picture, mask).score
    assert plain.report["seam"] > natural + 0.5
    assert matched.report["seam"] < natural + 0.3 and matched.recipe["tone_match"] is True
    np.testing.assert_array_equal(matched.pixels[mask == 0], plain.pixels[mask == 0])
    # what the match added is smooth: the fill's own detail is the same up to rounding
    added = matched.pixels.astype(np.float32) - plain.pixels.astype(np.float32)
    fine = added - cv2.GaussianBlur(added, (0, 0), 2)
    core = ndimage.binary_erosion(mask > 0, iterations=6)
    assert np.abs(fine)[core].mean() < 0.6
