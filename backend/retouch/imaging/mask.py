"""Mask arithmetic: bounds, grow and feather. Masks are HxW uint8, 255 = fill."""

from __future__ import annotations

import cv2
import numpy as np


def bounds(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x, y, width, height) of the mask's set pixels, or None when it is empty."""
    points = cv2.findNonZero(mask)
    if points is None:
        return None
    return tuple(int(v) for v in cv2.boundingRect(points))  # type: ignore[return-value]


def _disk(radius: int) -> np.ndarray:
    """Every offset within Euclidean distance `radius`. (OpenCV's MORPH_ELLIPSE reaches past it, e.g.
    offset (1, 2) for radius 2, so a grow or feather would touch pixels further than asked.)"""
    offsets = np.arange(-radius, radius + 1)
    return (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius * radius).astype(np.uint8)


def grow(mask: np.ndarray, radius: int) -> np.ndarray:
    """Dilate by a disk of `radius` pixels (0 = unchanged)."""
    if radius <= 0:
        return mask.copy()
    return cv2.dilate(mask, _disk(radius))


def feather(mask: np.ndarray, radius: int) -> np.ndarray:
    """Blend weights in [0, 1] (float32): 1 on the mask, ramping smoothly down to 0 over `radius` px outside it.

    The ramp starts at the mask's edge (half a pixel past its last pixel's centre) and is a smoothstep of the
    exact Euclidean distance d to the nearest mask pixel: w = s^2 (3 - 2 s), s = 1 - (d - 0.5) / radius. It
    leaves the mask with zero slope, so no edge shows where the fill ends (a blur of the hard mask starts at
    about 0.5 right outside it: half a seam), and it comes down to 0 with zero slope. Every pixel farther
    than `radius` from the mask gets exactly 0 and every mask pixel keeps exactly 1.
    """
    hard = (mask > 0).astype(np.float32)
    if radius <= 0 or not hard.any():
        return hard
    distance = cv2.distanceTransform((mask == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    s = np.clip(1.0 - (distance - np.float32(0.5)) / np.float32(radius), 0.0, 1.0)
    weight = s * s * (3.0 - 2.0 * s)
    weight[distance > radius] = 0.0  # the ramp's last half pixel: exactly untouched beyond `radius`
    weight[distance == 0] = 1.0
    return weight


def ring(mask: np.ndarray, width: int) -> np.ndarray:
    """The band of `width` pixels just outside the mask (for colour statistics of the surroundings)."""
    return (cv2.dilate(mask, _disk(width)) > 0) & (mask == 0)


def has_unmasked_block(mask: np.ndarray, side: int = 3) -> bool:
    """Whether some `side` x `side` square is entirely unmasked: something an engine can copy from."""
    known = (mask == 0).astype(np.uint8)
    square = np.ones((side, side), np.uint8)
    return bool(cv2.erode(known, square, borderType=cv2.BORDER_CONSTANT, borderValue=0).any())
