"""Face fixing speed: detection next to dlib's bare call, and the faces workflow next to the bare fills.

Detection (`--part detect`): a group picture (skimage's rocket with the astronaut's face pasted at 1/4, 1/8 and
1/16 of the side, and an LFW face at 1/12) at 1024², 2048² and 4096², searched by `retouch.detect.faces` with
its defaults (a 1024x1024-pixel search copy), next to dlib's HOG detector called bare on the full picture
(`detector.run(rgb, 0, 0.2)`, what a script would do). Times are the median of `--repeat` runs after a
warm-up. **faces** counts the pasted faces found (boxes overlapping the true ones by IoU >= 0.5); **smallest**
is the smallest face side each search can find (bare: dlib's 80 px window at full size).

Workflow (`--part workflow`): the faces of the rocket group picture (four faces of 40 to 96 px, 640x427) fixed by
`retouch.workflows.faces.run` with a tiny random SD-inpainting model registered at native size `--native`
(default 512: each face is redrawn at 512x512 as a real SD 1.5 would, 10 steps at strength 0.4), next to the bare
fills of the same crops: `retouch.pipeline.fill` called by hand on each face's crop and mask, cut beforehand,
with the same parameters. `given` passes the four boxes (detection not timed); `auto` detects them first.
Median of `--repeat` runs in ABBA order after a warm-up; **ratio** = workflow / bare (goal <= 1.05). A tiny
model stands in for SD 1.5 (no weights here, no GPU): the steps are cheaper, so the ratio is a worst case.

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

from retouch.detect.faces import DetectParams, HogDetector, detect_faces  # noqa: E402 - after the path
from tests.faces_scenes import group, iou  # noqa: E402


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


def workflow_rows(native: int, repeat: int) -> None:
    import tempfile

    from retouch.catalog import Catalog, CatalogEntry, save_catalog
    from retouch.engines import Hooks
    from retouch.imaging.faces import face_mask, face_region, working_size
    from retouch.imaging.io import Picture
    from retouch.imaging.region import crop
    from retouch.pipeline import fill
    from retouch.registry import build_registry
    from retouch.workflows import faces
    from tests.faces_scenes import rocket_group
    from tests.tiny_models import build_sd

    with tempfile.TemporaryDirectory() as work:
        folder = build_sd(Path(work) / "sd-inpaint", inpainting=True)
        catalog = Path(work) / "catalog.yaml"
        entry = CatalogEntry(name="tiny", family="sd-inpaint", source=str(folder), native_size=native)
        save_catalog(Catalog(models=[entry]), catalog)
        engine = build_registry(catalog)["tiny"]()
        engine.load("cpu")

        pixels, _ = rocket_group()
        picture = Picture(pixels=pixels)
        found = detect_faces(pixels, DetectParams(), HogDetector()).faces
        boxes = [faces.FaceBox(x=f.x, y=f.y, width=f.width, height=f.height) for f in found]
        common = {"engine": "tiny", "steps": 10, "strength": 0.4, "seed": 1, "prompt": "a portrait"}
        given = faces.FaceParams(faces=boxes, **common)
        auto = faces.FaceParams(**common)
        size = picture.size
        cuts = []
        for face in boxes:
            box = face.as_tuple()
            region = face_region(box, size, given.padding)
            work_size = working_size(region[2:], native, engine.grid)
            params = faces.fill_params(given, given.prompt, given.seed, work_size)
            cuts.append((crop(pixels, region).copy(), face_mask(region, box, given.mask_shape, given.grow), params))

        def bare() -> None:
            for image, mask, params in cuts:
                fill(image, mask, params, engine=engine)

        def workflow(params: faces.FaceParams):
            return lambda: faces.run(picture, None, params, lambda name: engine, Hooks())

        print("| faces | native | retouch s | bare fills s | ratio |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, run in (("given", workflow(given)), ("auto", workflow(auto))):
            run(), bare()  # warm-up
            ours, theirs = [], []
            for index in range(repeat):
                first, second = (run, bare) if index % 2 == 0 else (bare, run)
                for call in (first, second):
                    start = time.perf_counter()
                    call()
                    (ours if call is run else theirs).append(time.perf_counter() - start)
            a, b = statistics.median(ours), statistics.median(theirs)
            print(f"| {len(boxes)} {name} | {native}² | {a:.3f} | {b:.3f} | {a / b:.3f} |")
        engine.unload()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["detect", "workflow", "all"], default="all")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--native", type=int, default=512, help="the tiny model's native size (workflow part)")
    args = parser.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} CPU cores, OpenCV {cv2.__version__}\n")
    if args.part in ("detect", "all"):
        print("## Detection\n")
        detect_rows(args.sizes, args.repeat)
    if args.part in ("workflow", "all"):
        print("\n## Workflow\n")
        workflow_rows(args.native, args.repeat)


if __name__ == "__main__":
    main()
