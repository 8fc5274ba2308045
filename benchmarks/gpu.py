"""Every model Retouch runs, at full size on one GPU: through Retouch's job and as the bare library call in the
same run, with the speed options a catalog entry turns on, and the GPU memory each peaks at.

The models are built from their published configurations with random weights (nothing is downloaded: a network
runs exactly as fast with random weights as with trained ones):

| row | architecture (config source) | job | bare call |
| --- | --- | --- | --- |
| sd15 | SD 1.5 inpainting: UNet 9-ch, VAE, CLIP ViT-L/14 text (stable-diffusion-v1-5/stable-diffusion-inpainting) | fill 512², 30 steps | the diffusers pipeline |
| sdxl | SDXL inpainting: UNet 9-ch, VAE, CLIP-L + OpenCLIP bigG (diffusers/stable-diffusion-xl-1.0-inpainting-0.1) | fill 1024², 30 steps | the diffusers pipeline |
| flux | FLUX.1 Fill: 12 B transformer, VAE 16-ch, CLIP-L, T5-XXL (black-forest-labs/FLUX.1-Fill-dev) | fill 1024², 50 steps | the diffusers pipeline |
| lama | big-lama (spandrel `LaMa(in_nc=4)`, 51 M) | fill 1024², 2048² | the spandrel descriptor |
| esrgan | RealESRGAN_x4plus (spandrel RRDBNet: 64 features, 23 blocks) | upscale 1024² -> 4096² | the spandrel descriptor, untiled |
| sam | segment-anything ViT-B (facebook/sam-vit-base) | a first click: the selector (encoder, decoder, refine) | processor, `get_image_embeddings`, decoder |

"Retouch" is the job's workflow as the server's worker runs it (`workflows.WORKFLOWS[kind].run`: mask, region,
infill, scale, the engine with its progress hooks and previews, composite, recipe) on an engine set up by
Retouch's own code from a catalog entry carrying the row's options; "bare" is the library call on the same
module, same size, steps, sampler and seed. Encoding the result's PNG (CPU work the worker does afterwards) is its
own column. Each row: one warm-up of each (its time is the `first` column: compilation, kernel selection), then
`--rounds` ABBA rounds; medians. Peak memory is `torch.cuda.max_memory_allocated` during one call.

    python benchmarks/gpu.py                  # a CUDA GPU; about 7 minutes on a data-centre GPU
    python benchmarks/gpu.py --only sdxl,lama
    python benchmarks/gpu.py --quick          # tiny configurations on the CPU, every row once (the test suite;
                                              # compile rows with dynamo off)
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
sys.path.insert(0, str(ROOT))

# ----------------------------------------------------------------------------------------- published configs
# Copied from each model's config.json on the Hugging Face hub (the repositories named in the table above);
# keys left out have the library's defaults, which are those repositories' values.

SD15_UNET = dict(  # stable-diffusion-v1-5/stable-diffusion-inpainting unet/config.json
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
SDXL_UNET = dict(  # diffusers/stable-diffusion-xl-1.0-inpainting-0.1 unet/config.json
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
SD_VAE = dict(  # vae/config.json of both: 4 latent channels, 8x down
    in_channels=3,
    out_channels=3,
    latent_channels=4,
    layers_per_block=2,
    block_out_channels=(128, 256, 512, 512),
    down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4,
)
CLIP_L = dict(  # text_encoder/config.json (openai/clip-vit-large-patch14's text tower)
    hidden_size=768,
    intermediate_size=3072,
    num_hidden_layers=12,
    num_attention_heads=12,
    hidden_act="quick_gelu",
    projection_dim=768,
)
CLIP_BIG_G = dict(  # SDXL text_encoder_2/config.json (laion/CLIP-ViT-bigG-14's text tower)
    hidden_size=1280,
    intermediate_size=5120,
    num_hidden_layers=32,
    num_attention_heads=20,
    hidden_act="gelu",
    projection_dim=1280,
)
SD_SCHEDULER = dict(
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000, steps_offset=1
)
FLUX_TRANSFORMER = dict(  # black-forest-labs/FLUX.1-Fill-dev transformer/config.json
    patch_size=1,
    in_channels=384,
    out_channels=64,
    num_layers=19,
    num_single_layers=38,
    attention_head_dim=128,
    num_attention_heads=24,
    joint_attention_dim=4096,
    pooled_projection_dim=768,
    guidance_embeds=True,
    axes_dims_rope=(16, 56, 56),
)
FLUX_VAE = dict(  # FLUX.1-Fill-dev vae/config.json: 16 latent channels, no quant convs
    in_channels=3,
    out_channels=3,
    latent_channels=16,
    layers_per_block=2,
    block_out_channels=(128, 256, 512, 512),
    down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4,
    use_quant_conv=False,
    use_post_quant_conv=False,
    scaling_factor=0.3611,
    shift_factor=0.1159,
    sample_size=1024,
)
T5_XXL = dict(  # FLUX.1-Fill-dev text_encoder_2/config.json (google/t5-v1_1-xxl's encoder)
    vocab_size=32128,
    d_model=4096,
    d_kv=64,
    d_ff=10240,
    num_layers=24,
    num_heads=64,
    relative_attention_num_buckets=32,
    relative_attention_max_distance=128,
    feed_forward_proj="gated-gelu",
    dense_act_fn="gelu_new",
    is_gated_act=True,
    pad_token_id=0,
    eos_token_id=1,
)
SAM_VIT_B = dict(  # facebook/sam-vit-base config.json, vision_config
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    mlp_dim=3072,
    output_channels=256,
    image_size=1024,
    patch_size=16,
    window_size=14,
    global_attn_indexes=(2, 5, 8, 11),
)
ESRGAN_X4PLUS = dict(in_nc=3, out_nc=3, num_filters=64, num_blocks=23, scale=4)  # RealESRGAN_x4plus's RRDBNet

# ------------------------------------------------------------------------------------------------ building


def _clip_ids(tokenizer: Any) -> dict:
    return dict(
        vocab_size=49408,
        max_position_embeddings=77,
        bos_token_id=len(tokenizer) - 2,
        eos_token_id=len(tokenizer) - 1,
        pad_token_id=len(tokenizer) - 1,
    )


def full_pipeline(kind: str) -> Any:
    """A full-size pipeline with random weights, built on the GPU when there is one (minutes faster for billions
    of parameters); a locally made tokenizer stands in for the real vocabulary (prompt length is what counts)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        FlowMatchEulerDiscreteScheduler,
        FluxFillPipeline,
        FluxTransformer2DModel,
        StableDiffusionInpaintPipeline,
        StableDiffusionXLInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, T5Config, T5EncoderModel

    from tests.tiny_models import clip_tokenizer, t5_tokenizer

    tokenizer = clip_tokenizer()
    ids = _clip_ids(tokenizer)
    torch.manual_seed(0)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        if kind == "sd15":
            return StableDiffusionInpaintPipeline(
                unet=UNet2DConditionModel(**SD15_UNET),
                vae=AutoencoderKL(**SD_VAE, sample_size=512),
                text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_L, **ids)),
                tokenizer=tokenizer,
                scheduler=EulerDiscreteScheduler(**SD_SCHEDULER),
                safety_checker=None,
                feature_extractor=None,
                requires_safety_checker=False,
            )
        if kind == "sdxl":
            return StableDiffusionXLInpaintPipeline(
                unet=UNet2DConditionModel(**SDXL_UNET),
                vae=AutoencoderKL(**SD_VAE, sample_size=1024, scaling_factor=0.13025, force_upcast=True),
                text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_L, **ids)),
                text_encoder_2=CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_BIG_G, **ids)),
                tokenizer=tokenizer,
                tokenizer_2=tokenizer,
                scheduler=EulerDiscreteScheduler(**SD_SCHEDULER),
                requires_aesthetics_score=False,
            )
        # FLUX: built in bfloat16 (16.9 B parameters: 34 GB instead of 68 GB while building)
        default = torch.get_default_dtype()
        torch.set_default_dtype(torch.bfloat16)
        try:
            return FluxFillPipeline(
                transformer=FluxTransformer2DModel(**FLUX_TRANSFORMER),
                vae=AutoencoderKL(**FLUX_VAE),
                text_encoder=CLIPTextModel(CLIPTextConfig(**CLIP_L, **ids)),
                tokenizer=tokenizer,
                text_encoder_2=T5EncoderModel(T5Config(**T5_XXL)),
                tokenizer_2=t5_tokenizer(),
                scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=True),
            )
        finally:
            torch.set_default_dtype(default)


