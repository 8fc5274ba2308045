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
