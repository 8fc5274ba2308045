"""What a fill's `tone_match` does: the seam score and the colours inside, with and without it, in the same run.

Fills of an ellipse (`tests.support.ellipse_mask`) in four of scikit-image's photographs (scaled to about
200 px), by a tiny random SD 1.5 inpainting model and a tiny random FLUX.1 Fill (built here, native size 64,
4 steps: their colours are arbitrary, the worst drift a model can have) and by a pasted tint (the region's own
content shifted by (30, 12, -24), what a fill that came out in the wrong tone looks like), each with the
default feather (4 px); the tint also with none.

Columns: the seam score (far references, band 8; the same boundary in the untouched photo for scale), how far
the fill's mean colour moved (sum over R, G, B of 8-bit levels), and how much of the fill's own variation
(standard deviation of its colours about their mean, and of its high-pass detail) survives with tone_match.

    python benchmarks/tone_match.py          # about a minute on 2 cores
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT))

from retouch.engines import Engine, Hooks  # noqa: E402
from retouch.imaging.seams import seam_score  # noqa: E402
from retouch.pipeline import fill  # noqa: E402
from retouch.recipe import FillParams  # noqa: E402
from tests.support import ellipse_mask, photo, tinted_paste  # noqa: E402

PHOTOS = {"astronaut": 0.4, "coffee": 0.35, "chelsea": 0.45, "rocket": 0.33}


class Tint(Engine):
    """The region's own content with its colour shifted: a fill that came out in the wrong tone."""

    name = "tint"

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        return tinted_paste(image, mask)


def tiny_engines(work: Path) -> dict[str, Engine]:
    from retouch.catalog import Catalog, CatalogEntry, save_catalog
    from retouch.registry import build_registry
    from tests.tiny_models import build_flux_fill, build_sd

    build_sd(work / "sd-inpaint", inpainting=True)
    build_flux_fill(work / "flux-fill")
    entries = [
        CatalogEntry(name="tiny-sd-inpaint", family="sd-inpaint", source=str(work / "sd-inpaint"), native_size=64),
        CatalogEntry(name="tiny-flux-fill", family="flux-fill", source=str(work / "flux-fill"), native_size=64),
    ]
    save_catalog(Catalog(models=entries), work / "catalog.yaml")
    registry = build_registry(work / "catalog.yaml")
    engines = {}
    for name in ("tiny-sd-inpaint", "tiny-flux-fill"):
        engine = registry[name]()
        engine.load("cpu")
        engines[name] = engine
    return engines


def detail(rgb: np.ndarray, where: np.ndarray) -> float:
    """Standard deviation of the high-pass (the picture less its Gaussian blur of σ 2) over `where`."""
    values = rgb.astype(np.float32)
    return float((values - cv2.GaussianBlur(values, (0, 0), 2))[where].std())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        engines = {**tiny_engines(Path(tmp)), "pasted tint": Tint(), "pasted tint, feather 0": Tint()}
        print(f"tiny models built and loaded in {time.perf_counter() - started:.0f} s")
        print(
            "\n| fill | photo | natural | seam off | seam on | mean colour moved | colour spread kept | detail kept |"
        )
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, engine in engines.items():
            for photo_name, scale in PHOTOS.items():
                picture = photo(photo_name, scale)
                mask = ellipse_mask(picture.shape)
                inside = mask > 0
                core = cv2.erode(mask, np.ones((9, 9), np.uint8)) > 0  # away from the feather
                params = FillParams(engine=engine.name, steps=4, seed=3, feather=0 if "feather 0" in name else 4)
                off = fill(picture, mask, params, engine=engine).pixels
                on = fill(picture, mask, params.model_copy(update={"tone_match": True}), engine=engine).pixels
                moved = np.abs(on[inside].astype(np.float32).mean(0) - off[inside].astype(np.float32).mean(0)).sum()
                spread = on[core].astype(np.float32).std(0).sum() / max(off[core].astype(np.float32).std(0).sum(), 1e-6)
                kept = detail(on, core) / max(detail(off, core), 1e-6)
                print(
                    f"| {name} | {photo_name} {picture.shape[1]}x{picture.shape[0]} "
                    f"| {seam_score(picture, mask).score:.2f} | {seam_score(off, mask).score:.2f} "
                    f"| {seam_score(on, mask).score:.2f} | {moved:.1f} | {spread:.2f} | {kept:.2f} |"
                )
        for engine in engines.values():
            engine.unload()


if __name__ == "__main__":
    main()
