"""How much time Retouch adds around a diffusion model: a fill through Retouch next to the bare diffusers call.

Full-size SD 1.5-inpainting and SDXL-inpainting architectures are built from configs written here, with random
weights (nothing is downloaded), saved as diffusers folders, registered in a temporary catalog and loaded
through Retouch's own loading code. Each job (30 steps, 512² for SD 1.5, 1024² for SDXL) runs

- through Retouch: `pipeline.fill` (region, infill, scale, engine with progress hooks and previews, composite,
  recipe) on the loaded engine, and
- bare: the same diffusers pipeline object called directly with the same size, steps, sampler and seed,

on the same device, alternating in ABBA order, after a warm-up. The table shows median seconds and the ratio (goal <= 1.05).
Random weights run exactly as fast as trained ones.

    python benchmarks/diffusion_speed.py            # on a CUDA machine
    python benchmarks/diffusion_speed.py --tiny     # CPU smoke check: tiny models, 64², 4 steps
    python benchmarks/diffusion_speed.py --stages   # Retouch's own stages alone (ms), on any machine
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


def build_full(kind: str, folder: Path, dtype) -> None:
    """A full-size SD 1.5- or SDXL-inpainting pipeline with random weights (`benchmarks/gpu.py`'s published
    configs), saved as a diffusers folder."""
    from benchmarks.gpu import full_pipeline

    pipe = full_pipeline(kind)
    pipe.to(dtype=dtype)
    pipe.save_pretrained(folder, safe_serialization=True)
    del pipe


def build_tiny(kind: str, folder: Path, dtype) -> None:
    from tests.tiny_models import build_sd, build_sdxl

    (build_sd if kind == "sd15" else build_sdxl)(folder, inpainting=True)


def job(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    pixels = np.stack([xx * 255 // size, yy * 255 // size, (xx ^ yy) % 256], -1).astype(np.uint8)
    pixels = np.clip(pixels.astype(int) + rng.integers(-10, 11, pixels.shape), 0, 255).astype(np.uint8)
    mask = np.zeros((size, size), np.uint8)
    mask[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 255
    return pixels, mask


def measure(kind: str, *, tiny: bool, device: str, repeats: int, work: Path, steps: int | None = None) -> dict:
    import torch
    from PIL import Image

    from retouch.catalog import Catalog, CatalogEntry, save_catalog
    from retouch.pipeline import fill
    from retouch.recipe import FillParams
    from retouch.registry import build_registry

    family = "sd-inpaint" if kind == "sd15" else "sdxl-inpaint"
    size = 64 if tiny else (512 if kind == "sd15" else 1024)
    steps = steps or (4 if tiny else 30)
    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    folder = work / kind
    started = time.perf_counter()
    (build_tiny if tiny else build_full)(kind, folder, dtype)
    built = time.perf_counter() - started

    catalog = work / f"{kind}.yaml"
    save_catalog(
        Catalog(models=[CatalogEntry(name=kind, family=family, source=str(folder), native_size=size)]), catalog
    )
    engine = build_registry(catalog)[kind]()
    started = time.perf_counter()
    engine.load(device)
    loaded = time.perf_counter() - started

    pixels, mask = job(size)
    # bbox = whole picture and scale auto at native size: Retouch's working size is the picture's size
    params = FillParams(engine=kind, steps=steps, seed=1, prompt="a brick wall", scheduler="dpm++-2m-karras", feather=4)
    pipe = engine.pipe

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def through_retouch() -> float:
        sync()
        start = time.perf_counter()
        fill(pixels, mask, params, engine=engine)
        sync()
        return time.perf_counter() - start

    def bare() -> float:
        pipe.scheduler = engine._scheduler(params.scheduler)  # the same sampler object Retouch uses
        sync()
        start = time.perf_counter()
        pipe(
            prompt=params.prompt,
            image=Image.fromarray(pixels),
            mask_image=Image.fromarray(mask),
            height=size,
            width=size,
            num_inference_steps=steps,
            guidance_scale=params.guidance,
            strength=1.0,
            generator=torch.Generator("cpu").manual_seed(1),
            output_type="np",
        )
        sync()
        return time.perf_counter() - start

    through_retouch(), bare()  # warm-up: kernels, allocator, caches
    ours, theirs = [], []
    for index in range(repeats):  # ABBA order, so drift and whatever follows a run weigh on both alike
        if index % 2 == 0:
            ours.append(through_retouch())
            theirs.append(bare())
        else:
            theirs.append(bare())
            ours.append(through_retouch())
    engine.unload()
    return {
        "model": f"{kind}-inpaint{' (tiny)' if tiny else ''}",
        "size": f"{size}²",
        "steps": steps,
        "retouch": statistics.median(ours),
        "bare": statistics.median(theirs),
        "ratio": statistics.median(ours) / statistics.median(theirs),
        "build": built,
        "load": loaded,
    }


def pass_through(size: int):
    """An engine that returns its input: what is left to time is Retouch's own work around a model."""
    from retouch.engines.base import Engine

    class PassThrough(Engine):
        name = "pass-through"
        native_size = size
        grid = 8

        def fill(self, image, mask, params, seed, hooks):
            return image

    return PassThrough()


