"""Diffusion engines: one per catalog entry, running diffusers' own inpainting pipelines (see `engine`)."""

from retouch.engines.diffusion.engine import DiffusionEngine
from retouch.engines.diffusion.previews import PREVIEW_EVERY, latents_to_rgb
from retouch.engines.diffusion.samplers import scheduler_class

__all__ = ["PREVIEW_EVERY", "DiffusionEngine", "latents_to_rgb", "scheduler_class"]
