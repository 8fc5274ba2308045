"""Face restorers (GFPGAN, RestoreFormer, RestoreFormer++, CodeFormer): a face crop in, the restored crop out.
The face-fixing workflow (`retouch.workflows.faces`) finds, crops and pastes back faces; this restores one crop.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retouch.engines.spandrel.model import SpandrelModel, seeded, to_pixels, to_tensor
from retouch.errors import InputError
from retouch.imaging.scale import resize

FACE_SIDE = 512


class FaceRestorer(SpandrelModel):
    """`restore(crop, weight)`: the models were trained on square, aligned faces at `native_size` (512)."""

    purpose = "face-restoration"

    native_size: int = FACE_SIDE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.native_size = self.info.native_size or FACE_SIDE

    def restore(self, crop: np.ndarray, weight: float = 1.0, *, seed: int = 0) -> np.ndarray:
        """The restored face: `crop` (HxWx3 uint8) blended with the model's output by `weight` (0 = the crop as
        it was, 1 = the model's face), at the crop's size. The model sees the crop at `native_size` x
        `native_size` (a square crop at that size runs as it is; others are resized there and back).
        GFPGAN injects noise; it comes from `seed`, so the same crop and seed give the same face."""
        import torch

        if crop.ndim != 3 or crop.shape[2] not in (3, 4) or min(crop.shape[:2]) < 1:
            raise InputError(f"a face crop must be RGB (HxWx3), got shape {tuple(crop.shape)}")
        if not 0.0 <= weight <= 1.0:
            raise InputError(f"weight must be in [0, 1], got {weight}")
        descriptor = self.loaded()
        height, width = crop.shape[:2]
        rgb = np.ascontiguousarray(crop[..., :3])
        if weight == 0.0:
            return rgb.copy()
        model_input = resize(rgb, (self.native_size, self.native_size))
        with torch.inference_mode(), seeded(seed, self.device):
            restored = to_pixels(descriptor(to_tensor(model_input, self.device, self.torch_dtype)))
        restored = resize(restored, (width, height))
        if weight == 1.0:
            return restored
        blended = rgb.astype(np.float32) * (1.0 - weight) + restored.astype(np.float32) * weight
        return np.clip(np.rint(blended), 0, 255).astype(np.uint8)
