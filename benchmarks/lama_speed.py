"""How much time Retouch adds around LaMa: an object removal through Retouch next to the bare spandrel call.

LaMa's architecture is built at full size (big-lama's layout, 51 M parameters) from spandrel's own class with
random weights (nothing is downloaded; random weights run exactly as fast as trained ones), saved as
.safetensors, registered in a temporary catalog as `retouch models add` does, and loaded through Retouch's own
loading code. For each picture size (512², 1024²) with a centred hole of 10 % of the area:

- through Retouch: `pipeline.fill` on the whole picture (scale auto: LaMa keeps sizes up to a 1280 px side,
  feather 4): mask, region, tensors in and out, the model, composite, recipe;
- bare: the same spandrel model descriptor called on the same tensors (already on the device), as ComfyUI
  or chaiNNer call it.

Both run on the same device in ABBA order after a warm-up; the table shows median seconds and the ratio
(goal <= 1.05).

    python benchmarks/lama_speed.py                       # CPU here, or CUDA when there is one
    python benchmarks/lama_speed.py --sizes 512 --rounds 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT))


def picture(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A size² picture with texture and a centred square hole of 10 % of the area."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    pixels = np.stack([xx * 255 // size, yy * 255 // size, (xx ^ yy) % 256], -1).astype(np.int32)
    pixels = np.clip(pixels + rng.integers(-10, 11, pixels.shape), 0, 255).astype(np.uint8)
    side = round(size * 0.1**0.5)
    start = (size - side) // 2
    mask = np.zeros((size, size), np.uint8)
    mask[start : start + side, start : start + side] = 255
    return pixels, mask


def timed(run, sync) -> float:
    started = time.perf_counter()
    run()
    sync()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--rounds", type=int, default=None, help="ABBA rounds per size (default: 3 CUDA, 2 CPU)")
    parser.add_argument("--device", default=None, help="cpu, cuda:0 (default: the best there is)")
    args = parser.parse_args()

    import torch

    from retouch.catalog import add_model
    from retouch.devices import best_device
    from retouch.engines.spandrel.model import mask_tensor, to_tensor
    from retouch.pipeline import fill
    from retouch.recipe import FillParams
    from retouch.registry import build_registry
    from tests.tiny_spandrel import build

    device = args.device or best_device()
    rounds = args.rounds or (3 if device.startswith("cuda") else 2)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        files = build("lama", work)
        add_model(work / "catalog.yaml", str(files["safetensors"]), "lama")
        engine = build_registry(work / "catalog.yaml")["lama"]()
        engine.load(device)
    descriptor = engine.descriptor
    dtype = engine.torch_dtype
    print(
        f"LaMa (big-lama layout, {engine.info.parameters / 1e6:.1f} M parameters, random weights) on {device}, "
        f"{engine.dtype_name}; torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
    )

    rows = []
    for size in args.sizes:
        pixels, mask = picture(size)
        params = FillParams(engine="lama", seed=0)
        image_t, mask_t = to_tensor(pixels, device, dtype), mask_tensor(mask, device, dtype)

        def retouch(pixels=pixels, mask=mask, params=params) -> None:
            fill(pixels, mask, params, engine=engine)

        def bare(image_t=image_t, mask_t=mask_t) -> None:
            with torch.inference_mode():
                descriptor(image_t, mask_t)

        timed(retouch, sync)  # warm-up: kernels, allocator
        timed(bare, sync)
        times: dict[str, list[float]] = {"retouch": [], "bare": []}
        for _ in range(rounds):
            for name in ("retouch", "bare", "bare", "retouch"):
                times[name].append(timed(retouch if name == "retouch" else bare, sync))
        a, b = statistics.median(times["retouch"]), statistics.median(times["bare"])
        rows.append((size, a, b, a / b, len(times["bare"])))
        print(f"  {size}²: retouch {a:.3f} s, bare {b:.3f} s", flush=True)

    print()
    print("| picture | hole | device | retouch s | bare spandrel s | retouch / bare | runs each |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for size, a, b, ratio, runs in rows:
        print(f"| {size}² | 10 % | {device} {engine.dtype_name} | {a:.3f} | {b:.3f} | {ratio:.3f} | {runs} |")


if __name__ == "__main__":
    main()