def tiny_pipeline(kind: str, folder: Path) -> Any:
    """The test suite's tiny pipeline of that family (`tests/tiny_models.py`), loaded as diffusers loads any."""
    import diffusers

    from tests import tiny_models

    path = folder / kind
    if kind == "flux":
        tiny_models.build_flux_fill(path)
        return diffusers.FluxFillPipeline.from_pretrained(path)
    builder = tiny_models.build_sd if kind == "sd15" else tiny_models.build_sdxl
    builder(path, inpainting=True)
    cls = diffusers.StableDiffusionInpaintPipeline if kind == "sd15" else diffusers.StableDiffusionXLInpaintPipeline
    return cls.from_pretrained(path)


def spandrel_file(kind: str, quick: bool, folder: Path) -> Path:
    """LaMa (always full size: spandrel's class has no size settings) or the x4 upscaler, as .safetensors."""
    import torch
    from spandrel.architectures.ESRGAN import ESRGAN

    from tests.tiny_spandrel import build, save

    if kind == "lama":
        return build("lama", folder)["safetensors"]
    torch.manual_seed(0)
    config = dict(ESRGAN_X4PLUS, num_filters=8, num_blocks=1) if quick else ESRGAN_X4PLUS
    return save(ESRGAN(**config), folder, "esrgan-x4")["safetensors"]


