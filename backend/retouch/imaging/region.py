"""Where the work happens: the bounding box of a fill."""

from __future__ import annotations

from typing import Literal

import numpy as np

from retouch.errors import InputError
from retouch.imaging.mask import bounds
from retouch.recipe import BBox

Box = tuple[int, int, int, int]  # x, y, width, height


def resolve_bbox(spec: BBox | Literal["auto"] | None, mask: np.ndarray, padding: int) -> Box:
    """The box to work in: the whole picture, the mask's bounds plus `padding`, or the given box."""
    height, width = mask.shape
    if spec is None:
        return 0, 0, width, height
    if spec == "auto":
        found = bounds(mask)
        if found is None:
            raise InputError("bbox is auto but the mask is empty: paint the area to fill")
        x, y, w, h = found
        x0, y0 = max(0, x - padding), max(0, y - padding)
        x1, y1 = min(width, x + w + padding), min(height, y + h + padding)
        return x0, y0, x1 - x0, y1 - y0
    x, y, w, h = spec.as_tuple()
    if x + w > width or y + h > height:
        raise InputError(
            f"bbox {x},{y},{w},{h} reaches outside the {width}x{height} image "
            f"(x + width must be <= {width} and y + height <= {height})"
        )
    return x, y, w, h


def crop(array: np.ndarray, box: Box) -> np.ndarray:
    x, y, w, h = box
    return array[y : y + h, x : x + w]
