"""Infill: pre-fill pixels that have no content (alpha 0) before an engine runs.

Each method is `fill(rgb, holes, infill, rng) -> rgb` on HxWx3 uint8 with an HxW bool `holes`;
pixels outside `holes` are returned unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from retouch.recipe import Infill

InfillFn = Callable[[np.ndarray, np.ndarray, Infill, np.random.Generator], np.ndarray]


def solid(rgb: np.ndarray, holes: np.ndarray, infill: Infill, rng: np.random.Generator) -> np.ndarray:
    out = rgb.copy()
    out[holes] = infill.rgb()
    return out


def blur(rgb: np.ndarray, holes: np.ndarray, infill: Infill, rng: np.random.Generator) -> np.ndarray:
    """Push-pull: average the known colours down a pyramid, then pull them back up into the holes."""
    known = (~holes).astype(np.float32)
    colour = rgb.astype(np.float32) * known[..., None]
    levels: list[tuple[np.ndarray, np.ndarray]] = [(colour, known)]
    # down to one pixel along the longer side if need be: a thin strip has holes far from any colour
    while max(levels[-1][1].shape) > 1 and levels[-1][1].min() == 0:
        c, w = levels[-1]
        levels.append((cv2.pyrDown(c), cv2.pyrDown(w)))
    c, w = levels[-1]
    filled = c / np.maximum(w, 1e-6)[..., None]
    for c, w in reversed(levels[:-1]):
        up = cv2.pyrUp(filled, dstsize=(w.shape[1], w.shape[0]))
        mean = c / np.maximum(w, 1e-6)[..., None]
        alpha = np.clip(w, 0, 1)[..., None]
        filled = alpha * mean + (1 - alpha) * up
    out = rgb.copy()
    out[holes] = np.clip(np.rint(filled[holes]), 0, 255).astype(np.uint8)
    return out


def tile(rgb: np.ndarray, holes: np.ndarray, infill: Infill, rng: np.random.Generator) -> np.ndarray:
    """Cover the holes with tiles cut at random (seeded) from fully known parts of the picture."""
    size = min(infill.tile_size, *rgb.shape[:2])
    known = (~holes).astype(np.uint8)
    # a tile is usable where its whole square is known: erode the known area by the tile
    usable = cv2.erode(known, np.ones((size, size), np.uint8), anchor=(0, 0), borderValue=0)
    ys, xs = np.nonzero(usable[: rgb.shape[0] - size + 1, : rgb.shape[1] - size + 1])
    if ys.size == 0:
        return blur(rgb, holes, infill, rng)
    out = rgb.copy()
    height, width = holes.shape
    for ty in range(0, height, size):
        for tx in range(0, width, size):
            cell = holes[ty : ty + size, tx : tx + size]
            if not cell.any():
                continue
            pick = rng.integers(ys.size)
            sy, sx = ys[pick], xs[pick]
            patch = rgb[sy : sy + cell.shape[0], sx : sx + cell.shape[1]]
            out[ty : ty + size, tx : tx + size][cell] = patch[cell]
    return out


def _opencv(flag: int) -> InfillFn:
    def fill(rgb: np.ndarray, holes: np.ndarray, infill: Infill, rng: np.random.Generator) -> np.ndarray:
        return cv2.inpaint(rgb, holes.astype(np.uint8) * 255, 3, flag)

    return fill


def patchmatch(rgb: np.ndarray, holes: np.ndarray, infill: Infill, rng: np.random.Generator) -> np.ndarray:
    from retouch.imaging.patchmatch import patchmatch_fill

    return patchmatch_fill(rgb, holes.astype(np.uint8) * 255, int(rng.integers(2**32)))


INFILLS: dict[str, InfillFn] = {
    "patchmatch": patchmatch,
    "blur": blur,
    "solid": solid,
    "tile": tile,
    "telea": _opencv(cv2.INPAINT_TELEA),
    "navier-stokes": _opencv(cv2.INPAINT_NS),
}


def infill(rgb: np.ndarray, holes: np.ndarray, spec: Infill, rng: np.random.Generator) -> np.ndarray:
    """Pre-fill `holes`; with no known pixel at all there is nothing to pull from, so the colour is used."""
    if not holes.any():
        return rgb
    if holes.all():
        return solid(rgb, holes, spec, rng)
    return INFILLS[spec.method](rgb, holes, spec, rng)
