"""Model families: what each kind of diffusion model needs (native size, grid, dtype, defaults, samplers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Family = Literal["sd-inpaint", "sd", "sdxl-inpaint", "sdxl", "flux-fill"]


@dataclass(frozen=True)
class FamilyInfo:
    label: str
    native_size: int
    grid: int
    cuda_dtype: str  # half precision that family runs well in
    steps: int
    guidance: float
    scheduler: str
    schedulers: tuple[str, ...]
    default_config: str  # hub id of the diffusers layout a single-file checkpoint of this family follows


_SD_SCHEDULERS = ("euler-a", "euler", "dpm++-2m-karras", "ddim", "unipc")

FAMILIES: dict[str, FamilyInfo] = {
    "sd-inpaint": FamilyInfo(
        "Stable Diffusion 1.5/2.x inpainting (9-channel UNet)",
        512,
        8,
        "float16",
        30,
        7.5,
        "dpm++-2m-karras",
        _SD_SCHEDULERS,
        "stable-diffusion-v1-5/stable-diffusion-inpainting",
    ),
    "sd": FamilyInfo(
        "Stable Diffusion 1.5/2.x text-to-image, inpainting by latent blending",
        512,
        8,
        "float16",
        30,
        7.5,
        "dpm++-2m-karras",
        _SD_SCHEDULERS,
        "stable-diffusion-v1-5/stable-diffusion-v1-5",
    ),
    "sdxl-inpaint": FamilyInfo(
        "Stable Diffusion XL inpainting (9-channel UNet)",
        1024,
        8,
        "float16",
        30,
        7.5,
        "dpm++-2m-karras",
        _SD_SCHEDULERS,
        "diffusers/stable-diffusion-xl-1.0-inpainting-0.1",
    ),
    "sdxl": FamilyInfo(
        "Stable Diffusion XL text-to-image, inpainting by latent blending",
        1024,
        8,
        "float16",
        30,
        7.5,
        "dpm++-2m-karras",
        _SD_SCHEDULERS,
        "stabilityai/stable-diffusion-xl-base-1.0",
    ),
    "flux-fill": FamilyInfo(
        "FLUX.1 Fill (flow matching, 16-channel latents)",
        1024,
        16,
        "bfloat16",
        50,
        30.0,
        "flow-euler",
        ("flow-euler",),
        "black-forest-labs/FLUX.1-Fill-dev",
    ),
}
#: SD 2.x checkpoints (OpenCLIP text encoder, 1024-wide cross attention) follow these layouts instead.
SD2_CONFIGS = {"sd-inpaint": "stabilityai/stable-diffusion-2-inpainting", "sd": "stabilityai/stable-diffusion-2-1"}
