"""Object selection: the prompt (a box, points that add or take away, a previous mask), its checks, and the
weight-free selector, OpenCV GrabCut seeded by the prompt, answering a mask at the picture's full resolution.

GrabCut runs on the region of interest (the box, the points and the previous mask, with a margin), scaled down
to at most `work_pixels` when it is larger; a mask found on a smaller copy is brought back to full resolution
by a guided filter (He et al. 2010) that takes the picture itself as the guide, so its edge moves onto the
picture's own edges instead of staying a staircase of scaled-up pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from retouch.errors import InputError
from retouch.imaging.mask import bounds

Box = tuple[int, int, int, int]  # x, y, width, height in the picture's pixels

#: `refine_to` leaves a mask as it is when the band along its edge covers more than this share of the picture
MAX_BAND_SHARE = 0.25
#: a click alone seeds "probably the object" this far around it (a fraction of the picture's shorter side)
CLICK_REACH = 0.1


@dataclass(frozen=True)
class SelectPoint:
    """A click in the picture's pixels: `positive` adds what is under it, otherwise it takes that away."""

    x: float
    y: float
    positive: bool = True


@dataclass(frozen=True)
class Prompt:
    box: Box | None = None
    points: tuple[SelectPoint, ...] = ()
    previous: np.ndarray | None = None  # HxW uint8, 255 = selected: the selection the clicks refine

    def check(self, width: int, height: int) -> None:
        """Refuse a prompt that cannot select anything in a `width` x `height` picture, naming the field."""
        if self.box is not None:
            x, y, w, h = self.box
            if w <= 0 or h <= 0:
                raise InputError(f"box: width and height must be at least 1 px, got {w}x{h}")
            if x < 0 or y < 0 or x + w > width or y + h > height:
                raise InputError(
                    f"box: ({x}, {y}, {w}, {h}) reaches past the {width}x{height} picture "
                    f"(x + width <= {width}, y + height <= {height})"
                )
        for i, point in enumerate(self.points):
            if not (0 <= point.x < width and 0 <= point.y < height):
                raise InputError(
                    f"points[{i}]: ({point.x:g}, {point.y:g}) is off the {width}x{height} picture "
                    f"(0 <= x < {width}, 0 <= y < {height})"
                )
        if self.previous is not None and self.previous.shape[:2] != (height, width):
            got = f"{self.previous.shape[1]}x{self.previous.shape[0]}"
            raise InputError(f"previous: the mask is {got}, the picture {width}x{height}")
        has_previous = self.previous is not None and bool(self.previous.any())
        if self.box is None and not has_previous and not any(p.positive for p in self.points):
            raise InputError("points: give a box, a positive point or a previous mask; there is nothing to select")


@dataclass(frozen=True)
class Selection:
    mask: np.ndarray  # HxW uint8, 255 = selected
    score: float | None  # the selector's own estimate of the mask's quality (SAM's predicted IoU); GrabCut has none

    @property
    def bbox(self) -> Box | None:
        return bounds(self.mask)


def _region(prompt: Prompt, width: int, height: int) -> Box:
    """What GrabCut looks at: the box, points and previous mask, with room around them for the background."""
    boxes: list[Box] = []
    if prompt.box is not None:
        boxes.append(prompt.box)
    if prompt.previous is not None and (found := bounds(prompt.previous)) is not None:
        boxes.append(found)
    if not boxes:  # clicks alone: the object may be anywhere around them, so all the picture
        return 0, 0, width, height
    boxes += [(int(p.x), int(p.y), 1, 1) for p in prompt.points]
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    margin = max(16, round(0.15 * max(x1 - x0, y1 - y0)))
    x0, y0 = max(0, x0 - margin), max(0, y0 - margin)
    x1, y1 = min(width, x1 + margin), min(height, y1 + margin)
    return x0, y0, x1 - x0, y1 - y0


