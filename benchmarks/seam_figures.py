"""Seam scores on real photographs: natural boundaries, made seams, and what the default repair leaves.

The figures in ARCHITECTURE.md ("Seams"). Six of scikit-image's photographs at the tests' sizes
(`tests.support.SEAM_PHOTOS`), two boundaries each (the ellipse left of centre, the outpainting edge: the right
30 %), and the seams the tests make: a drifted paste (the picture shifted by (23, 37) px and 20 levels
brighter), a tinted paste (+30, +12, -24), the drifted paste's content feathered in over 4 px, a structure
paste (shifted 9 px sideways: lines crossing the edge jump), the band around the edge blurred (σ 3, 8 px either
side), the tint with only the band blended (`poisson_blend`: the halo), then each paste after `retouch seams`
with its defaults.

    python benchmarks/seam_figures.py        # about half a minute on 2 cores
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT))

from retouch.engines import Hooks  # noqa: E402
from retouch.imaging.composite import composite  # noqa: E402
from retouch.imaging.seams import band_mask, poisson_blend, seam_score  # noqa: E402
from retouch.registry import get_engine  # noqa: E402
from retouch.workflows.seams import SeamParams, repair  # noqa: E402
from tests.support import SEAM_PHOTOS, drifted_paste, edge_mask, ellipse_mask, hard_paste, photo, tinted_paste  # noqa: E402

PASTES = {
    "drifted": drifted_paste,
    "tinted": tinted_paste,
    "feathered 4 px": lambda p, m: composite(p, np.roll(p, (23, 37), axis=(0, 1)), m, 4),
    "structure": lambda p, m: hard_paste(p, m, (0, 9)),
}


def blurred_band(picture: np.ndarray, mask: np.ndarray) -> np.ndarray:
    band = band_mask(mask, 8) > 0
    out = picture.copy()
    out[band] = cv2.GaussianBlur(picture, (0, 0), 3)[band]
    return out


def main() -> None:
    names = list(PASTES)
    print(
        "| photo | boundary | natural | "
        + " | ".join(names)
        + " | band blurred | tint, band only | "
        + " | ".join(f"{n}, repaired" for n in names)
        + " |"
    )
    print("| --- | --- | " + " | ".join(["---:"] * (2 * len(names) + 3)) + " |")
    for name, scale in SEAM_PHOTOS.items():
        picture = photo(name, scale)
        for boundary, mask in (
            ("ellipse", ellipse_mask(picture.shape)),
            ("outpainting edge", edge_mask(picture.shape)),
        ):
            seamed = {k: make(picture, mask) for k, make in PASTES.items()}
            repaired = [repair(s, mask, SeamParams(seed=1), 1, get_engine, Hooks())[0] for s in seamed.values()]
            cells = [
                seam_score(picture, mask).score,
                *(seam_score(s, mask).score for s in seamed.values()),
                seam_score(blurred_band(picture, mask), mask).score,
                seam_score(poisson_blend(seamed["tinted"], mask, 8), mask).score,
                *(seam_score(r, mask).score for r in repaired),
            ]
            size = f"{picture.shape[1]}x{picture.shape[0]}"
            print(f"| {name} {size} | {boundary} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
