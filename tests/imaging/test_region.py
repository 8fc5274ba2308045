"""The box a fill works in: whole picture, the mask's bounds plus padding, or a box the user gives."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.errors import InputError
from retouch.imaging.region import crop, resolve_bbox
from retouch.recipe import BBox


def _mask(height: int = 100, width: int = 200) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    mask[40:50, 60:90] = 255
    return mask


def test_default_is_the_whole_picture():
    assert resolve_bbox(None, _mask(), 32) == (0, 0, 200, 100)


def test_auto_is_the_mask_bounds_plus_padding():
    assert resolve_bbox("auto", _mask(), 8) == (52, 32, 46, 26)


def test_auto_padding_is_clipped_to_the_picture():
    mask = np.zeros((100, 200), np.uint8)
    mask[2:5, 190:198] = 255
    assert resolve_bbox("auto", mask, 32) == (158, 0, 42, 37)
    assert resolve_bbox("auto", _mask(), 1000) == (0, 0, 200, 100)


def test_auto_with_an_empty_mask_is_an_error():
    with pytest.raises(InputError, match="mask is empty"):
        resolve_bbox("auto", np.zeros((10, 10), np.uint8), 32)


def test_given_box_is_used_as_is():
    assert resolve_bbox(BBox(x=10, y=20, width=30, height=40), _mask(), 32) == (10, 20, 30, 40)
    assert resolve_bbox(BBox(x=0, y=0, width=200, height=100), _mask(), 32) == (0, 0, 200, 100)


@pytest.mark.parametrize(
    ("box", "named"),
    [
        ((150, 10, 60, 20), "150,10,60,20"),  # reaches past the right edge
        ((0, 90, 10, 11), "0,90,10,11"),  # reaches past the bottom
        ((300, 300, 1, 1), "300,300,1,1"),  # starts outside
    ],
)
def test_box_outside_the_picture_is_an_error_naming_the_values(box, named):
    x, y, w, h = box
    with pytest.raises(InputError, match=rf"bbox {named} reaches outside the 200x100 image"):
        resolve_bbox(BBox(x=x, y=y, width=w, height=h), _mask(), 32)


def test_crop_takes_the_box():
    picture = np.arange(20 * 30).reshape(20, 30)
    np.testing.assert_array_equal(crop(picture, (5, 2, 10, 3)), picture[2:5, 5:15])
