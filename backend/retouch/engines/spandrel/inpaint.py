"""LaMa and MAT: prompt-free object removal through the same pipeline as every other engine.

The pipeline crops the region, scales it, composites and keeps everything outside the mask bit-exact; these
engines only turn the prepared region and mask into pixels. How each is scaled (`scale: auto`):

- LaMa works at the region's own size up to a longer side of 1280 px; larger regions are shrunk to that and
  the result is brought back to size (IOPaint's "Resize" HD strategy, with its default limit). It is never
  resampled up: spandrel pads each side to a multiple of 8 (reflection), as IOPaint does.
- MAT was trained on 512x512 squares: regions are brought to a 512 px longer side (small ones grow), and
  spandrel pads the shorter side to 512.

MAT draws a latent code and uses dropout at inference: both come from the job's seed here, so a seed
reproduces a result. LaMa uses no randomness.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np

from retouch.engines.base import Hooks
from retouch.engines.spandrel.model import SpandrelModel, mask_tensor, seeded, to_pixels, to_tensor
from retouch.recipe import FillParams

LAMA_MAX_SIDE = 1280  # IOPaint's hd_strategy_resize_limit default
MAT_SIDE = 512
MAT_LATENT = 512  # MAT's z_dim


class SpandrelInpainter(SpandrelModel):
    """An inpainting model (LaMa, MAT, or another spandrel inpainting architecture)."""

    purpose = "inpainting"
    takes_prompt = False
    parameters = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.info.architecture == "MAT" or self.info.native_size:
            self.native_size = self.info.native_size or MAT_SIDE
            self.max_side = self.native_size
            self.grid = 8
        else:  # LaMa and other fully convolutional models
            self.max_side = LAMA_MAX_SIDE
            self.grid = 1

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        import torch

        descriptor = self.loaded()
        hooks.check()
        dtype = self.torch_dtype
        random = self.info.architecture == "MAT"
        with torch.inference_mode(), seeded(seed, self.device) if random else nullcontext():
            if random:
                # MAT's latent code is drawn once when the module is built; draw it from the job's seed instead
                code = np.random.default_rng(seed).standard_normal((1, MAT_LATENT))
                descriptor.model.z = torch.from_numpy(code).to(self.device, torch.float32)
            result = descriptor(to_tensor(image[..., :3], self.device, dtype), mask_tensor(mask, self.device, dtype))
        pixels = to_pixels(result)
        hooks.step(1, 1)
        return pixels
