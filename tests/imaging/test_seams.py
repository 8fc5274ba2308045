"""Seam score, band and Poisson repair on real photographs, with seams made here.

Distances that decide what may change come from scipy's exact Euclidean transform, not from the code under test.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy import ndimage

from retouch.imaging.composite import composite
from retouch.imaging.seams import band_mask, has_boundary, poisson_blend, poisson_stroke, seam_score, tone_match
from tests.support import (
    PHOTOS,
    blurred_fill,
    edge_mask,
    ellipse_mask,
    hard_paste,
    photo,
    stroke_over_edge,
    tinted_paste,
)


@pytest.fixture(scope="module", params=PHOTOS)
def scene(request) -> tuple[str, np.ndarray, np.ndarray]:
    picture = photo(request.param)
    return request.param, picture, ellipse_mask(picture.shape)


def within(mask: np.ndarray, band: int) -> np.ndarray:
    """Pixels at most `band` px (Euclidean, centre to centre) from a pixel on the other side of the boundary."""
    inside = mask > 0
    to_outside = ndimage.distance_transform_edt(inside)
    to_inside = ndimage.distance_transform_edt(~inside)
    return np.where(inside, to_outside, to_inside) <= band


def test_a_boundary_through_an_untouched_photograph_scores_near_one(scene):
    name, picture, mask = scene
    for region in (mask, edge_mask(picture.shape)):  # rocket's edge runs along a line in the picture: 1.95
        assert 0.5 < seam_score(picture, region).score < 2.0, name


def test_made_seams_score_well_above_the_natural_boundary(scene):
    name, picture, mask = scene
    natural = seam_score(picture, mask).score
    pasted = seam_score(hard_paste(picture, mask), mask).score
    tinted = seam_score(tinted_paste(picture, mask), mask).score
    assert pasted > max(1.8, 1.6 * natural), name
    assert tinted > natural + 0.4, name


def test_an_outpainting_edge_filled_without_detail_scores_high(scene):
    name, picture, _ = scene
    region = edge_mask(picture.shape)
    natural = seam_score(picture, region).score
    assert seam_score(blurred_fill(picture, region), region).score > max(1.8, 1.6 * natural), name


def test_a_feather_softens_a_paste_but_it_still_shows(scene):
    """Seen by the score with references just beyond a 2 px band: a 4 px feather lies within the default
    band, where the default score does not look (a repair may change it)."""
    name, picture, mask = scene
    shifted = np.roll(picture, (23, 37), axis=(0, 1))
    hard = seam_score(composite(picture, shifted, mask, 0), mask, band=2).score
    soft = seam_score(composite(picture, shifted, mask, 4), mask, band=2).score
    softer = seam_score(composite(picture, shifted, mask, 8), mask, band=2).score
    natural = seam_score(picture, mask, band=2).score
    assert natural + 0.3 < soft < hard and softer < hard, name


def test_the_score_looks_only_near_the_boundary():
    picture = photo("coffee")
    mask = ellipse_mask(picture.shape)
    before = seam_score(picture, mask)
    changed = picture.copy()
    changed[~within(mask, 34)] = 0  # everything beyond the deepest ring (3*8 + 2*4 = 32 px) goes black
    assert seam_score(changed, mask) == before


def test_the_picture_edge_is_no_boundary():
    picture = photo("chelsea")
    mask = edge_mask(picture.shape)
    score = seam_score(picture, mask)
    # only the vertical boundary inside the picture counts: one straddling pair per row
    assert score.length == pytest.approx(picture.shape[0], abs=8)


@pytest.mark.parametrize("fill", [0, 255])
def test_a_mask_without_boundary_has_nothing_to_score(fill):
    picture = photo("rocket")
    mask = np.full(picture.shape[:2], fill, np.uint8)
    assert not has_boundary(mask)
    assert seam_score(picture, mask).length == 0
    assert not band_mask(mask, 8).any()


def test_band_is_every_pixel_within_band_px_of_the_boundary():
    picture = photo("astronaut")
    mask = ellipse_mask(picture.shape)
    mask[10:14, 10:200] = 255  # a thin stroke too: both of its sides are boundary
    np.testing.assert_array_equal(band_mask(mask, 6) > 0, within(mask, 6))


def test_tone_matching_the_region_then_blending_the_band_brings_a_seam_close_to_the_natural_figure(scene):
    name, picture, mask = scene
    natural = seam_score(picture, mask).score
    for seamed in (hard_paste(picture, mask), tinted_paste(picture, mask)):
        before = seam_score(seamed, mask).score
        after = seam_score(poisson_blend(tone_match(seamed, mask), mask, 8), mask).score
        assert after < before and abs(after - natural) < 0.55, (name, natural, before, after)


def test_the_band_alone_leaves_a_tinted_region_s_halo_and_the_far_score_sees_it():
    """Blending only the band evens the edge, but the region beyond it keeps its tint: a soft ring. The
    score's references lie beyond the band, so the ring still shows; matching the region's tone removes it."""
    picture = photo("rocket")
    mask = ellipse_mask(picture.shape)
    tinted = tinted_paste(picture, mask)
    natural = seam_score(picture, mask).score
    band_only = seam_score(poisson_blend(tinted, mask, 8), mask)
    assert band_only.score > natural + 0.7 and band_only.step > 2.5
    assert seam_score(poisson_blend(tone_match(tinted, mask), mask, 8), mask).score < 1.1 * natural


def test_tone_match_changes_only_the_region_and_keeps_its_detail(scene):
    name, picture, mask = scene
    tinted = tinted_paste(picture, mask)
    matched = tone_match(tinted, mask)
    np.testing.assert_array_equal(matched[mask == 0], tinted[mask == 0])
    inside = mask > 0
    # a smooth field is added: what it adds has no detail of its own beyond rounding (and clipping)
    added = matched.astype(np.float32) - tinted.astype(np.float32)
    fine = added - cv2.GaussianBlur(added, (0, 0), 2)
    core = ndimage.binary_erosion(inside, iterations=6)
    assert np.abs(fine)[core].mean() < 0.6, name


def test_poisson_changes_nothing_farther_than_the_band(scene):
    name, picture, mask = scene
    seamed = tinted_paste(picture, mask)
    repaired = poisson_blend(seamed, mask, 8)
    keep = ~within(mask, 8)
    np.testing.assert_array_equal(repaired[keep], seamed[keep])
    assert (repaired != seamed).any(), name


def test_poisson_keeps_alpha_and_repeats_to_the_byte():
    picture = photo("chelsea")
    mask = ellipse_mask(picture.shape)
    rgba = cv2.cvtColor(hard_paste(picture, mask), cv2.COLOR_RGB2RGBA)
    rgba[..., 3] = 200
    first = poisson_blend(rgba, mask, 6)
    second = poisson_blend(rgba.copy(), mask.copy(), 6)
    np.testing.assert_array_equal(first, second)
    assert (first[..., 3] == 200).all()
    assert seam_score(first, mask).score < seam_score(rgba, mask).score - 0.5


def test_a_stroke_painted_over_a_seam_is_scored_along_its_middle(scene):
    name, picture, mask = scene
    stroke = stroke_over_edge(mask)
    natural = seam_score(picture, stroke, painted=True).score
    assert 0.7 < natural < 1.3, name
    for seamed in (hard_paste(picture, mask), tinted_paste(picture, mask)):
        painted = seam_score(seamed, stroke, painted=True).score
        # the stroke's half width (5 px) is the band its score looks beyond
        region = seam_score(seamed, mask, band=5).score
        assert painted > natural + 0.25 and painted == pytest.approx(region, rel=0.3), name


def test_poisson_under_a_painted_stroke_lowers_the_seam_and_changes_only_the_stroke(scene):
    name, picture, mask = scene
    stroke = stroke_over_edge(mask)
    seamed = hard_paste(picture, mask)
    repaired = poisson_stroke(seamed, stroke)
    np.testing.assert_array_equal(repaired[stroke == 0], seamed[stroke == 0])
    before = seam_score(seamed, stroke, painted=True).score
    assert seam_score(repaired, stroke, painted=True).score < 1 + (before - 1) / 2, name
