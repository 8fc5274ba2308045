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

SD15_UNET = dict(
    sample_size=64,
    in_channels=9,
    out_channels=4,
    layers_per_block=2,
    cross_attention_dim=768,
    block_out_channels=(320, 640, 1280, 1280),
    attention_head_dim=8,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
)
SDXL_UNET = dict(
    sample_size=128,
    in_channels=9,
    out_channels=4,
    layers_per_block=2,
    cross_attention_dim=2048,
    block_out_channels=(320, 640, 1280),
    attention_head_dim=(5, 10, 20),
    transformer_layers_per_block=(1, 2, 10),
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    use_linear_projection=True,
    addition_embed_type="text_time",
    addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=2816,
)
VAE = dict(
    in_channels=3,
    out_channels=3,
    latent_channels=4,
    layers_per_block=2,
    block_out_channels=(128, 256, 512, 512),
    down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4,
)
CLIP_L = dict(
    hidden_size=768,
    intermediate_size=3072,
    num_hidden_layers=12,
    num_attention_heads=12,
    hidden_act="quick_gelu",
    projection_dim=768,
)
CLIP_BIG_G = dict(
    hidden_size=1280,
    intermediate_size=5120,
    num_hidden_layers=32,
    num_attention_heads=20,
    hidden_act="gelu",
    projection_dim=1280,
)
SCHEDULER = dict(
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000, steps_offset=1
)


def build_full(kind: str, folder: Path, dtype) -> None:
    """A full-size SD 1.5- or SDXL-inpainting pipeline with random weights, saved as a diffusers folder."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionInpaintPipeline,
        StableDiffusionXLInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from tests.tiny_models import clip_tokenizer

    tokenizer = clip_tokenizer()
    ids = dict(
        vocab_size=49408,
        max_position_embeddings=77,
        bos_token_id=len(tokenizer) - 2,
        eos_token_id=len(tokenizer) - 1,
        pad_token_id=len(tokenizer) - 1,
    )
    torch.manual_seed(0)
    init = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    with init:  # random initialisation on the GPU: minutes faster than on the CPU for SDXL's 2.6 B parameters
        if kind == "sd15":
            pipe = StableDiffusionInpaintPipeline(
                unet=UNet2DConditionModel(**SD15_UNET),
                vae=AutoencoderKL(**VAE, sample_size=512),
                text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_L, **ids)),
                tokenizer=tokenizer,
                scheduler=EulerDiscreteScheduler(**SCHEDULER),
                safety_checker=None,
                feature_extractor=None,
                requires_safety_checker=False,
            )
        else:
            pipe = StableDiffusionXLInpaintPipeline(
                unet=UNet2DConditionModel(**SDXL_UNET),
                vae=AutoencoderKL(**VAE, sample_size=1024, scaling_factor=0.13025, force_upcast=True),
                text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_L, **ids)),
                text_encoder_2=CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_BIG_G, **ids)),
                tokenizer=tokenizer,
                tokenizer_2=tokenizer,
                scheduler=EulerDiscreteScheduler(**SCHEDULER),
                requires_aesthetics_score=False,
            )
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
