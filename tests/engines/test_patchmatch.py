"""Our PatchMatch: fills with texture from the picture, as rich as the library's, deterministic per seed."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.engines import Hooks
from retouch.engines.classical import PatchMatch
from retouch.errors import Cancelled, InputError
from retouch.imaging.patchmatch import HOLE_BUDGET, library_inpaint, patchmatch_fill
from retouch.recipe import FillParams
from tests.support import bricks, gradient


@pytest.fixture(scope="module")
def large_texture() -> tuple[np.ndarray, np.ndarray]:
    """A 384x384 coloured brick wall with a 192x192 hole: more hole pixels than the library's budget,
    so the fill goes coarse to fine."""
    picture = bricks(384)
    mask = np.zeros((384, 384), np.uint8)
    mask[96:288, 96:288] = 255
    assert (mask > 0).sum() > HOLE_BUDGET
    return picture, mask


def _flat_with_hole(size: int, hole: int) -> tuple[np.ndarray, np.ndarray]:
    picture = np.full((size, size, 3), (70, 130, 200), np.uint8)
    mask = np.zeros((size, size), np.uint8)
    start = (size - hole) // 2
    mask[start : start + hole, start : start + hole] = 255
    picture[mask > 0] = (255, 0, 0)
    return picture, mask


@pytest.mark.parametrize(("size", "hole", "budget"), [(64, 24, HOLE_BUDGET), (256, 180, HOLE_BUDGET), (96, 60, 300)])
def test_a_hole_in_a_flat_colour_gets_that_colour(size, hole, budget):
    # the library alone, coarse to fine by default (180^2 > budget), and coarse to fine with a tiny budget
    picture, mask = _flat_with_hole(size, hole)
    out = patchmatch_fill(picture, mask, seed=0, budget=budget)
    assert np.abs(out[mask > 0].astype(int) - (70, 130, 200)).max() <= 2
    np.testing.assert_array_equal(out[mask == 0], picture[mask == 0])


def test_hole_in_a_texture_gets_texture_as_rich_as_the_librarys(large_texture):
    picture, mask = large_texture
    hole = mask > 0
    ours = patchmatch_fill(picture, mask, seed=4)
    reference = library_inpaint(picture, mask, seed=4)
    assert gradient(ours, hole) >= 0.7 * gradient(reference, hole)
    assert gradient(ours, hole) >= 0.7 * gradient(picture, hole), "the fill is not a blur"
    np.testing.assert_array_equal(ours[~hole], picture[~hole])


def test_texture_comes_from_the_picture(large_texture):
    # the fill's colours are the wall's colours: no colour cast, no grey mush
    picture, mask = large_texture
    hole = mask > 0
    ours = patchmatch_fill(picture, mask, seed=4)
    known_mean = picture[~hole].reshape(-1, 3).mean(axis=0)
    assert np.abs(ours[hole].reshape(-1, 3).mean(axis=0) - known_mean).max() < 12
    assert ours[hole].std() > 0.7 * picture[~hole].std()


@pytest.mark.parametrize("size", ["small", "large"])
def test_what_the_hole_held_does_not_leak_into_the_fill(size, texture, centre_mask, large_texture):
    # removing a red object: the fill is the same whatever the object looked like
    picture, mask = (texture, centre_mask) if size == "small" else large_texture
    with_object = picture.copy()
    with_object[mask > 0] = (255, 0, 0)
    np.testing.assert_array_equal(patchmatch_fill(with_object, mask, seed=2), patchmatch_fill(picture, mask, seed=2))


@pytest.mark.parametrize("budget", [HOLE_BUDGET, 200])
def test_same_seed_same_pixels_other_seed_other_pixels(budget, texture, centre_mask):
    first = patchmatch_fill(texture, centre_mask, seed=11, budget=budget)
    again = patchmatch_fill(texture, centre_mask, seed=11, budget=budget)
    other = patchmatch_fill(texture, centre_mask, seed=12, budget=budget)
    np.testing.assert_array_equal(first, again)
    assert (first != other).any()


def test_only_the_hole_changes(texture, centre_mask):
    out = patchmatch_fill(texture, centre_mask, seed=1)
    np.testing.assert_array_equal(out[centre_mask == 0], texture[centre_mask == 0])
    assert (out[centre_mask > 0] != texture[centre_mask > 0]).any()


def test_empty_mask_changes_nothing(texture):
    out = patchmatch_fill(texture, np.zeros((128, 128), np.uint8), seed=1)
    np.testing.assert_array_equal(out, texture)


def test_a_hole_with_only_a_thin_strip_left_is_filled_from_it():
    # everything but a 3-pixel strip masked: too thin to survive shrinking, so the fill works finer
    picture = np.zeros((160, 160, 3), np.uint8)
    picture[:, :3] = (20, 120, 240)
    picture[:, 3:] = (255, 255, 0)
    mask = np.full((160, 160), 255, np.uint8)
    mask[:, :3] = 0
    out = patchmatch_fill(picture, mask, seed=1, budget=1_000)
    assert np.abs(out.reshape(-1, 3).astype(int) - (20, 120, 240)).max() <= 2


@pytest.mark.parametrize("budget", [HOLE_BUDGET, 500])
def test_a_sliver_too_thin_to_copy_from_is_an_error_not_a_black_fill(budget):
    # the library leaves the hole black when the known area is under 3 pixels wide
    picture = np.full((100, 100, 3), 200, np.uint8)
    mask = np.full((100, 100), 255, np.uint8)
    mask[:, :2] = 0
    with pytest.raises(InputError, match="at least 3x3 pixels to copy from"):
        patchmatch_fill(picture, mask, seed=1, budget=budget)


def test_a_hole_with_nothing_to_copy_from_is_an_error(texture):
    with pytest.raises(InputError, match="needs some unmasked pixels"):
        patchmatch_fill(texture, np.full((128, 128), 255, np.uint8), seed=1)


def test_engine_reports_each_stage(large_texture):
    picture, mask = large_texture
    steps = []
    hooks = Hooks(on_step=lambda step, total, preview, stage: steps.append((step, total)))
    PatchMatch().fill(picture, mask, FillParams(), 3, hooks)
    assert steps == [(1, 3), (2, 3), (3, 3)]


def test_engine_stops_when_cancelled(large_texture):
    picture, mask = large_texture
    steps = []

    def on_step(step, total, preview, stage):
        steps.append(step)
        cancelled.append(True)  # the user presses cancel while the first stage runs

    cancelled: list[bool] = []
    hooks = Hooks(on_step=on_step, is_cancelled=lambda: bool(cancelled))
    with pytest.raises(Cancelled):
        PatchMatch().fill(picture, mask, FillParams(), 3, hooks)
    assert steps == [1], "nothing runs after the cancel"