def _seeds(prompt: Prompt, region: Box, scale: float, work: np.ndarray, reach_side: int) -> np.ndarray:
    """GrabCut's starting labels on the working copy: outside the box sure background, inside it probably
    the object; the previous mask probably the object; each point a disc of sure object or sure background."""
    rx, ry, _, _ = region
    h, w = work.shape[:2]
    seeds = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    if prompt.box is not None:
        bx, by, bw, bh = prompt.box
        seeds[:] = cv2.GC_BGD
        x0, y0 = int((bx - rx) * scale), int((by - ry) * scale)
        x1, y1 = int(np.ceil((bx + bw - rx) * scale)), int(np.ceil((by + bh - ry) * scale))
        seeds[y0:y1, x0:x1] = cv2.GC_PR_FGD
        if not (seeds == cv2.GC_BGD).any():  # a box as large as the picture: its border may be background
            seeds[[0, -1], :] = cv2.GC_PR_BGD
            seeds[:, [0, -1]] = cv2.GC_PR_BGD
    if prompt.previous is not None:
        rw, rh = region[2], region[3]
        previous = prompt.previous[ry : ry + rh, rx : rx + rw]
        previous = cv2.resize(previous, (w, h), interpolation=cv2.INTER_AREA) if scale < 1 else previous
        seeds[previous >= 128] = cv2.GC_PR_FGD
    # a positive click outside what is already probably the object: the object likely reaches some way around
    # it. A negative click: the colour under it, as far as it spreads from the click, is not the object
    reach = round(CLICK_REACH * reach_side * scale)
    for point in prompt.points:
        x, y = _on_copy(point, region, scale, (h, w))
        window = (slice(max(0, y - reach), y + reach + 1), slice(max(0, x - reach), x + reach + 1))
        if point.positive and seeds[y, x] != cv2.GC_PR_FGD:
            seeds[window][seeds[window] != cv2.GC_BGD] = cv2.GC_PR_FGD
            seeds[window][_similar(work[window], (x - window[1].start, y - window[0].start))] = cv2.GC_FGD
        elif not point.positive:
            seeds[window][_similar(work[window], (x - window[1].start, y - window[0].start))] = cv2.GC_BGD
    radius = max(2, round(0.01 * max(h, w)))
    for point in prompt.points:
        centre = _on_copy(point, region, scale, (h, w))
        label = cv2.GC_FGD if point.positive else cv2.GC_BGD
        cv2.circle(seeds, centre, radius, label, thickness=-1)
    return seeds


def _on_copy(point: SelectPoint, region: Box, scale: float, shape: tuple[int, int]) -> tuple[int, int]:
    """Where a point of the picture lands on the working copy of `region` (`shape`: its height, width)."""
    x = min(shape[1] - 1, int((point.x - region[0]) * scale))
    y = min(shape[0] - 1, int((point.y - region[1]) * scale))
    return x, y


def _similar(picture: np.ndarray, at: tuple[int, int], tolerance: int = 20) -> np.ndarray:
    """The pixels of about the colour at `at` that connect to it, neighbour to neighbour (a magic wand)."""
    filled = np.zeros((picture.shape[0] + 2, picture.shape[1] + 2), np.uint8)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
    cv2.floodFill(picture.copy(), filled, at, (0, 0, 0), (tolerance,) * 3, (tolerance,) * 3, flags)
    return filled[1:-1, 1:-1] > 0


