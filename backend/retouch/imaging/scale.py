"""Scale before processing: choose a working size for the region and resize into and out of it."""

from __future__ import annotations

import math

import cv2
import numpy as np

from retouch.recipe import Scale


def snap(value: float, grid: int) -> int:
    """Nearest multiple of `grid`, at least one grid step."""
    return max(grid, round(value / grid) * grid)


def working_size(
    size: tuple[int, int],
    scale: Scale,
    *,
    native_size: int | None,
    grid: int,
    max_area: int | None,
    max_side: int | None = None,
) -> tuple[int, int]:
    """(width, height) the engine works at for a region of `size`.

    `auto` brings the region to the engine's native area keeping its aspect ratio (small regions grow,
    which is what gives faces and details more pixels); an engine with no native size works at the
    region's own size unless it is over `max_area`. An engine with a `max_side` (one that works on a
    square, such as MAT) gets regions whose longer side is at most that. Sizes snap to the engine's grid.
    """
    width, height = size
    if scale.mode == "manual":
        assert scale.width is not None and scale.height is not None
        return snap(scale.width, grid), snap(scale.height, grid)
    factor = 1.0
    if scale.mode == "auto":
        if native_size:
            factor = math.sqrt(native_size * native_size / (width * height))
        elif max_area and width * height > max_area:
            factor = math.sqrt(max_area / (width * height))
        if max_side and max(width, height) * factor > max_side:
            factor = max_side / max(width, height)
            return floor_snap(width * factor, grid), floor_snap(height * factor, grid)
    return snap(width * factor, grid), snap(height * factor, grid)


def floor_snap(value: float, grid: int) -> int:
    """The multiple of `grid` at or below `value` (allowing for float error), at least one grid step."""
    return max(grid, int(value + 1e-6) // grid * grid)


def resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (rgb.shape[1], rgb.shape[0]) == size:
        return rgb
    shrinking = size[0] * size[1] < rgb.shape[0] * rgb.shape[1]
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LANCZOS4)


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize so that every pixel touched by the mask stays masked (a fill never shrinks)."""
    if (mask.shape[1], mask.shape[0]) == size:
        return mask
    area = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
    return np.where(area > 0, 255, 0).astype(np.uint8)
