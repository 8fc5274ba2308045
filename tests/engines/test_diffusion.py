"""Diffusion engines on tiny random pipelines of every family, loaded through the real loading code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retouch.catalog import Catalog, CatalogEntry, load_catalog, save_catalog
from retouch.engines import ENGINES, Hooks
from retouch.errors import Cancelled, EngineError, InputError
from retouch.imaging.io import read_recipe
from retouch.imaging.mask import feather
from retouch.pipeline import fill
from retouch.recipe import FillParams
from retouch.registry import build_registry

ALL = [
    "tiny-sd-inpaint",
    "tiny-sd",
    "tiny-sdxl-inpaint",
    "tiny-sdxl",
    "tiny-flux-fill",
    "tiny-sd-inpaint-file",
    "tiny-sdxl-inpaint-file",
    "tiny-flux-fill-file",
]
BACKEND = str(Path(__file__).resolve().parents[2] / "backend")


def picture(height: int = 72, width: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    pixels = np.stack([xx * 255 // width, yy * 255 // height, (xx + yy) % 256], -1).astype(np.uint8)
    pixels = np.clip(pixels.astype(int) + rng.integers(-8, 9, pixels.shape), 0, 255).astype(np.uint8)
    mask = np.zeros((height, width), np.uint8)
    mask[height // 4 : height // 2 + 8, width // 3 : 2 * width // 3] = 255
    return pixels, mask


def params(name: str, **extra) -> FillParams:
    values = {"engine": name, "steps": 4, "seed": 7, "prompt": "a red cat", "feather": 3}
    values.update(extra)
    return FillParams(**values)


class Recorder:
    def __init__(self, cancel_after: int | None = None) -> None:
        self.steps: list[tuple[int, int]] = []
        self.previews: list[np.ndarray] = []
        self.cancel_after = cancel_after

    def on_step(self, step: int, total: int, preview: np.ndarray | None, stage: str) -> None:
        self.steps.append((step, total))
        if preview is not None:
            self.previews.append(preview)

    def is_cancelled(self) -> bool:
        return self.cancel_after is not None and len(self.steps) >= self.cancel_after

    def hooks(self) -> Hooks:
        return Hooks(on_step=self.on_step, is_cancelled=self.is_cancelled)


@pytest.mark.parametrize("name", ALL)
def test_fill_reports_steps_keeps_unmasked_pixels_and_repeats_per_seed(name, loaded_engines):
    engine = loaded_engines(name)
    pixels, mask = picture()
    recorder = Recorder()
    first = fill(pixels, mask, params(name), engine=engine, hooks=recorder.hooks())

    # progress: every step once, in order, with a steady total
    assert recorder.steps == [(i, 4) for i in range(1, 5)]
    # previews: small RGB pictures made from the latents, at least one for the last step
    assert recorder.previews, "no preview was sent"
    for preview in recorder.previews:
        assert preview.dtype == np.uint8 and preview.ndim == 3 and preview.shape[2] == 3
        assert max(preview.shape[:2]) <= 256

    # the picture keeps its size, and everything outside the feathered mask is bit-for-bit the original
    assert first.pixels.shape == pixels.shape
    untouched = feather(mask, 3) == 0
    assert np.array_equal(first.pixels[untouched], pixels[untouched])
    # the hole was actually repainted
    assert np.abs(first.pixels[mask > 0].astype(int) - pixels[mask > 0]).mean() > 5
    # auto scale used the model's native area on its grid
    assert first.working_size[0] % engine.grid == 0 and first.working_size[1] % engine.grid == 0

    again = fill(pixels, mask, params(name), engine=engine)
    assert again.png() == first.png(), "same request and seed gave different bytes"
    other = fill(pixels, mask, params(name, seed=8), engine=engine)
    assert not np.array_equal(other.pixels, first.pixels), "another seed gave the same picture"


@pytest.mark.parametrize("name", ["tiny-sd-inpaint", "tiny-sdxl", "tiny-flux-fill"])
def test_prompt_steers_the_fill(name, loaded_engines):
    engine = loaded_engines(name)
    pixels, mask = picture()
    cat = fill(pixels, mask, params(name, prompt="a red cat"), engine=engine)
    sky = fill(pixels, mask, params(name, prompt="blue sky"), engine=engine)
    assert not np.array_equal(cat.pixels, sky.pixels)


@pytest.mark.parametrize("folder", ["tiny-sd-inpaint", "tiny-sdxl-inpaint", "tiny-flux-fill"])
def test_single_file_checkpoint_loads_the_same_model_as_the_folder(folder, loaded_engines):
    pixels, mask = picture()
    from_folder = fill(pixels, mask, params(folder), engine=loaded_engines(folder))
    from_file = fill(pixels, mask, params(folder + "-file"), engine=loaded_engines(folder + "-file"))
    assert np.array_equal(from_folder.pixels, from_file.pixels)


@pytest.mark.parametrize("name", ["tiny-sd-inpaint", "tiny-sdxl-inpaint", "tiny-flux-fill"])
def test_cancel_stops_the_run_between_steps(name, loaded_engines):
    engine = loaded_engines(name)
    pixels, mask = picture()
    recorder = Recorder(cancel_after=2)
    with pytest.raises(Cancelled):
        fill(pixels, mask, params(name, steps=12), engine=engine, hooks=recorder.hooks())
    assert recorder.steps == [(1, 12), (2, 12)], "steps kept running after the cancel"
    # the engine is still usable afterwards
    done = Recorder()
    fill(pixels, mask, params(name, steps=3), engine=engine, hooks=done.hooks())
    assert done.steps[-1] == (3, 3)


def test_every_sampler_runs_and_they_differ(loaded_engines):
    engine = loaded_engines("tiny-sd-inpaint")
    pixels, mask = picture()
    results = {}
    for scheduler in ["Euler a", "euler", "DPM++ 2M Karras", "DDIM", "UniPC"]:
        result = fill(pixels, mask, params("tiny-sd-inpaint", scheduler=scheduler), engine=engine)
        results[result.recipe["scheduler"]] = result.pixels
    assert sorted(results) == sorted(["euler-a", "euler", "dpm++-2m-karras", "ddim", "unipc"])
    blobs = {name: pixels.tobytes() for name, pixels in results.items()}
    assert len(set(blobs.values())) == len(blobs), "two samplers produced identical pictures"


def test_sampler_names_are_checked_with_the_choices(loaded_engines):
    with pytest.raises(Exception) as bad:
        FillParams(engine="tiny-sd", scheduler="heun++")
    assert "heun++" in str(bad.value) and "dpm++-2m-karras" in str(bad.value)

    pixels, mask = picture()
    with pytest.raises(InputError, match=r"'ddim'.*flow-euler"):
        fill(pixels, mask, params("tiny-flux-fill", scheduler="ddim"), engine=loaded_engines("tiny-flux-fill"))
    with pytest.raises(InputError, match=r"steps x strength.*2 x 0.3"):
        fill(pixels, mask, params("tiny-sd", steps=2, strength=0.3), engine=loaded_engines("tiny-sd"))
    with pytest.raises(InputError, match="negative prompt"):
        fill(pixels, mask, params("tiny-flux-fill", negative_prompt="blurry"), engine=loaded_engines("tiny-flux-fill"))


def test_png_recipe_matches_the_request(loaded_engines):
    pixels, mask = picture()
    request = params(
        "tiny-sdxl-inpaint",
        prompt="a wooden door",
        negative_prompt="blurry",
        steps=3,
        guidance=5.5,
        strength=0.8,
        scheduler="Euler a",
        seed=1234,
    )
    result = fill(pixels, mask, request, engine=loaded_engines("tiny-sdxl-inpaint"))
    recipe = read_recipe(result.png())
    assert recipe is not None
    for key, value in {
        "engine": "tiny-sdxl-inpaint",
        "prompt": "a wooden door",
        "negative_prompt": "blurry",
        "steps": 3,
        "guidance": 5.5,
        "strength": 0.8,
        "scheduler": "euler-a",
        "seed": 1234,
    }.items():
        assert recipe[key] == value, key
    assert "diffusers" in recipe["engine_version"] and "sdxl-inpaint" in recipe["engine_version"]
    # the recipe reproduces the picture
    replay = fill(
        pixels,
        mask,
        FillParams(**{k: recipe[k] for k in FillParams.model_fields if k in recipe}),  # what it names; defaults else
        engine=loaded_engines("tiny-sdxl-inpaint"),
    )
    assert np.array_equal(replay.pixels, result.pixels)


def test_random_seed_is_reported_and_reproduces(loaded_engines):
    engine = loaded_engines("tiny-sd")
    pixels, mask = picture()
    result = fill(pixels, mask, params("tiny-sd", seed=-1), engine=engine)
    assert 0 <= result.seed < 2**32 and result.recipe["seed"] == result.seed
    replay = fill(pixels, mask, params("tiny-sd", seed=result.seed), engine=engine)
    assert np.array_equal(replay.pixels, result.pixels)


def test_large_region_runs_with_vae_tiling_and_stays_exact_outside(loaded_engines):
    engine = loaded_engines("tiny-sd-inpaint")
    pixels, mask = picture(160, 200)
    result = fill(pixels, mask, params("tiny-sd-inpaint", steps=2, scale={"mode": "none"}), engine=engine)
    assert result.working_size == (200, 160)  # 32,000 px > 2 x 64²: the VAE decoded in tiles
    untouched = feather(mask, 3) == 0
    assert np.array_equal(result.pixels[untouched], pixels[untouched])


def test_outpainting_fills_transparent_pixels(loaded_engines):
    pixels, _ = picture()
    rgba = np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])
    rgba[:, -16:, 3] = 0  # the right edge has no content
    result = fill(
        rgba, None, params("tiny-sd-inpaint", infill={"method": "blur"}), engine=loaded_engines("tiny-sd-inpaint")
    )
    assert (result.pixels[:, -16:, 3] == 255).all()
    untouched = feather(np.where(rgba[..., 3] == 0, 255, 0).astype(np.uint8), 3) == 0
    assert np.array_equal(result.pixels[untouched], rgba[untouched])


def test_loaded_size_is_reported_and_released(tiny_catalog):
    engine = build_registry(tiny_catalog)["tiny-sd"]()
    assert engine.size_bytes() == 0
    engine.load("cpu")
    assert engine.size_bytes() > 1_000_000  # float32 weights of UNet, VAE and text encoder
    engine.unload()
    assert engine.size_bytes() == 0
    with pytest.raises(EngineError, match="not loaded"):
        engine.fill(*picture(), params("tiny-sd"), 1, Hooks())


# ------------------------------------------------------------------------------ broken or absent models


def one_model_catalog(folder: Path, **entry) -> Path:
    path = folder / "catalog.yaml"
    save_catalog(Catalog(models=[CatalogEntry(**entry)]), path)
    return path


def test_missing_folder_is_a_clear_error_naming_the_model(tmp_path):
    catalog = one_model_catalog(tmp_path, name="gone", family="sd-inpaint", source="./weights/gone")
    engine = build_registry(catalog)["gone"]()
    assert engine.capabilities()["present"] is False
    with pytest.raises(EngineError, match=r"'gone'.*does not exist"):
        engine.load("cpu")


def test_absent_hub_model_fails_fast_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    catalog = one_model_catalog(tmp_path, name="from-hub", family="sdxl", source="nobody/no-such-model-here")
    engine = build_registry(catalog)["from-hub"]()
    assert engine.capabilities()["present"] is False
    with pytest.raises(EngineError, match=r"'from-hub'.*nobody/no-such-model-here.*not in the local cache"):
        engine.load("cpu")


def test_single_file_without_its_layout_fails_fast_offline(tmp_path, tiny_model_dir, monkeypatch):
    """A bare checkpoint needs its family's layout (configs, tokenizers) from the hub: offline that is an error
    naming the model and the repository, at once."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    catalog = one_model_catalog(
        tmp_path, name="bare", family="sd-inpaint", source=str(tiny_model_dir / "sd-inpaint.safetensors")
    )
    engine = build_registry(catalog)["bare"]()
    caps = engine.capabilities()
    assert caps["present"] is False and "stable-diffusion-inpainting" in caps["source"]
    with pytest.raises(EngineError, match=r"'bare'.*stable-diffusion-v1-5/stable-diffusion-inpainting.*cache"):
        engine.load("cpu")