def _keep_connected(found: np.ndarray, prompt: Prompt, region: Box, scale: float) -> np.ndarray:
    """The parts of `found` the prompt asked for: those under a positive point or the previous mask, or (a box
    alone) the largest part and any at least a tenth of its size; specks GrabCut leaves elsewhere go."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(found.astype(np.uint8), connectivity=8)
    if count <= 1:
        return found
    keep = np.zeros(count, bool)
    rx, ry, rw, rh = region
    for point in prompt.points:
        if point.positive:
            x, y = _on_copy(point, region, scale, found.shape)
            keep[labels[y, x]] = True
    if prompt.previous is not None:
        previous = prompt.previous[ry : ry + rh, rx : rx + rw]
        previous = cv2.resize(previous, found.shape[::-1], interpolation=cv2.INTER_AREA) if scale < 1 else previous
        keep[np.unique(labels[previous >= 128])] = True
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
    areas[0] = 0
    if prompt.box is not None or not keep[1:].any():
        keep |= areas >= 0.1 * areas.max()
    keep[0] = False
    return fill_small_holes(keep[labels])


def fill_small_holes(found: np.ndarray, share: float = 0.01) -> np.ndarray:
    """`found` with its holes smaller than `share` of its area filled: a highlight or a speck of another
    colour inside an object is part of it (a larger hole, a ring's middle, stays)."""
    outside = (~found).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(outside, connectivity=4)
    if count <= 2:
        return found
    h, w = found.shape
    x, y, bw, bh = (stats[:, i] for i in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
    touches_edge = (x == 0) | (y == 0) | (x + bw == w) | (y + bh == h)
    small = (stats[:, cv2.CC_STAT_AREA] < share * np.count_nonzero(found)) & ~touches_edge
    small[0] = False
    return found | small[labels]


def within(mask: np.ndarray, radius: float) -> np.ndarray:
    """The pixels at most `radius` px (Euclidean) from a set pixel of `mask` (uint8, nonzero = set): a dilation
    by a disc, through the distance transform, so its cost does not grow with the radius."""
    distance = cv2.distanceTransform((mask == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return distance <= radius


def guided_filter(
    guide: np.ndarray, source: np.ndarray, radius: int, eps: float, where: np.ndarray | None = None
) -> np.ndarray:
    """He et al.'s guided filter with a colour guide: `source` (HxW float32) smoothed so that its edges follow
    those of `guide` (HxWx3 float32 in [0, 1]). Box means of side 2 radius + 1; `eps` is the edge threshold.
    With `where` (HxW bool), only those pixels are filtered (the rest keep `source`): the per-pixel 3x3
    solves then run only within `radius` of them, so a thin band costs little."""
    size = (2 * radius + 1, 2 * radius + 1)
    where = np.ones(source.shape, bool) if where is None else where
    need = within(where.astype(np.uint8), radius)  # the coefficients `where`'s box means reach

    def mean(values: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(values, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT)

    channels = [np.ascontiguousarray(guide[..., c]) for c in range(3)]
    mean_i = [mean(channel) for channel in channels]
    mean_p = mean(source)
    i = [m[need] for m in mean_i]
    p = mean_p[need]
    cov = [mean(channels[c] * source)[need] - i[c] * p for c in range(3)]
    sigma = {}
    for j in range(3):
        for k in range(j, 3):
            sigma[j, k] = mean(channels[j] * channels[k])[need] - i[j] * i[k] + (np.float32(eps) if j == k else 0)
    s00, s01, s02, s11, s12, s22 = (sigma[key] for key in ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)))
    # the symmetric 3x3 inverse by cofactors, element-wise
    c00, c01, c02 = s11 * s22 - s12 * s12, s02 * s12 - s01 * s22, s01 * s12 - s02 * s11
    c11, c12, c22 = s00 * s22 - s02 * s02, s01 * s02 - s00 * s12, s00 * s11 - s01 * s01
    det = s00 * c00 + s01 * c01 + s02 * c02
    a_coef = [
        (c00 * cov[0] + c01 * cov[1] + c02 * cov[2]) / det,
        (c01 * cov[0] + c11 * cov[1] + c12 * cov[2]) / det,
        (c02 * cov[0] + c12 * cov[1] + c22 * cov[2]) / det,
    ]
    b_coef = p - a_coef[0] * i[0] - a_coef[1] * i[1] - a_coef[2] * i[2]
    out = source.copy()
    total = np.zeros(int(np.count_nonzero(where)), np.float32)
    for values, channel in [*zip(a_coef, channels, strict=True), (b_coef, None)]:
        spread = np.zeros(source.shape, np.float32)
        spread[need] = values
        averaged = mean(spread)[where]
        total += averaged * channel[where] if channel is not None else averaged
    out[where] = total
    return out


def refine_to(picture: np.ndarray, coarse: np.ndarray, scale: float) -> np.ndarray:
    """A mask found on a copy `scale` times the size of `picture` (float in [0, 1], the copy's size), at the
    picture's full resolution with its edge on the picture's edges: upsampled, then guided-filtered within a
    few working pixels of its edge (2 / scale px), and cut at one half."""
    h, w = picture.shape[:2]
    soft = cv2.resize(coarse.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    hard = (soft >= 0.5).astype(np.uint8)
    if scale >= 1 or hard.all() or not hard.any():
        return hard * np.uint8(255)
    radius = max(2, int(np.ceil(2 / scale)))
    band = within(hard, radius) & within(1 - hard, radius)  # within `radius` of the edge, on either side
    if np.count_nonzero(band) > MAX_BAND_SHARE * band.size:
        # an edge running all over the picture (an unsure mask, a model with random weights) is no object's
        # outline to snap: refining it would cost a guided filter of the whole picture for nothing
        return hard * np.uint8(255)
    x, y, bw, bh = cv2.boundingRect(band.astype(np.uint8))
    pad = 2 * radius
    x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(w, x + bw + pad), min(h, y + bh + pad)
    guide = picture[y0:y1, x0:x1, :3].astype(np.float32) / np.float32(255)
    window = band[y0:y1, x0:x1]
    soft[y0:y1, x0:x1] = guided_filter(guide, soft[y0:y1, x0:x1], radius, 1e-3, where=window)
    return np.where(soft >= 0.5, 255, 0).astype(np.uint8)


def grabcut_select(
    picture: np.ndarray, prompt: Prompt, *, work_pixels: int = 512 * 512, iterations: int = 5
) -> Selection:
    """The object the prompt points at, by GrabCut: a mask of the picture's size (255 = selected).

    `picture` is uint8 HxWx3 or HxWx4 (transparency is ignored). The prompt must pass `Prompt.check`. The same
    picture and prompt give the same mask: GrabCut's colour models start from OpenCV's seeded k-means.

    Clicks alone (no box, no previous mask) leave GrabCut the whole picture to tell the object from, and on a
    small object it takes in much of what surrounds it; so boxes of a few sizes around the clicks are tried too
    (`_box_for_clicks`), and the first answer gives way to a box's where that box's outline is clearly the
    better edge.
    """
    height, width = picture.shape[:2]
    prompt.check(width, height)
    selection = _grabcut(picture, prompt, work_pixels, iterations)
    if prompt.box is None and prompt.previous is None:
        box = _box_for_clicks(picture, prompt, selection.mask)
        if box is not None:
            return _grabcut(picture, replace(prompt, box=box), work_pixels, iterations)
    return selection


#: the sides of the boxes tried around clicks alone, as fractions of the picture's shorter side
CLICK_BOXES = (0.2, 0.3, 0.45, 0.65, 0.9)
#: a box's outline must be this much the better edge (`edge_contrast`) to replace the whole-picture answer
BOX_PREFERRED = 1.2
#: the size GrabCut tries the boxes at: rough, as only their outlines are compared
TRIAL_PIXELS = 200 * 200
TRIAL_ITERATIONS = 3
#: the largest copy of the picture the boxes are tried and compared on
TRIAL_COPY = 1024 * 1024
#: a box whose proposal runs along more than this share of its inner sides cut the object off
MAX_TOUCH = 0.03
#: ... and one whose proposal fills less than this share of it found a speck, not the object
MIN_FILL = 0.1


def _box_for_clicks(picture: np.ndarray, prompt: Prompt, found: np.ndarray) -> Box | None:
    """The box around the positive clicks whose rough GrabCut proposal holds every click, stays clear of the
    box's inner sides and fills a fair part of it, with the best edge of those, if that edge beats `found`'s
    (the whole-picture answer) by `BOX_PREFERRED`; None otherwise. Worked out on a copy of at most 1024² pixels."""
    height, width = picture.shape[:2]
    factor = min(1.0, float(np.sqrt(TRIAL_COPY / (width * height))))
    small = picture[..., :3]
    if factor < 1:
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        small = cv2.resize(small, size, interpolation=cv2.INTER_AREA)
        found = cv2.resize(found, size, interpolation=cv2.INTER_NEAREST)
    points = tuple(replace(p, x=p.x * factor, y=p.y * factor) for p in prompt.points)
    positive = [p for p in points if p.positive]
    h, w = small.shape[:2]
    best, best_box = BOX_PREFERRED * edge_contrast(small, found), None
    for share in CLICK_BOXES:
        half = share * min(h, w) / 2
        x0, y0 = max(0, int(min(p.x for p in positive) - half)), max(0, int(min(p.y for p in positive) - half))
        x1, y1 = min(w, int(max(p.x for p in positive) + half)), min(h, int(max(p.y for p in positive) + half))
        box = (x0, y0, x1 - x0, y1 - y0)
        trial = _grabcut(small, Prompt(box=box, points=points), TRIAL_PIXELS, TRIAL_ITERATIONS).mask
        inside = trial[y0:y1, x0:x1] > 0
        if not all(trial[int(p.y), int(p.x)] for p in positive) or inside.mean() < MIN_FILL:
            continue
        if _touch(inside, (y0 > 0, y1 < h, x0 > 0, x1 < w)) > MAX_TOUCH:
            continue
        contrast = edge_contrast(small, trial)
        if contrast > best:
            best, best_box = contrast, box
    if best_box is None:
        return None
    x, y, bw, bh = best_box
    x0, y0 = int(x / factor), int(y / factor)
    return x0, y0, min(width, int(np.ceil((x + bw) / factor))) - x0, min(height, int(np.ceil((y + bh) / factor))) - y0


def _touch(inside: np.ndarray, open_sides: tuple[bool, bool, bool, bool], band: int = 2) -> float:
    """The share of a box's inner sides (those not on the picture's edge: top, bottom, left, right) the
    proposal `inside` the box covers."""
    top, bottom, left, right = open_sides
    sides = [
        s.ravel()
        for s, is_open in zip(
            (inside[:band], inside[-band:], inside[:, :band], inside[:, -band:]),
            (top, bottom, left, right),
            strict=True,
        )
        if is_open
    ]
    return float(np.concatenate(sides).mean()) if sides else 0.0


def edge_contrast(picture: np.ndarray, mask: np.ndarray, width: int = 6) -> float:
    """How different the colours just inside the mask's outline are from those just outside it, 0 (alike) to
    1 (nothing in common): the Hellinger distance between the two rings' colour histograms (8 levels a
    channel). An outline on the object's edge scores high; one cut through the object or its background low."""
    inside = mask > 0
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
    inner = inside & ~(cv2.erode(mask, disk) > 0)
    outer = (cv2.dilate(mask, disk) > 0) & ~inside
    if np.count_nonzero(inner) < 20 or np.count_nonzero(outer) < 20:
        return 0.0
    levels = (picture[..., :3] // 32).astype(np.int32)
    colour = (levels[..., 0] * 8 + levels[..., 1]) * 8 + levels[..., 2]
    a = np.bincount(colour[inner], minlength=512).astype(np.float64)
    b = np.bincount(colour[outer], minlength=512).astype(np.float64)
    return float(1.0 - np.sqrt(a / a.sum() * b / b.sum()).sum())


def _grabcut(picture: np.ndarray, prompt: Prompt, work_pixels: int, iterations: int) -> Selection:
    height, width = picture.shape[:2]
    region = _region(prompt, width, height)
    rx, ry, rw, rh = region
    crop = np.ascontiguousarray(picture[ry : ry + rh, rx : rx + rw, :3])
    scale = min(1.0, float(np.sqrt(work_pixels / (rw * rh))))
    size = (max(1, round(rw * scale)), max(1, round(rh * scale)))
    work = cv2.resize(crop, size, interpolation=cv2.INTER_AREA) if scale < 1 else crop
    seeds = _seeds(prompt, region, scale, work, min(width, height))
    mask = np.zeros((height, width), np.uint8)
    has_object = np.isin(seeds, (cv2.GC_FGD, cv2.GC_PR_FGD)).any()
    has_background = np.isin(seeds, (cv2.GC_BGD, cv2.GC_PR_BGD)).any()
    if has_object and has_background:
        background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.setRNGSeed(0)
        cv2.grabCut(
            np.asarray(work, np.uint8), seeds, (0, 0, 0, 0), background, foreground, iterations, cv2.GC_INIT_WITH_MASK
        )
        found = _keep_connected(np.isin(seeds, (cv2.GC_FGD, cv2.GC_PR_FGD)), prompt, region, scale)
    else:
        found = np.isin(seeds, (cv2.GC_FGD, cv2.GC_PR_FGD))
    if scale < 1:
        mask[ry : ry + rh, rx : rx + rw] = refine_to(crop, found.astype(np.float32), scale)
    else:
        mask[ry : ry + rh, rx : rx + rw] = np.where(found, 255, 0)
    return Selection(mask, None)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (nonzero = selected); 1 when both are empty."""
    a, b = a > 0, b > 0
    union = int(np.count_nonzero(a | b))
    return 1.0 if union == 0 else int(np.count_nonzero(a & b)) / union
