"""Per-face geometry: the region a face is worked in, its mask there, and the size the model sees it at.

A face is fixed in a crop around it (the face's box plus `padding` of context, squared where the picture
allows), scaled so the crop's shorter side is the model's native size (a 60 px face is worked on at 512 or
1024 px), under a mask that is an ellipse inscribed in the face's box (or the box), grown and then feathered
when pasted back. Pure functions: boxes are (x, y, width, height) in picture pixels.
"""

from __future__ import annotations

import math
from typing import Literal

import cv2
import numpy as np

from retouch.imaging.mask import feather as feather_weights
from retouch.imaging.mask import grow as grow_mask
from retouch.imaging.region import Box

MaskShape = Literal["ellipse", "box"]


def face_region(face: Box, size: tuple[int, int], padding: int) -> Box:
    """The crop a face is worked in: its box grown by `padding` on every side, then widened to a square where
    the picture has room (models are trained on square crops), clipped to the picture of `size` (w, h)."""
    width, height = size
    x, y, w, h = face
    side = max(w, h) + 2 * padding
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = math.floor(cx - side / 2), math.floor(cy - side / 2)
    x1, y1 = x0 + side, y0 + side
    # shift a square that overhangs one edge back inside before clipping, so it keeps its context
    if x0 < 0:
        x0, x1 = 0, min(width, x1 - x0)
    elif x1 > width:
        x0, x1 = max(0, x0 - (x1 - width)), width
    if y0 < 0:
        y0, y1 = 0, min(height, y1 - y0)
    elif y1 > height:
        y0, y1 = max(0, y0 - (y1 - height)), height
    return x0, y0, x1 - x0, y1 - y0


def face_mask(region: Box, face: Box, shape: MaskShape = "ellipse", grow: int = 0) -> np.ndarray:
    """The mask (HxW uint8, 255 = redraw) of `face` inside `region`: the ellipse inscribed in the face's box
    (or the box itself), grown by `grow` pixels, clipped to the region."""
    rx, ry, rw, rh = region
    x, y, w, h = face
    mask = np.zeros((rh, rw), np.uint8)
    if shape == "box":
        mask[max(0, y - ry) : max(0, y - ry + h), max(0, x - rx) : max(0, x - rx + w)] = 255
    else:
        # centre and axes in 1/16 px (shift=4): the ellipse touches the box's edges without rounding drift
        centre = (round((x - rx + w / 2 - 0.5) * 16), round((y - ry + h / 2 - 0.5) * 16))
        axes = (max(1, round((w - 1) / 2 * 16)), max(1, round((h - 1) / 2 * 16)))
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 255, thickness=-1, lineType=cv2.LINE_8, shift=4)
    return grow_mask(mask, grow)


def working_size(region: tuple[int, int], native: int, grid: int = 8, max_side: int | None = None) -> tuple[int, int]:
    """(w, h) a face crop of `region` size is worked at: its shorter side brought to `native` (up or down) and
    rounded up to a multiple of `grid`, its aspect kept. A crop longer than 2:1 (a face at a picture's edge
    with much padding) is scaled so its longer side is `max_side` (default twice native) instead."""
    width, height = region
    factor = min(native / min(width, height), (max_side or 2 * native) / max(width, height))

    def snap(value: float) -> int:
        return max(grid, math.ceil(value / grid) * grid)

    return snap(width * factor), snap(height * factor)


def changed_area(size: tuple[int, int], masks: list[tuple[Box, np.ndarray]], feather: int) -> np.ndarray:
    """Where fixing faces may change pixels (HxW bool): the union of each face's mask, grown by the feather
    band the paste blends over, inside its region. Everything else stays bit-for-bit the input."""
    width, height = size
    area = np.zeros((height, width), bool)
    for (x, y, w, h), mask in masks:
        area[y : y + h, x : x + w] |= feather_weights(mask, feather) > 0
    return area
