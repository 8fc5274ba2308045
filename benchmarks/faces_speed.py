"""Face fixing speed: detection next to dlib's bare call, and the faces workflow next to the bare fills.

Detection (`--part detect`): a group picture (skimage's rocket with the astronaut's face pasted at 1/4, 1/8 and
1/16 of the side, and an LFW face at 1/12) at 1024², 2048² and 4096², searched by `retouch.detect.faces` with
its defaults (a 1024x1024-pixel search copy), next to dlib's HOG detector called bare on the full picture
(`detector.run(rgb, 0, 0.2)`, what a script would do). Times are the median of `--repeat` runs after a
warm-up. **faces** counts the pasted faces found (boxes overlapping the true ones by IoU >= 0.5); **smallest**
is the smallest face side each search can find (bare: dlib's 80 px window at full size).

Workflow (`--part workflow`): see `workflow_rows`.

    python benchmarks/faces_speed.py                  # both parts
    python benchmarks/faces_speed.py --part detect --sizes 1024 4096
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from skimage import data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT))

from tests.faces_scenes import group, iou

from retouch.detect.faces import DetectParams, HogDetector, detect_faces


def median_seconds(call: Callable[[], object], repeat: int) -> float:
    call()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def group_picture(side: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    background = cv2.resize(data.rocket(), (side, side), interpolation=cv2.INTER_CUBIC)
    return group(
        background,
        [
            ("astronaut", side // 4, (side // 20, side // 10)),
            ("astronaut", side // 8, (side // 2, side // 8)),
            ("astronaut", side // 16, (side // 2, side * 3 // 5)),
            ("lfw:3", side // 12, (side * 4 // 5, side * 4 // 5)),
        ],
    )


def found(faces: list[tuple[int, int, int, int]], boxes: list[tuple[int, int, int, int]]) -> int:
    return sum(any(iou(box, face) >= 0.5 for face in faces) for box in boxes)


def detect_rows(sizes: list[int], repeat: int) -> None:
    hog = HogDetector()
    bare = hog._detector()
    params = DetectParams()
    print(
        "| picture | faces (side) | retouch ms | bare dlib ms | bare / retouch | faces retouch | faces bare "
        "| smallest retouch | smallest bare |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for side in sizes:
        picture, boxes = group_picture(side)
        result = detect_faces(picture, params, hog)
        ours = median_seconds(lambda picture=picture: detect_faces(picture, params, hog), repeat)
        rects, _, _ = bare.run(picture, 0, params.threshold)
        theirs = median_seconds(lambda picture=picture: bare.run(picture, 0, params.threshold), max(1, repeat // 3))
        bare_boxes = [(r.left(), r.top(), r.width(), r.height()) for r in rects]
        sides = ", ".join(str(b[2]) for b in boxes)
        print(
            f"| {side}² | {sides} | {ours * 1000:.0f} | {theirs * 1000:.0f} | {theirs / ours:.1f}x "
            f"| {found([f.box for f in result.faces], boxes)}/{len(boxes)} | {found(bare_boxes, boxes)}/{len(boxes)} "
            f"| {result.smallest_face} | {HogDetector.window} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["detect", "workflow", "all"], default="all")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} CPU cores, OpenCV {cv2.__version__}\n")
    if args.part in ("detect", "all"):
        print("## Detection\n")
        detect_rows(args.sizes, args.repeat)


if __name__ == "__main__":
    main()
