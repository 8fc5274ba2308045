"""Seams: how visible the boundary of a filled region is, the band around it, and a gradient-domain repair.

The score compares the picture across the boundary with the picture beside it, on both sides:

* `gradient`: the mean colour difference of neighbouring pixels that straddle the boundary, over the same
  for neighbouring pixels inside the rings just inside and just outside it;
* `step`: per tile along the boundary, the colour step between the ring just inside and the ring just
  outside, over the step between each of those rings and a ring the same distance further from the
  boundary on its own side.

A boundary drawn at random through an untouched photograph scores about 1 on both (the picture changes
across it as much as it changes beside it); a pasted patch raises `gradient`, a tint raises `step`.
All work is done on the boundary's bounding box plus the rings' depth, so a small seam in a big picture
costs what the seam costs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import sparse

from retouch.imaging.mask import grow

#: Colour differences are sums over R, G and B of 8-bit levels. This floor, added to both sides of every
#: ratio, is the difference 8-bit quantisation and sensor noise make on their own, so a seam across a flat
#: sky scores by how far it stands above noise rather than dividing by almost nothing.
NOISE_FLOOR = 3.0

#: How far from the boundary a repair reaches by default (px, each side): the score's references lie beyond.
BAND = 8


@dataclass(frozen=True)
class SeamScore:
    """How visible a boundary is: 1.0 = as natural as the picture around it, higher = a visible seam."""

    score: float  # the mean of `gradient` and `step`
    gradient: float  # difference across the boundary / differences beside it
    step: float  # colour step between the rings on either side / the step between rings on one side
    detail: float  # neighbouring differences beyond the band / those within it (a blurred band: above 1)
    length: int  # neighbouring pixel pairs that straddle the boundary (0 = no boundary)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "score": round(float(self.score), 3),
            "gradient": round(float(self.gradient), 3),
            "step": round(float(self.step), 3),
            "detail": round(float(self.detail), 3),
            "length": int(self.length),
        }


def has_boundary(mask: np.ndarray) -> bool:
    """Whether some selected pixel touches an unselected one (the picture's own edge is no boundary)."""
    inside = mask > 0
    return bool((inside[:, 1:] != inside[:, :-1]).any() or (inside[1:] != inside[:-1]).any())


def boundary_box(mask: np.ndarray, margin: int) -> tuple[int, int, int, int] | None:
    """(x, y, width, height) of the boundary's pixels grown by `margin` and clipped to the picture, or None."""
    inside = (mask > 0).astype(np.uint8)
    edge = cv2.morphologyEx(inside, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    points = cv2.findNonZero(edge)
    if points is None:
        return None
    x, y, w, h = cv2.boundingRect(points)
    height, width = mask.shape
    x0, y0 = max(x - margin, 0), max(y - margin, 0)
    x1, y1 = min(x + w + margin, width), min(y + h + margin, height)
    return x0, y0, x1 - x0, y1 - y0


def distances(inside: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance of every pixel to the nearest pixel on the other side of the boundary
    (float32; 1 next to it). The picture's edge counts as no boundary."""
    selected = inside.astype(np.uint8)
    d_in = cv2.distanceTransform(selected, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    d_out = cv2.distanceTransform(1 - selected, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.where(inside, d_in, d_out)


def band_mask(mask: np.ndarray, band: int) -> np.ndarray:
    """The pixels within `band` px of the boundary, on both sides of it (HxW uint8, 255 = in the band)."""
    out = np.zeros(mask.shape, np.uint8)
    box = boundary_box(mask, band + 1)
    if box is None or band <= 0:
        return out
    x, y, w, h = box
    inside = mask[y : y + h, x : x + w] > 0
    out[y : y + h, x : x + w][distances(inside) <= band] = 255
    return out


def boundary_points(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The selected pixels that touch an unselected one, traced in order, with their outward unit normals.

    Returns points (N, 2) as float32 (x, y), normals (N, 2) and the start of each traced contour in them.
    Points on the picture's own edge and spikes with no defined direction are left out.
    """
    inside = mask if mask.dtype == np.uint8 else (mask > 0).astype(np.uint8)
    contours, _ = cv2.findContours(inside, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    height, width = mask.shape
    points, normals, starts, total = [], [], [], 0
    for contour in contours:
        chain = contour[:, 0, :].astype(np.int32)
        if len(chain) < 3:
            continue
        x, y = chain[:, 0], chain[:, 1]
        # a point is on the boundary when a 4-neighbour inside the picture is unselected
        touches = np.zeros(len(chain), bool)
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nx, ny = x + dx, y + dy
            valid = (nx >= 0) & (nx < width) & (ny >= 0) & (ny < height)
            touches[valid] |= inside[ny[valid], nx[valid]] == 0
        # tangent from the neighbours `SPAN` steps either way along the (closed) chain; normal across it
        tangent = (np.roll(chain, -SPAN, axis=0) - np.roll(chain, SPAN, axis=0)).astype(np.float32)
        length = np.hypot(tangent[:, 0], tangent[:, 1])
        keep = touches & (length > 0)
        if not keep.any():
            continue
        normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)[keep] / length[keep, None]
        chain = chain[keep]
        # point each normal outwards: the pixel 1.5 px along it must be unselected
        px = np.clip(np.rint(chain[:, 0] + 1.5 * normal[:, 0]).astype(np.int32), 0, width - 1)
        py = np.clip(np.rint(chain[:, 1] + 1.5 * normal[:, 1]).astype(np.int32), 0, height - 1)
        normal[inside[py, px] > 0] *= -1
        starts.append(total)
        total += len(chain)
        points.append(chain.astype(np.float32))
        normals.append(normal)
    if not points:
        empty = np.zeros((0, 2), np.float32)
        return empty, empty, []
    return np.concatenate(points), np.concatenate(normals), starts


#: Steps along the traced boundary either side of a point that give its direction.
SPAN = 3


def centreline_points(stroke: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """For a stroke painted over a seam: points along its middle, each with the unit normal pointing across it.

    Each point of the stroke's traced outline walks inwards along its normal to the ridge of the stroke's
    distance transform (its middle); the normal keeps pointing from the traced side to the far side, so
    every stretch of the middle is seen once from each side, in order along the outline.
    """
    points, normals, starts = boundary_points(stroke)
    if not len(points):
        return points, normals, starts
    selected = (stroke > 0).astype(np.uint8)
    depth = cv2.distanceTransform(selected, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    across = -normals  # into the stroke
    steps = np.arange(0, int(2 * depth.max()) + 2, dtype=np.float32)
    height, width = stroke.shape
    ix = np.clip(np.rint(points[:, None, 0] + steps * across[:, None, 0]).astype(np.int32), 0, width - 1)
    iy = np.clip(np.rint(points[:, None, 1] + steps * across[:, None, 1]).astype(np.int32), 0, height - 1)
    along = depth[iy, ix]
    # up to the first step that leaves the stroke, the middle is where the depth is greatest
    left = np.cumsum(along == 0, axis=1) > 0
    middle = np.argmax(np.where(left, -1.0, along), axis=1).astype(np.float32)
    return points + middle[:, None] * across, across.astype(np.float32), starts


def stroke_depth(stroke: np.ndarray) -> float:
    """Half the width of a painted stroke: the greatest distance from its outline inside it."""
    box = boundary_box(stroke, 1)
    if box is None:
        return 0.0
    x, y, w, h = box
    selected = (stroke[y : y + h, x : x + w] > 0).astype(np.uint8)
    return float(cv2.distanceTransform(selected, cv2.DIST_L2, cv2.DIST_MASK_PRECISE).max())


def seam_score(
    picture: np.ndarray,
    mask: np.ndarray,
    *,
    painted: bool = False,
    band: int = BAND,
    ring: int = 4,
    run: int = 32,
) -> SeamScore:
    """How visible the boundary of `mask` (255 = the filled region) is in `picture` (HxWx3/4 uint8); with
    `painted`, how visible the seam along the middle of `mask` (a stroke painted over it) is.

    At every boundary point the picture is sampled along the normal, `3 * band + 2 * ring` px each way.
    `band` is how far a repair may reach from the boundary: every reference lies beyond it, so no repair
    can move the yardstick it is measured with (for a painted stroke, the stroke's half width). Rings are
    `ring` px deep; colour steps are compared over runs of `run` points.
    """
    points, normals, starts = centreline_points(mask) if painted else boundary_points(mask)
    if not len(points):
        return SeamScore(1.0, 1.0, 1.0, 1.0, 0)
    if painted:
        band = max(1, int(np.ceil(stroke_depth(mask))))
    band_depths = np.arange(1, band + 1)
    far_depths = np.arange(band + 1, band + ring + 1)
    ref_depths = np.arange(3 * band + ring + 1, 3 * band + 2 * ring + 1)
    # offsets along the normal, t <= 0 inside (depth 1 - t), t >= 1 outside (depth t)
    groups = {
        "band_in": 1.0 - band_depths,
        "band_out": band_depths.astype(np.float64),
        "far_in": 1.0 - far_depths,
        "far_out": far_depths.astype(np.float64),
        "ref_in": 1.0 - ref_depths,
        "ref_out": ref_depths.astype(np.float64),
    }
    offsets = np.concatenate(list(groups.values())).astype(np.float32)
    bounds = np.cumsum([0, *(len(v) for v in groups.values())])
    cols = {name: slice(bounds[i], bounds[i + 1]) for i, name in enumerate(groups)}
    sx = points[:, None, 0] + offsets[None, :] * normals[:, None, 0]
    sy = points[:, None, 1] + offsets[None, :] * normals[:, None, 1]
    height, width_px = mask.shape
    ix, iy = np.rint(sx).astype(np.int32), np.rint(sy).astype(np.int32)
    on_picture = (ix >= 0) & (ix < width_px) & (iy >= 0) & (iy < height)
    if painted:  # a stroke has no inside: its middle has the traced side behind and the far side ahead
        valid = on_picture
    else:
        side = np.zeros(ix.shape, bool)
        side[on_picture] = mask[iy[on_picture], ix[on_picture]] > 0
        valid = on_picture & (side == (offsets <= 0)[None, :])  # each sample on its own side of the boundary
    profile = _sample(picture, sx, sy)

    def neighbour_diffs(*names: str) -> tuple[np.ndarray, np.ndarray]:
        diffs, oks = [], []
        for name in names:
            block, ok = profile[:, cols[name]], valid[:, cols[name]]
            diffs.append(np.abs(block[:, 1:] - block[:, :-1]).sum(axis=2))
            oks.append(ok[:, 1:] & ok[:, :-1])
        return np.concatenate(diffs, axis=1), np.concatenate(oks, axis=1)

    # gradient: the difference straddling the boundary against neighbouring differences in the far rings;
    # detail: those against neighbouring differences within the band (a blurred band has too few)
    first_in, first_out = cols["band_in"].start, cols["band_out"].start
    both = valid[:, first_in] & valid[:, first_out]
    across_diff = np.abs(profile[:, first_out] - profile[:, first_in]).sum(axis=1)
    far_diff, far_ok = neighbour_diffs("far_in", "far_out")
    band_diff, band_ok = neighbour_diffs("band_in", "band_out")
    if not both.any() or not far_ok.any():
        return SeamScore(1.0, 1.0, 1.0, 1.0, 0)
    far_beside = far_diff[far_ok].mean()
    gradient = float((across_diff[both].mean() + NOISE_FLOOR) / (far_beside + NOISE_FLOOR))
    detail = float((far_beside + NOISE_FLOOR) / (band_diff[band_ok].mean() + NOISE_FLOOR)) if band_ok.any() else 1.0

    # colour step: mean colour of each ring over runs of `run` points, far in vs far out against each far
    # ring vs the reference ring as far again beyond it on its own side
    # runs restart with every traced contour, so a run never joins two separate boundaries
    lengths = np.diff([*starts, len(points)])
    position = np.arange(len(points)) - np.repeat(starts, lengths)
    contour = np.repeat(np.arange(len(starts)), lengths)
    first_run = np.concatenate([[0], np.cumsum([(n + run - 1) // run for n in lengths])])
    runs = first_run[contour] + position // run
    count = int(first_run[-1])
    means, enough = {}, {}
    for name in ("far_in", "far_out", "ref_in", "ref_out"):
        weight = valid[:, cols[name]]
        total = (profile[:, cols[name]] * weight[..., None]).sum(axis=1)
        n = np.bincount(runs, weight.sum(axis=1), minlength=count)
        sums = np.stack([np.bincount(runs, total[:, c], minlength=count) for c in range(3)], axis=-1)
        means[name] = sums / np.maximum(n, 1)[:, None]
        enough[name] = n >= 4 * ring
    sides = [(enough[f"far_{s}"] & enough[f"ref_{s}"], f"far_{s}", f"ref_{s}") for s in ("in", "out")]
    usable = enough["far_in"] & enough["far_out"] & (sides[0][0] | sides[1][0])
    if usable.any():
        step_across = np.abs(means["far_in"] - means["far_out"]).sum(axis=1)[usable].mean()
        beside = np.zeros(count)
        counted = np.zeros(count)
        for ok, far, ref in sides:
            beside += np.abs(means[far] - means[ref]).sum(axis=1) * ok
            counted += ok
        step_beside = (beside / np.maximum(counted, 1))[usable].mean()
        step = float((step_across + NOISE_FLOOR) / (step_beside + NOISE_FLOOR))
    else:  # a boundary too short or ragged for rings on both sides: judge by the gradient alone
        step = gradient
    return SeamScore((max(gradient, detail) + step) / 2, gradient, step, detail, int(both.sum()))


def _sample(picture: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """The picture's RGB at (sx, sy), bilinear, as float32 (N, K, 3); in row blocks, as OpenCV's remap
    takes at most 32767 rows."""
    source = picture if picture.flags["C_CONTIGUOUS"] else np.ascontiguousarray(picture)
    out = np.empty((*sx.shape, 3), np.float32)
    for start in range(0, len(sx), 32000):
        rows = slice(start, start + 32000)
        out[rows] = cv2.remap(source, sx[rows], sy[rows], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[..., :3]
    return out


def _replace_crossing(diff: np.ndarray, crossing: np.ndarray, axis: int) -> np.ndarray:
    """Differences between neighbours along `axis` (next minus this) with each one that straddles the seam
    (`crossing`) replaced by the difference just before it on the same line (else the one just after it),
    so the seam's step is gone but the texture keeps its usual contrast."""
    before = np.roll(diff, 1, axis=axis)
    after = np.roll(diff, -1, axis=axis)
    ok_before = ~np.roll(crossing, 1, axis=axis)
    ok_after = ~np.roll(crossing, -1, axis=axis)
    # np.roll wraps around: the first and last difference on a line have no neighbour there
    first: list[slice | int] = [slice(None), slice(None)]
    last: list[slice | int] = [slice(None), slice(None)]
    first[axis], last[axis] = 0, -1
    ok_before[tuple(first)] = False
    ok_after[tuple(last)] = False
    guess = np.where(ok_before[..., None], before, np.where(ok_after[..., None], after, 0))
    return np.where(crossing[..., None], guess, diff)


def _without_local_step(guide: np.ndarray, seam: np.ndarray, axis: int, window: int) -> np.ndarray:
    """`guide` less, for the pairs within `seam`, the mean of those pairs' differences in a `window` box:
    the step a feather spreads over a few pixels, which no single difference shows."""
    lo: list[slice] = [slice(None), slice(None)]
    hi: list[slice] = [slice(None), slice(None)]
    lo[axis], hi[axis] = slice(None, -1), slice(1, None)
    in_zone = (seam[tuple(lo)] & seam[tuple(hi)]).astype(np.float32)
    size = (window, window)
    weight = cv2.boxFilter(in_zone, -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    total = cv2.boxFilter(guide * in_zone[..., None], -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    return guide - total / np.maximum(weight, 1)[..., None] * in_zone[..., None]


def poisson_blend(picture: np.ndarray, mask: np.ndarray, band: int, *, zone: int = 2) -> np.ndarray:
    """Repair the seam along the boundary of `mask` by solving for the pixels within `band` px of it.

    The band's new colours have the picture's own gradients (its texture), except across the seam: a
    difference straddling the boundary is replaced by those of its neighbours on the same line, and in the
    `zone` px either side the mean difference along each direction (the step a feather spreads out) is
    taken out. The band's outer and inner edges keep the picture's colours, so the step is spread
    smoothly over the band and every pixel farther than `band` from the boundary keeps its exact value.
    """
    out = picture.copy()
    box = boundary_box(mask, band + 1)
    if box is None or band <= 0:
        return out
    x, y, w, h = box
    inside = mask[y : y + h, x : x + w] > 0
    dist = distances(inside)
    solve = dist <= band
    rgb = picture[y : y + h, x : x + w, :3].astype(np.float32)

    seam = dist <= zone
    guides = []
    for axis in (0, 1):
        crossing = np.diff(inside.astype(np.int8), axis=axis) != 0
        guide = _replace_crossing(np.diff(rgb, axis=axis), crossing, axis)
        guides.append(_without_local_step(guide, seam, axis, 2 * band + 1))
    return _solve(out, (x, y), rgb, solve, guides)


def poisson_stroke(picture: np.ndarray, stroke: np.ndarray, *, zone: int = 2) -> np.ndarray:
    """Repair the seam along the middle of `stroke` (a mask painted over it) by solving for the stroke's pixels.

    The same blend as `poisson_blend`, with the stroke's middle as the boundary: two neighbouring pixels of
    the stroke lie on opposite sides of its middle when the outside pixels nearest to them are on opposite
    sides of the stroke (farther apart than they are deep). The stroke's outline keeps the picture's
    colours; nothing outside the stroke changes.
    """
    out = picture.copy()
    box = boundary_box(stroke, 2)
    if box is None:
        return out
    x, y, w, h = box
    inside = stroke[y : y + h, x : x + w] > 0
    selected = inside.astype(np.uint8)
    depth, labels = cv2.distanceTransformWithLabels(
        selected, cv2.DIST_L2, cv2.DIST_MASK_5, labelType=cv2.DIST_LABEL_PIXEL
    )
    zero_y, zero_x = np.nonzero(selected == 0)  # DIST_LABEL_PIXEL numbers the zero pixels in this order from 1
    nearest = np.stack([zero_x, zero_y], axis=-1)[np.maximum(labels, 1) - 1].astype(np.float32)
    crossings, near_middle = [], np.zeros(inside.shape, bool)
    for axis in (0, 1):
        lo: list[slice] = [slice(None), slice(None)]
        hi: list[slice] = [slice(None), slice(None)]
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        apart = np.hypot(*(nearest[tuple(lo)] - nearest[tuple(hi)]).transpose(2, 0, 1))
        crossing = inside[tuple(lo)] & inside[tuple(hi)] & (apart > 0.75 * (depth[tuple(lo)] + depth[tuple(hi)]))
        crossings.append(crossing)
        near_middle[tuple(lo)] |= crossing
        near_middle[tuple(hi)] |= crossing
    seam = (grow(near_middle.astype(np.uint8), zone) > 0) & inside
    rgb = picture[y : y + h, x : x + w, :3].astype(np.float32)
    guides = [
        _without_local_step(_replace_crossing(np.diff(rgb, axis=axis), crossings[axis], axis), seam, axis, 9)
        for axis in (0, 1)
    ]
    return _solve(out, (x, y), rgb, inside, guides)


def _solve(out: np.ndarray, origin: tuple[int, int], rgb: np.ndarray, solve: np.ndarray, guides: list) -> np.ndarray:
    """Solve the discrete Poisson equation for the pixels in `solve`; the others keep `rgb` (Dirichlet).

    For every unknown p: sum over its neighbours q of (u_p - u_q) = sum of the guidance differences
    (u_p - u_q wanted), neighbours outside the box or the picture left out (Neumann at the picture's edge).
    Conjugate gradients, started from the picture itself, on all three channels at once.
    """
    h, w = solve.shape
    index = np.full((h, w), -1, np.int64)
    count = int(solve.sum())
    index[solve] = np.arange(count)
    diagonal = np.zeros(count, np.float32)
    rhs = np.zeros((count, 3), np.float32)
    rows, cols = [], []
    for axis, guide in ((0, guides[0]), (1, guides[1])):
        lo, hi = [slice(None)] * 2, [slice(None)] * 2
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        first, second = index[tuple(lo)], index[tuple(hi)]
        # the guide is (second - first); seen from `first` the wanted u_first - u_second is -guide
        for this, other, other_val, sign in (
            (first, second, rgb[tuple(hi)], -1.0),
            (second, first, rgb[tuple(lo)], 1.0),
        ):
            pair = this >= 0
            p, q = this[pair], other[pair]
            diagonal += np.bincount(p, minlength=count).astype(np.float32)
            wanted = sign * guide[pair]
            known = q < 0
            wanted[known] += other_val[pair][known]
            for c in range(3):
                rhs[:, c] += np.bincount(p, wanted[:, c], minlength=count).astype(np.float32)
            rows.append(p[~known])
            cols.append(q[~known])
    row, col = np.concatenate(rows), np.concatenate(cols)
    matrix = sparse.csr_matrix((np.full(len(row), -1.0, np.float32), (row, col)), shape=(count, count))
    matrix = (matrix + sparse.diags(diagonal)).tocsr()
    solution = _conjugate_gradients(matrix, rhs, rgb[solve], 1.0 / diagonal)
    x, y = origin
    region = out[y : y + h, x : x + w]
    region[..., :3][solve] = np.clip(np.rint(solution), 0, 255).astype(np.uint8)
    return out


def _conjugate_gradients(
    matrix: sparse.csr_matrix, rhs: np.ndarray, start: np.ndarray, inverse_diagonal: np.ndarray
) -> np.ndarray:
    """Jacobi-preconditioned conjugate gradients for a symmetric positive definite `matrix`, each channel
    (column) on its own, until no pixel's residual exceeds `TOLERANCE` levels (or `MAX_ITERATIONS`)."""
    limit = TOLERANCE / float(inverse_diagonal.max())
    solution = np.empty_like(start)
    for channel in range(start.shape[1]):
        x = np.ascontiguousarray(start[:, channel])
        r = rhs[:, channel] - matrix @ x
        z = r * inverse_diagonal
        p = z.copy()
        rz = float(r @ z)
        for _ in range(MAX_ITERATIONS):
            if np.abs(r).max() < limit:
                break
            ap = matrix @ p
            alpha = rz / max(float(p @ ap), 1e-30)
            x += alpha * p
            r -= alpha * ap
            np.multiply(r, inverse_diagonal, out=z)
            rz_next = float(r @ z)
            p *= rz_next / max(rz, 1e-30)
            p += z
            rz = rz_next
        solution[:, channel] = x
    return solution


#: Conjugate gradients stop once every pixel's residual is below this many levels (well under rounding).
TOLERANCE = 0.05
MAX_ITERATIONS = 2000


def blend_band(original: np.ndarray, repaired: np.ndarray, mask: np.ndarray, band: int) -> np.ndarray:
    """`repaired`'s colours over the band around the boundary of `mask`, faded into `original` towards the
    band's edges: weight 1 up to half the band from the boundary, then a smoothstep down to 0 at its edge.

    Used after an engine refilled the band, so the band's own edge does not become a new seam. Pixels
    farther than `band` from the boundary, and alpha, keep `original`'s exact values.
    """
    out = original.copy()
    box = boundary_box(mask, band + 1)
    if box is None or band <= 0:
        return out
    x, y, w, h = box
    dist = distances(mask[y : y + h, x : x + w] > 0)
    ramp = max(1.0, band / 2)
    s = np.clip((band + 0.5 - dist) / ramp, 0.0, 1.0)
    weight = (s * s * (3.0 - 2.0 * s))[..., None]
    weight[dist > band] = 0.0
    before = original[y : y + h, x : x + w, :3].astype(np.float32)
    after = repaired[y : y + h, x : x + w, :3].astype(np.float32)
    mixed = np.clip(np.rint(before + (after - before) * weight), 0, 255).astype(np.uint8)
    out[y : y + h, x : x + w, :3] = np.where(dist[..., None] <= band, mixed, original[y : y + h, x : x + w, :3])
    return out


def blend_stroke(original: np.ndarray, repaired: np.ndarray, stroke: np.ndarray) -> np.ndarray:
    """`repaired`'s colours over `stroke`, faded into `original` towards the stroke's outline (a smoothstep of
    the depth inside it, full from half its greatest depth). Outside the stroke, and alpha, stay `original`."""
    out = original.copy()
    box = boundary_box(stroke, 1)
    if box is None:
        return out
    x, y, w, h = box
    inside = stroke[y : y + h, x : x + w] > 0
    depth = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    s = np.clip((depth - 0.5) / max(1.0, float(depth.max()) / 2), 0.0, 1.0)
    weight = (s * s * (3.0 - 2.0 * s))[..., None]
    before = original[y : y + h, x : x + w, :3].astype(np.float32)
    after = repaired[y : y + h, x : x + w, :3].astype(np.float32)
    mixed = np.clip(np.rint(before + (after - before) * weight), 0, 255).astype(np.uint8)
    out[y : y + h, x : x + w, :3] = np.where(inside[..., None], mixed, original[y : y + h, x : x + w, :3])
    return out


#: Unknowns the membrane is solved for at once; a bigger region is solved on a coarser grid (it is smooth).
MEMBRANE_UNKNOWNS = 40_000


def boundary_offsets(picture: np.ndarray, mask: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Along the boundary of `mask`: each point (x, y) and the colour offset (float32 RGB) that would bring
    the inside's tone to the outside's there: the mean of the `depth` px just outside less that of the `depth`
    px just inside, smoothed along the boundary over about `depth` points, so texture averages out and a
    tone step does not."""
    points, normals, starts = boundary_points(mask)
    if not len(points):
        return points, np.zeros((0, 3), np.float32)
    steps = np.arange(1, depth + 1, dtype=np.float32)
    offsets = np.concatenate([1.0 - steps, steps])  # inside depths 1..depth, then outside
    sx = points[:, None, 0] + offsets[None, :] * normals[:, None, 0]
    sy = points[:, None, 1] + offsets[None, :] * normals[:, None, 1]
    height, width = mask.shape
    ix, iy = np.rint(sx).astype(np.int32), np.rint(sy).astype(np.int32)
    on = (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
    side = np.zeros(ix.shape, bool)
    side[on] = mask[iy[on], ix[on]] > 0
    valid = (on & (side == (offsets <= 0)[None, :])).astype(np.float32)
    profile = _sample(picture, sx, sy) * valid[..., None]
    half = len(steps)
    # sums and counts either side, smoothed along each traced contour (a closed loop) before dividing
    sums = np.concatenate([profile[:, :half].sum(axis=1), profile[:, half:].sum(axis=1)], axis=1)
    counts = np.stack([valid[:, :half].sum(axis=1), valid[:, half:].sum(axis=1)], axis=1)
    columns = np.concatenate([sums, counts], axis=1)
    smoothed = np.empty_like(columns)
    ends = [*starts[1:], len(points)]
    for start, end in zip(starts, ends, strict=True):
        loop = columns[start:end]
        reach = min(6 * depth, len(loop) // 2)
        kernel = cv2.getGaussianKernel(2 * reach + 1, 2.0 * depth).astype(np.float32)[:, 0]
        wrapped = np.concatenate([loop[-reach:], loop, loop[:reach]]) if reach else loop
        smoothed[start:end] = np.stack(
            [np.convolve(wrapped[:, c], kernel, mode="valid") for c in range(columns.shape[1])], axis=1
        )
    inside_mean = smoothed[:, 0:3] / np.maximum(smoothed[:, 6:7], 1e-6)
    outside_mean = smoothed[:, 3:6] / np.maximum(smoothed[:, 7:8], 1e-6)
    offset = np.where((smoothed[:, 6:8] > 0.5).all(axis=1, keepdims=True), outside_mean - inside_mean, 0.0)
    return points, offset.astype(np.float32)


def tone_match(picture: np.ndarray, mask: np.ndarray, depth: int = BAND) -> np.ndarray:
    """The filled region's tone brought to its surroundings' as a whole: a membrane (the smoothest field,
    a solution of Laplace's equation over the region) that equals, on the boundary, the colour offset from
    just inside to just outside (`boundary_offsets`), added to every pixel of the region.

    The region's own detail is kept exactly (a smooth field is added); nothing outside the region changes.
    A large region is solved on a grid coarse enough for `MEMBRANE_UNKNOWNS` and the field interpolated back.
    """
    out = picture.copy()
    points, offset = boundary_offsets(picture, mask, depth)
    inside_all = mask > 0
    if not len(points) or not inside_all.any():
        return out
    ys, xs = np.nonzero(inside_all)
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    inside = inside_all[y0:y1, x0:x1]
    factor = max(1, int(np.ceil(np.sqrt(inside.sum() / MEMBRANE_UNKNOWNS))))
    ch, cw = (y1 - y0 + factor - 1) // factor, (x1 - x0 + factor - 1) // factor
    # the boundary's offsets, averaged in each coarse cell they fall in: the membrane's fixed values
    cell = ((points[:, 1].astype(np.int64) - y0) // factor) * cw + (points[:, 0].astype(np.int64) - x0) // factor
    hits = np.bincount(cell, minlength=ch * cw).reshape(ch, cw)
    sums = np.stack([np.bincount(cell, offset[:, c], minlength=ch * cw) for c in range(3)], axis=-1)
    fixed = sums.reshape(ch, cw, 3) / np.maximum(hits, 1)[..., None]
    centres = inside[np.minimum(np.arange(ch) * factor + factor // 2, inside.shape[0] - 1)][
        :, np.minimum(np.arange(cw) * factor + factor // 2, inside.shape[1] - 1)
    ]
    known = hits > 0
    unknown = centres & ~known
    field = np.where(known[..., None], fixed, 0.0).astype(np.float32)
    if unknown.any():
        field[unknown] = _laplace(field, unknown, known)
    defined = (known | unknown).astype(np.float32)
    if factor > 1:
        size = (x1 - x0, y1 - y0)
        field = cv2.resize(field * defined[..., None], size, interpolation=cv2.INTER_LINEAR)
        weight = cv2.resize(defined, size, interpolation=cv2.INTER_LINEAR)
        field = field / np.maximum(weight, 1e-6)[..., None]
    region = out[y0:y1, x0:x1]
    corrected = region[..., :3].astype(np.float32) + field
    region[..., :3][inside] = np.clip(np.rint(corrected[inside]), 0, 255).astype(np.uint8)
    return out


def _laplace(values: np.ndarray, unknown: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The harmonic interpolation of `values` (HxWxC, fixed where `known`) over the `unknown` pixels:
    each the mean of its neighbours; neighbours neither known nor unknown are left out (no flux)."""
    h, w = unknown.shape
    index = np.full((h, w), -1, np.int64)
    count = int(unknown.sum())
    index[unknown] = np.arange(count)
    diagonal = np.zeros(count, np.float32)
    rhs = np.zeros((count, values.shape[2]), np.float32)
    rows, cols = [], []
    for axis in (0, 1):
        lo, hi = [slice(None)] * 2, [slice(None)] * 2
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        for this, other, other_known, other_val in (
            (index[tuple(lo)], index[tuple(hi)], known[tuple(hi)], values[tuple(hi)]),
            (index[tuple(hi)], index[tuple(lo)], known[tuple(lo)], values[tuple(lo)]),
        ):
            free = (this >= 0) & (other >= 0)
            fixed = (this >= 0) & other_known
            diagonal += np.bincount(this[free | fixed], minlength=count).astype(np.float32)
            for c in range(values.shape[2]):
                rhs[:, c] += np.bincount(this[fixed], other_val[fixed][:, c], minlength=count).astype(np.float32)
            rows.append(this[free])
            cols.append(other[free])
    row, col = np.concatenate(rows), np.concatenate(cols)
    matrix = sparse.csr_matrix((np.full(len(row), -1.0, np.float32), (row, col)), shape=(count, count))
    diagonal = np.maximum(diagonal, 1e-3)  # an island with no neighbour at all keeps 0
    matrix = (matrix + sparse.diags(diagonal)).tocsr()
    start = np.zeros((count, values.shape[2]), np.float32)
    return _conjugate_gradients(matrix, rhs, start, 1.0 / diagonal)


def broken_structure(
    picture: np.ndarray, mask: np.ndarray, band: int, *, run: int = 32, limit: float = 1.5
) -> np.ndarray:
    """Where the picture's structure breaks at the boundary of `mask`: the pixels within `band` px of the
    stretches (runs of `run` boundary points) whose difference straddling the boundary is more than `limit`
    times their neighbouring differences beyond the band (HxW uint8, 255 = to re-synthesise)."""
    points, normals, starts = boundary_points(mask)
    out = np.zeros(mask.shape, np.uint8)
    if not len(points):
        return out
    offsets = np.array([0.0, 1.0, *(-np.arange(band, band + 4)), *np.arange(band + 1, band + 5)], np.float32)
    sx = points[:, None, 0] + offsets[None, :] * normals[:, None, 0]
    sy = points[:, None, 1] + offsets[None, :] * normals[:, None, 1]
    profile = _sample(picture, sx, sy)
    across = np.abs(profile[:, 1] - profile[:, 0]).sum(axis=1)
    beside = np.concatenate(
        [np.abs(np.diff(profile[:, 2:6], axis=1)).sum(axis=2), np.abs(np.diff(profile[:, 6:10], axis=1)).sum(axis=2)],
        axis=1,
    ).mean(axis=1)
    lengths = np.diff([*starts, len(points)])
    runs = np.concatenate([np.arange(n) // run + i * len(points) for i, n in enumerate(lengths)])
    _, label = np.unique(runs, return_inverse=True)
    ratio = (np.bincount(label, across) + NOISE_FLOOR) / (np.bincount(label, beside) + NOISE_FLOOR)
    broken = ratio[label] > limit
    if not broken.any():
        return out
    seeds = np.zeros(mask.shape, np.uint8)
    seeds[points[broken, 1].astype(np.int32), points[broken, 0].astype(np.int32)] = 255
    return np.where((grow(seeds, band) > 0) & (band_mask(mask, band) > 0), 255, 0).astype(np.uint8)


def tone_match_fill(original: np.ndarray, produced: np.ndarray, mask: np.ndarray, feather: int) -> np.ndarray:
    """`produced` (a fill of `mask` over `original`, both RGB) with its tone met to `original` at the mask's edge,
    before it is composited with `feather`: the correction `tone_match` finds for the fill pasted hard, carried
    on from the mask's edge over the `feather` px the composite blends (as far as the fill there differs from
    the picture), so the blend meets corrected colours."""
    inside = mask > 0
    hard = np.where(inside[..., None], produced, original)
    correction = tone_match(hard, mask).astype(np.int16) - hard.astype(np.int16)
    reach = grow(mask, feather) > 0
    if feather > 0 and (reach & ~inside).any():
        # each pixel of the feather's reach takes the correction of the nearest pixel of the mask
        _, labels = cv2.distanceTransformWithLabels(
            (~inside).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5, labelType=cv2.DIST_LABEL_PIXEL
        )
        ys, xs = np.nonzero(inside)  # DIST_LABEL_PIXEL numbers the zero pixels in this order from 1
        ring = reach & ~inside
        nearest = labels[ring] - 1
        carried = correction[ys[nearest], xs[nearest]].astype(np.float32)
        # as far as the fill there differs from the picture: where the engine left the picture as it was
        # (a paste), the feather blends the picture itself and needs no correction
        differs = np.abs(produced[ring].astype(np.float32) - original[ring].astype(np.float32)).sum(axis=1)
        share = np.clip(differs / np.maximum(np.abs(carried).sum(axis=1), 1.0), 0.0, 1.0)
        correction[ring] = np.rint(carried * share[:, None]).astype(np.int16)
    out = produced.astype(np.int16)
    out[reach] += correction[reach]
    return np.clip(out, 0, 255).astype(np.uint8)