# ------------------------------------------------------------------------------------------------ the rows


@dataclass
class Row:
    model: str
    size: str
    options: str
    retouch: float | None = None  # median seconds
    bare: float | None = None
    first: float | None = None  # the warm-up run through Retouch (compiles, picks kernels)
    png: float | None = None  # encoding the job's result PNG (CPU)
    peak_retouch: float | None = None  # GB
    peak_bare: float | None = None
    note: str = ""
    times: dict[str, list[float]] = field(default_factory=lambda: {"retouch": [], "bare": []})


class Clock:
    """Times one call, synchronising the GPU, and reads its peak memory."""

    def __init__(self, device: str) -> None:
        import torch

        self.cuda = device.startswith("cuda")
        self.torch = torch

    def __call__(self, run: Callable[[], Any]) -> tuple[float, float | None, Any]:
        torch = self.torch
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        out = run()
        if self.cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        peak = torch.cuda.max_memory_allocated() / 1e9 if self.cuda else None
        return seconds, peak, out


def measure(row: Row, clock: Clock, retouch: Callable[[], Any] | None, bare: Callable[[], Any], rounds: int) -> Row:
    """Warm-up, then ABBA rounds; fills the row's medians and peaks. A failure is the row's note."""
    try:
        peaks: dict[str, list[float]] = {"retouch": [], "bare": []}
        calls = {"retouch": retouch, "bare": bare}

        def once(name: str) -> Any:
            call = calls[name]
            assert call is not None
            seconds, peak, out = clock(call)
            row.times[name].append(seconds)
            if peak is not None:
                peaks[name].append(peak)
            return out

        if retouch is not None:
            result = once("retouch")
            row.first = row.times["retouch"][-1]
            if hasattr(result, "png"):  # a job's result (a selection is a mask, sent as it is)
                start = time.perf_counter()
                result.png()
                row.png = time.perf_counter() - start
        once("bare")
        if rounds:  # the warm-ups are left out of the medians (with no rounds, they are the figures)
            row.times["retouch"].clear()
            row.times["bare"].clear()
        order = ("retouch", "bare", "bare", "retouch") if retouch is not None else ("bare",)
        for _ in range(rounds):
            for name in order:
                once(name)
        if row.times["retouch"]:
            row.retouch = statistics.median(row.times["retouch"])
        row.bare = statistics.median(row.times["bare"])
        row.peak_retouch = max(peaks["retouch"], default=None)
        row.peak_bare = max(peaks["bare"], default=None)
    except Exception as exc:  # noqa: BLE001 - one row's failure (out of memory, NaNs) is reported, the run goes on
        row.note = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
    return row


