"""Upscalers: engines that make a picture larger. The weight-free Lanczos one lives here; model-backed ones
(ESRGAN, Compact, SwinIR, ... through spandrel) in `retouch.engines.spandrel.upscale`.

An upscaler's `upscale(rgb, factor, hooks)` turns HxWx3 uint8 into round(H*factor) x round(W*factor) x 3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from retouch.engines.base import Engine, Hooks
from retouch.errors import InputError
from retouch.recipe import FillParams

MAX_FACTOR = 8.0


def upscaled_size(size: tuple[int, int], factor: float) -> tuple[int, int]:
    """(width, height) of a picture of `size` upscaled by `factor`."""
    return max(1, round(size[0] * factor)), max(1, round(size[1] * factor))


@dataclass
class Upscaled:
    pixels: np.ndarray
    details: dict[str, Any] = field(default_factory=dict)  # what ran, for the recipe (tiles, model factor)


class UpscaleEngine(Engine):
    purpose = "upscaling"
    #: the factor the engine produces natively (a model's 2x, 4x); None = any factor
    scale: int | None = None

    def upscale(self, rgb: np.ndarray, factor: float, hooks: Hooks) -> Upscaled:
        raise NotImplementedError

    def check(self, params: FillParams) -> None:
        raise InputError(
            f"{self.name!r} is an upscaler; it cannot fill a mask (use it with `retouch upscale` or an upscale job)"
        )

    def capabilities(self) -> dict[str, Any]:
        return {**super().capabilities(), "scale": self.scale}


class Lanczos(UpscaleEngine):
    name = "lanczos"
    description = "Lanczos resampling (no model): any factor, sharp, adds no detail."

    def upscale(self, rgb: np.ndarray, factor: float, hooks: Hooks) -> Upscaled:
        hooks.check()
        width, height = upscaled_size((rgb.shape[1], rgb.shape[0]), factor)
        pixels = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LANCZOS4)
        hooks.step(1, 1)
        return Upscaled(pixels, {"method": "lanczos"})

    def version(self) -> str:
        return f"opencv {cv2.__version__} lanczos"
