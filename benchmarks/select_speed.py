"""Object selection speed: GrabCut through Retouch next to OpenCV's bare call, and a segment-anything model's
embedding and decode through Retouch next to the bare transformers calls, at 1024² and 4096².

GrabCut: the cat-fur scene of `tests/select_scenes.py` scaled to the size, a box around the object.
`retouch` is `imaging.select.grabcut_select` (the region around the box, cut on a copy of at most 512² and
brought back to full resolution by the guided filter); `bare` is `cv2.grabCut` in rect mode on the full picture,
5 iterations each, what a script would do. **IoU** against the true mask.

SAM: a segment-anything model with random weights built from transformers' config classes (`tiny`: the test
model, 256 px input; `vit-b`: SAM ViT-B's own configuration at 1024 px, about 94 M weights, slow on a CPU).
`embed` is the first click on a picture (processor + image encoder + decoder + mask at full size), `click` a
later click (decoder + full-size mask from the cached embedding); `bare` runs the processor and
`get_image_embeddings` / the decoder forward alone, without the mask brought to the picture's size.
With random weights the decoder's logits hover about 0, so its mask's edge runs everywhere and bringing it to
full size (the guided filter works along the edge) costs far more than for a trained model's one object: the
`256-px mask to full size` rows time that step on the scene's true object instead. Median of `--repeat` runs
after a warm-up.

Canvas (`--canvas`): `retouch serve` and headless Chromium; the scene opened, the Select tool, one click on the
object. **click to outline** is the page's own time from the click to the proposal in the state (GrabCut on the
server, the mask fetched and outlined); **bare POST /select** is the same request from Python (httpx) on the same
upload, without the browser. Then the view is zoomed for 120 frames with the outline shown: the 95th
percentile frame interval (60 fps = 16.7 ms).

    python benchmarks/select_speed.py                   # GrabCut and the tiny SAM at 1024² and 4096²
    python benchmarks/select_speed.py --sam vit-b --sizes 1024
    python benchmarks/select_speed.py --sam none --canvas   # GrabCut and the canvas only
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "backend"), str(ROOT)]

from benchmarks.report import print_measures  # noqa: E402
from retouch.engines.select import SamSelector  # noqa: E402 - after the path
from retouch.imaging.select import Prompt, SelectPoint, grabcut_select, iou, refine_to  # noqa: E402
from tests.select_scenes import cat_on  # noqa: E402


def median_time(run: Callable[[], object], repeat: int) -> float:
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def scene(side: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    picture, truth, box = cat_on("coffee")  # 600x400
    k = side / 600
    size = (side, round(400 * k))
    big = cv2.resize(picture, size, interpolation=cv2.INTER_CUBIC)
    true = cv2.resize(truth, size, interpolation=cv2.INTER_NEAREST)
    return big, true, tuple(round(v * k) for v in box)  # type: ignore[return-value]


def grabcut_rows(sides: list[int], repeat: int) -> list[tuple[str, str, str]]:
    return [row for side in sides for row in grabcut_case(side, repeat)]


def grabcut_case(side: int, repeat: int) -> list[tuple[str, str, str]]:
    rows = []
    picture, truth, box = scene(side)
    found: dict[str, np.ndarray] = {}

    def retouch() -> None:
        found["retouch"] = grabcut_select(picture, Prompt(box=box)).mask

    def bare() -> None:
        mask = np.zeros(picture.shape[:2], np.uint8)
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.grabCut(picture, mask, box, bgd, fgd, 5, cv2.GC_INIT_WITH_RECT)
        found["bare"] = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8) * 255

    ours = median_time(retouch, repeat)
    theirs = median_time(bare, 1 if side > 2048 else repeat)
    name = f"grabcut {picture.shape[1]}x{picture.shape[0]}"
    rows.append((f"{name} retouch", f"{ours * 1000:.0f} ms", f"IoU {iou(found['retouch'], truth):.3f}"))
    rows.append((f"{name} bare cv2.grabCut", f"{theirs * 1000:.0f} ms", f"IoU {iou(found['bare'], truth):.3f}"))
    rows.append((f"{name} ratio", f"{ours / theirs:.2f}", "retouch / bare"))
    # bringing a 256-px mask (SAM's low-resolution size) of the object to full size, edge on the picture's edges
    coarse = cv2.resize(truth, (256, round(256 * picture.shape[0] / picture.shape[1])), interpolation=cv2.INTER_AREA)
    scale = 256 / picture.shape[1]
    refine = median_time(lambda: refine_to(picture, coarse.astype(np.float32) / 255, scale), repeat)
    stretch = median_time(lambda: cv2.resize(coarse, picture.shape[1::-1], interpolation=cv2.INTER_LINEAR), repeat)
    rows.append((f"{name} 256-px mask to full size, refined", f"{refine * 1000:.0f} ms", "refine_to"))
    rows.append((f"{name} 256-px mask stretched", f"{stretch * 1000:.0f} ms", "cv2.resize alone"))
    return rows


def sam_folder(kind: str, folder: Path) -> Path:
    if kind == "tiny":
        from tests.tiny_sam import save_tiny_sam

        return save_tiny_sam(folder)
    import torch
    from transformers import SamConfig, SamImageProcessor, SamModel, SamProcessor

    torch.manual_seed(0)
    SamModel(SamConfig()).eval().save_pretrained(folder)  # SAM ViT-B's configuration, random weights
    SamProcessor(SamImageProcessor()).save_pretrained(folder)
    return folder


def sam_rows(kind: str, sides: list[int], repeat: int) -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        selector = SamSelector("sam", sam_folder(kind, Path(tmp) / "sam"))
        selector.load()
        return [row for side in sides for row in sam_case(selector, kind, side, repeat)]


def sam_case(selector: SamSelector, kind: str, side: int, repeat: int) -> list[tuple[str, str, str]]:
    import torch

    rows = []
    model, processor = selector._model, selector._processor
    picture, _, _ = scene(side)
    click = Prompt(points=(SelectPoint(side * 0.25, side * 0.28),))
    counter = iter(range(1_000_000))

    def first() -> None:  # a new picture each time: the embedding is computed
        selector.select(picture, click, key=f"new-{next(counter)}")

    def later() -> None:
        selector.select(picture, click, key="seen")

    def bare_embed() -> None:
        with torch.inference_mode():
            inputs = processor(images=picture, return_tensors="pt")
            model.get_image_embeddings(inputs["pixel_values"])

    with torch.inference_mode():
        inputs = processor(images=picture, input_points=[[[side * 0.25, side * 0.28]]], return_tensors="pt")
        embedding = model.get_image_embeddings(inputs["pixel_values"])

    def bare_decode() -> None:
        with torch.inference_mode():
            model(image_embeddings=embedding, input_points=inputs["input_points"], multimask_output=False)

    selector.select(picture, click, key="seen")
    timings = [median_time(run, repeat) for run in (first, bare_embed, later, bare_decode)]
    name = f"sam {kind} {picture.shape[1]}x{picture.shape[0]}"
    rows.append((f"{name} first click (embed)", f"{timings[0] * 1000:.0f} ms", ""))
    rows.append((f"{name} bare processor + encoder", f"{timings[1] * 1000:.0f} ms", ""))
    rows.append((f"{name} later click", f"{timings[2] * 1000:.1f} ms", "goal <= 50 ms on a GPU"))
    rows.append((f"{name} bare decoder", f"{timings[3] * 1000:.1f} ms", ""))
    return rows


# the page's own time from the click to the proposal in the state (awaited in the page, frame by frame)
UNTIL_PROPOSED = """
async () => {
  while (window.retouch.state().select.proposal === null) await new Promise((resolve) => requestAnimationFrame(resolve));
  return performance.now() - window.__clicked;
}
"""

FRAMES_SCRIPT = """
async (count) => {
  const canvas = document.querySelector("[data-testid=canvas]");
  const rect = canvas.getBoundingClientRect();
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const intervals = [];
  let last = await frame();
  for (let i = 0; i < count; i++) {
    canvas.dispatchEvent(new WheelEvent("wheel", { clientX: rect.left + rect.width / 2, clientY: rect.top + rect.height / 2,
      deltaY: i % 40 < 20 ? 8 : -8, bubbles: true, cancelable: true }));
    const t = await frame();
    intervals.push(t - last);
    last = t;
  }
  return intervals;
}
"""


def canvas_rows(sides: list[int], repeat: int) -> list[tuple[str, str, str]]:
    import httpx
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Serve

    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        server = Serve(Path(tmp) / "data").start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for side in sides:
                picture, _, _ = scene(side)
                path = Path(tmp) / f"scene-{side}.png"
                Image.fromarray(picture).save(path)
                click = (side * 0.25, side * 0.28)  # inside the object
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(server.url + "/")
                page.get_by_test_id("upload-input").set_input_files(str(path))
                page.get_by_test_id("picture-size").filter(has_text=f"{side}×").wait_for(timeout=300_000)
                page.evaluate("window.retouch.uploaded()")
                page.keyboard.press("s")
                times = []
                for _ in range(repeat):
                    page.keyboard.press("Escape")
                    v = page.evaluate("window.retouch.state().viewport")
                    box = page.get_by_test_id("canvas").bounding_box()
                    at = (box["x"] + v["x"] + click[0] * v["zoom"], box["y"] + v["y"] + click[1] * v["zoom"])
                    page.evaluate(
                        "window.__clicked = null; addEventListener('pointerup', () => { window.__clicked ??= performance.now(); }, { once: true })"
                    )
                    page.mouse.click(*at)
                    times.append(page.evaluate(UNTIL_PROPOSED))
                intervals = page.evaluate(FRAMES_SCRIPT, 120)
                page.close()
                with httpx.Client(base_url=server.url, timeout=300) as http:
                    image = http.post("/api/v1/images", files={"file": ("s.png", path.read_bytes())}).json()["id"]
                    body = {"image": image, "points": [{"x": click[0], "y": click[1]}]}

                    def bare(body: dict = body, http: httpx.Client = http) -> None:
                        http.post("/api/v1/select", json=body).raise_for_status()

                    bare_s = median_time(bare, repeat)
                name = f"canvas {picture.shape[1]}x{picture.shape[0]}"
                rows.append((f"{name} click to outline", f"{statistics.median(times):.0f} ms", "GrabCut, in the page"))
                rows.append((f"{name} bare POST /select", f"{bare_s * 1000:.0f} ms", "httpx, same request"))
                p95 = float(np.percentile(intervals, 95))
                rows.append((f"{name} frames, outline shown, p95", f"{p95:.1f} ms", "goal <= 16.7 ms (60 fps)"))
        finally:
            browser.close()
            server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sam", choices=["tiny", "vit-b", "none"], default="tiny")
    parser.add_argument("--canvas", action="store_true", help="also click to outline in Chromium")
    parser.add_argument("--no-grabcut", action="store_true", help="leave the GrabCut rows out")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    rows = [] if args.no_grabcut else grabcut_rows(args.sizes, args.repeat)
    if args.sam != "none":
        rows += sam_rows(args.sam, args.sizes, args.repeat)
    if args.canvas:
        rows += canvas_rows(args.sizes, args.repeat)
    print_measures(rows, last="note")


if __name__ == "__main__":
    main()