def job_picture(size: int, hole: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A size² picture with texture and a centred square hole of `hole` of the area."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    pixels = np.stack([xx * 255 // size, yy * 255 // size, (xx ^ yy) % 256], -1).astype(np.int32)
    pixels = np.clip(pixels + rng.integers(-10, 11, pixels.shape), 0, 255).astype(np.uint8)
    side = round(size * hole**0.5)
    start = (size - side) // 2
    mask = np.zeros((size, size), np.uint8)
    mask[start : start + side, start : start + side] = 255
    return pixels, mask


@dataclass(frozen=True)
class Case:
    options: str
    dtype: str = "auto"
    speed: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # job parameters (scale, tile)


@dataclass(frozen=True)
class Plan:
    """What one run does: sizes, steps and rounds (full on a GPU, tiny on the CPU)."""

    quick: bool
    device: str
    rounds: int
    work: Path

    def side(self, full: int, tiny: int = 64) -> int:
        return tiny if self.quick else full


DIFFUSION = {  # kind: (family, full size, steps, cases)
    "sd15": (
        "sd-inpaint",
        512,
        30,
        [
            Case("", dtype="float32"),
            Case(""),
            Case("classic attention", speed={"attention": "classic"}),
            Case("channels-last", speed={"channels_last": True}),
            Case("channels-last, compile", speed={"channels_last": True, "compile": True}),
        ],
    ),
    "sdxl": (
        "sdxl-inpaint",
        1024,
        30,
        [
            Case(""),
            Case("VAE tiling on", speed={"vae_tiling": "on"}),
            Case("channels-last, compile", speed={"channels_last": True, "compile": True}),
        ],
    ),
    "flux": ("flux-fill", 1024, 50, [Case("")]),
}


def diffusion_rows(kind: str, plan: Plan, clock: Clock) -> Iterator[Row]:
    import torch
    from PIL import Image

    from retouch.catalog import CatalogEntry
    from retouch.engines import Hooks
    from retouch.engines.diffusion import DiffusionEngine
    from retouch.imaging.io import Picture
    from retouch.recipe import FillParams
    from retouch.workflows import WORKFLOWS

    family, full_side, full_steps, cases = DIFFUSION[kind]
    size = plan.side(full_side)
    steps = 1 if plan.quick else full_steps
    pipe = tiny_pipeline(kind, plan.work) if plan.quick else full_pipeline(kind)
    pixels, mask = job_picture(size)
    picture = Picture(pixels)
    prompt = "a brick wall"
    label = {"sd15": "SD 1.5 inpainting", "sdxl": "SDXL inpainting", "flux": "FLUX.1 Fill"}[kind]
    try:
        for case in cases:
            entry = CatalogEntry(
                name=kind,
                family=family,
                source="(built in memory)",
                native_size=size,
                dtype=case.dtype,  # type: ignore[arg-type]
                speed=case.speed,  # type: ignore[arg-type]
            )
            engine = DiffusionEngine(entry)
            engine.use(pipe, plan.device)
            params = FillParams(engine=kind, steps=steps, seed=1, prompt=prompt)
            scheduler = engine._scheduler(params.scheduler)  # the sampler object Retouch runs, for the bare call

            def through_retouch(engine=engine, params=params) -> Any:
                return WORKFLOWS["fill"].run(picture, mask, params, lambda name: engine, Hooks())

            def bare(engine=engine, params=params, scheduler=scheduler) -> Any:
                engine.pipe.scheduler = scheduler
                kwargs: dict[str, Any] = dict(
                    prompt=prompt,
                    image=Image.fromarray(pixels),
                    mask_image=Image.fromarray(mask),
                    height=size,
                    width=size,
                    num_inference_steps=steps,
                    guidance_scale=engine_guidance(family, params),
                    generator=torch.Generator("cpu").manual_seed(1),
                    output_type="np",
                )
                if family != "flux-fill":
                    kwargs["strength"] = 1.0
                with torch.inference_mode():
                    return engine.pipe(**kwargs)

            options = ", ".join(filter(None, [engine.dtype_name, case.options]))
            row = Row(f"{label}{' (tiny)' if plan.quick else ''}", f"{size}², {steps} steps", options)
            yield measure(row, clock, through_retouch, bare, plan.rounds)
    finally:
        del pipe


def engine_guidance(family: str, params: Any) -> float:
    """The guidance Retouch runs with: the request's, or the model's default where the request left it."""
    from retouch.catalog import FAMILIES

    return params.guidance if "guidance" in params.model_fields_set else FAMILIES[family].guidance


SPANDREL_CASES = {
    "lama": [
        Case("", dtype="float32", extra={"side": 1024}),
        Case("", extra={"side": 1024}),
        Case("scale none (the bare call's size)", extra={"side": 2048, "scale": "none"}),
        Case("job default: scale auto (LaMa at 1280 px)", extra={"side": 2048}),
        Case("channels-last, compile", speed={"channels_last": True, "compile": True}, extra={"side": 1024}),
    ],
    "esrgan": [
        Case("tiles 512 (default)", extra={"tile": 512}),
        Case("one tile", extra={"tile": 4096}),
        Case("channels-last, compile, one tile", speed={"channels_last": True, "compile": True}, extra={"tile": 4096}),
    ],
}


def spandrel_rows(kind: str, plan: Plan, clock: Clock) -> Iterator[Row]:
    """One engine per precision and speed options (set up by Retouch's loading code from the entry's fields),
    each running the cases that share them."""
    from retouch.catalog.spandrel import inspect_file
    from retouch.catalog.speed import Speed
    from retouch.engines.spandrel import spandrel_engine

    path = spandrel_file(kind, plan.quick, plan.work)
    info = inspect_file(path)
    engine: Any = None
    loaded: tuple | None = None
    for case in SPANDREL_CASES[kind]:
        dtype = case.dtype if plan.device.startswith("cuda") else "float32"  # the CPU runs float32 whatever is asked
        if loaded != (dtype, tuple(sorted(case.speed.items()))):
            if engine is not None:
                engine.unload()
            engine = spandrel_engine(kind, path, info, dtype=dtype, speed=Speed(**case.speed))  # type: ignore[arg-type]
            engine.load(plan.device)
            loaded = (dtype, tuple(sorted(case.speed.items())))
        name, size, through_retouch, bare = (lama_calls if kind == "lama" else upscale_calls)(engine, case, plan)
        options = ", ".join(filter(None, [engine.dtype_name, case.options]))
        yield measure(Row(name, size, options), clock, through_retouch, bare, plan.rounds)
    engine.unload()


def lama_calls(engine: Any, case: Case, plan: Plan) -> tuple[str, str, Callable, Callable]:
    import torch

    from retouch.engines import Hooks
    from retouch.engines.spandrel.model import mask_tensor, to_tensor
    from retouch.imaging.io import Picture
    from retouch.recipe import FillParams, Scale
    from retouch.workflows import WORKFLOWS

    side = plan.side(case.extra["side"], 32 if case.extra["side"] == 1024 else 48)
    pixels, mask = job_picture(side, hole=0.1)
    params = FillParams(engine=engine.name, seed=0, scale=Scale(mode=case.extra.get("scale", "auto")))
    image_t = to_tensor(pixels, plan.device, engine.torch_dtype)
    mask_t = mask_tensor(mask, plan.device, engine.torch_dtype)

    def through_retouch() -> Any:
        return WORKFLOWS["fill"].run(Picture(pixels), mask, params, lambda name: engine, Hooks())

    def bare() -> Any:
        with torch.inference_mode():
            return engine.descriptor(image_t, mask_t)

    return "LaMa (big-lama)", f"{side}²", through_retouch, bare


def upscale_calls(engine: Any, case: Case, plan: Plan) -> tuple[str, str, Callable, Callable]:
    import torch

    from retouch.engines import Hooks
    from retouch.engines.spandrel.model import to_tensor
    from retouch.imaging.io import Picture
    from retouch.workflows import WORKFLOWS
    from retouch.workflows.upscale import UpscaleParams

    side = plan.side(1024, 96)
    pixels, _ = job_picture(side)
    tile = plan.side(case.extra["tile"], 64 if case.extra["tile"] == 512 else 4096)
    params = UpscaleParams(model=engine.name, tile=tile, overlap=8 if plan.quick else 32)
    image_t = to_tensor(pixels, plan.device, engine.torch_dtype)

    def through_retouch() -> Any:
        return WORKFLOWS["upscale"].run(Picture(pixels), None, params, lambda name: engine, Hooks())

    def bare() -> Any:
        with torch.inference_mode():
            return engine.descriptor(image_t)

    name = f"Real-ESRGAN x4{' (tiny)' if plan.quick else ''}"
    return name, f"{side}² -> {side * 4}²", through_retouch, bare


SAM_CASES = [  # the first row through Retouch's selector (its precision: float32); the others bare only
    Case("first click through the selector", dtype="float32", extra={"attention": "sdpa"}),
    Case("sdpa", dtype="float16", extra={"attention": "sdpa"}),
    Case("eager attention", dtype="float16", extra={"attention": "eager"}),
]


def sam_folder(plan: Plan) -> Path:
    """A segment-anything model as a `sam` catalog entry holds it (transformers folder and processor)."""
    import torch
    from transformers import SamConfig, SamImageProcessor, SamModel, SamProcessor, SamVisionConfig

    from tests.tiny_sam import save_tiny_sam

    folder = plan.work / "sam"
    if plan.quick:
        return save_tiny_sam(folder)
    torch.manual_seed(0)
    with torch.device("cuda" if plan.device.startswith("cuda") else "cpu"):
        model = SamModel(SamConfig(vision_config=SamVisionConfig(**SAM_VIT_B).to_dict()))
    model.eval().save_pretrained(folder, safe_serialization=True)
    SamProcessor(SamImageProcessor()).save_pretrained(folder)
    return folder


def sam_rows(plan: Plan, clock: Clock) -> Iterator[Row]:
    """The segment-anything image encoder and decoder: a first click through Retouch's selector (processor,
    encoder, decoder, the mask refined to the picture's size) next to the bare transformers calls; then the
    bare calls in half precision, which the `sam` catalog entry has no setting for yet."""
    import itertools

    import torch
    from transformers import SamModel

    from retouch.engines.select import SamSelector
    from retouch.imaging.select import Prompt, SelectPoint

    folder = sam_folder(plan)
    selector = SamSelector("sam", folder, plan.device)
    selector.load()
    processor = selector._processor
    side = processor.image_processor.pad_size["height"]
    pixels, _ = job_picture(side)
    point = (side * 0.25, side * 0.28)
    click = Prompt(points=(SelectPoint(*point),))
    keys = itertools.count()
    name = f"SAM ViT-B{' (tiny)' if plan.quick else ''}"
    for index, case in enumerate(SAM_CASES):
        dtype = torch.float32 if plan.quick or index == 0 else getattr(torch, case.dtype)
        if index == 0:
            model = selector._model
        else:
            model = SamModel.from_pretrained(folder, attn_implementation=case.extra["attention"])
            model = model.to(plan.device, dtype).eval()

        def bare(model=model, dtype=dtype) -> Any:
            with torch.inference_mode():
                inputs = processor(images=pixels, input_points=[[list(point)]], return_tensors="pt")
                embedding = model.get_image_embeddings(inputs["pixel_values"].to(plan.device, dtype))
                points = inputs["input_points"].to(plan.device, dtype)
                return model(image_embeddings=embedding, input_points=points, multimask_output=False)

        def through_retouch() -> Any:  # a new picture name each time: the image encoder runs
            return selector.select(pixels, click, key=f"new-{next(keys)}")

        options = f"{str(dtype).removeprefix('torch.')}, {case.options}"
        row = Row(name, f"{side}²", options)
        if index:
            row.note = "bare only: the sam catalog entry has no precision setting yet"
        yield measure(row, clock, through_retouch if index == 0 else None, bare, plan.rounds)


def free(device: str) -> None:
    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


# ------------------------------------------------------------------------------------------------ running

MODELS = ("sd15", "sdxl", "flux", "lama", "esrgan", "sam")


def row_count(model: str) -> int:
    """How many rows a model's part prints (the test suite checks that every one ran)."""
    if model in DIFFUSION:
        return len(DIFFUSION[model][3])
    return len(SPANDREL_CASES[model]) if model in SPANDREL_CASES else len(SAM_CASES)


def rows_of(model: str, plan: Plan, clock: Clock) -> Iterator[Row]:
    if model in DIFFUSION:
        return diffusion_rows(model, plan, clock)
    if model in SPANDREL_CASES:
        return spandrel_rows(model, plan, clock)
    return sam_rows(plan, clock)


def cell(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def print_table(rows: list[Row]) -> None:
    print(
        "| model | size | options | retouch s | bare s | retouch / bare | first run s | result PNG s "
        "| peak GB retouch | peak GB bare | note |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        ratio = row.retouch / row.bare if row.retouch is not None and row.bare else None
        print(
            f"| {row.model} | {row.size} | {row.options} | {cell(row.retouch)} | {cell(row.bare)} | "
            f"{cell(ratio, 3)} | {cell(row.first, 2)} | {cell(row.png, 3)} | {cell(row.peak_retouch, 2)} | "
            f"{cell(row.peak_bare, 2)} | {row.note} |"
        )


@contextmanager
def quick_compile() -> Iterator[None]:
    """On the CPU smoke run, `compile` rows set the option through the catalog entry and `torch.compile` wraps the
    module as on a GPU, but dynamo stays off: tracing and code generation take minutes on a small CPU, and what they
    do to speed is what the GPU run measures."""
    import torch
    import torch._dynamo

    before = torch._dynamo.config.disable, torch.get_num_threads()
    torch._dynamo.config.disable = True
    torch.set_num_threads(1)  # tiny models gain nothing from threads, and idle threads spin on a busy machine
    try:
        yield
    finally:
        torch._dynamo.config.disable = before[0]
        torch.set_num_threads(before[1])


def run(models: list[str], plan: Plan) -> list[Row]:
    clock = Clock(plan.device)
    rows: list[Row] = []
    started = time.perf_counter()
    for model in models:
        free(plan.device)  # the last model's weights, now that its rows are done
        for row in rows_of(model, plan, clock):
            rows.append(row)
            print(
                f"  {time.perf_counter() - started:6.0f} s  {row.model} {row.size} {row.options}: "
                f"retouch {cell(row.retouch)} s, bare {cell(row.bare)} s {row.note}",
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny configurations on the CPU, every row once")
    parser.add_argument("--only", default=",".join(MODELS), help=f"comma-separated, of: {', '.join(MODELS)}")
    parser.add_argument("--rounds", type=int, default=None, help="ABBA rounds per row (default 2; 0 with --quick)")
    parser.add_argument("--device", default=None, help="default: cuda:0, or cpu with --quick")
    args = parser.parse_args(argv)
    models = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        parser.error(f"--only: unknown model {unknown[0]!r}; choose from {', '.join(MODELS)}")

    import torch

    device = args.device or ("cpu" if args.quick or not torch.cuda.is_available() else "cuda:0")
    if not args.quick and not device.startswith("cuda"):
        print("full-size models need a CUDA GPU; --quick runs tiny ones on the CPU", file=sys.stderr)
        return 2
    what = torch.cuda.get_device_name(device) if device.startswith("cuda") else "CPU"
    print(f"device: {device} ({what}), torch {torch.__version__}, {'quick' if args.quick else 'full size'}")
    with tempfile.TemporaryDirectory(prefix="retouch-gpu-") as folder:
        plan = Plan(
            args.quick, device, args.rounds if args.rounds is not None else (0 if args.quick else 2), Path(folder)
        )
        if args.quick:
            with quick_compile():
                rows = run(models, plan)
        else:
            rows = run(models, plan)
    print()
    print_table(rows)
    return 1 if any(row.note.startswith("failed") for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
