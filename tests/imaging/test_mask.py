"""Mask arithmetic: bounds, grow and feather reach exactly as far as the user asked, never further."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from retouch.imaging.mask import bounds, feather, grow, has_unmasked_block, ring


def _distance_to(mask: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance of every pixel to the nearest set pixel of `mask` (0 on the mask)."""
    return cv2.distanceTransform((mask == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def _dot(size: int = 81) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    mask[size // 2, size // 2] = 255
    return mask


def test_bounds_of_a_mask():
    mask = np.zeros((50, 60), np.uint8)
    mask[10:20, 5:7] = 255
    mask[30, 40] = 255
    assert bounds(mask) == (5, 10, 36, 21)
    assert bounds(np.zeros((5, 5), np.uint8)) is None


@pytest.mark.parametrize("radius", [1, 2, 3, 5, 8, 13, 20])
def test_grow_reaches_exactly_radius(radius):
    mask = _dot()
    grown = grow(mask, radius) > 0
    distance = _distance_to(mask)
    np.testing.assert_array_equal(grown, distance <= radius)


def test_grow_zero_is_a_copy():
    mask = _dot()
    grown = grow(mask, 0)
    np.testing.assert_array_equal(grown, mask)
    assert grown is not mask


@pytest.mark.parametrize("radius", [1, 2, 4, 7, 16])
def test_feather_is_one_on_the_mask_and_zero_beyond_radius(radius):
    mask = np.zeros((90, 90), np.uint8)
    mask[30:50, 25:60] = 255
    mask[70, 10] = 255
    weight = feather(mask, radius)
    distance = _distance_to(mask)
    assert weight.dtype == np.float32
    assert (weight[mask > 0] == 1).all(), "every hole pixel is filled completely"
    assert (weight[distance > radius] == 0).all(), "nothing beyond the feather radius is touched"
    ramp = weight[(distance > 0) & (distance <= radius)]
    assert ((ramp > 0) & (ramp < 1)).any(), "the edge is soft"


def test_feather_falls_off_with_distance():
    mask = np.zeros((40, 80), np.uint8)
    mask[:, :40] = 255
    row = feather(mask, 8)[20, 40:52]
    assert (np.diff(row) <= 0).all() and row[0] > row[6] > 0 and row[9] == 0


@pytest.mark.parametrize("radius", [4, 8, 16])
def test_feather_leaves_the_mask_without_a_step(radius):
    """A smooth ramp: the first pixel outside keeps almost all the fill (a blur of the hard mask gives it
    about half, a visible line), and no two neighbours differ by much more than 1.5 / radius."""
    mask = np.zeros((40, 80), np.uint8)
    mask[:, :40] = 255
    row = feather(mask, radius)[20, 39 : 41 + radius]
    assert row[0] == 1 and row[1] > 1 - 3 / radius**2
    assert np.abs(np.diff(row)).max() <= 1.5 / radius + 0.01
    assert row[-1] == 0


def test_feather_zero_is_the_hard_mask():
    mask = _dot(9)
    np.testing.assert_array_equal(feather(mask, 0), (mask > 0).astype(np.float32))


def test_ring_is_the_band_outside_the_mask():
    mask = np.zeros((40, 40), np.uint8)
    mask[15:25, 15:25] = 255
    band = ring(mask, 3)
    distance = _distance_to(mask)
    np.testing.assert_array_equal(band, (distance > 0) & (distance <= 3))


def test_has_unmasked_block():
    mask = np.full((10, 10), 255, np.uint8)
    assert not has_unmasked_block(mask)
    mask[:, :2] = 0  # a 2-pixel strip along the edge is not enough
    assert not has_unmasked_block(mask)
    mask[4:7, 2] = 0
    assert has_unmasked_block(mask)
    assert has_unmasked_block(np.zeros((3, 3), np.uint8))
