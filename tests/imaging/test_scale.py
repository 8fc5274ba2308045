"""Scale before processing: which size an engine works at, and back to the box's size."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.imaging.scale import resize, resize_mask, snap, working_size
from retouch.recipe import Scale


def test_snap_to_grid():
    assert snap(100, 8) == 96
    assert snap(101, 8) == 104
    assert snap(3, 8) == 8, "never below one grid step"
    assert snap(37.4, 1) == 37


def test_none_keeps_the_region_size():
    assert working_size((300, 200), Scale(mode="none"), native_size=512, grid=1, max_area=None) == (300, 200)


def test_none_still_snaps_to_the_engines_grid():
    assert working_size((300, 203), Scale(mode="none"), native_size=None, grid=8, max_area=None) == (304, 200)


def test_manual_is_the_given_size_on_the_grid():
    scale = Scale(mode="manual", width=500, height=260)
    assert working_size((30, 20), scale, native_size=None, grid=1, max_area=None) == (500, 260)
    assert working_size((30, 20), scale, native_size=512, grid=64, max_area=None) == (512, 256)


def test_auto_grows_a_small_region_to_the_native_area_keeping_aspect():
    width, height = working_size((100, 50), Scale(mode="auto"), native_size=512, grid=8, max_area=None)
    assert width % 8 == 0 and height % 8 == 0
    assert abs(width * height - 512 * 512) / (512 * 512) < 0.03
    assert abs(width / height - 2.0) < 0.03


def test_auto_shrinks_a_large_region_to_the_native_area():
    width, height = working_size((2048, 1024), Scale(mode="auto"), native_size=1024, grid=64, max_area=None)
    assert (width, height) == (1472, 704)


def test_auto_without_native_size_keeps_size_unless_over_max_area():
    auto = Scale(mode="auto")
    assert working_size((640, 480), auto, native_size=None, grid=1, max_area=None) == (640, 480)
    assert working_size((640, 480), auto, native_size=None, grid=1, max_area=1_000_000) == (640, 480)
    width, height = working_size((2000, 1000), auto, native_size=None, grid=1, max_area=500_000)
    assert (width, height) == (1000, 500)


def test_manual_needs_a_size():
    with pytest.raises(ValueError, match="manual needs both width and height"):
        Scale(mode="manual", width=64)


def test_resize_both_ways_keeps_flat_colour(texture):
    flat = np.full((40, 60, 3), (12, 200, 99), np.uint8)
    assert resize(flat, (120, 80)).shape == (80, 120, 3)
    assert (resize(flat, (120, 80)) == (12, 200, 99)).all()
    assert (resize(flat, (30, 20)) == (12, 200, 99)).all()
    assert resize(texture, (128, 128)) is texture, "same size: no work, no change"


def test_resize_mask_never_loses_a_masked_pixel():
    mask = np.zeros((100, 100), np.uint8)
    mask[50, 50] = 255
    small = resize_mask(mask, (10, 10))
    assert small.max() == 255 and set(np.unique(small)) == {0, 255}
    big = resize_mask(mask, (300, 300))
    assert big[150:153, 150:153].all() and set(np.unique(big)) == {0, 255}


def test_auto_with_a_max_side_fits_a_square_engine():
    # MAT: regions come to a 512 longer side (small ones grow), never past it, so padding to 512x512 is enough
    mat = {"native_size": 512, "grid": 8, "max_area": None, "max_side": 512}
    assert working_size((400, 300), Scale(), **mat) == (512, 384)
    assert working_size((100, 100), Scale(), **mat) == (512, 512)
    assert working_size((2000, 500), Scale(), **mat) == (512, 128)
    # LaMa: the region's own size up to a 1280 longer side; larger regions shrink to it, keeping their shape
    lama = {"native_size": None, "grid": 1, "max_area": None, "max_side": 1280}
    assert working_size((300, 203), Scale(), **lama) == (300, 203)
    assert working_size((2560, 1000), Scale(), **lama) == (1280, 500)
    assert working_size((2560, 1000), Scale(mode="none"), **lama) == (2560, 1000), "none keeps the size"
