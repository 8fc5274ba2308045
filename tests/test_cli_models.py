"""`retouch models`, `retouch models add` and `retouch inpaint --engine MODEL`, run as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from retouch.imaging.io import read_recipe

BACKEND = str(Path(__file__).resolve().parents[1] / "backend")


def retouch(
    *args: str, cwd: Path, catalog: Path | None = None, config: Path | None = None
) -> subprocess.CompletedProcess:
    """`retouch ARGS` with the user's config folder at `config` (default: CWD/config), never the real one."""
    env = {**os.environ, "PYTHONPATH": BACKEND, "XDG_CONFIG_HOME": str(config or cwd / "config")}
    env.pop("RETOUCH_CATALOG", None)
    if catalog is not None:
        env["RETOUCH_CATALOG"] = str(catalog)
    return subprocess.run(
        [sys.executable, "-m", "retouch.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def retouch_here(*args: str, catalog: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str, str]:
    """`retouch ARGS` in this process (the models' imports already paid for): exit code, stdout, stderr."""
    from retouch.cli import main

    monkeypatch.setenv("RETOUCH_CATALOG", str(catalog))
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    mask = np.zeros((60, 80), np.uint8)
    mask[20:40, 25:55] = 255
    Image.fromarray(pixels).save(folder / "photo.png")
    Image.fromarray(mask).save(folder / "mask.png")
    return folder / "photo.png", folder / "mask.png", pixels, mask


def test_models_add_then_list_shows_presence(tmp_path, tiny_model_dir):
    added = retouch("models", "add", str(tiny_model_dir / "sdxl-inpaint"), "--name", "xl", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "sdxl-inpaint" in added.stdout
    assert (tmp_path / "config" / "retouch" / "catalog.yaml").is_file()  # the user's catalog, made on first add
    single = retouch(
        "models",
        "add",
        str(tiny_model_dir / "sd-inpaint.safetensors"),
        "--name",
        "one-file",
        "--config",
        str(tiny_model_dir / "sd-inpaint"),
        cwd=tmp_path,
    )
    assert single.returncode == 0, single.stderr
    hub = retouch("models", "add", "nobody/not-downloaded", "--name", "later", "--family", "sd", cwd=tmp_path)
    assert hub.returncode == 0, hub.stderr

    listed = retouch("models", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line.split() for line in listed.stdout.splitlines()[1:]}
    assert rows["xl"][1:3] == ["sdxl-inpaint", "yes"]
    assert rows["one-file"][1:3] == ["sd-inpaint", "yes"]
    assert rows["later"][1:3] == ["sd", "NO"]

    engines = retouch("engines", cwd=tmp_path)
    assert engines.returncode == 0 and "xl" in engines.stdout and "patchmatch" in engines.stdout


def test_models_add_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    from retouch.cli import main

    (tmp_path / "old.ckpt").write_bytes(b"pickle")
    monkeypatch.delenv("RETOUCH_CATALOG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for args, expected in [
        (["models", "add", str(tmp_path / "old.ckpt"), "--name", "old"], "pickle"),
        (["models", "add", str(tmp_path / "missing"), "--name", "m"], "does not exist"),
        (["models", "add", "a/b", "--name", "hub"], "--family"),
    ]:
        code = main(args)
        err = capsys.readouterr().err
        assert code == 2, (args, err)
        assert len(err.strip().splitlines()) == 1 and expected in err, err
    assert not (tmp_path / "config" / "retouch" / "catalog.yaml").exists()
    empty = retouch("models", cwd=tmp_path)  # and as a user runs it
    assert empty.returncode == 0 and "no models yet" in empty.stdout and "retouch models add" in empty.stdout


def test_adding_a_model_in_a_checkout_leaves_it_clean(tmp_path, tiny_model_dir):
    """A user's models are theirs: `retouch models add` run in this repository changes no tracked file."""
    root = Path(__file__).resolve().parents[1]
    before = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    added = retouch("models", "add", str(tiny_model_dir / "sd-inpaint"), "--name", "mine", cwd=root, config=tmp_path)
    assert added.returncode == 0, added.stderr
    assert (tmp_path / "retouch" / "catalog.yaml").is_file()
    after = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    assert after == before


def test_inpaint_with_a_catalog_model(tmp_path, tiny_catalog, inputs, monkeypatch, capsys):
    photo, mask_path, pixels, mask = inputs
    out = tmp_path / "out.png"
    args = [
        "inpaint",
        str(photo),
        str(mask_path),
        "-o",
        str(out),
        "--engine",
        "tiny-sd-inpaint-file",
        "--seed",
        "11",
        "--steps",
        "3",
        "--prompt",
        "brick wall",
        "--scheduler",
        "DPM++ 2M Karras",
        "--feather",
        "0",
    ]
    result = retouch(*args, cwd=tmp_path, catalog=tiny_catalog)
    assert result.returncode == 0, result.stderr
    assert "seed 11" in result.stdout
    produced = np.asarray(Image.open(out).convert("RGB"))
    assert produced.shape == pixels.shape
    assert np.array_equal(produced[mask == 0], pixels[mask == 0])  # feather 0: every unmasked pixel exact
    assert not np.array_equal(produced[mask > 0], pixels[mask > 0])
    recipe = read_recipe(out)
    assert recipe["engine"] == "tiny-sd-inpaint-file" and recipe["seed"] == 11 and recipe["steps"] == 3
    assert recipe["prompt"] == "brick wall" and recipe["scheduler"] == "dpm++-2m-karras"

    # the same command again (in this process: the first run was the user's path) gives the same bytes
    again = [*args[:4], str(tmp_path / "again.png"), *args[5:]]
    code, _, err = retouch_here(*again, catalog=tiny_catalog, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert (tmp_path / "again.png").read_bytes() == out.read_bytes()

    # steps and guidance left out: the model's defaults (FLUX.1 Fill: 50 steps, guidance 30)
    flux = ["inpaint", str(photo), str(mask_path), "-o", str(tmp_path / "flux.png"), "--engine", "tiny-flux-fill"]
    code, _, err = retouch_here(*flux, "--seed", "1", catalog=tiny_catalog, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    flux_recipe = read_recipe(tmp_path / "flux.png")
    assert flux_recipe["steps"] == 50 and flux_recipe["guidance"] == 30.0 and flux_recipe["scheduler"] == "flow-euler"


def test_inpaint_errors_name_the_problem(tmp_path, tiny_catalog, inputs, monkeypatch, capsys):
    photo, mask_path, _, _ = inputs
    out = tmp_path / "out.png"
    base = ["inpaint", str(photo), str(mask_path), "-o", str(out)]
    here = {"catalog": tiny_catalog, "monkeypatch": monkeypatch, "capsys": capsys}

    code, _, err = retouch_here(*base, "--engine", "tiny-flux-fill", "--scheduler", "ddim", **here)
    assert code == 2 and "'ddim'" in err and "flow-euler" in err

    code, _, err = retouch_here(*base, "--engine", "sd99", **here)
    assert code == 2 and "sd99" in err and "tiny-sdxl" in err

    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("models:\n  - {name: absent, family: sd-inpaint, source: ./weights/absent}\n")
    absent = retouch(*base, "--engine", "absent", cwd=tmp_path, catalog=catalog)
    assert absent.returncode == 1
    assert absent.stderr.strip().splitlines() == [absent.stderr.strip()]  # one line, no traceback
    assert "'absent'" in absent.stderr and "does not exist" in absent.stderr
    assert not out.exists()


def _safetensors(path: Path, header: bytes) -> Path:
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 64)
    return path


@pytest.mark.parametrize(
    "header",
    [
        b'{"input_blocks.0.0.weight": {"dtype": "F16", "shape": [320, 9], "data_offsets": [0, 0]}}',
        b'{"model.diffusion_model.img_in.weight": {"dtype": "F16", "shape": [3072], "data_offsets": [0, 0]}}',
        b'{"input_blocks.0.0.weight": "a string where a tensor belongs"}',
        b'{"input_blocks.0.0.weight": {"dtype": "F16", "shape": ["320", 9, 3, 3]}}',
        b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
        b"[1, 2, 3]",
    ],
    ids=["shape-too-short", "flux-shape-too-short", "string-for-tensor", "string-in-shape", "deeply-nested", "list"],
)
def test_models_add_refuses_malformed_safetensors_headers_in_one_line(tmp_path, capsys, header):
    from retouch.cli import main

    model = _safetensors(tmp_path / "odd.safetensors", header)
    code = main(["models", "add", str(model), "--name", "odd", "--catalog", str(tmp_path / "catalog.yaml")])
    error = capsys.readouterr().err
    assert code == 2, error
    assert len(error.strip().splitlines()) == 1 and "odd.safetensors" in error
    assert not (tmp_path / "catalog.yaml").exists()


def test_models_add_refuses_a_folder_whose_weights_are_only_pickles(tmp_path, capsys):
    from retouch.cli import main

    folder = tmp_path / "pickled"
    (folder / "unet").mkdir(parents=True)
    (folder / "model_index.json").write_text('{"_class_name": "StableDiffusionInpaintPipeline"}')
    (folder / "unet" / "config.json").write_text('{"in_channels": 9}')
    (folder / "unet" / "diffusion_pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    code = main(["models", "add", str(folder), "--name", "pickled", "--catalog", str(tmp_path / "catalog.yaml")])
    error = capsys.readouterr().err
    assert code == 2 and "pickle" in error and "unet/" in error and len(error.strip().splitlines()) == 1
    assert not (tmp_path / "catalog.yaml").exists()
