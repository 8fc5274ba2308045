"""Upscaling models (ESRGAN, Real-ESRGAN, Compact, SwinIR, ...) run tile by tile with bounded memory.

Tiles overlap by `overlap` pixels of context that is cut away again (see `retouch.imaging.tiles`), so the
result matches the untiled one within rounding. On CUDA, running out of memory halves the tile side and the
work goes on from the tile that failed. Progress is reported per tile.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retouch.engines.base import Hooks
from retouch.engines.memory import free_memory, is_oom
from retouch.engines.spandrel.model import SpandrelModel, to_pixels, to_tensor
from retouch.engines.upscaling import Upscaled, UpscaleEngine, upscaled_size
from retouch.errors import EngineError
from retouch.imaging.scale import resize
from retouch.imaging.tiles import TileTooSmall, run_tiled

DEFAULT_TILE = 512  # input pixels per tile side
DEFAULT_OVERLAP = 32  # context on each side of a tile, cut away again


class SpandrelUpscaler(SpandrelModel, UpscaleEngine):
    """A super-resolution model: `upscale` runs it at its own factor, then resizes to the factor asked for."""

    purpose = "upscaling"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scale = self.info.scale

    def upscale(
        self,
        rgb: np.ndarray,
        factor: float,
        hooks: Hooks,
        *,
        tile: int = DEFAULT_TILE,
        overlap: int = DEFAULT_OVERLAP,
    ) -> Upscaled:
        import torch
        from spandrel import ModelTiling

        descriptor = self.loaded()
        dtype = self.torch_dtype
        hooks.check()

        def model(window: np.ndarray) -> np.ndarray:
            hooks.check()
            with torch.inference_mode():
                return to_pixels(descriptor(to_tensor(window, self.device, dtype)))

        def out_of_memory(exc: BaseException) -> bool:
            if self.device.startswith("cuda") and is_oom(exc):
                free_memory()
                return True
            return False

        height, width = rgb.shape[:2]
        if descriptor.tiling == ModelTiling.INTERNAL:  # the model wants the whole picture
            tile = max(tile, width, height)
        multiple = descriptor.size_requirements.multiple_of
        tile = max(multiple, tile // multiple * multiple)
        try:
            pixels, report = run_tiled(
                np.ascontiguousarray(rgb[..., :3]),
                model,
                scale=self.info.scale,
                tile=tile,
                overlap=overlap,
                is_out_of_memory=out_of_memory,
                on_tile=lambda done, total: hooks.step(done, total),
            )
        except TileTooSmall as exc:
            raise EngineError(
                f"out of GPU memory running {self.name!r} even with {exc.tile}x{exc.tile} tiles"
            ) from None
        size = upscaled_size((width, height), factor)
        details = {"model_scale": self.info.scale, "tile": report.tile, "overlap": overlap, "tiles": report.tiles}
        if report.halvings:
            details["tile_halvings"] = report.halvings
        return Upscaled(resize(pixels, size), details)
