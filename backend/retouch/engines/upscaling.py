"""The upscaler contract: an engine whose `upscale(rgb, factor, hooks)` turns HxWx3 uint8 into
round(H*factor) x round(W*factor) x 3. Models (ESRGAN, Compact, SwinIR, ... through spandrel) implement it in
`retouch.engines.spandrel.upscale`; the weight-free Lanczos resampling is the `upscale` workflow's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retouch.engines.base import Engine, Hooks
from retouch.errors import InputError
from retouch.recipe import FillParams


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

    def upscale(self, rgb: np.ndarray, factor: float, hooks: Hooks, *, tile: int, overlap: int) -> Upscaled:
        """`rgb` at `factor` times its size; models run in `tile`-sided windows with `overlap` of context."""
        raise NotImplementedError

    def check(self, params: FillParams) -> None:
        raise InputError(
            f"{self.name!r} is an upscaler; it cannot fill a mask (use it with `retouch upscale` or an upscale job)"
        )

    def capabilities(self) -> dict[str, Any]:
        return {**super().capabilities(), "scale": self.scale}
