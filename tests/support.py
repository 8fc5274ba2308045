"""Helpers the tests share: encoders, a detail measure and the command line as a user runs it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

BACKEND = Path(__file__).resolve().parents[1] / "backend"


def bricks(side: int) -> np.ndarray:
    """skimage's brick wall at side x side, coloured: a stochastic texture with detail everywhere."""
    gray = cv2.resize(data.brick(), (side, side), interpolation=cv2.INTER_AREA)
    return np.stack([gray, np.roll(gray, 7, axis=1), 255 - gray], axis=-1)


def encode(array: np.ndarray, fmt: str = "PNG", mode: str | None = None, **save) -> bytes:
    """`array` saved as `fmt` bytes (optionally in a given Pillow mode)."""
    image = Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def gradient(rgb: np.ndarray, where: np.ndarray) -> float:
    """Mean Sobel gradient magnitude of the luminance over `where`: how much detail a fill has."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1)
    return float(np.hypot(gx, gy)[where].mean())


def run_cli(*args: str | os.PathLike, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`retouch ARGS` as a user runs it, in a fresh process on this checkout's code."""
    env = {**os.environ, "PYTHONPATH": str(BACKEND)}
    return subprocess.run(
        [sys.executable, "-m", "retouch.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
#: Six photographs for the seam repair's acceptance tests, each with the scale that keeps it near 300 px.
SEAM_PHOTOS = {
    "astronaut": 0.5,
    "coffee": 0.5,
    "chelsea": 0.5,
    "rocket": 0.5,
    "retina": 0.18,
    "immunohistochemistry": 0.5,
}


def noise_with_a_hole(folder: Path, height: int, width: int) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """A random picture and a mask over its middle half, saved as `in.png` and `mask.png` in `folder`."""
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    mask = np.zeros((height, width), np.uint8)
    mask[height // 4 : height * 3 // 4, width // 4 : width * 3 // 4] = 255
    Image.fromarray(pixels).save(folder / "in.png")
    Image.fromarray(mask).save(folder / "mask.png")
    return folder / "in.png", folder / "mask.png", pixels, mask


def photo(name: str, scale: float = 0.5) -> np.ndarray:
    """One of scikit-image's colour photographs, scaled down (INTER_AREA) to keep the tests fast."""
    rgb = getattr(data, name)()
    size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def ellipse_mask(shape: tuple[int, ...], angle: float = 20) -> np.ndarray:
    """A tilted ellipse left of centre: a fill region whose boundary runs in every direction."""
    height, width = shape[:2]
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, (int(width * 0.45), int(height * 0.5)), (width // 5, height // 6), angle, 0, 360, 255, -1)
    return mask


def edge_mask(shape: tuple[int, ...], fraction: float = 0.3) -> np.ndarray:
    """The right `fraction` of the picture: what an outpainting fill extends, touching the picture's edge."""
    height, width = shape[:2]
    mask = np.zeros((height, width), np.uint8)
    mask[:, round(width * (1 - fraction)) :] = 255
    return mask


def hard_paste(picture: np.ndarray, mask: np.ndarray, shift: tuple[int, int] = (23, 37)) -> np.ndarray:
    """The masked region replaced by the picture shifted by (dy, dx): content that does not meet its edge."""
    out = picture.copy()
    shifted = np.roll(picture, shift, axis=(0, 1))
    out[mask > 0] = shifted[mask > 0]
    return out


def drifted_paste(
    picture: np.ndarray, mask: np.ndarray, shift: tuple[int, int] = (23, 37), lift: int = 20
) -> np.ndarray:
    """A hard paste of the picture shifted by (dy, dx) and brightened by `lift` levels: a fill that drifted."""
    lifted = np.clip(picture.astype(np.int16) + lift, 0, 255).astype(np.uint8)
    out = picture.copy()
    out[mask > 0] = hard_paste(lifted, mask, shift)[mask > 0]
    return out


def tinted_paste(picture: np.ndarray, mask: np.ndarray, tint: tuple[int, int, int] = (30, 12, -24)) -> np.ndarray:
    """The masked region's own content with its colour shifted: a fill that came out in the wrong tone."""
    out = picture.astype(np.int16)
    out[mask > 0, :3] += np.array(tint, np.int16)
    return np.clip(out, 0, 255).astype(np.uint8)


def blurred_fill(picture: np.ndarray, mask: np.ndarray, sigma: float = 15) -> np.ndarray:
    """The masked region filled with a heavy blur of the picture: an outpainting edge with no detail."""
    out = picture.copy()
    out[mask > 0] = cv2.GaussianBlur(picture, (0, 0), sigma)[mask > 0]
    return out


def stroke_over_edge(mask: np.ndarray, width: int = 9) -> np.ndarray:
    """A stroke `width` px wide painted along the edge of `mask`, as a user paints over a seam."""
    edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    return cv2.dilate(edge, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width)))
