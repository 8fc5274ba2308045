"""Paste back: outside the grown + feathered mask every pixel is bit-for-bit the original, alpha included.

The distances here come from OpenCV's exact distance transform, not from the code under test.
"""

from __future__ import annotations

import cv2
import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from retouch.imaging.composite import composite, match_colours
from retouch.imaging.mask import grow
from retouch.pipeline import fill
from retouch.recipe import FillParams

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def untouchable(mask: np.ndarray, grow_px: int, feather_px: int) -> np.ndarray:
    """Pixels further than `feather_px` from the mask grown by `grow_px`: these must not change."""
    to_mask = cv2.distanceTransform((mask == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    grown = to_mask <= grow_px
    to_grown = cv2.distanceTransform((~grown).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return to_grown > feather_px


@st.composite
def scenes(draw, channels=st.sampled_from([3, 4])):  # noqa: B008 - a hypothesis strategy argument
    """A random picture (RGB or RGBA, some pixels maybe transparent), a random mask of rectangles and dots."""
    height = draw(st.integers(8, 64))
    width = draw(st.integers(8, 64))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    picture = rng.integers(0, 256, (height, width, draw(channels)), dtype=np.uint8)
    if picture.shape[2] == 4:
        picture[..., 3] = np.where(rng.random((height, width)) < 0.8, 255, picture[..., 3])
    mask = np.zeros((height, width), np.uint8)
    for _ in range(draw(st.integers(1, 4))):
        x, y = draw(st.integers(0, width - 1)), draw(st.integers(0, height - 1))
        w, h = draw(st.integers(1, width)), draw(st.integers(1, height))
        mask[y : y + h, x : x + w] = 255
    if draw(st.booleans()):
        mask[rng.random((height, width)) < 0.02] = 255  # scattered dots
    return picture, mask


def to_fill(picture: np.ndarray, mask: np.ndarray, grow_px: int = 0) -> np.ndarray:
    """What a fill must cover: the mask and the transparent pixels. Keeps a 3x3 block known after the
    mask grows, so that engines have something to copy from (nothing to copy is a separate, refused case)."""
    painted = mask.copy()
    if picture.shape[2] == 4:
        painted[picture[..., 3] == 0] = 255
    to_mask = cv2.distanceTransform((painted == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    known = (to_mask > grow_px).astype(np.uint8)
    if not cv2.erode(known, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0).any():
        corner = 3 + grow_px
        mask[:corner, :corner] = painted[:corner, :corner] = 0
        if picture.shape[2] == 4:
            picture[:corner, :corner, 3] = 255
    return painted


@FAST
@given(scenes(), st.integers(0, 6), st.integers(0, 8), st.integers(0, 2**32 - 1))
def test_composite_keeps_everything_outside_the_feathered_mask(scene, grow_px, feather_px, seed):
    original, mask = scene
    filled = np.random.default_rng(seed).integers(0, 256, original.shape[:2] + (3,), dtype=np.uint8)
    grown = grow(mask, grow_px)

    out = composite(original, filled, grown, feather_px)

    assert out.shape == original.shape and out.dtype == np.uint8
    keep = untouchable(mask, grow_px, feather_px)
    np.testing.assert_array_equal(out[keep], original[keep])
    inside = grown > 0
    np.testing.assert_array_equal(out[..., :3][inside], filled[inside])
    if original.shape[2] == 4:
        assert (out[..., 3][inside] == 255).all(), "filled pixels become opaque"


@FAST
@given(scenes(), st.integers(0, 4), st.integers(0, 6), st.sampled_from(["telea", "navier-stokes", "patchmatch"]))
def test_fill_changes_nothing_outside_the_grown_feathered_mask(scene, grow_px, feather_px, engine):
    picture, mask = scene
    params = FillParams(engine=engine, grow=grow_px, feather=feather_px, seed=3, infill={"method": "blur"})
    painted = to_fill(picture, mask, grow_px)
    assume(painted.any())  # keeping a known block may leave nothing to fill: a refused case of its own

    result = fill(picture, mask, params)

    assert result.pixels.shape == picture.shape and result.pixels.dtype == np.uint8
    keep = untouchable(painted, grow_px, feather_px)
    np.testing.assert_array_equal(result.pixels[keep], picture[keep])
    if picture.shape[2] == 4:
        assert (result.pixels[..., 3][painted > 0] == 255).all()


@settings(max_examples=10, deadline=None)
@given(scenes(channels=st.just(4)), st.integers(0, 2**32 - 1), st.sampled_from(["tile", "patchmatch", "blur"]))
def test_same_seed_same_png_bytes(scene, seed, infill_method):
    picture, mask = scene
    params = FillParams(engine="patchmatch", seed=seed, infill={"method": infill_method, "tile_size": 4})
    assume(to_fill(picture, mask).any())
    first = fill(picture, mask, params).png()
    second = fill(picture.copy(), mask.copy(), params).png()
    assert first == second


def test_match_colours_moves_the_fill_towards_its_surroundings():
    original = np.full((64, 64, 3), (40, 90, 160), np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[20:44, 20:44] = 255
    filled = original.copy()
    filled[mask > 0] = (160, 90, 40)  # a fill that came out in the wrong colour
    matched = match_colours(filled, original, mask)
    assert np.abs(matched[32, 32].astype(int) - (40, 90, 160)).max() <= 3
    np.testing.assert_array_equal(matched[mask == 0], filled[mask == 0])


@FAST
@given(scenes(), st.integers(0, 12), st.integers(0, 2**32 - 1))
def test_composite_around_the_mask_gives_the_whole_picture_blend(scene, feather_px, seed):
    """The blend is worked out only around the mask (for speed); the result is bit-for-bit the whole-picture one."""
    from retouch.imaging.composite import _blend

    picture, mask = scene
    filled = np.random.default_rng(seed).integers(0, 256, (*picture.shape[:2], 3), dtype=np.uint8)
    assert np.array_equal(composite(picture, filled, mask, feather_px), _blend(picture, filled, mask, feather_px))