def test_truncated_single_file_is_a_clear_error(tmp_path, tiny_model_dir):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes((tiny_model_dir / "sd-inpaint.safetensors").read_bytes()[:5000])
    catalog = one_model_catalog(
        tmp_path,
        name="broken",
        family="sd-inpaint",
        source="broken.safetensors",
        config=str(tiny_model_dir / "sd-inpaint"),
    )
    with pytest.raises(EngineError, match=r"'broken'.*safetensors"):
        build_registry(catalog)["broken"]().load("cpu")


def test_corrupt_weights_in_a_folder_are_a_clear_error(tmp_path, tiny_model_dir):
    folder = tmp_path / "damaged"
    shutil.copytree(tiny_model_dir / "sd", folder)
    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(b"\x00" * 64)
    catalog = one_model_catalog(tmp_path, name="damaged", family="sd", source="damaged")
    with pytest.raises(EngineError, match=r"'damaged' could not be loaded"):
        build_registry(catalog)["damaged"]().load("cpu")


def test_pickled_weights_are_refused(tmp_path, tiny_model_dir):
    import torch
    from safetensors.torch import load_file

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_model_dir / "sd", folder)
    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    torch.save(load_file(weights), folder / "unet" / "diffusion_pytorch_model.bin")
    weights.unlink()
    catalog = one_model_catalog(tmp_path, name="pickled", family="sd", source="pickled")
    with pytest.raises(EngineError, match=r"'pickled'.*only \.safetensors"):
        build_registry(catalog)["pickled"]().load("cpu")
    listed = tmp_path / "listed.yaml"
    listed.write_text("models:\n  - {name: old, family: sd, source: sd-v1-5.ckpt}\n")
    with pytest.raises(InputError, match=r"sd-v1-5.ckpt.*pickle.*\.safetensors"):
        load_catalog(listed)


