"""Select by one click without a segment-anything model: GrabCut on the whole picture (what a click alone got
before) next to Retouch's `grabcut_select` (which also tries boxes around the click), on 112 scenes with a
known true mask: blobs of four textures, 180 and 90 px, pasted on seven scikit-image photographs, clicked at
the centre and off it. Prints mean IoU, the share of clicks at IoU >= 0.8, the time per click, and every scene
where the new answer is worse.

    python benchmarks/select_clicks.py          # about 4 minutes on 2 cores
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from skimage import data

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "backend")]

from retouch.imaging import select  # noqa: E402
from retouch.imaging.select import Prompt, SelectPoint, grabcut_select, iou  # noqa: E402
from tests.select_scenes import blob, cat_fur, flag_blue, paste  # noqa: E402

BACKGROUNDS = ("coffee", "rocket", "astronaut", "camera", "chelsea", "hubble_deep_field", "immunohistochemistry")


def main() -> None:
    textures = {
        "cat": cat_fur(),
        "flag": flag_blue(),
        "brick": np.dstack([data.brick()[:200, :200]] * 3),
        "coffee": data.coffee()[100:300, 200:400],
    }
    before, after, before_s, after_s = [], [], [], []
    for side, at in ((180, (60, 80)), (90, (250, 150))):
        for background in BACKGROUNDS:
            for name, texture in textures.items():
                picture = getattr(data, background)()
                picture = np.dstack([picture] * 3) if picture.ndim == 2 else picture[..., :3].copy()
                truth = paste(picture, texture, blob(side), at)
                ys, xs = np.nonzero(truth)
                cy, cx = int(ys.mean()), int(xs.mean())
                for x, y in ((cx, cy), (cx - side // 4, cy + side // 8)):
                    prompt = Prompt(points=(SelectPoint(x, y),))
                    start = time.perf_counter()
                    whole = select._grabcut(picture, prompt, 512 * 512, 5).mask  # the whole-picture answer alone
                    before_s.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    mask = grabcut_select(picture, prompt).mask
                    after_s.append(time.perf_counter() - start)
                    before.append(iou(whole, truth))
                    after.append(iou(mask, truth))
                    if before[-1] > after[-1] + 0.05:
                        print(
                            f"worse: {side} px {name} on {background}, click ({x}, {y}): {before[-1]:.2f} -> {after[-1]:.2f}"
                        )
    old, new = np.array(before), np.array(after)
    half = len(old) // 2
    print(f"{'':<34}{'mean IoU':>9}{'>= 0.8':>8}{'large':>7}{'small':>7}{'median s':>10}{'max s':>7}")
    for label, values, seconds in (("GrabCut on the whole picture", old, before_s), ("grabcut_select", new, after_s)):
        print(
            f"{label:<34}{values.mean():>9.2f}{np.mean(values >= 0.8):>8.0%}{values[:half].mean():>7.2f}"
            f"{values[half:].mean():>7.2f}{np.median(seconds):>10.2f}{max(seconds):>7.1f}"
        )


if __name__ == "__main__":
    main()
