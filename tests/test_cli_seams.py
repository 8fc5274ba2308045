"""`retouch seams` and `retouch inpaint --seam-pass` as a user runs them."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from retouch.imaging.io import read_recipe
from tests.support import ellipse_mask, encode, photo, run_cli, stroke_over_edge, tinted_paste


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seams")
    picture = photo("coffee")
    mask = ellipse_mask(picture.shape)
    (folder / "seamed.png").write_bytes(encode(tinted_paste(picture, mask)))
    (folder / "mask.png").write_bytes(encode(mask))
    (folder / "stroke.png").write_bytes(encode(stroke_over_edge(mask)))
    (folder / "photo.png").write_bytes(encode(picture))
    (folder / "empty.png").write_bytes(encode(np.zeros(mask.shape, np.uint8)))
    return folder


def test_seams_prints_the_score_before_and_after_each_pass(files):
    out = files / "out.png"
    done = run_cli("seams", files / "seamed.png", files / "mask.png", "-o", out, "--seed", "3")
    assert done.returncode == 0, done.stderr
    passes = re.findall(r"pass (\d) of 6, seam (\d+\.\d+) → (\d+\.\d+)", done.stdout)  # 3 rounds of 2 steps
    assert passes and passes[0][0] == "1"
    before, after = float(passes[0][1]), float(passes[0][2])
    assert before > 1.4 and after < before / 1.5
    assert "engine poisson: " in done.stdout and "passes kept (tone" in done.stdout, "the weight-free default"
    recipe = read_recipe(out.read_bytes())
    assert recipe["kind"] == "seams" and recipe["pass_scores"][0]["score"] == pytest.approx(after, abs=0.005)
    assert np.asarray(Image.open(out)).shape == np.asarray(Image.open(files / "seamed.png")).shape


def test_seams_takes_engine_band_passes_and_target(files):
    out = files / "telea.png"
    done = run_cli(
        "seams",
        files / "seamed.png",
        files / "mask.png",
        "-o",
        out,
        "--engine",
        "telea",
        "--band",
        "4",
        "--passes",
        "2",
        "--target",
        "0.6",
    )
    assert done.returncode == 0, done.stderr
    recipe = read_recipe(out.read_bytes())
    assert (recipe["engine"], recipe["band"], recipe["passes"], recipe["target"]) == ("telea", 4, 2, 0.6)
    assert 1 <= len(recipe["pass_scores"]) <= 4  # 2 rounds of 2 steps at most


def test_seams_repairs_a_painted_stroke(files):
    out = files / "painted.png"
    done = run_cli("seams", files / "seamed.png", files / "stroke.png", "-o", out, "--painted")
    assert done.returncode == 0, done.stderr
    recipe = read_recipe(out.read_bytes())
    assert recipe["painted"] is True and recipe["seam"]["score"] < recipe["seam_before"]["score"]
    stroke = np.asarray(Image.open(files / "stroke.png"))
    before, after = np.asarray(Image.open(files / "seamed.png")), np.asarray(Image.open(out))
    np.testing.assert_array_equal(after[stroke == 0], before[stroke == 0])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--band", "150"], "band: 150 px is wider than the 300x200 picture allows (at most 99 px)"),
        (["--passes", "0"], "passes"),
        (["--engine", "nope"], "'nope' is unknown"),
    ],
)
def test_bad_seams_input_exits_2_and_writes_nothing(files, args, words):
    out = files / "bad.png"
    done = run_cli("seams", files / "seamed.png", files / "mask.png", "-o", out, *args)
    assert done.returncode == 2 and words in done.stderr and not out.exists()


def test_a_mask_without_boundary_exits_2(files):
    done = run_cli("seams", files / "seamed.png", files / "empty.png", "-o", files / "none.png")
    assert done.returncode == 2 and "no boundary to repair (it is empty)" in done.stderr
    assert not (files / "none.png").exists()


def test_inpaint_reports_the_seam_and_repairs_it_on_request(files):
    out = files / "filled.png"
    plain = run_cli("inpaint", files / "photo.png", files / "mask.png", "-o", out, "--engine", "telea", "--seed", "1")
    assert plain.returncode == 0 and re.search(r"seam \d+\.\d+\)", plain.stdout), plain.stdout
    assert read_recipe(out.read_bytes())["seam"]["length"] > 100
    repaired = run_cli(
        "inpaint", files / "photo.png", files / "mask.png", "-o", out, "--engine", "telea", "--seed", "1", "--seam-pass"
    )
    assert repaired.returncode == 0, repaired.stderr
    recipe = read_recipe(out.read_bytes())
    assert recipe["seam_pass"] is True and "seam_before_passes" in recipe
