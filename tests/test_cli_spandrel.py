"""Spandrel models on the command line: `retouch models add` recognises them, `retouch models` says what each is
for, `retouch upscale` and `retouch inpaint --engine lama` run them. Models are tiny or random (see
tests/tiny_spandrel.py); registering them reads the files exactly as a user's downloads are read."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from retouch.cli import main
from retouch.imaging.io import read_recipe
from tests.support import run_cli
from tests.tiny_spandrel import write_pickle_with_code


def cli(capsys, *args: str | Path) -> tuple[int, str, str]:
    """`retouch ARGS` in this process (the same `main` the command runs): exit code, stdout, stderr."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def catalog(spandrel_catalog) -> Path:
    """LaMa, MAT, a Compact 4x (.pth), an ESRGAN 2x and a RestoreFormer, added by `retouch models add`."""
    return spandrel_catalog


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """A 64x48 PNG with EXIF and an ICC profile, and a mask with a 20x16 hole."""
    folder = tmp_path_factory.mktemp("photo")
    pixels = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    mask = np.zeros((48, 64), np.uint8)
    mask[16:32, 22:42] = 255
    exif = Image.Exif()
    exif[0x010F] = "Retouch test camera"
    Image.fromarray(pixels).save(folder / "photo.png", exif=exif.tobytes(), icc_profile=b"\0" * 128)
    Image.fromarray(mask).save(folder / "mask.png")
    return folder / "photo.png", folder / "mask.png", pixels, mask


def test_models_lists_what_each_model_is_for_and_the_licence_notes(capsys, catalog):
    code, out, _ = cli(capsys, "models", "--catalog", catalog)
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[1:] if not line.startswith("note:")}
    assert "inpainting" in rows["lama"] and "upscaling 4x" in rows["up4"] and "upscaling 2x" in rows["up2"]
    assert "face-restoration" in rows["faces"]
    assert all(row.split()[1:3] == ["spandrel", "yes"] for row in rows.values())
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and notes[0].startswith("note: mat (MAT): CC BY-NC 4.0")

    code, out, _ = cli(capsys, "models", "--catalog", catalog, "--json")
    listed = {row["name"]: row for row in json.loads(out)}
    assert (listed["up4"]["architecture"], listed["up4"]["scale"]) == ("Compact", 4)
    assert (listed["faces"]["purpose"], listed["faces"]["native_size"]) == ("face-restoration", 512)
    assert listed["lama"]["licence"] is None and "non-commercial" in listed["mat"]["licence"]


def test_engines_lists_purposes(capsys, catalog):
    code, out, _ = cli(capsys, "engines", "--catalog", catalog, "--json")
    engines = {row["name"]: row for row in json.loads(out)}
    assert engines["patchmatch"]["purpose"] == "inpainting"
    assert (engines["up2"]["purpose"], engines["up2"]["scale"]) == ("upscaling", 2)
    assert engines["mat"]["native_size"] == 512 and engines["lama"]["takes_prompt"] is False


def test_a_pickle_carrying_code_is_refused_without_running_it(capsys, tmp_path):
    marker = tmp_path / "code-ran"
    evil = write_pickle_with_code(tmp_path / "4x-Sharp.pth", marker)
    code, _, err = cli(capsys, "models", "add", evil, "--name", "sharp", "--catalog", tmp_path / "catalog.yaml")
    assert code == 2
    assert "needs more than tensors" in err and "does not run code" in err
    assert not marker.exists(), "the payload never ran"
    assert not (tmp_path / "catalog.yaml").exists(), "nothing was registered"


def test_a_model_retouch_has_no_use_for_is_refused(capsys, tmp_path, spandrel_file):
    code, _, err = cli(
        capsys,
        "models",
        "add",
        spandrel_file("dncnn", "pth"),
        "--name",
        "denoise",
        "--catalog",
        tmp_path / "catalog.yaml",
    )
    assert code == 2 and "DnCNN restoration" in err


def test_upscale_with_a_model_makes_the_picture_factor_times_larger_and_keeps_its_metadata(catalog, photo, tmp_path):
    image, _, pixels, _ = photo
    done = run_cli("upscale", image, "-o", tmp_path / "big.png", "--model", "up4", "--catalog", catalog)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and "256x192" in done.stdout
    data = (tmp_path / "big.png").read_bytes()
    result = Image.open(io.BytesIO(data))
    assert result.size == (64 * 4, 48 * 4)
    assert result.getexif()[0x010F] == "Retouch test camera" and result.info["icc_profile"] == b"\0" * 128
    recipe = read_recipe(data)
    assert (recipe["kind"], recipe["model"], recipe["scale"], recipe["model_scale"]) == ("upscale", "up4", 4.0, 4)
    assert "Compact" in recipe["engine_version"]


