"""Live previews: the latents projected to RGB with the published linear factors, no VAE decode."""

from __future__ import annotations

from typing import Any

import numpy as np

PREVIEW_EVERY = 4  # steps between previews (the last step always gets one)
PREVIEW_SIDE = 256  # previews are at most this many pixels on their longer side

# Linear latent -> RGB projections, as published with ComfyUI's latent formats (comfy/latent_formats.py):
# rgb = latent · factors + bias, then (rgb + 1) / 2. Rows are latent channels, columns R, G, B.
LATENT_RGB: dict[str, tuple[list[list[float]], list[float]]] = {
    "sd": (
        [[0.3512, 0.2297, 0.3227], [0.3250, 0.4974, 0.2350], [-0.2829, 0.1762, 0.2721], [-0.2120, -0.2616, -0.7177]],
        [0.0, 0.0, 0.0],
    ),
    "sdxl": (
        [[0.3651, 0.4232, 0.4341], [-0.2533, -0.0042, 0.1068], [0.1076, 0.1111, -0.0362], [-0.3165, -0.2492, -0.2188]],
        [0.1084, -0.0175, -0.0011],
    ),
    "flux": (
        [
            [-0.0346, 0.0244, 0.0681],
            [0.0034, 0.0210, 0.0687],
            [0.0275, -0.0668, -0.0433],
            [-0.0174, 0.0160, 0.0617],
            [0.0859, 0.0721, 0.0329],
            [0.0004, 0.0383, 0.0115],
            [0.0405, 0.0861, 0.0915],
            [-0.0236, -0.0185, -0.0259],
            [-0.0245, 0.0250, 0.1180],
            [0.1008, 0.0755, -0.0421],
            [-0.0515, 0.0201, 0.0011],
            [0.0428, -0.0012, -0.0036],
            [0.0817, 0.0765, 0.0749],
            [-0.1264, -0.0522, -0.1103],
            [-0.0280, -0.0881, -0.0499],
            [-0.1262, -0.0982, -0.0778],
        ],
        [-0.0329, -0.0718, -0.0851],
    ),
}
PREVIEW_FORMAT = {"sd-inpaint": "sd", "sd": "sd", "sdxl-inpaint": "sdxl", "sdxl": "sdxl", "flux-fill": "flux"}


def latents_to_rgb(latents: Any, fmt: str) -> np.ndarray:
    """A small RGB uint8 preview (longer side <= PREVIEW_SIDE) of `latents` (1xCxHxW) by linear projection."""
    import torch

    factors, bias = LATENT_RGB[fmt]
    weight = torch.tensor(factors, dtype=torch.float32)
    latent = latents[0].detach().to("cpu", torch.float32)
    if latent.shape[0] != weight.shape[0]:
        raise ValueError(f"{fmt} previews need {weight.shape[0]} latent channels, got {latent.shape[0]}")
    rgb = torch.einsum("chw,cr->hwr", latent, weight) + torch.tensor(bias)
    pixels = ((rgb + 1.0) / 2.0).clamp(0, 1).mul(255).round().to(torch.uint8).numpy()
    height, width = pixels.shape[:2]
    scale = PREVIEW_SIDE / max(height, width)
    if scale < 1:
        import cv2

        pixels = cv2.resize(
            pixels, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
        )
    return np.ascontiguousarray(pixels)
