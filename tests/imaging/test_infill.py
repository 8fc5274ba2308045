"""Infill: pixels with no content get a pre-fill; every known pixel is left exactly as it was."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.imaging.infill import INFILLS, infill
from retouch.recipe import INFILL_METHODS, Infill


def _holes(shape=(64, 64)) -> np.ndarray:
    holes = np.zeros(shape, bool)
    holes[20:40, 24:44] = True
    return holes


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_every_method_is_available():
    assert set(INFILLS) == set(INFILL_METHODS) == {"patchmatch", "blur", "solid", "tile", "telea", "navier-stokes"}


@pytest.mark.parametrize("method", INFILL_METHODS)
def test_fills_only_the_holes(method, texture):
    picture = texture[:64, :64].copy()
    picture[_holes()] = 0  # what a transparent area usually holds
    out = infill(picture, _holes(), Infill(method=method), _rng())
    assert out.shape == picture.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[~_holes()], picture[~_holes()])
    assert (out[_holes()] != 0).any(axis=-1).mean() > 0.9, f"{method} left the hole black"
    assert (picture[_holes()] == 0).all(), "the input is not modified"


@pytest.mark.parametrize("method", ["blur", "telea", "navier-stokes", "patchmatch", "tile"])
def test_a_hole_in_a_flat_colour_gets_that_colour(method):
    picture = np.zeros((64, 64, 3), np.uint8)
    picture[:] = (30, 140, 220)
    holes = _holes()
    picture[holes] = (255, 0, 255)
    out = infill(picture, holes, Infill(method=method), _rng())
    assert np.abs(out[holes].astype(int) - (30, 140, 220)).max() <= 4  # telea adds +-3 of noise


def test_blur_pulls_colours_from_the_surroundings():
    # left half red, right half blue, a hole across the border: each side of the hole takes its side's colour
    picture = np.zeros((64, 64, 3), np.uint8)
    picture[:, :32] = (200, 0, 0)
    picture[:, 32:] = (0, 0, 200)
    holes = _holes()
    out = infill(picture, holes, Infill(method="blur"), _rng())
    left, right = out[30, 25].astype(int), out[30, 42].astype(int)
    assert left[0] > left[2] + 40, f"near the red side the fill is reddish, got {left}"
    assert right[2] > right[0] + 40, f"near the blue side the fill is bluish, got {right}"
    assert np.isin(out[holes][:, 1], [0]).all(), "no colour that is not in the surroundings"


def test_blur_fills_a_thin_strip():
    # a 4-pixel-high strip whose right part is empty, e.g. a thin outpainting box
    picture = np.zeros((4, 300, 3), np.uint8)
    picture[:, :100] = (200, 180, 20)
    holes = np.zeros((4, 300), bool)
    holes[:, 100:] = True
    out = infill(picture, holes, Infill(method="blur"), _rng())
    assert np.abs(out[holes].astype(int) - (200, 180, 20)).max() <= 2


def test_solid_uses_the_colour():
    picture = np.zeros((16, 16, 3), np.uint8)
    holes = _holes((16, 16))
    holes[2:5, 2:5] = True
    out = infill(picture, holes, Infill(method="solid", color="#12abEF"), _rng())
    assert (out[holes] == (0x12, 0xAB, 0xEF)).all()


def test_tile_copies_known_pieces_and_is_deterministic_per_seed(texture):
    holes = np.zeros((128, 128), bool)
    holes[32:96, 32:96] = True
    spec = Infill(method="tile", tile_size=16)
    first = infill(texture, holes, spec, _rng(5))
    again = infill(texture, holes, spec, _rng(5))
    other = infill(texture, holes, spec, _rng(6))
    np.testing.assert_array_equal(first, again)
    assert (first != other).any(), "another seed picks other tiles"
    # every 16x16 tile of the hole is a piece cut from the known picture
    tile = first[32:48, 48:64]
    known = ~holes
    found = any(
        (texture[y : y + 16, x : x + 16] == tile).all()
        for y in range(0, 113)
        for x in range(0, 113)
        if known[y : y + 16, x : x + 16].all()
    )
    assert found, "a tile is a piece of the known picture"


def test_all_holes_falls_back_to_the_colour():
    picture = np.zeros((8, 8, 3), np.uint8)
    out = infill(picture, np.ones((8, 8), bool), Infill(method="patchmatch", color="#010203"), _rng())
    assert (out == (1, 2, 3)).all()


def test_no_holes_is_unchanged(texture):
    assert infill(texture, np.zeros((128, 128), bool), Infill(), _rng()) is texture
