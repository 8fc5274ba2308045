"""Tiled processing: bounded windows, the untiled result, progress per tile, and smaller tiles on running out
of memory. The model here is a local filter followed by a 2x enlargement, written with OpenCV."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from retouch.imaging.tiles import TileTooSmall, run_tiled

SCALE = 2


class OutOfMemory(Exception):
    pass


def local_model(window: np.ndarray) -> np.ndarray:
    """A 7x7 box blur (reflecting at the window's edges, as conv nets pad) then 2x nearest: reach 3 pixels."""
    blurred = cv2.blur(window, (7, 7), borderType=cv2.BORDER_REFLECT_101)
    return np.repeat(np.repeat(blurred, SCALE, axis=0), SCALE, axis=1)


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    return np.random.default_rng(5).integers(0, 256, (150, 230, 3), dtype=np.uint8)


def test_tiled_equals_untiled_when_the_overlap_covers_the_models_reach(picture):
    untiled = local_model(picture)
    tiled, report = run_tiled(picture, local_model, scale=SCALE, tile=64, overlap=8)
    assert report.tiles > 4
    np.testing.assert_array_equal(tiled, untiled)


def test_without_enough_overlap_the_seams_show(picture):
    tiled, _ = run_tiled(picture, local_model, scale=SCALE, tile=64, overlap=0)
    assert not np.array_equal(tiled, local_model(picture)), "the test model must be able to show seams"


def test_windows_stay_within_the_tile_and_progress_counts_tiles(picture):
    sizes, progress = [], []

    def model(window):
        sizes.append(window.shape[:2])
        return local_model(window)

    run_tiled(
        picture, model, scale=SCALE, tile=64, overlap=8, on_tile=lambda done, total: progress.append((done, total))
    )
    assert max(max(size) for size in sizes) <= 64, "memory is bounded by the tile"
    assert sum(h * w for h, w in sizes) < 2 * 150 * 230, "the overlaps repeat little work"
    assert progress == [(i + 1, len(sizes)) for i in range(len(sizes))]

    sizes.clear()
    run_tiled(picture[:40, :50], model, scale=SCALE, tile=64, overlap=8)
    assert sizes == [(40, 50)], "a picture within one tile runs in one call"


def test_out_of_memory_halves_the_tile_and_keeps_the_tiles_done(picture):
    calls = []

    def model(window):
        calls.append(window.shape[:2])
        if len(calls) == 3:  # the device fills up on the third window
            raise OutOfMemory()
        return local_model(window)

    tiled, report = run_tiled(
        picture, model, scale=SCALE, tile=128, overlap=8, is_out_of_memory=lambda exc: isinstance(exc, OutOfMemory)
    )
    np.testing.assert_array_equal(tiled, local_model(picture))
    assert (report.tile, report.halvings) == (64, 1)
    assert all(64 < max(call) <= 128 for call in calls[:3]), "the first windows are cut for 128 px tiles"
    assert all(max(call) <= 64 for call in calls[3:]), "after running out of memory, for 64 px tiles"
    # 230x150 at tile 128 is 3x2 cores of about 77x75; two were done and are kept, the other four are split
    # into 2x2 cores of at most 48 (64 - 2 x 8) each: 16 windows, where starting over would take 24
    assert len(calls[3:]) == 16


def test_running_out_of_memory_on_the_smallest_tile_is_an_error(picture):
    def model(window):
        raise OutOfMemory()

    with pytest.raises(TileTooSmall):
        run_tiled(picture, model, scale=SCALE, tile=128, overlap=8, is_out_of_memory=lambda exc: True)


def test_other_failures_are_not_retried(picture):
    def model(window):
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        run_tiled(picture, model, scale=SCALE, tile=64, overlap=8, is_out_of_memory=lambda exc: False)
