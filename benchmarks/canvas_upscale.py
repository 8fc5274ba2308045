"""Upscaling the open picture in headless Chromium: click to the picture replaced, the longest frame meanwhile,
undo and redo of the whole-document step, and what undo keeps; next to the raw OpenCV Lanczos call on the same
picture (what the server's job does at its core).

    python benchmarks/canvas_upscale.py [--side 2048] [--scale 2]

Starts `retouch serve` (the built canvas, `make frontend`), opens a `--side`² picture with a mask stroke and a
paint stroke, waits until the picture is on the server, then clicks Upscale (lanczos). The undo step keeps the
document as it was (picture, packed mask, paint): the reference row is what undo would hold if it kept both the
old and the new document whole (picture, mask and paint, 4 bytes a pixel each), computed, not run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "backend")]

from benchmarks.canvas_paint import RAF_RECORDER, picture  # noqa: E402 - after the path
from benchmarks.report import print_measures  # noqa: E402 - after the path
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, STATIC_INDEX, Canvas, Serve  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=2048)
    parser.add_argument("--scale", type=float, default=2)
    args = parser.parse_args()
    if not STATIC_INDEX.exists():
        print("the canvas is not built: run `make frontend` first", file=sys.stderr)
        return 2
    from PIL import Image
    from playwright.sync_api import sync_playwright

    big = round(args.side * args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        source = picture(tmp_path / "big.png", args.side)
        pixels = np.asarray(Image.open(source))
        started = time.perf_counter()
        cv2.resize(pixels, (big, big), interpolation=cv2.INTER_LANCZOS4)
        raw_s = time.perf_counter() - started
        server = Serve(tmp_path / "data").start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(server.url + "/")
                page.get_by_test_id("connection").filter(has_text="connected").wait_for()
                canvas = Canvas(page)
                page.get_by_test_id("upload-input").set_input_files(str(source))
                page.get_by_test_id("picture-size").filter(has_text=f"{args.side}×{args.side}").wait_for(
                    timeout=120_000
                )
                box = canvas.box()
                for tool, y in (("tool-brush", 300), ("tool-paint", 420)):
                    page.get_by_test_id(tool).click()
                    canvas.stroke([(box["x"] + 300, box["y"] + y), (box["x"] + 600, box["y"] + y + 40)])
                page.evaluate("window.retouch.uploaded()")
                canvas.set_field("upscale-factor", f"{args.scale:g}")

                page.evaluate(RAF_RECORDER)
                started = time.perf_counter()
                page.get_by_test_id("upscale").click()
                page.get_by_test_id("picture-size").filter(has_text=f"{big}×{big}").wait_for(timeout=300_000)
                replaced_s = time.perf_counter() - started
                frames = page.evaluate("(() => { window.__stop = true; return window.__frames; })()")
                kept_mb = page.evaluate("window.retouch.historyBytes()") / 2**20

                canvas.focus()
                started = time.perf_counter()
                page.keyboard.press("Control+z")
                page.get_by_test_id("picture-size").filter(has_text=f"{args.side}×{args.side}").wait_for()
                undo_s = time.perf_counter() - started
                undone_mb = page.evaluate("window.retouch.historyBytes()") / 2**20
                started = time.perf_counter()
                page.keyboard.press("Control+Shift+z")
                page.get_by_test_id("picture-size").filter(has_text=f"{big}×{big}").wait_for()
                redo_s = time.perf_counter() - started
                browser.close()
        finally:
            server.stop()

    whole_mb = 3 * 4 * (args.side**2 + big**2) / 2**20
    rows = [
        ("picture", f"{args.side}² -> {big}² (lanczos)", ""),
        ("machine load (1-min average, cores)", f"{os.getloadavg()[0]:.2f} of {os.cpu_count()}", ""),
        ("raw cv2.resize Lanczos, same picture (s)", f"{raw_s:.2f}", "reference"),
        ("click -> picture replaced (s)", f"{replaced_s:.2f}", ""),
        ("  ratio to the raw call", f"{replaced_s / raw_s:.0f}x", "upload, job, PNGs"),
        ("longest frame, click -> replaced (ms)", f"{max(frames):.0f}", ""),
        ("undo (s) / redo (s)", f"{undo_s:.2f} / {redo_s:.2f}", ""),
        ("undo keeps: after the upscale / after its undo (MB)", f"{kept_mb:.1f} / {undone_mb:.1f}", "<= 96 budget"),
        ("reference: both documents whole (MB, computed)", f"{whole_mb:.0f}", ""),
    ]
    print_measures(rows, "note")
    return 0


if __name__ == "__main__":
    sys.exit(main())
