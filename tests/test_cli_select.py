"""`retouch select`: a mask file from a box or clicks, with GrabCut or a registered segment-anything model."""

from __future__ import annotations

import numpy as np
from PIL import Image

from retouch.imaging.select import iou
from tests.select_scenes import cat_on
from tests.support import run_cli


def test_select_writes_the_objects_mask_and_refuses_bad_input(tmp_path):
    picture, truth, (x, y, w, h) = cat_on("rocket")
    Image.fromarray(picture).save(tmp_path / "scene.png")
    out = tmp_path / "mask.png"
    done = run_cli("select", tmp_path / "scene.png", "--box", f"{x},{y},{w},{h}", "-o", out)
    assert done.returncode == 0, done.stderr
    mask = np.asarray(Image.open(out))
    assert mask.shape == truth.shape and iou(mask, truth) >= 0.9
    assert "by grabcut" in done.stderr
    for bad, message in [
        (["--point", "640,10"], "points[0]: (640, 10) is off the 640x427 picture"),
        (["--box", "10,10,0,4"], "--box: width: Input should be greater than or equal to 1"),
        (["--point", "5,5", "--model", "sam-h"], "model: 'sam-h' is not a selection model"),
    ]:
        refused = run_cli("select", tmp_path / "scene.png", *bad, "-o", tmp_path / "bad.png")
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr
    assert not (tmp_path / "bad.png").exists()


def test_select_with_a_registered_segment_anything_model(tmp_path, sam_catalog):
    picture, truth, _ = cat_on("coffee")
    Image.fromarray(picture).save(tmp_path / "scene.png")
    listed = run_cli("models", "--catalog", sam_catalog)
    assert listed.returncode == 0 and "tiny-sam" in listed.stdout and "sam" in listed.stdout
    done = run_cli(
        "select", tmp_path / "scene.png", "--point", "150,170", "--model", "tiny-sam", "--catalog", sam_catalog,
        "-o", tmp_path / "mask.png",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert np.asarray(Image.open(tmp_path / "mask.png")).shape == truth.shape  # the picture's size
    assert "by tiny-sam" in done.stderr and "score" in done.stderr
