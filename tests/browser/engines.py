"""Engines for the canvas tests: ones shaped like diffusion models (they take a prompt and work on a grid at a
native size, but paint like the server tests' slow engine: no weights, a step at a time), one that fills flat
grey, leaving a seam to repair, an upscaler with a factor of its own and a face restorer."""

from __future__ import annotations

import hashlib
import time

import cv2
import numpy as np

from retouch.engines import Engine, Hooks
from retouch.engines.upscaling import Upscaled, UpscaleEngine
from retouch.recipe import FillParams
from tests.server.engines import SlowEngine


class PromptGridEngine(SlowEngine):
    name = "slow-grid"
    description = "test engine: takes a prompt, grid 64, native 512"
    takes_prompt = True
    native_size = 512
    grid = 64


class FaceRedrawEngine(SlowEngine):
    """Shaped like a diffusion model that can redraw faces (it takes a prompt and a strength). It paints the
    masked area in a colour made from the prompt, so a test sees which prompt reached which face."""

    name = "slow-face"
    description = "test engine: takes a prompt and a strength, paints the prompt's colour"
    takes_prompt = True
    parameters = ("steps", "strength")
    native_size = 64
    grid = 8
    step_seconds = 0.02

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        out = image.copy()
        for step in range(1, params.steps + 1):
            time.sleep(self.step_seconds)
            hooks.step(step, params.steps)
        out[mask > 0] = prompt_colour(params.prompt)
        return out


def prompt_colour(prompt: str) -> tuple[int, int, int]:
    r, g, b = hashlib.sha256(prompt.encode()).digest()[:3]
    return r, g, b


class PixelDoubler(UpscaleEngine):
    """An upscaler with a factor of its own, for the canvas's model choice: each pixel becomes 2x2 (nearest
    neighbour, as pixel-art upscaling does), a band of rows at a time."""

    name = "pixels-x2"
    description = "test upscaler: nearest neighbour, 2x"
    scale = 2

    def upscale(self, rgb: np.ndarray, factor: float, hooks: Hooks, *, tile: int, overlap: int) -> Upscaled:
        bands = [rgb[y : y + tile] for y in range(0, rgb.shape[0], tile)]
        out = []
        for i, band in enumerate(bands):
            out.append(band.repeat(2, axis=0).repeat(2, axis=1))
            hooks.step(i + 1, len(bands))
        return Upscaled(np.concatenate(out), {"model_scale": 2})


class FlatEngine(Engine):
    """Fills the hole with one flat mid grey at once: a fill whose edge shows as a hard seam on any picture
    that is not mid grey there (what a seam repair is for)."""

    name = "flat"
    description = "test engine: fills the hole flat grey"

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        out = image.copy()
        out[mask > 0] = 128
        hooks.step(1, 1, out)
        return out


class UnsharpFaces(Engine):
    """A face restorer without weights for the canvas tests (the faces job calls `restore` on each face's
    square crop): an unsharp mask, blended with the crop by `weight`."""

    name = "unsharp-faces"
    description = "test face restorer: unsharp mask"
    purpose = "face-restoration"
    native_size = 64

    def restore(self, crop: np.ndarray, weight: float = 1.0, *, seed: int = 0) -> np.ndarray:
        rgb = np.ascontiguousarray(crop[..., :3])
        sharp = cv2.addWeighted(rgb, 1.8, cv2.GaussianBlur(rgb, (0, 0), 2), -0.8, 0)
        return cv2.addWeighted(rgb, 1 - weight, sharp, weight, 0)
