"""Run an image-to-image model tile by tile so its memory stays bounded, with no visible seams.

Each tile is the model's input window: a core of the picture plus `overlap` pixels of context on every side
that is inside the picture, never more than `tile` on a side. Only the core of each result is kept, so as
long as the overlap covers the model's receptive field the tiled result is the untiled one (up to float
rounding), with no blending. Cores are cut evenly, so the work repeated in the overlaps stays small.

When the model runs out of memory on a window, the tile side is halved for the rest of the picture and the
failed core is split; tiles already done are kept ("halve the tile and go on").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Rect = tuple[int, int, int, int]  # x, y, width, height


@dataclass(frozen=True)
class TileReport:
    tiles: int  # model calls that succeeded
    tile: int  # the tile side used at the end (smaller than asked after running out of memory)
    halvings: int


class TileTooSmall(Exception):
    """The model ran out of memory even on the smallest allowed tile."""

    def __init__(self, tile: int) -> None:
        super().__init__(f"out of memory even with {tile}x{tile} tiles")
        self.tile = tile


def core_side(tile: int, overlap: int) -> int:
    """The side of the part of a window that is kept."""
    return tile - 2 * overlap


def min_tile(overlap: int) -> int:
    """The smallest tile worth running: its kept core is at least as wide as the context on each side."""
    return max(32, 3 * overlap)


def split(rect: Rect, side: int) -> list[Rect]:
    """`rect` cut into cores of at most `side` x `side`, row by row (the last ones in each direction smaller)."""
    x, y, width, height = rect
    cols, rows = math.ceil(width / side), math.ceil(height / side)
    xs = [x + round(i * width / cols) for i in range(cols + 1)]  # even cuts: no sliver at the end
    ys = [y + round(j * height / rows) for j in range(rows + 1)]
    return [(xs[i], ys[j], xs[i + 1] - xs[i], ys[j + 1] - ys[j]) for j in range(rows) for i in range(cols)]


def window(core: Rect, tile: int, overlap: int, size: tuple[int, int]) -> Rect:
    """The model's input window for `core`: the core plus `overlap` around it where the picture goes on (a
    side of the picture no longer than `tile` is taken whole)."""
    x, y, w, h = core
    width, height = size

    def span(start: int, length: int, total: int) -> tuple[int, int]:
        if total <= tile:
            return 0, total
        begin, end = max(0, start - overlap), min(total, start + length + overlap)
        return begin, end - begin

    wx, ww = span(x, w, width)
    wy, wh = span(y, h, height)
    return wx, wy, ww, wh


def plan_tiles(size: tuple[int, int], tile: int, overlap: int) -> list[Rect]:
    """The cores covering a picture of `size` (width, height) with windows of `tile`."""
    width, height = size
    if width <= tile and height <= tile:
        return [(0, 0, width, height)]
    return split((0, 0, width, height), core_side(tile, overlap))


def run_tiled(
    image: np.ndarray,
    model: Callable[[np.ndarray], np.ndarray],
    *,
    scale: int,
    tile: int,
    overlap: int,
    is_out_of_memory: Callable[[BaseException], bool] = lambda exc: False,
    on_tile: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, TileReport]:
    """`model` (HxWxC uint8 -> sH x sW x C uint8) applied to `image` tile by tile.

    `tile` is the side of the model's input windows and `overlap` the context kept around each core; a
    picture no larger than `tile` runs in one call. `is_out_of_memory(exc)` says which failures mean
    "try smaller tiles"; any other exception propagates. `on_tile(done, total)` follows each window (the
    total grows when a tile is split); it may raise to stop the work (e.g. `Cancelled`).
    """
    if overlap < 0 or tile < min_tile(overlap):
        raise ValueError(f"tile {tile} is too small for overlap {overlap}; it must be at least {min_tile(overlap)}")
    height, width = image.shape[:2]
    out = np.empty((height * scale, width * scale, image.shape[2]), np.uint8)
    pending = plan_tiles((width, height), tile, overlap)[::-1]  # a stack: the next core is last
    done = halvings = 0
    while pending:
        core = pending.pop()
        x, y, w, h = core
        if (w > core_side(tile, overlap) or h > core_side(tile, overlap)) and (width > tile or height > tile):
            pending.extend(split(core, core_side(tile, overlap))[::-1])
            continue
        wx, wy, ww, wh = window(core, tile, overlap, (width, height))
        try:
            result = model(image[wy : wy + wh, wx : wx + ww])
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            if tile // 2 < min_tile(overlap):
                raise TileTooSmall(tile) from exc
            tile //= 2
            halvings += 1
            pending.append(core)  # split on its next turn
            continue
        expected = (wh * scale, ww * scale)
        if result.shape[:2] != expected:
            raise ValueError(
                f"the model returned {result.shape[1]}x{result.shape[0]} for a {ww}x{wh} tile, "
                f"expected {expected[1]}x{expected[0]} (scale {scale})"
            )
        cx, cy = (x - wx) * scale, (y - wy) * scale
        out[y * scale : (y + h) * scale, x * scale : (x + w) * scale] = result[cy : cy + h * scale, cx : cx + w * scale]
        done += 1
        if on_tile is not None:
            on_tile(done, done + _count(pending, tile, overlap, (width, height)))
    return out, TileReport(done, tile, halvings)


def _count(pending: list[Rect], tile: int, overlap: int, size: tuple[int, int]) -> int:
    """How many windows the remaining cores will take at the current tile side."""
    if size[0] <= tile and size[1] <= tile:
        return len(pending)
    side = core_side(tile, overlap)
    return sum(len(split(core, side)) if core[2] > side or core[3] > side else 1 for core in pending)
