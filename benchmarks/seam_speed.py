"""Seam speed: the seam score and a repair pass, each next to a raw library call in the same run.

Score: `retouch.imaging.seams.seam_score` on a 1024² and a 4096² boundary (a circle of that diameter, and a
blobby region with the same bounding box, in skimage's astronaut scaled to fit), next to OpenCV's Sobel
gradient magnitude over the boundary's bounding box: the cheapest "measure the gradients around it" an
area-based score would start from (the goal is 20 ms at 1024²).

Repair: each step of the `seams` repair over an 8 px band on a drifted paste (shifted and brightened) at
1024² and 4096², next to the raw `cv2.seamlessClone(picture, picture, mask, centre, NORMAL_CLONE)` in the same
run: over the band for the band blend (`poisson_blend`) and the structure step (PatchMatch where lines jump,
then the band), over the region and its band for `tone_match`, the tone step and the whole default repair
(what OpenCV's Poisson solver costs on that area; with the picture as its own source it keeps the seam, so
its score is shown too). Up to 512², a telea pass through `retouch.pipeline.fill` next to the raw `cv2.inpaint`.

    python benchmarks/seam_speed.py                 # about 25 minutes on 2 busy cores (4096²)
    python benchmarks/seam_speed.py --repeat 5
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from functools import partial

import cv2
import numpy as np
from skimage import data

from retouch.engines import Hooks
from retouch.imaging.seams import band_mask, boundary_box, poisson_blend, seam_score, tone_match
from retouch.pipeline import fill
from retouch.recipe import FillParams
from retouch.workflows import seams as seams_workflow
from retouch.workflows.seams import SeamParams

BAND = 8
TELEA_UP_TO = 512
MARGIN = 64


def picture(side: int) -> np.ndarray:
    return cv2.resize(data.astronaut(), (side + 2 * MARGIN, side + 2 * MARGIN), interpolation=cv2.INTER_CUBIC)


def circle(side: int) -> np.ndarray:
    mask = np.zeros((side + 2 * MARGIN,) * 2, np.uint8)
    cv2.circle(mask, (side // 2 + MARGIN,) * 2, side // 2, 255, -1)
    return mask


def blob(side: int) -> np.ndarray:
    """A smooth random region spanning the same box: a long, winding boundary."""
    rng = np.random.default_rng(1)
    noise = cv2.GaussianBlur(rng.random((side, side)).astype(np.float32), (0, 0), side / 40)
    mask = np.zeros((side + 2 * MARGIN,) * 2, np.uint8)
    mask[MARGIN:-MARGIN, MARGIN:-MARGIN] = np.where(noise > np.quantile(noise, 0.6), 255, 0)
    return mask


def drifted(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The region replaced by the picture shifted by (23, 37) px and 20 levels brighter: a fill that drifted."""
    lifted = np.clip(np.roll(rgb, (23, 37), axis=(0, 1)).astype(np.int16) + 20, 0, 255).astype(np.uint8)
    return np.where(mask[..., None] > 0, lifted, rgb)


