"""Per-face geometry: the crop around a face, the face's mask in it, the size it is worked at."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.imaging.faces import changed_area, face_mask, face_region, working_size


def test_region_is_the_face_padded_to_a_square():
    assert face_region((100, 100, 60, 60), (640, 480), 30) == (70, 70, 120, 120)
    # a tall box: the square takes the longer side
    assert face_region((100, 100, 40, 60), (640, 480), 10) == (80, 90, 80, 80)


def test_region_at_an_edge_shifts_inside_then_clips():
    # left edge: moved right, keeping its side
    assert face_region((5, 100, 60, 60), (640, 480), 30) == (0, 70, 120, 120)
    # bigger than the picture: the whole picture
    assert face_region((10, 10, 100, 100), (150, 130), 40) == (0, 0, 150, 130)


def test_region_always_holds_the_face():
    rng = np.random.default_rng(3)
    for _ in range(300):
        width, height = rng.integers(20, 400, 2)
        w, h = rng.integers(4, 60, 2)
        x, y = rng.integers(0, max(1, width - w)), rng.integers(0, max(1, height - h))
        w, h = min(w, width - x), min(h, height - y)
        rx, ry, rw, rh = face_region((x, y, w, h), (width, height), int(rng.integers(0, 50)))
        assert 0 <= rx <= x and 0 <= ry <= y and x + w <= rx + rw <= width and y + h <= ry + rh <= height


def test_ellipse_mask_is_inscribed_in_the_face_box():
    mask = face_mask((70, 70, 120, 120), (100, 100, 60, 40))
    ys, xs = np.nonzero(mask)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (30, 89, 30, 69)  # touches the box's four sides
    assert mask[50, 60] == 255  # centre
    assert mask[30, 30] == 0  # the box's corner is outside the ellipse
    assert 0.7 < (mask > 0).sum() / (60 * 40) < 0.85  # about pi/4 of the box


def test_box_mask_and_grow():
    mask = face_mask((0, 0, 50, 50), (10, 20, 15, 5), shape="box")
    assert (mask > 0).sum() == 75 and mask[20:25, 10:25].all()
    grown = face_mask((0, 0, 50, 50), (10, 20, 15, 5), shape="box", grow=3)
    assert grown[17, 17] == 255 and grown[16, 17] == 0 and grown[22, 7] == 255 and grown[22, 6] == 0


def test_mask_is_clipped_to_the_region():
    mask = face_mask((0, 0, 40, 40), (20, 20, 40, 40), grow=4)
    assert mask.shape == (40, 40) and mask[39, 39] == 255


@pytest.mark.parametrize(
    ("region", "native", "expected"),
    [
        ((120, 120), 512, (512, 512)),  # a 60 px face with padding goes up to the native size
        ((1200, 1200), 1024, (1024, 1024)),  # a large face comes down to it
        ((120, 90), 512, (688, 512)),  # aspect kept, shorter side native, sides on the grid
        ((300, 100), 64, (128, 48)),  # over 2:1: the longer side is capped at twice native
    ],
)
def test_working_size_brings_the_shorter_side_to_native(region, native, expected):
    assert working_size(region, native, 8) == expected


def test_changed_area_is_each_mask_with_its_feather_band():
    regions = [((10, 10, 20, 20), face_mask((10, 10, 20, 20), (15, 15, 10, 10), "box"))]
    area = changed_area((64, 64), regions, 3)
    assert area[15:25, 15:25].all()
    assert area[12, 20] and not area[11, 20]  # 3 px of feather above the box, no more
    assert area.sum() < 20 * 20
    assert not changed_area((64, 64), regions, 0)[14, 20]
