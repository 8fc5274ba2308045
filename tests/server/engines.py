"""Engines for server tests. They go through the same contract and pipeline as the real ones."""

from __future__ import annotations

import time

import numpy as np

from retouch.engines import Engine, Hooks
from retouch.recipe import FillParams


class SlowEngine(Engine):
    """Paints the hole grey over `params.steps` steps of 50 ms, with a preview each step."""

    name = "slow"
    description = "test engine: 50 ms a step"
    parameters = ("steps",)
    step_seconds = 0.05

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        out = image.copy()
        for step in range(1, params.steps + 1):
            time.sleep(self.step_seconds)
            out[mask > 0] = (step * 255) // params.steps
            hooks.step(step, params.steps, out)
        return out


class InvertEngine(Engine):
    """Inverts the hole at once: a no-op-cost engine for queue throughput."""

    name = "invert"
    description = "test engine: inverts the masked pixels"

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        out = image.copy()
        out[mask > 0] = 255 - out[mask > 0]
        hooks.step(1, 1)
        return out


class BrokenEngine(Engine):
    """A model whose weights cannot be loaded."""

    name = "broken"
    description = "test engine: fails to load"
    needs_weights = True

    def load(self, device: str) -> None:
        raise RuntimeError("weights file models/broken.safetensors is truncated")