def test_listing_engines_loads_no_weights(tiny_catalog):
    """The server lists every engine's capabilities at start-up: that must not import torch or read weights."""
    code = (
        "import sys, json\n"
        "from retouch.registry import build_registry\n"
        f"caps = [f().capabilities() for f in build_registry({str(tiny_catalog)!r}).values()]\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'n': len(caps),"
        " 'present': [c.get('present') for c in caps]}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": BACKEND, "PATH": "/usr/bin:/bin"},
    )
    import json

    report = json.loads(out.stdout)
    assert report["torch"] is False
    assert report["n"] == len(ENGINES) + len(ALL)
    assert report["present"][len(ENGINES) :] == [True] * len(ALL)


def test_capabilities_show_family_presence_and_defaults(tiny_catalog):
    caps = build_registry(tiny_catalog)["tiny-flux-fill"]().capabilities()
    assert caps["family"] == "flux-fill" and caps["present"] is True
    assert caps["native_size"] == 64 and caps["grid"] == 16
    assert caps["needs_weights"] and caps["takes_prompt"]
    assert caps["schedulers"] == ["flow-euler"]
    assert caps["defaults"]["guidance"] == 30.0
    sd = build_registry(tiny_catalog)["tiny-sd"]().capabilities()
    assert {"euler-a", "dpm++-2m-karras", "ddim", "unipc"} <= set(sd["schedulers"])


