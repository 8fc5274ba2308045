"""`retouch faces` as a user runs it: find the faces, or fix them in a picture or a folder."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from skimage import data

from retouch.imaging.io import read_recipe
from tests.faces_scenes import ASTRONAUT_FACE, group, iou
from tests.support import run_cli

FIX = ("--engine", "tiny-sd-inpaint", "--steps", "4", "--strength", "0.5")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    Image.fromarray(data.astronaut()[::2, ::2]).save(folder / "astronaut.png")
    Image.fromarray(group(data.chelsea(), [("astronaut", 48, (300, 40))])[0]).save(folder / "cat-and-friend.png")
    return folder


def test_detect_prints_the_boxes_as_json(photos):
    done = run_cli("faces", photos / "astronaut.png", "--detect", "--json")
    assert done.returncode == 0, done.stderr
    [face] = json.loads(done.stdout)
    assert set(face) == {"x", "y", "width", "height", "score"}
    half = tuple(v // 2 for v in ASTRONAUT_FACE)
    assert iou((face["x"], face["y"], face["width"], face["height"]), half) > 0.7


def test_detect_on_a_faceless_photo_prints_an_empty_list(tmp_path):
    Image.fromarray(data.coffee()).save(tmp_path / "coffee.jpg")
    done = run_cli("faces", tmp_path / "coffee.jpg", "--detect", "--json")
    assert done.returncode == 0 and json.loads(done.stdout) == []


def test_fix_writes_the_picture_with_only_the_face_changed(photos, tmp_path, tiny_catalog):
    out = tmp_path / "fixed.png"
    options = (*FIX, "--seed", "9", "--prompt", "a smile", "--catalog", tiny_catalog)
    done = run_cli("faces", photos / "cat-and-friend.png", "-o", out, *options)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {out} (1 face, tiny-sd-inpaint, seed 9)"
    before = np.asarray(Image.open(photos / "cat-and-friend.png"))
    after = np.asarray(Image.open(out))
    assert np.array_equal(after[:, :250], before[:, :250]) and np.array_equal(after[200:], before[200:])
    assert not np.array_equal(after, before)
    recipe = read_recipe(out)
    [face] = recipe["faces"]
    assert face["prompt"] == "a smile" and face["working_size"] == {"width": 64, "height": 64}


def test_a_folder_is_fixed_picture_by_picture_and_a_faceless_one_is_named(photos, tmp_path, tiny_catalog, capsys):
    from retouch.cli import main

    Image.fromarray(data.coffee()).save(tmp_path / "coffee.png")
    folder = tmp_path / "in"
    folder.mkdir()
    for path in [*photos.iterdir(), tmp_path / "coffee.png"]:
        (folder / path.name).write_bytes(path.read_bytes())
    # in this process (the command's start-up is the single picture's test)
    code = main(["faces", str(folder), "-o", str(tmp_path / "out"), *map(str, FIX), "--catalog", str(tiny_catalog)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["astronaut.png", "cat-and-friend.png"]
    assert "wrote 2 pictures" in out and "no faces found in 1, not written: coffee.png" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--engine", "telea"), "engine: 'telea' cannot fix faces"),
        (("--engine", "tiny-sd", "--box", "250,0,40,40"), "faces[0]: box 250,0,40,40 reaches outside the 256x256"),
        (("--engine", "tiny-sd", "--strength", "1.5"), "strength: Input should be less than or equal to 1"),
        ((), "give a diffusion model"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(photos, tmp_path, tiny_catalog, args, message):
    out = tmp_path / "out.png"
    done = run_cli("faces", photos / "astronaut.png", "-o", out, *args, "--catalog", tiny_catalog)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_fixing_needs_an_output_and_detecting_writes_none(photos, tmp_path):
    done = run_cli("faces", photos / "astronaut.png")
    assert done.returncode == 2 and "-o/--output is required" in done.stderr
    done = run_cli("faces", photos / "astronaut.png", "--detect", "-o", tmp_path / "x.png")
    assert done.returncode == 2 and "--detect prints the faces" in done.stderr
