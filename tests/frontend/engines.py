"""Engines for the canvas tests: one shaped like a diffusion model (it takes a prompt and works on a grid
of 64 at a native 512, but paints like the server tests' slow engine: no weights, a step at a time), and
one that fills flat grey, leaving a seam to repair."""

from __future__ import annotations

import numpy as np

from retouch.engines import Engine, Hooks
from retouch.recipe import FillParams
from tests.server.engines import SlowEngine


class PromptGridEngine(SlowEngine):
    name = "slow-grid"
    description = "test engine: takes a prompt, grid 64, native 512"
    takes_prompt = True
    native_size = 512
    grid = 64


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
