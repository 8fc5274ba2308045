"""Scenes with a known object, for object selection: textured shapes cut from one scikit-image photograph and
pasted on another, so the true mask is known exactly."""

from __future__ import annotations

import cv2
import numpy as np
from skimage import data

Box = tuple[int, int, int, int]


def blob(side: int, lobes: int = 3, phase: float = 1.0) -> np.ndarray:
    """A smooth, irregular shape filling most of a `side` x `side` square (uint8, 255 = inside)."""
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64)
    centre = (side - 1) / 2
    angle = np.arctan2(yy - centre, xx - centre)
    radius = 0.40 * side * (1 + 0.15 * np.sin(lobes * angle + phase) + 0.08 * np.cos(5 * angle))
    return np.where(np.hypot(yy - centre, xx - centre) <= radius, 255, 0).astype(np.uint8)


def cat_fur() -> np.ndarray:
    """Chelsea the cat's face and fur: an orange, striped texture."""
    return data.chelsea()[50:250, 100:300]


def flag_blue() -> np.ndarray:
    """The blue of the flag behind the astronaut, with its stars."""
    return data.astronaut()[0:90, 0:60]


def paste(picture: np.ndarray, texture: np.ndarray, shape: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    """`picture` with `texture` (scaled to `shape`'s size) pasted where `shape` is set, its top-left at `at`;
    returns the truth mask (the picture's size) and changes `picture` in place."""
    side_y, side_x = shape.shape
    tex = cv2.resize(texture, (side_x, side_y), interpolation=cv2.INTER_AREA)
    x, y = at
    window = picture[y : y + side_y, x : x + side_x]
    window[shape > 0] = tex[shape > 0]
    truth = np.zeros(picture.shape[:2], np.uint8)
    truth[y : y + side_y, x : x + side_x] = shape
    return truth


def cat_on(background: str) -> tuple[np.ndarray, np.ndarray, Box]:
    """A 180 px blob of cat fur on a scikit-image photograph (`coffee`, `rocket`, `astronaut`); the picture,
    its true mask and a box around the blob with 10 px to spare."""
    picture = getattr(data, background)().copy()
    truth = paste(picture, cat_fur(), blob(180), (60, 80))
    return picture, truth, (50, 70, 200, 200)


def upscaled(picture: np.ndarray, truth: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """The scene `factor` times larger (bicubic picture, nearest-neighbour truth): a large photo's sharp edge."""
    big = cv2.resize(picture, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    return big, cv2.resize(truth, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST)


def edge_distance(truth: np.ndarray) -> np.ndarray:
    """Each pixel's distance (px) to the true mask's edge."""
    inside = cv2.distanceTransform((truth > 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    outside = cv2.distanceTransform((truth == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.maximum(inside, outside)
