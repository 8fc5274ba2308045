"""The engine contract: turn a prepared region and its mask into pixels. The pipeline does the rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from retouch.errors import Cancelled
from retouch.recipe import FillParams

StepCallback = Callable[[int, int, "np.ndarray | None", str], None]  # (step, total, preview, stage)


def _no_step(step: int, total: int, preview: np.ndarray | None, stage: str) -> None:
    return None


def _never() -> bool:
    return False


@dataclass
class Hooks:
    """How an engine reports progress and learns that it should stop. Same for every engine and workflow.

    A workflow made of several fills gives each one `part(index, count, stage)`: its steps are reported over
    the whole job, so a job has one progress stream (e.g. "face 2 of 3, step 12 of 30").
    """

    on_step: StepCallback = _no_step
    is_cancelled: Callable[[], bool] = _never
    stage: str = ""

    def report(self, step: int, total: int, preview: np.ndarray | None = None) -> None:
        """Report a finished step without checking for cancellation (for callbacks that stop on their own)."""
        self.on_step(step, total, preview, self.stage)

    def step(self, step: int, total: int, preview: np.ndarray | None = None) -> None:
        """Report a finished step; raises `Cancelled` when the job was cancelled meanwhile."""
        self.report(step, total, preview)
        self.check()

    def check(self) -> None:
        if self.is_cancelled():
            raise Cancelled()

    def part(self, index: int, count: int, stage: str) -> Hooks:
        """Hooks for part `index` (from 0) of `count` equal parts of a job, reporting over the whole job."""
        if not 0 <= index < count:
            raise ValueError(f"part {index} of {count} does not exist")
        parent = self

        def on_step(step: int, total: int, preview: np.ndarray | None, inner: str) -> None:
            text = f"{stage}, {inner}" if inner else f"{stage}, step {step} of {total}"
            parent.on_step(index * total + step, count * total, preview, text)

        return Hooks(on_step=on_step, is_cancelled=self.is_cancelled, stage="")


class Engine:
    """Subclasses set the capability attributes and implement `fill`.

    `fill` gets the region at working size: `image` HxWx3 uint8 (empty pixels already infilled),
    `mask` HxW uint8 with 255 = fill, the recipe and a concrete seed. It returns HxWx3 uint8 of the same
    size. Pixels outside the mask may be returned as the engine sees them; the pipeline composites.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    needs_weights: ClassVar[bool] = False
    takes_prompt: ClassVar[bool] = False
    #: which of the recipe's model settings (steps, guidance, strength, scheduler, negative_prompt) it uses
    parameters: tuple[str, ...] = ()
    needs_context: ClassVar[bool] = False  # fills only from unmasked pixels: the box must keep a 3x3 area
    native_size: int | None = None  # side of the square area the engine works best at
    grid: int = 1  # working sizes are multiples of this
    max_area: int | None = None  # auto scale shrinks regions above this many pixels
    max_side: int | None = None  # auto scale keeps the longer side at most this (engines that work on a square)
    #: what the engine is for: "inpainting" (fills a mask), "upscaling", "face-restoration", "restoration"
    purpose: str = "inpainting"
    device: str = "cpu"

    def load(self, device: str) -> None:
        """Bring weights onto `device` ("cpu", "cuda:0", "mps"). Heavy; never called on the event loop."""
        self.device = device

    def unload(self) -> None:
        """Release what `load` took (GPU memory included)."""

    def size_bytes(self) -> int:
        """Memory the loaded engine holds, for the model pool's budget."""
        return 0

    def check(self, params: FillParams) -> None:
        """Raise `InputError` for parameters this engine cannot honour (e.g. a sampler it lacks). Cheap: callers
        run it before loading weights or queueing a job."""

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        raise NotImplementedError

    def capabilities(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "needs_weights": self.needs_weights,
            "takes_prompt": self.takes_prompt,
            "parameters": list(self.parameters),
            "needs_context": self.needs_context,
            "native_size": self.native_size,
            "grid": self.grid,
            "purpose": self.purpose,
        }

    def version(self) -> str:
        """What produced the pixels, for the recipe."""
        return ""
