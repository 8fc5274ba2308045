"""The `retouch` command as a user runs it: results on disk, one-line errors, exit code 2, nothing written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from retouch.imaging.io import read_recipe
from tests.support import encode, run_cli


@pytest.fixture
def files(tmp_path, astronaut, centre_mask) -> Path:
    """image.png (128x128) and mask.png (a 32x32 hole in the middle)."""
    (tmp_path / "image.png").write_bytes(encode(astronaut))
    (tmp_path / "mask.png").write_bytes(encode(centre_mask))
    return tmp_path


@pytest.fixture
def batch(tmp_path, astronaut, texture) -> Path:
    """pictures/{a.png,b.jpg,c.png} (128x128), masks/{a,b,c}.png matched by stem, and one-mask.png."""
    pictures, masks = tmp_path / "pictures", tmp_path / "masks"
    pictures.mkdir()
    masks.mkdir()
    (pictures / "a.png").write_bytes(encode(astronaut))
    (pictures / "b.jpg").write_bytes(encode(texture, "JPEG", quality=95))
    (pictures / "c.png").write_bytes(encode(astronaut[::-1].copy()))
    (pictures / "notes.txt").write_text("not a picture, not picked up")
    for stem, (y, x) in {"a": (10, 10), "b": (60, 70), "c": (90, 20)}.items():
        mask = np.zeros((128, 128), np.uint8)
        mask[y : y + 20, x : x + 20] = 255
        (masks / f"{stem}.png").write_bytes(encode(mask))
    one = np.zeros((128, 128), np.uint8)
    one[40:60, 40:60] = 255
    (tmp_path / "one-mask.png").write_bytes(encode(one))
    return tmp_path


def _png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image)


def _written(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_inpaint_writes_a_png_the_size_of_the_image(files, astronaut, centre_mask):
    out = files / "result.png"
    done = run_cli("inpaint", files / "image.png", files / "mask.png", "-o", out, "--seed", "5", "--engine", "telea")
    assert done.returncode == 0, done.stderr
    pixels = _png(out)
    assert pixels.shape == astronaut.shape
    hole = centre_mask > 0
    assert (pixels[hole] != astronaut[hole]).any(), "the hole was filled"
    far = np.ones((128, 128), bool)
    far[40:88, 40:88] = False
    np.testing.assert_array_equal(pixels[far], astronaut[far])
    assert read_recipe(out)["seed"] == 5
    assert "wrote" in done.stdout and "seed 5" in done.stdout


def test_inpaint_with_every_option(files, astronaut):
    out = files / "sub" / "result.png"
    done = run_cli(
        "inpaint", files / "image.png", files / "mask.png", "-o", out,
        "--engine", "patchmatch", "--bbox", "auto", "--padding", "16", "--infill", "tile", "--scale", "none",
        "--feather", "6", "--grow", "2", "--seed", "9", "--prompt", "brick wall", "--color-match",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    recipe = read_recipe(out)
    assert recipe["engine"] == "patchmatch" and recipe["seed"] == 9 and recipe["scale"]["mode"] == "none"
    # what did nothing is not recorded: patchmatch takes no prompt, and the box held no empty pixels to infill
    assert "prompt" not in recipe and "infill" not in recipe and "steps" not in recipe
    assert (recipe["feather"], recipe["grow"], recipe["padding"], recipe["color_match"]) == (6, 2, 16, True)
    assert recipe["bbox"] == {"x": 30, "y": 30, "width": 68, "height": 68}  # (48..80 grown by 2) + 16
    assert _png(out).shape == astronaut.shape


def test_same_seed_same_file(files):
    for name in ("one.png", "two.png"):
        done = run_cli("inpaint", files / "image.png", files / "mask.png", "-o", files / name, "--seed", "3")
        assert done.returncode == 0, done.stderr
    assert (files / "one.png").read_bytes() == (files / "two.png").read_bytes()


def test_batch_with_masks_matched_by_stem(batch):
    out = batch / "out"
    done = run_cli("inpaint", batch / "pictures", batch / "masks", "-o", out, "--engine", "telea", "--seed", "1")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "c.png"]
    a = _png(out / "a.png")
    original = np.asarray(Image.open(batch / "pictures" / "a.png"))
    assert (a[10:30, 10:30] != original[10:30, 10:30]).any(), "a's own mask was used"
    np.testing.assert_array_equal(a[60:100, 60:100], original[60:100, 60:100])
    assert "3/3" in done.stderr, "a progress bar on stderr"
    assert "wrote 3 pictures" in done.stdout


def test_batch_with_one_mask_for_all(batch):
    out = batch / "out"
    done = run_cli("inpaint", batch / "pictures", batch / "one-mask.png", "-o", out, "--engine", "telea")
    assert done.returncode == 0, done.stderr
    for name in ("a", "c"):
        original = np.asarray(Image.open(batch / "pictures" / f"{name}.png"))
        result = _png(out / f"{name}.png")
        assert (result[40:60, 40:60] != original[40:60, 40:60]).any()
        np.testing.assert_array_equal(result[80:], original[80:])
    assert "3/3" in done.stderr


def test_engines_lists_the_three_engines():
    done = run_cli("engines")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    names = {line.split()[0] for line in lines[1:]}
    assert names == {"patchmatch", "telea", "navier-stokes"}
    assert all(" no " in line for line in lines[1:]), "none of them needs weights"


def test_engines_json():
    done = run_cli("engines", "--json")
    rows = json.loads(done.stdout)
    assert {row["name"] for row in rows} == {"patchmatch", "telea", "navier-stokes"}


BAD_INPUT = {
    "missing image": (["{d}/nope.png", "{d}/mask.png"], r"image '.*nope\.png' does not exist"),
    "missing mask": (["{d}/image.png", "{d}/nope.png"], r"mask '.*nope\.png' does not exist"),
    "bad bbox text": (["{d}/image.png", "{d}/mask.png", "--bbox", "1,2,3"], r"bbox must be X,Y,W,H .* got '1,2,3'"),
    "negative bbox": (["{d}/image.png", "{d}/mask.png", "--bbox", "-1,0,5,5"], r"bbox|x: .*greater than or equal to 0"),
    "box outside": (
        ["{d}/image.png", "{d}/mask.png", "--bbox", "100,0,64,64"],
        r"bbox 100,0,64,64 reaches outside the 128x128",
    ),
    "unknown engine": (
        ["{d}/image.png", "{d}/mask.png", "--engine", "magic"],
        r"engine 'magic' is unknown; available:",
    ),
    "unknown infill": (["{d}/image.png", "{d}/mask.png", "--infill", "smudge"], r"--infill: invalid choice: 'smudge'"),
    "bad scale": (["{d}/image.png", "{d}/mask.png", "--scale", "big"], r"scale must be none, auto or WxH .*'big'"),
    "bad seed": (
        ["{d}/image.png", "{d}/mask.png", "--seed", "99999999999"],
        r"seed: .*less than or equal to 4294967295",
    ),
    "mask size": (["{d}/image.png", "{d}/small-mask.png"], r"mask 'small-mask\.png' is 64x64 but the image is 128x128"),
    "empty mask": (["{d}/image.png", "{d}/empty-mask.png"], r"nothing to fill"),
    "not an image": (["{d}/notes.png", "{d}/mask.png"], r"not an image"),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_is_one_line_exit_2_nothing_written(case, files):
    (files / "small-mask.png").write_bytes(encode(np.zeros((64, 64), np.uint8)))
    (files / "empty-mask.png").write_bytes(encode(np.zeros((128, 128), np.uint8)))
    (files / "notes.png").write_text("just text")
    before = _written(files)
    args, message = BAD_INPUT[case]

    done = run_cli("inpaint", *[a.format(d=files) for a in args], "-o", files / "out" / "result.png")

    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, f"one line, got: {done.stderr!r}"
    assert lines[0].startswith("retouch")
    assert re.search(message, lines[0]), lines[0]
    assert _written(files) == before, "nothing written"
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("image.png/result.png", r"cannot create output folder '.*image\.png'"),
        ("/proc/result.png", r"cannot write output '/proc/result\.png'"),
        (".", r"output '\.' is a folder; give a file name such as out\.png"),
    ],
)
def test_an_output_that_cannot_be_written_is_one_line(output, message, files):
    before = _written(files)
    done = run_cli("inpaint", files / "image.png", files / "mask.png", "-o", output, "--engine", "telea", cwd=files)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), done.stderr
    assert _written(files) == before


def test_a_batch_into_a_file_is_refused(batch):
    (batch / "taken.png").write_bytes(b"x")
    done = run_cli("inpaint", batch / "pictures", batch / "masks", "-o", batch / "taken.png")
    assert done.returncode == 2
    assert "is a file; a batch needs a folder" in done.stderr
    assert (batch / "taken.png").read_bytes() == b"x"


def test_one_corrupt_picture_in_a_batch_stops_everything(batch):
    data = (batch / "pictures" / "b.jpg").read_bytes()
    (batch / "pictures" / "b.jpg").write_bytes(data[: len(data) // 2])
    before = _written(batch)
    done = run_cli("inpaint", batch / "pictures", batch / "masks", "-o", batch / "out", "--engine", "telea")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "b.jpg" in lines[0] and "truncated" in lines[0], done.stderr
    assert _written(batch) == before, "nothing written, not even the pictures before the bad one"


def test_a_batch_with_one_picture_the_box_does_not_fit_writes_nothing(batch, texture):
    (batch / "pictures" / "c.png").write_bytes(encode(texture[:100, :100].copy()))
    (batch / "masks" / "c.png").write_bytes(encode(np.full((100, 100), 255, np.uint8)))
    before = _written(batch)
    done = run_cli(
        "inpaint",
        batch / "pictures",
        batch / "masks",
        "-o",
        batch / "out",
        "--engine",
        "telea",
        "--bbox",
        "0,0,120,120",
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "c.png" in lines[0] and "reaches outside the 100x100" in lines[0], done.stderr
    assert _written(batch) == before


def test_a_batch_with_one_fully_masked_picture_writes_nothing(batch):
    (batch / "masks" / "c.png").write_bytes(encode(np.full((128, 128), 255, np.uint8)))
    before = _written(batch)
    done = run_cli("inpaint", batch / "pictures", batch / "masks", "-o", batch / "out", "--engine", "patchmatch")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "c.png" in lines[0] and "no unmasked 3x3 area in the 128x128 box" in lines[0], (
        done.stderr
    )
    assert _written(batch) == before


def test_a_batch_mask_of_another_size_names_the_file(batch):
    (batch / "masks" / "b.png").write_bytes(encode(np.zeros((50, 50), np.uint8)))
    before = _written(batch)
    done = run_cli("inpaint", batch / "pictures", batch / "masks", "-o", batch / "out")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "b.png" in lines[0] and "50x50" in lines[0], done.stderr
    assert _written(batch) == before


def test_a_batch_never_overwrites_its_inputs(batch):
    before = {p: p.read_bytes() for p in (batch / "pictures").iterdir()}
    done = run_cli("inpaint", batch / "pictures", batch / "masks", "-o", batch / "pictures", "--engine", "telea")
    assert done.returncode == 2
    assert "would overwrite the input" in done.stderr and "a.png" in done.stderr, done.stderr
    assert {p: p.read_bytes() for p in (batch / "pictures").iterdir()} == before


def test_a_batch_with_two_pictures_of_one_stem_is_refused(batch, astronaut):
    (batch / "pictures" / "a.jpg").write_bytes(encode(astronaut, "JPEG"))
    before = _written(batch)
    done = run_cli("inpaint", batch / "pictures", batch / "one-mask.png", "-o", batch / "out", "--engine", "telea")
    assert done.returncode == 2
    assert "a.jpg and a.png would both be written to" in done.stderr, done.stderr
    assert _written(batch) == before


def test_a_batch_with_two_masks_for_one_picture_is_refused(batch):
    (batch / "masks" / "b.jpg").write_bytes(encode(np.zeros((128, 128), np.uint8), "JPEG"))
    done = run_cli("inpaint", batch / "pictures", batch / "masks", "-o", batch / "out", "--engine", "telea")
    assert done.returncode == 2
    assert "more than one mask" in done.stderr and "b.jpg, b.png" in done.stderr, done.stderr
    assert not (batch / "out").exists()


def test_one_mask_for_all_that_does_not_fit_a_picture_names_the_picture(batch, texture):
    (batch / "pictures" / "d.png").write_bytes(encode(texture[:100, :90].copy()))
    before = _written(batch)
    done = run_cli("inpaint", batch / "pictures", batch / "one-mask.png", "-o", batch / "out")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == ["retouch: error: d.png: mask 'one-mask.png' is 128x128 but the image is 90x100; they must match"]
    assert _written(batch) == before


def test_a_batch_picture_without_a_mask_is_named(batch):
    (batch / "masks" / "c.png").unlink()
    done = run_cli("inpaint", batch / "pictures", batch / "masks", "-o", batch / "out")
    assert done.returncode == 2
    assert "no mask in" in done.stderr and "c.png" in done.stderr
    assert not (batch / "out").exists()
