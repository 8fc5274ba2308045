"""Fill speed: each engine through `retouch.pipeline.fill` next to the raw library call on the same input.

For every picture size and hole size it prints one row per engine: the pipeline's time, the raw call's
time, their ratio, and the detail inside the hole (mean gradient magnitude relative to the original's)
for both, so a speed-up that only blurs is visible. Raw calls are OpenCV's `cv2.inpaint` (Telea,
Navier-Stokes) and PyPatchMatch on the whole picture (`retouch.imaging.patchmatch.library_inpaint`).

    python benchmarks/fill_speed.py                     # the full table (about 3 minutes on 2 cores)
    python benchmarks/fill_speed.py --sizes 512 --holes 10
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

import cv2
import numpy as np
from skimage import data

from retouch.imaging.patchmatch import library_inpaint
from retouch.pipeline import fill
from retouch.recipe import FillParams

SEED = 1
OPENCV_RADIUS = 5  # what the Telea and Navier-Stokes engines use
RAW: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "patchmatch": lambda image, mask: library_inpaint(image, mask, SEED),
    "telea": lambda image, mask: cv2.inpaint(image, mask, OPENCV_RADIUS, cv2.INPAINT_TELEA),
    "navier-stokes": lambda image, mask: cv2.inpaint(image, mask, OPENCV_RADIUS, cv2.INPAINT_NS),
}


def pictures(side: int) -> dict[str, np.ndarray]:
    """A photograph (skimage's astronaut) and a texture (skimage's brick wall, coloured), side x side."""
    photo = cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_AREA)
    bricks = cv2.resize(data.brick(), (side, side), interpolation=cv2.INTER_AREA)
    texture = np.stack([bricks, np.roll(bricks, 7, axis=1), 255 - bricks], axis=-1)
    return {"astronaut": photo, "bricks": texture}


#: where hole `i` is centred, as fractions of the side; the first is the picture's centre
HOLE_CENTRES = ((0.5, 0.5), (0.3, 0.3), (0.7, 0.4), (0.4, 0.7))


def square_hole(side: int, fraction: float, position: int = 0) -> np.ndarray:
    """A square covering `fraction` of the picture (the hardest shape, far from any known pixel), centred
    at `HOLE_CENTRES[position]` and kept inside the picture."""
    mask = np.zeros((side, side), np.uint8)
    edge = round(side * fraction**0.5)
    cy, cx = HOLE_CENTRES[position]
    top = min(max(0, round(side * cy) - edge // 2), side - edge)
    left = min(max(0, round(side * cx) - edge // 2), side - edge)
    mask[top : top + edge, left : left + edge] = 255
    return mask


def detail(filled: np.ndarray, original: np.ndarray, hole: np.ndarray) -> float:
    """Mean Sobel gradient magnitude (luminance) in the hole, relative to the original picture's."""

    def gradient(rgb: np.ndarray) -> float:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
        magnitude = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
        return float(magnitude[hole].mean())

    return gradient(filled) / gradient(original)


def timed(run: Callable[[], np.ndarray], repeat: int) -> tuple[float, np.ndarray]:
    """Best wall time of `repeat` runs (one run if the first takes over 2 s) and the last result."""
    best, result = float("inf"), None
    for attempt in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
        if attempt == 0 and best > 2.0:
            break
    assert result is not None
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    parser.add_argument("--holes", type=int, nargs="+", default=[10, 30], help="hole sizes in percent")
    parser.add_argument("--engines", nargs="+", default=list(RAW), choices=list(RAW))
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best time counts)")
    parser.add_argument(
        "--positions",
        type=int,
        default=1,
        choices=range(1, len(HOLE_CENTRES) + 1),
        help="hole positions to average over (the detail measure moves a lot with what the hole covers)",
    )
    parser.add_argument(
        "--raw-patchmatch-limit",
        type=int,
        default=None,
        help="skip the raw PatchMatch call above this many hole pixels (on 2 cores 2048² with a 30 %% hole "
        "takes ~20 s, so by default nothing is skipped)",
    )
    args = parser.parse_args()

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, OpenCV {cv2.__version__}")
    print("| picture | hole | engine | retouch s | raw s | raw / retouch | detail retouch | detail raw |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for side in args.sizes:
        for name, picture in pictures(side).items():
            for percent in args.holes:
                for engine in args.engines:
                    rows = [
                        measure(picture, square_hole(side, percent / 100, position), engine, args)
                        for position in range(args.positions)
                    ]
                    ours_s, raw_s, ours_detail, raw_detail = (np.mean([r[i] for r in rows]) for i in range(4))
                    row = f"| {name} {side}² | {percent} % | {engine} | {ours_s:.2f} |"
                    if np.isnan(raw_s):
                        row += f" skipped (--raw-patchmatch-limit) | | {ours_detail:.2f} | |"
                    else:
                        row += f" {raw_s:.2f} | {raw_s / ours_s:.1f}x | {ours_detail:.2f} | {raw_detail:.2f} |"
                    print(row, flush=True)


def measure(picture: np.ndarray, mask: np.ndarray, engine: str, args: argparse.Namespace) -> tuple[float, ...]:
    """(our time, raw time, our detail, raw detail) for one hole; the raw ones NaN when skipped."""
    hole = mask > 0
    params = FillParams(engine=engine, seed=SEED)
    ours_s, ours = timed(lambda: fill(picture, mask, params).pixels, args.repeat)
    limit = args.raw_patchmatch_limit
    if engine == "patchmatch" and limit is not None and hole.sum() > limit:
        return ours_s, float("nan"), detail(ours, picture, hole), float("nan")
    raw_s, raw = timed(lambda: RAW[engine](picture, mask), args.repeat)
    return ours_s, raw_s, detail(ours, picture, hole), detail(raw, picture, hole)


if __name__ == "__main__":
    main()
