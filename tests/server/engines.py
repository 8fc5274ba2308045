"""Engines for server tests. They go through the same contract and pipeline as the real ones."""

from __future__ import annotations

import threading
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


class GatedEngine(Engine):
    """Paints the hole grey over `params.steps` steps and after each waits until the test opens `gate`.

    A job holds its worker exactly as long as a test needs (to cancel it, to queue others behind it), so no
    test depends on how fast this machine is. A cancel is noticed while waiting, as a real engine's next step.
    """

    name = "gated"
    description = "test engine: each step waits for the test to open the gate"
    parameters = ("steps",)
    gate = threading.Event()  # shared with the in-process server the tests run

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        out = image.copy()
        for step in range(1, params.steps + 1):
            out[mask > 0] = (step * 255) // params.steps
            hooks.step(step, params.steps, out)
            while not self.gate.wait(0.02):
                hooks.check()
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


class BuggyEngine(Engine):
    """A plugin with a bug in its `check`: a job naming it is the one way a route meets a plain exception."""

    name = "buggy"
    description = "test engine: its check divides by zero"

    def check(self, params: FillParams) -> None:
        params.steps / 0  # noqa: B018 - the bug this engine stands for