def timed(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median CPU time (this process, all threads) of `repeat` runs, and the last result. CPU time rather
    than wall time, because on a shared machine the wall clock mostly measures the neighbours."""
    times, result = [], None
    for _ in range(repeat):
        start = time.process_time()
        result = run()
        times.append(time.process_time() - start)
    return float(np.median(times)), result


def sobel_over_box(rgb: np.ndarray, mask: np.ndarray) -> float:
    x, y, w, h = boundary_box(mask, 14)
    gray = cv2.cvtColor(rgb[y : y + h, x : x + w], cv2.COLOR_RGB2GRAY)
    magnitude = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    return float(magnitude.mean())


def score_rows(sides: list[int], repeat: int) -> None:
    print("\nCPU time, median of the repeats.")
    print("\n| boundary | points | seam_score ms | Sobel over box ms | score / Sobel |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for side in sides:
        rgb = picture(side)
        for shape, mask in (("circle", circle(side)), ("blob", blob(side))):
            seam_score(rgb, mask)  # warm up
            ours, score = timed(partial(seam_score, rgb, mask), repeat)
            sobel, _ = timed(partial(sobel_over_box, rgb, mask), repeat)
            print(f"| {shape} {side}² | {score.length} | {ours * 1e3:.1f} | {sobel * 1e3:.1f} | {ours / sobel:.2f}x |")


def repair_rows(sides: list[int], repeat: int) -> None:
    print(
        "\n| boundary | band px | pass | ours s | raw call | raw s | ours / raw | seam before | ours after | raw after |"
    )
    print("| --- | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for side in sides:
        rgb = picture(side)
        for shape, mask in (("circle", circle(side)), ("blob", blob(side))):
            seamed = drifted(rgb, mask)
            band = band_mask(mask, BAND)
            x, y, w, h = cv2.boundingRect(cv2.findNonZero(band))
            centre = (x + w // 2, y + h // 2)
            before = seam_score(seamed, mask).score
            pixels = int((band > 0).sum())
            telea = FillParams(engine="telea", feather=0, grow=0, bbox="auto")
            grown = band_mask(mask, BAND) | mask  # the region and its band: what the repair may change
            rx, ry, rw, rh = cv2.boundingRect(cv2.findNonZero(grown))
            region_centre = (rx + rw // 2, ry + rh // 2)
            clone_region = partial(cv2.seamlessClone, seamed, seamed, grown, region_centre, cv2.NORMAL_CLONE)
            clone_band = partial(cv2.seamlessClone, seamed, seamed, band, centre, cv2.NORMAL_CLONE)
            rows = [
                ("band blend (poisson_blend)", partial(poisson_blend, seamed, mask, BAND), "seamlessClone band", clone_band),
                ("tone (tone_match)", partial(tone_match, seamed, mask, BAND), "seamlessClone region", clone_region),
                ("tone step (tone_match + band)", partial(tone_step, seamed, mask), "seamlessClone region", clone_region),
                ("structure step (PatchMatch + band)", partial(structure_step, seamed, mask), "seamlessClone band",
                 clone_band),
                ("`seams` defaults (all passes)", partial(default_repair, seamed, mask), "seamlessClone region",
                 clone_region),
            ]  # fmt: skip
            if side <= TELEA_UP_TO:  # Telea over a 16 px wide band takes seconds at 1024²
                rows.append(("telea (pipeline.fill)", partial(telea_pass, seamed, band, telea), "cv2.inpaint",
                             partial(cv2.inpaint, seamed, band, 5, cv2.INPAINT_TELEA)))  # fmt: skip
            for name, ours_run, raw_name, raw_run in rows:
                ours, ours_out = timed(ours_run, repeat)
                raw, raw_out = timed(raw_run, repeat)
                print(
                    f"| {shape} {side}² | {pixels} | {name} | {ours:.3f} | {raw_name} | {raw:.3f} | {ours / raw:.2f}x "
                    f"| {before:.2f} | {seam_score(ours_out, mask).score:.2f} | {seam_score(raw_out, mask).score:.2f} |"
                )


def tone_step(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return poisson_blend(tone_match(rgb, mask, BAND), mask, BAND)


def structure_step(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The structure step on its own: PatchMatch where the structure breaks, then the band."""
    params = SeamParams(band=BAND, seed=1)
    out = seams_workflow._step("structure", rgb, mask, params, 1, None, Hooks())
    return rgb if out is None else out


def default_repair(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    params = SeamParams(band=BAND, seed=1)
    return seams_workflow.repair(rgb, mask, params, 1, lambda name: None, Hooks())[0]


def telea_pass(rgb: np.ndarray, band: np.ndarray, params: FillParams) -> np.ndarray:
    return fill(rgb, band, params).pixels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--score-sides", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--repair-sides", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"Machine: {os.cpu_count()} CPU cores ({platform.machine()}), OpenCV {cv2.__version__}")
    score_rows(args.score_sides, args.repeat)
    repair_rows(args.repair_sides, args.repeat)


if __name__ == "__main__":
    main()
