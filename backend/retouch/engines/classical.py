"""Engines that need no weights: OpenCV's Telea and Navier-Stokes, and PatchMatch."""

from __future__ import annotations

from importlib.metadata import version

import cv2
import numpy as np

from retouch.engines.base import Engine, Hooks
from retouch.imaging.patchmatch import patchmatch_fill
from retouch.recipe import FillParams


class _OpenCV(Engine):
    needs_context = True
    flag: int
    radius = 5

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        hooks.check()
        out = cv2.inpaint(image, mask, self.radius, self.flag)
        hooks.step(1, 1)
        return out

    def version(self) -> str:
        return f"opencv {cv2.__version__}"


class Telea(_OpenCV):
    name = "telea"
    description = "Fast marching (Telea 2004): smooth fills for scratches, dust and small objects."
    flag = cv2.INPAINT_TELEA


class NavierStokes(_OpenCV):
    name = "navier-stokes"
    description = "Fluid-dynamics fill (Bertalmio 2001): continues edges into thin holes."
    flag = cv2.INPAINT_NS


class PatchMatch(Engine):
    name = "patchmatch"
    description = "PatchMatch (Barnes 2009): copies texture from the picture; best for backgrounds."
    needs_context = True

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        hooks.check()
        return patchmatch_fill(image, mask, seed, on_stage=lambda step, total: hooks.step(step, total))

    def version(self) -> str:
        return f"pypatchmatch {version('pypatchmatch')}"
