"""Weight-free object selection (GrabCut seeded by a box and points) on scenes whose true mask is known."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from retouch.errors import InputError
from retouch.imaging.mask import bounds
from retouch.imaging.select import Prompt, SelectPoint, grabcut_select, iou
from tests.select_scenes import blob, cat_fur, cat_on, edge_distance, flag_blue, paste, upscaled


@pytest.mark.parametrize("background", ["coffee", "rocket"])
def test_a_box_around_an_object_selects_it(background):
    picture, truth, box = cat_on(background)
    selection = grabcut_select(picture, Prompt(box=box))
    assert selection.mask.shape == truth.shape and selection.mask.dtype == np.uint8
    assert set(np.unique(selection.mask)) <= {0, 255}
    assert iou(selection.mask, truth) >= 0.9
    assert selection.bbox is not None and selection.bbox[0] > box[0] + 10  # the blob's leftmost column, not the box's
    assert np.abs(np.subtract(selection.bbox, bounds(truth))).max() <= 2
    # the same picture and box give the same mask
    assert np.array_equal(grabcut_select(picture, Prompt(box=box)).mask, selection.mask)


def test_a_large_picture_is_selected_on_a_smaller_copy_with_the_edge_on_the_pictures_edge():
    picture, truth = upscaled(*cat_on("coffee")[:2], 4)  # 2400x1600: GrabCut sees about 512x512 of it
    box = tuple(4 * v for v in cat_on("coffee")[2])
    mask = grabcut_select(picture, Prompt(box=box)).mask
    assert mask.shape == truth.shape
    assert iou(mask, truth) >= 0.99
    distance = edge_distance(truth)
    wrong_near_edge = (mask > 0) != (truth > 0)
    wrong_near_edge &= distance < 12
    # the edge lands within 2 px of the object's: a working pixel is 4 px here, a stretched mask misses by up to 4
    assert np.count_nonzero(wrong_near_edge & (distance > 2)) <= 0.01 * np.count_nonzero(distance <= 1)


def test_a_click_alone_selects_the_object_under_it():
    picture, truth, _ = cat_on("rocket")
    mask = grabcut_select(picture, Prompt(points=(SelectPoint(150, 170),))).mask
    assert iou(mask, truth) >= 0.9


@pytest.mark.parametrize(("background", "texture"), [("astronaut", "coffee"), ("camera", "flag"), ("rocket", "coffee")])
def test_a_click_alone_on_a_small_object_selects_it_not_what_surrounds_it(background, texture):
    """A 90 px object on a photograph: GrabCut on the whole picture from one click took in much of its
    surroundings (IoU 0.1-0.3 on these three); a box tried around the click, whose outline is clearly the better
    edge, takes its place."""
    picture = getattr(data, background)()
    picture = np.dstack([picture] * 3) if picture.ndim == 2 else picture.copy()
    pasted = {"coffee": data.coffee()[100:300, 200:400], "flag": flag_blue()}[texture]
    truth = paste(picture, pasted, blob(90), (250, 150))
    mask = grabcut_select(picture, Prompt(points=(SelectPoint(295, 195),))).mask
    assert iou(mask, truth) >= 0.9


def test_a_negative_point_takes_a_part_away():
    picture, cat, _ = cat_on("rocket")
    flag = paste(picture, flag_blue(), blob(120, 4, 0.3), (200, 120))  # a blue part overlapping the cat's right
    both, cat_only = np.maximum(cat, flag), np.where(flag > 0, 0, cat)
    box = (50, 70, 280, 200)
    assert iou(grabcut_select(picture, Prompt(box=box)).mask, both) >= 0.9
    taken = grabcut_select(picture, Prompt(box=box, points=(SelectPoint(260, 180, positive=False),))).mask
    assert iou(taken, cat_only) >= 0.9
    assert not taken[180, 260]


def test_a_positive_point_adds_an_object_to_the_previous_selection():
    picture, first, _ = cat_on("rocket")
    second = paste(picture, cat_fur(), blob(100, 4, 0.3), (420, 250))
    mask = grabcut_select(picture, Prompt(points=(SelectPoint(470, 300),), previous=first)).mask
    assert iou(mask, np.maximum(first, second)) >= 0.9
    assert iou(np.where(second > 0, mask, 0), second) >= 0.8  # the new one, not only the old one kept


@pytest.mark.parametrize(
    ("prompt", "field"),
    [
        (Prompt(box=(10, 10, 0, 20)), "box"),
        (Prompt(box=(500, 10, 200, 20)), "box"),
        (Prompt(points=(SelectPoint(10, 10), SelectPoint(640, 5))), "points[1]"),
        (Prompt(points=(SelectPoint(-1, 5),)), "points[0]"),
        (Prompt(points=(SelectPoint(10, 10, positive=False),)), "points"),
        (Prompt(previous=np.zeros((10, 10), np.uint8), box=(0, 0, 5, 5)), "previous"),
    ],
)
def test_a_prompt_that_cannot_select_is_refused_naming_the_field(prompt, field):
    picture = np.zeros((427, 640, 3), np.uint8)
    with pytest.raises(InputError) as raised:
        grabcut_select(picture, prompt)
    assert raised.value.message.startswith(f"{field}:")