# ------------------------------------------------------------------------------ GPU


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["tiny-sd-inpaint", "tiny-sdxl-inpaint", "tiny-flux-fill"])
def test_cuda_half_precision_is_deterministic_and_exact_outside(name, tiny_catalog):
    import torch

    engine = build_registry(tiny_catalog)[name]()
    engine.load("cuda:0")
    try:
        expected = torch.bfloat16 if name == "tiny-flux-fill" else torch.float16
        assert engine.pipe.vae.dtype in (expected, torch.float32)
        assert next(engine.pipe.text_encoder.parameters()).dtype == expected
        pixels, mask = picture()
        first = fill(pixels, mask, params(name), engine=engine)
        again = fill(pixels, mask, params(name), engine=engine)
        assert first.png() == again.png()
        untouched = feather(mask, 3) == 0
        assert np.array_equal(first.pixels[untouched], pixels[untouched])
    finally:
        engine.unload()


@pytest.mark.gpu
def test_cuda_cpu_offload_gives_a_result(tmp_path, tiny_model_dir):
    catalog = one_model_catalog(
        tmp_path,
        name="offloaded",
        family="sd-inpaint",
        source=str(tiny_model_dir / "sd-inpaint"),
        native_size=64,
        cpu_offload=True,
    )
    engine = build_registry(catalog)["offloaded"]()
    engine.load("cuda:0")
    try:
        assert engine.offloaded
        pixels, mask = picture()
        result = fill(pixels, mask, params("offloaded"), engine=engine)
        assert result.pixels.shape == pixels.shape
    finally:
        engine.unload()
