"""Spandrel models: safe reading, what each model is for, LaMa and MAT through the pipeline, tiled upscaling,
face restoration. Models are built from spandrel's own architecture classes with random weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from retouch.catalog.spandrel import load_descriptor
from retouch.engines.base import Hooks
from retouch.engines.spandrel import check_usable, inspect_file, spandrel_engine
from retouch.errors import EngineError, InputError
from retouch.pipeline import fill
from retouch.recipe import FillParams
from tests.tiny_spandrel import RunsCode, write_pickle_with_code


@pytest.fixture(scope="module")
def photo() -> tuple[np.ndarray, np.ndarray]:
    """A 64x48 picture with a 20x16 hole: LaMa runs at full size, so pictures stay small."""
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    mask = np.zeros((48, 64), np.uint8)
    mask[16:32, 22:42] = 255
    return pixels, mask


# ------------------------------------------------------------------------------------------ reading files


@pytest.mark.parametrize(
    ("name", "architecture", "purpose", "scale", "native"),
    [
        ("lama", "LaMa", "inpainting", 1, None),
        ("compact-x4", "Compact", "upscaling", 4, None),
        ("esrgan-x2", "ESRGAN", "upscaling", 2, None),
        ("restoreformer", "RestoreFormer", "face-restoration", 1, 512),
    ],
)
def test_purpose_scale_and_size_are_detected_the_same_from_both_formats(
    spandrel_file, name, architecture, purpose, scale, native
):
    from_safetensors = inspect_file(spandrel_file(name, "safetensors"))
    from_pth = inspect_file(spandrel_file(name, "pth"))
    assert from_safetensors == from_pth
    info = from_safetensors
    assert (info.architecture, info.purpose, info.scale, info.native_size) == (architecture, purpose, scale, native)
    weights = sum(t.numel() for t in torch.load(spandrel_file(name, "pth"), weights_only=True).values())
    assert info.parameters <= weights and info.size_bytes >= info.parameters * 4
    assert info.licence == "", "spandrel's own architectures are permissively licensed"


def test_extra_architectures_carry_their_licence(spandrel_file):
    mat = inspect_file(spandrel_file("mat"))
    codeformer = inspect_file(spandrel_file("codeformer"))
    gfpgan = inspect_file(spandrel_file("gfpgan"))
    assert (mat.purpose, mat.native_size) == ("inpainting", 512)
    assert (codeformer.purpose, gfpgan.purpose) == ("face-restoration", "face-restoration")
    assert "CC BY-NC" in mat.licence and "non-commercial" in mat.licence
    assert "S-Lab" in codeformer.licence
    assert gfpgan.licence == ""


def test_a_pickle_carrying_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "code-ran"
    path = write_pickle_with_code(tmp_path / "upscaler.pth", marker)
    with pytest.raises(InputError, match=r"needs more than tensors.*does not run code") as caught:
        inspect_file(path)
    assert "system" in caught.value.message, "the message names what the file wanted to run"
    assert not marker.exists(), "the payload never ran"


def test_a_torchscript_archive_gives_its_weights_without_running_its_program(tmp_path):
    """IOPaint ships big-lama.pt as TorchScript: its tensors are read from the archive, its code never runs."""
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(0)
    model = Compact(num_feat=8, num_conv=2).eval()
    program = torch.jit.trace(model, torch.rand(1, 3, 16, 16))
    program.save(str(tmp_path / "model.pt"))
    descriptor = load_descriptor(tmp_path / "model.pt")
    assert descriptor.architecture.id == "Compact" and descriptor.scale == 4
    picture = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        assert torch.equal(descriptor.model(picture), model(picture)), "the same weights as the traced model"


def test_a_torchscript_archive_carrying_code_in_its_data_is_refused_without_running_it(tmp_path):
    import pickle
    import zipfile

    marker = tmp_path / "code-ran"
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model/data.pkl", pickle.dumps(RunsCode(marker), protocol=2))
        archive.writestr("model/code/__torch__/model.py", "def forward(self, x): return x\n")
        archive.writestr("model/constants.pkl", pickle.dumps((), protocol=2))
    with pytest.raises(InputError, match=r"names posix\.system, which is not a tensor"):
        inspect_file(path)
    assert not marker.exists(), "the payload never ran"


def test_files_that_are_not_models_are_refused_with_the_reason(tmp_path):
    from safetensors.torch import save_file

    save_file({"weight": torch.zeros(3, 3)}, str(tmp_path / "random.safetensors"))
    with pytest.raises(InputError, match="not a model architecture spandrel knows"):
        inspect_file(tmp_path / "random.safetensors")
    (tmp_path / "broken.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(InputError, match="not a valid .safetensors"):
        inspect_file(tmp_path / "broken.safetensors")
    (tmp_path / "model.onnx").write_bytes(b"onnx")
    with pytest.raises(InputError, match=r"\.safetensors, \.pth, \.ckpt, \.pt"):
        inspect_file(tmp_path / "model.onnx")


def test_a_denoiser_has_no_use_here(spandrel_file):
    info = inspect_file(spandrel_file("dncnn"))
    assert info.purpose == "restoration"
    with pytest.raises(InputError, match="DnCNN restoration .* inpainting, upscaling and face restoration"):
        check_usable(info, "x.pth")


def test_loading_puts_the_weights_on_the_device_and_counts_them(spandrel_file):
    path = spandrel_file("esrgan-x2", "pth")
    engine = spandrel_engine("sharp", path, inspect_file(path))
    assert engine.size_bytes() == 0
    engine.load("cpu")
    assert engine.size_bytes() == inspect_file(path).size_bytes  # float32 on the CPU
    assert "ESRGAN" in engine.version() and "float32" in engine.version()
    engine.unload()
    assert engine.size_bytes() == 0


def test_a_file_replaced_by_another_model_is_an_error_at_load(tmp_path, spandrel_file):
    path = spandrel_file("esrgan-x2")
    engine = spandrel_engine("sharp", path, inspect_file(spandrel_file("compact-x4")))  # registered as Compact x4
    with pytest.raises(EngineError, match="now holds a ESRGAN"):
        engine.load("cpu")
    missing = spandrel_engine("gone", tmp_path / "gone.safetensors", inspect_file(path))
    with pytest.raises(EngineError, match="not on this machine"):
        missing.load("cpu")


# ------------------------------------------------------------------------------------------ inpainting


def test_lama_fills_the_hole_and_keeps_every_other_pixel(spandrel_loaded, photo):
    pixels, mask = photo
    lama = spandrel_loaded("lama")
    assert lama.capabilities()["purpose"] == "inpainting" and not lama.takes_prompt
    result = fill(pixels, mask, FillParams(engine="lama", feather=0, seed=3), engine=lama)
    np.testing.assert_array_equal(result.pixels[mask == 0], pixels[mask == 0])
    assert (result.pixels[mask > 0] != pixels[mask > 0]).mean() > 0.9, "the hole is painted"
    assert result.working_size == (64, 48), "LaMa works on small regions at their own size"
    assert "LaMa" in result.recipe["engine_version"]
    again = fill(pixels, mask, FillParams(engine="lama", feather=0, seed=4), engine=lama)
    np.testing.assert_array_equal(again.pixels, result.pixels)  # no randomness in LaMa


def test_lama_in_a_box_with_feather_changes_nothing_beyond_the_band(spandrel_loaded, photo):
    pixels, mask = photo
    params = FillParams(engine="lama", bbox="auto", padding=8, feather=4)
    result = fill(pixels, mask, params, engine=spandrel_loaded("lama"))
    assert result.bbox == (14, 8, 36, 32)
    band = np.zeros_like(mask, bool)
    band[16 - 4 : 32 + 4, 22 - 4 : 42 + 4] = True
    np.testing.assert_array_equal(result.pixels[~band], pixels[~band])


def test_mat_fills_a_region_scaled_to_its_square_and_draws_from_its_seed(spandrel_loaded, photo):
    """MAT is full size (its architecture is fixed at 512 px): one run, since it takes most of a minute here."""
    pixels, mask = photo
    mat = spandrel_loaded("mat")
    first = fill(pixels, mask, FillParams(engine="mat", feather=0, seed=11), engine=mat)
    assert first.working_size == (512, 384), "the 64x48 region grows to MAT's 512 side"
    np.testing.assert_array_equal(first.pixels[mask == 0], pixels[mask == 0])
    assert (first.pixels[mask > 0] != pixels[mask > 0]).mean() > 0.9
    assert first.seed == 11 and "MAT" in first.recipe["engine_version"]
    # MAT draws a latent code (and dropout at inference) from the seed, so a seed repeats exactly
    code = np.random.default_rng(11).standard_normal((1, 512))
    np.testing.assert_allclose(mat.descriptor.model.z.cpu().numpy(), code, rtol=1e-6)


def test_models_that_do_not_inpaint_refuse_a_fill(spandrel_loaded, photo):
    pixels, mask = photo
    with pytest.raises(InputError, match=r"Compact upscaling model \(4x\); it cannot fill a mask"):
        fill(pixels, mask, FillParams(engine="compact-x4"), engine=spandrel_loaded("compact-x4"))
    with pytest.raises(InputError, match="RestoreFormer face restoration model; it cannot fill a mask"):
        fill(pixels, mask, FillParams(engine="restoreformer"), engine=spandrel_loaded("restoreformer"))


# ------------------------------------------------------------------------------------------ upscaling


@pytest.mark.parametrize("name", ["compact-x4", "esrgan-x2"])
def test_tiled_upscaling_equals_untiled_and_reports_each_tile(spandrel_loaded, name):
    engine = spandrel_loaded(name)
    picture = np.random.default_rng(2).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    steps: list[tuple[int, int]] = []
    tiled = engine.upscale(
        picture, engine.scale, Hooks(on_step=lambda s, t, p, stage: steps.append((s, t))), tile=80, overlap=24
    )
    whole = engine.upscale(picture, engine.scale, Hooks(), tile=256)
    assert tiled.pixels.shape == (96 * engine.scale, 128 * engine.scale, 3)
    assert tiled.details["tiles"] == len(steps) > 1 and whole.details["tiles"] == 1
    assert steps[-1] == (len(steps), len(steps))
    assert np.abs(tiled.pixels.astype(int) - whole.pixels.astype(int)).max() <= 1


def test_upscaling_to_another_factor_than_the_models(spandrel_loaded):
    engine = spandrel_loaded("compact-x4")
    picture = np.random.default_rng(4).integers(0, 256, (30, 41, 3), dtype=np.uint8)
    assert engine.upscale(picture, 2.5, Hooks()).pixels.shape == (75, 102, 3)
    assert engine.upscale(picture, 4, Hooks()).details["model_scale"] == 4


def test_upscaling_stops_between_tiles_when_cancelled(spandrel_loaded):
    from retouch.errors import Cancelled

    engine = spandrel_loaded("compact-x4")
    picture = np.zeros((100, 100, 3), np.uint8)
    seen: list[int] = []
    hooks = Hooks(on_step=lambda s, t, p, stage: seen.append(s), is_cancelled=lambda: len(seen) >= 2)
    with pytest.raises(Cancelled):
        engine.upscale(picture, 4, hooks, tile=64, overlap=8)
    assert seen == [1, 2], "no tile runs after the cancel"


# ------------------------------------------------------------------------------------------ faces


def test_face_restorer_blends_by_weight(spandrel_loaded):
    restorer = spandrel_loaded("restoreformer")
    assert restorer.native_size == 512
    crop = np.random.default_rng(8).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    restored = restorer.restore(crop, 1.0)
    assert restored.shape == crop.shape and not np.array_equal(restored, crop)
    np.testing.assert_array_equal(restorer.restore(crop, 0.0), crop)
    half = restorer.restore(crop, 0.5).astype(int)
    expected = (crop.astype(int) + restored.astype(int)) / 2
    assert np.abs(half - expected).max() <= 1
    oblong = restorer.restore(crop[:, :400], 1.0)  # the faces workflow keeps a face box's aspect
    assert oblong.shape == (512, 400, 3)
    with pytest.raises(InputError, match=r"weight must be in \[0, 1\], got 1.5"):
        restorer.restore(crop, 1.5)


@pytest.mark.gpu
def test_on_cuda_each_model_runs_in_half_precision_close_to_the_cpu(spandrel_file, spandrel_loaded, photo):
    pixels, mask = photo
    picture = np.random.default_rng(9).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    cases = {"lama": "bfloat16", "compact-x4": "float16", "restoreformer": "bfloat16"}
    for name, dtype in cases.items():
        path = spandrel_file(name)
        engine = spandrel_engine(name, path, inspect_file(path))
        engine.load("cuda:0")
        assert engine.dtype_name == dtype and engine.size_bytes() < inspect_file(path).size_bytes
        cpu = spandrel_loaded(name)
        if name == "lama":
            on_gpu = fill(pixels, mask, FillParams(engine=name, feather=0), engine=engine).pixels
            on_cpu = fill(pixels, mask, FillParams(engine=name, feather=0), engine=cpu).pixels
            np.testing.assert_array_equal(on_gpu[mask == 0], pixels[mask == 0])
        elif name == "compact-x4":
            on_gpu, on_cpu = (e.upscale(picture, 4, Hooks(), tile=512, overlap=32).pixels for e in (engine, cpu))
        else:
            crop = np.random.default_rng(10).integers(0, 256, (512, 512, 3), dtype=np.uint8)
            on_gpu, on_cpu = engine.restore(crop, 1.0), cpu.restore(crop, 1.0)
        difference = np.abs(on_gpu.astype(int) - on_cpu.astype(int))
        assert difference.mean() < 3, f"{name}: {dtype} on CUDA strays from float32 on the CPU"
        engine.unload()


@pytest.mark.gpu
def test_out_of_gpu_memory_halves_the_tile_and_goes_on(spandrel_file):
    import torch

    from retouch.engines.spandrel.model import free_memory

    path = spandrel_file("compact-x4")
    engine = spandrel_engine("up", path, inspect_file(path))
    engine.load("cuda:0")
    picture = np.random.default_rng(11).integers(0, 256, (768, 768, 3), dtype=np.uint8)
    whole = engine.upscale(picture, 4, Hooks(), tile=1024, overlap=32)
    free_memory()
    torch.cuda.reset_peak_memory_stats()
    engine.upscale(picture, 4, Hooks(), tile=256, overlap=32)
    small_tile_peak = torch.cuda.max_memory_allocated()
    total = torch.cuda.get_device_properties(0).total_memory
    free_memory()
    torch.cuda.set_per_process_memory_fraction(2 * small_tile_peak / total)  # room for 256 px tiles, not 768
    try:
        tiled = engine.upscale(picture, 4, Hooks(), tile=768, overlap=32)
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
    assert tiled.details["tile_halvings"] >= 1 and tiled.details["tile"] < 768
    assert np.abs(tiled.pixels.astype(int) - whole.pixels.astype(int)).max() <= 1