def stage_overhead(repeats: int) -> list[dict]:
    """Retouch's stages around the engine (region, masks, composite with feather, recipe, PNG) and the latent
    previews of a 30-step job, in milliseconds: CPU work that stays the same whatever runs the model."""
    import torch

    from retouch.engines.diffusion import PREVIEW_EVERY, latents_to_rgb
    from retouch.pipeline import fill
    from retouch.recipe import FillParams

    rows = []
    for size, fmt in ((512, "sd"), (1024, "sdxl")):
        pixels, mask = job(size)
        params = FillParams(engine="pass-through", seed=1, feather=4)
        engine = pass_through(size)
        fill(pixels, mask, params, engine=engine)
        stages, encode = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            result = fill(pixels, mask, params, engine=engine)
            stages.append(time.perf_counter() - start)
            start = time.perf_counter()
            result.png()
            encode.append(time.perf_counter() - start)
        latents = torch.randn(1, 4, size // 8, size // 8)
        latents_to_rgb(latents, fmt)
        previews = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(30 // PREVIEW_EVERY + 1):
                latents_to_rgb(latents, fmt)
            previews.append(time.perf_counter() - start)
        rows.append(
            {
                "size": size,
                "stages": statistics.median(stages) * 1000,
                "png": statistics.median(encode) * 1000,
                "previews": statistics.median(previews) * 1000,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny random models at 64², 4 steps (CPU smoke check)")
    parser.add_argument("--device", default=None, help="device (default: the best one found)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default="sd15,sdxl", help="comma-separated: sd15, sdxl")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default 30; 4 with --tiny)")
    parser.add_argument(
        "--stages", action="store_true", help="only time Retouch's own stages around the model (no model; any machine)"
    )
    args = parser.parse_args(argv)

    if args.stages:
        print(f"{'size':>6} {'stages ms':>10} {'png ms':>8} {'previews ms (30 steps)':>23}")
        for row in stage_overhead(args.repeats):
            print(f"{str(row['size']) + '²':>6} {row['stages']:>10.1f} {row['png']:>8.1f} {row['previews']:>23.1f}")
        return 0

    from retouch.devices import best_device

    device = args.device or best_device()
    if not args.tiny and not device.startswith("cuda") and args.device is None:
        print(
            f"full-size models need a CUDA GPU (found {device}); use --tiny for a CPU smoke check, or name "
            "--device cpu to run them on the CPU anyway (slow)",
            file=sys.stderr,
        )
        return 2
    if device.startswith("cuda"):
        import torch

        print(f"device: {device} ({torch.cuda.get_device_name(device)}), torch {torch.__version__}")
    else:
        print(f"device: {device}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="retouch-bench-") as work:
        for kind in args.models.split(","):
            rows.append(
                measure(
                    kind.strip(), tiny=args.tiny, device=device, repeats=args.repeats, work=Path(work), steps=args.steps
                )
            )
            row = rows[-1]
            print(f"  {row['model']}: built in {row['build']:.1f} s, loaded in {row['load']:.1f} s", flush=True)
    print(f"\n{'model':<22} {'size':>6} {'steps':>5} {'retouch s':>10} {'bare s':>8} {'ratio':>6}")
    for row in rows:
        print(
            f"{row['model']:<22} {row['size']:>6} {row['steps']:>5} {row['retouch']:>10.3f} {row['bare']:>8.3f} "
            f"{row['ratio']:>6.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
