"""Engines for the Ray cluster tests. They run in the workers' processes on the cluster's nodes, so a test holds
them with files, not with an in-process event: a held job waits after each step until `open` (every job) or
`open-SEED` (the job of that seed) exists in the folder `$RETOUCH_TEST_GATES`."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from retouch.engines import Engine, Hooks
from retouch.recipe import FillParams

GATES_VARIABLE = "RETOUCH_TEST_GATES"


def gate_open(seed: int) -> bool:
    gates = Path(os.environ[GATES_VARIABLE])
    return (gates / "open").exists() or (gates / f"open-{seed}").exists()


class HeldEngine(Engine):
    """Paints the hole grey over `params.steps` steps; after each it waits for its gate (see above), checking
    for a cancel as a real engine's next step would."""

    name = "held"
    description = "test engine: each step waits for the test to open the job's gate"
    parameters = ("steps",)

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        out = image.copy()
        for step in range(1, params.steps + 1):
            out[mask > 0] = (step * 255) // params.steps
            hooks.step(step, params.steps, out)
            while not gate_open(seed):
                time.sleep(0.01)  # polling the gate file; the cancel check below is the engine's step boundary
                hooks.check()
        return out


class FaultyEngine(Engine):
    """A bug in an engine: its fill raises an exception whose text must not reach a client."""

    name = "faulty"
    description = "test engine: its fill raises a bug"
    SECRET = "/srv/models/secret-path.bin"

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        raise KeyError(self.SECRET)


class _Model(Engine):
    """A model of a known size that fills the hole with its own colour, so a result shows which model ran."""

    description = "test model of a known size"
    needs_weights = True
    colour = 0

    def size_bytes(self) -> int:
        return 60

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        out = image.copy()
        out[mask > 0] = self.colour
        hooks.step(1, 1)
        return out


class ModelX(_Model):
    name = "model-x"
    colour = 40


class ModelY(_Model):
    name = "model-y"
    colour = 200


class TimedEngine(Engine):
    """Holds its worker for `params.steps` steps of 100 ms without using the CPU: a stand-in for GPU time, so
    throughput over several workers on a small machine measures the pool, not the machine's cores."""

    name = "timed"
    description = "test engine: 100 ms a step, sleeping"
    parameters = ("steps",)

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        out = image.copy()
        for step in range(1, params.steps + 1):
            time.sleep(0.1)
            out[mask > 0] = (step * 255) // params.steps
            hooks.step(step, params.steps)
        return out