def test_upscale_to_a_smaller_factor_and_in_tiles(capsys, catalog, photo, tmp_path):
    image = photo[0]
    assert (
        cli(
            capsys,
            "upscale",
            image,
            "-o",
            tmp_path / "larger.png",
            "--model",
            "up2",
            "--scale",
            "1.5",
            "--catalog",
            catalog,
        )[0]
        == 0
    )
    assert Image.open(tmp_path / "larger.png").size == (96, 72)
    larger = tmp_path / "larger.png"  # 96x72: more than one 64 px tile
    assert cli(capsys, "upscale", larger, "-o", tmp_path / "whole.png", "--model", "up2", "--catalog", catalog)[0] == 0
    assert (
        cli(
            capsys,
            "upscale",
            larger,
            "-o",
            tmp_path / "tiled.png",
            "--model",
            "up2",
            "--tile",
            "64",
            "--overlap",
            "20",
            "--catalog",
            catalog,
        )[0]
        == 0
    )
    whole = np.asarray(Image.open(tmp_path / "whole.png")).astype(int)
    tiled = np.asarray(Image.open(tmp_path / "tiled.png")).astype(int)
    assert read_recipe((tmp_path / "whole.png").read_bytes())["tiles"] == 1
    assert read_recipe((tmp_path / "tiled.png").read_bytes())["tiles"] == 4 * 3  # cores of at most 64 - 2 x 20
    assert np.abs(whole - tiled).max() <= 1, "tiles leave no seams: the same picture within rounding"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--model", "lama"],
            "model: 'lama' (LaMa) is for inpainting; it does not upscale. Upscalers here: lanczos, up2, up4",
        ),
        (["--model", "faces"], "(RestoreFormer) is for face-restoration; it does not upscale"),
        (["--model", "up4", "--scale", "6"], "scale: 6 is more than the 4x model 'up4' makes; ask for at most 4"),
        (["--model", "nothing"], "model: 'nothing' is unknown; upscalers here: lanczos, up2, up4"),
        (["--model", "up4", "--tile", "64", "--overlap", "40"], "overlap 40 needs tiles of at least 120 px"),
    ],
)
def test_bad_upscale_requests_are_refused_before_any_work(capsys, catalog, photo, tmp_path, args, message):
    code, _, err = cli(capsys, "upscale", photo[0], "-o", tmp_path / "out.png", *args, "--catalog", catalog)
    assert code == 2
    assert message in err
    assert not (tmp_path / "out.png").exists()


def test_a_result_over_the_pixel_limit_is_refused_before_loading_the_model(capsys, catalog, tmp_path):
    Image.new("RGB", (2001, 2001), (90, 120, 150)).save(tmp_path / "large.png")
    code, _, err = cli(
        capsys, "upscale", tmp_path / "large.png", "-o", tmp_path / "out.png", "--model", "up4", "--catalog", catalog
    )
    assert code == 2
    assert "8004x8004 = 64064016 pixels, over the limit of 64000000" in err
    assert not (tmp_path / "out.png").exists()


def test_lama_removes_an_object_keeping_every_pixel_outside_the_mask_and_repeats_exactly(catalog, photo, tmp_path):
    image, mask_path, pixels, mask = photo
    done = run_cli(
        "inpaint",
        image,
        mask_path,
        "-o",
        tmp_path / "first.png",
        "--engine",
        "lama",
        "--feather",
        "0",
        "--catalog",
        catalog,
    )
    assert done.returncode == 0, done.stderr
    again = main(
        [
            "inpaint",
            str(image),
            str(mask_path),
            "-o",
            str(tmp_path / "second.png"),
            "--engine",
            "lama",
            "--feather",
            "0",
            "--catalog",
            str(catalog),
        ]
    )
    assert again == 0
    first, second = (np.asarray(Image.open(tmp_path / name)) for name in ("first.png", "second.png"))
    np.testing.assert_array_equal(first[mask == 0], pixels[mask == 0])
    assert (first[mask > 0] != pixels[mask > 0]).mean() > 0.9, "the hole is painted"
    np.testing.assert_array_equal(first, second)
    recipe = read_recipe((tmp_path / "first.png").read_bytes())
    assert "LaMa" in recipe["engine_version"] and recipe["working_size"] == {"width": 64, "height": 48}


def test_an_upscaler_cannot_fill_a_mask(capsys, catalog, photo, tmp_path):
    image, mask_path, _, _ = photo
    code, _, err = cli(
        capsys, "inpaint", image, mask_path, "-o", tmp_path / "out.png", "--engine", "up4", "--catalog", catalog
    )
    assert code == 2 and "Compact upscaling model (4x); it cannot fill a mask" in err
