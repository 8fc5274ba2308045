"""PatchMatch fill that scales with the hole, not the picture.

The PatchMatch library (PyPatchMatch, as used by InvokeAI) costs time in proportion to the number of hole
pixels at full resolution. We run it on the hole's neighbourhood only and, for large holes, coarse to
fine: the library lays out the structure at a reduced scale where its cost fits a budget. Its fill there
is made of copied patches, so a vectorised nearest-neighbour search at that scale recovers where each
hole pixel came from, a coherent field; carried up to full resolution, the field says where to take the
picture's own high-frequency detail, which goes on top of the upsampled structure. So the hole gets
real texture from the picture, in patches as the library would copy them, not an upscaled blur.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import cv2
import numpy as np
from patchmatch import patch_match as pm

from retouch.errors import EngineError, InputError
from retouch.imaging.mask import bounds, has_unmasked_block

#: Hole pixels the library gets to work on at once; above this the hole is filled coarse to fine.
HOLE_BUDGET = 30_000
PATCH_SIZE = 3  # the library's patch radius; InvokeAI uses 3 as well
_REACH = 3  # how far from a pixel its descriptor looks
_AROUND = ((-_REACH, 0), (_REACH, 0), (0, -_REACH), (0, _REACH))
_PROPAGATION_JUMPS = ((8, 4, 2, 1), (2, 1))  # one tuple per search iteration
_SEARCH_RADII = (64, 16, 4)

# The library keeps its random seed in a global, so calls that depend on a seed are serialised.
_LIBRARY_LOCK = threading.Lock()


def library_inpaint(image: np.ndarray, mask: np.ndarray, seed: int, patch_size: int = PATCH_SIZE) -> np.ndarray:
    """The raw library call (whole picture, full resolution): the reference our fill is measured against."""
    if not pm.patchmatch_available:
        raise EngineError("the PatchMatch native library failed to load on this machine")
    with _LIBRARY_LOCK:
        pm.set_random_seed(seed)
        return pm.inpaint(np.ascontiguousarray(image), np.ascontiguousarray(mask), patch_size=patch_size)


def patchmatch_fill(
    image: np.ndarray,
    mask: np.ndarray,
    seed: int,
    *,
    budget: int = HOLE_BUDGET,
    on_stage: Callable[[int, int], None] = lambda step, total: None,
) -> np.ndarray:
    """Fill `mask` (255 = hole) in an RGB uint8 `image`; pixels outside the mask are returned unchanged."""
    hole = mask > 0
    box = bounds(mask)
    if box is None:
        return image.copy()
    if hole.all():
        raise InputError("patchmatch needs some unmasked pixels to copy from; the whole region is masked")
    height, width = mask.shape
    x, y, w, h = box
    margin = max(4 * PATCH_SIZE, max(w, h) // 2)
    x0, y0 = max(0, x - margin), max(0, y - margin)
    x1, y1 = min(width, x + w + margin), min(height, y + h + margin)
    crop, crop_hole = image[y0:y1, x0:x1], hole[y0:y1, x0:x1]

    if not has_unmasked_block(crop_hole):  # the library would leave the hole black
        raise InputError(
            "patchmatch needs an unmasked area of at least 3x3 pixels to copy from; the mask leaves only thin slivers"
        )
    factor = 1
    while crop_hole.sum() > budget * factor * factor:
        factor *= 2
    while factor > 1 and not has_unmasked_block(_shrink(crop_hole, factor)[1]):
        factor //= 2  # a thin known area vanishes at this scale: work finer (slower) rather than fail
    total = 1 if factor == 1 else 3
    if factor == 1:
        filled = library_inpaint(crop, crop_hole.astype(np.uint8) * 255, seed)
        on_stage(1, total)
    else:
        filled = _coarse_to_fine(crop, crop_hole, factor, seed, on_stage)
    out = image.copy()
    region = out[y0:y1, x0:x1]
    region[crop_hole] = filled[crop_hole]
    return out


def _coarse_to_fine(
    image: np.ndarray, hole: np.ndarray, factor: int, seed: int, on_stage: Callable[[int, int], None]
) -> np.ndarray:
    height, width = hole.shape
    small_size, small_hole = _shrink(hole, factor)
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
    coarse = library_inpaint(small, small_hole.astype(np.uint8) * 255, seed)
    on_stage(1, 3)

    # Structure: the library's fill, upsampled. Texture: the picture's own detail above that scale,
    # measured against the same upsampled fill, so that what the hole held before leaks into nothing.
    guide = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    detail = image.astype(np.float32) - guide

    # The library's coarse fill is made of copied patches: find where each coarse hole pixel was copied
    # from (a coherent field), carry that field up to full resolution, and copy the picture's detail there.
    small_known = (~small_hole).astype(np.uint8)
    small_source = cv2.erode(small_known, np.ones((2 * _REACH + 1,) * 2, np.uint8), borderValue=0) > 0
    if not small_source.any():
        small_source = ~small_hole
    rng = np.random.default_rng(seed)
    cys, cxs = np.nonzero(small_hole)
    src_y, src_x = _match(
        _descriptors(coarse.astype(np.float32)), _descriptors(small.astype(np.float32)), cys, cxs, small_source, rng
    )
    offset_y = np.zeros(small_hole.shape, np.int64)
    offset_x = np.zeros(small_hole.shape, np.int64)
    offset_y[cys, cxs] = src_y - cys
    offset_x[cys, cxs] = src_x - cxs
    on_stage(2, 3)

    ys, xs = np.nonzero(hole)
    fy = np.clip(ys // factor, 0, small_hole.shape[0] - 1)
    fx = np.clip(xs // factor, 0, small_hole.shape[1] - 1)
    sy = ys + offset_y[fy, fx] * factor
    sx = xs + offset_x[fy, fx] * factor
    inside = (sy >= 0) & (sy < height) & (sx >= 0) & (sx < width)
    sy, sx = np.where(inside, sy, ys), np.where(inside, sx, xs)
    usable = inside & ~hole[sy, sx]
    result = guide
    result[ys[usable], xs[usable]] += detail[sy[usable], sx[usable]]
    on_stage(3, 3)
    return np.clip(np.rint(result), 0, 255).astype(np.uint8)


def _shrink(hole: np.ndarray, factor: int) -> tuple[tuple[int, int], np.ndarray]:
    """The working size at `factor` and the hole there: every pixel that touches the hole is part of it."""
    height, width = hole.shape
    size = (max(8, width // factor), max(8, height // factor))
    return size, cv2.resize(hole.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA) > 0


def _descriptors(picture: np.ndarray) -> np.ndarray:
    """Per pixel, its colour and the luminance at four points around it: a cheap stand-in for a patch."""
    pad = _REACH
    h, w = picture.shape[:2]
    luma = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY)
    padded = cv2.copyMakeBorder(luma, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    around = [padded[pad + dy : pad + dy + h, pad + dx : pad + dx + w, None] for dy, dx in _AROUND]
    return np.ascontiguousarray(np.concatenate([picture, *around], axis=2).reshape(h * w, -1))


def _match(
    target: np.ndarray,
    library: np.ndarray,
    ys: np.ndarray,
    xs: np.ndarray,
    source: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """For each hole pixel (ys, xs), a source pixel with a similar descriptor: PatchMatch, vectorised.

    `target` and `library` are flat descriptor tables of the picture. The field lives on the hole's
    bounding box so that neighbours hand each other their matches (propagation, with jumps that halve
    as in jump flooding); random search around the best match so far refines it.
    """
    height, width = source.shape
    source_flat = source.ravel()
    src = np.flatnonzero(source_flat)
    by0, bx0 = ys.min(), xs.min()
    bh, bw = ys.max() - by0 + 1, xs.max() - bx0 + 1
    ly, lx = ys - by0, xs - bx0
    hole_in_box = np.zeros((bh, bw), bool)
    hole_in_box[ly, lx] = True
    field = np.zeros((bh, bw), np.int64)  # flat index of the match in the picture
    field[ly, lx] = src[rng.integers(0, src.size, ys.size)]
    want = target[ys * width + xs]

    def cost(candidate: np.ndarray) -> np.ndarray:
        err = np.square(np.take(library, candidate, axis=0) - want).sum(axis=1)
        err[~source_flat[candidate]] = np.inf
        return err

    current = field[ly, lx]
    best = cost(current)

    def consider(cy: np.ndarray, cx: np.ndarray) -> None:
        nonlocal best, current
        candidate = np.clip(cy, 0, height - 1) * width + np.clip(cx, 0, width - 1)
        c = cost(candidate)
        better = c < best
        best = np.where(better, c, best)
        current = np.where(better, candidate, current)
        field[ly, lx] = current

    for jumps in _PROPAGATION_JUMPS:
        for jump in jumps:
            for dy, dx in ((0, jump), (0, -jump), (jump, 0), (-jump, 0)):
                ny, nx = ly + dy, lx + dx
                ok = (ny >= 0) & (ny < bh) & (nx >= 0) & (nx < bw)
                ny, nx = np.where(ok, ny, ly), np.where(ok, nx, lx)
                usable = ok & hole_in_box[ny, nx]
                # the neighbour's match, shifted back by the step between us
                neighbour = field[ny, nx]
                consider(
                    np.where(usable, neighbour // width - dy, current // width),
                    np.where(usable, neighbour % width - dx, current % width),
                )
        for radius in _SEARCH_RADII:
            consider(
                current // width + rng.integers(-radius, radius + 1, ys.size),
                current % width + rng.integers(-radius, radius + 1, ys.size),
            )
    return current // width, current % width
