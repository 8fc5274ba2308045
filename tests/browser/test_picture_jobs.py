"""Whole-picture jobs in the canvas (issues 10 and 11), in real Chromium against a real server: Upscale replaces
the open picture with its mask (undoably, and the document keeps it over a reload); Faces finds the faces of a
real photograph as numbered boxes the user corrects, Fix faces sends exactly those boxes in one job, and its
result is staged, judged before/after and accepted undoably."""

from __future__ import annotations

import io
import json
import re

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import Canvas, save_png, test_picture
from tests.browser.engines import prompt_colour
from tests.faces_scenes import rocket_group

pytestmark = pytest.mark.browser


def near(a, b, tolerance: int) -> bool:
    return bool(np.all(np.abs(np.asarray(a, int) - np.asarray(b, int)) <= tolerance))


def seen(canvas: Canvas, points: list[tuple[int, int]]) -> list[np.ndarray]:
    """The colours the user sees at picture points, from one screenshot (the view shows the picture at 100 %)."""
    assert canvas.page.get_by_test_id("zoom").inner_text() == "100 %", "the test reads screen pixels as picture pixels"
    ox, oy = canvas.screen_of((0, 0))  # the middle of the picture's first pixel
    shot = np.asarray(Image.open(io.BytesIO(canvas.page.screenshot())).convert("RGB"))
    return [shot[int(oy + y), int(ox + x)].astype(int) for x, y in points]


def tinted(canvas: Canvas, points: list[tuple[int, int]], picture: np.ndarray) -> list[bool]:
    """Whether the mask's red tint shows over each picture point (`picture`: the colours under the mask)."""
    return [colour[0] > int(picture[y, x, 0]) + 40 for colour, (x, y) in zip(seen(canvas, points), points, strict=True)]


def painted(canvas: Canvas, points: list[tuple[int, int]]) -> list[bool]:
    """Whether the paint's blue (#3a7bd5) shows at each picture point."""
    return [near(colour, (0x3A, 0x7B, 0xD5), 30) for colour in seen(canvas, points)]


def test_upscale_scales_the_picture_with_its_mask_and_paint_and_undo_brings_them_back(canvas: Canvas, tmp_path):
    page = canvas.page
    original = test_picture(160, 120)
    canvas.open(save_png(original, tmp_path / "photo.png"))
    canvas.set_field("brush-size", "10")
    page.get_by_test_id("tool-brush").click()
    canvas.stroke([canvas.screen_of((40, 30)), canvas.screen_of((60, 30))])  # a mask over (35..65, 25..35)
    page.get_by_test_id("tool-paint").click()
    canvas.stroke([canvas.screen_of((40, 80)), canvas.screen_of((60, 80))])  # blue paint over (35..65, 75..85)
    assert tinted(canvas, [(50, 30), (50, 100)], original) == [True, False]
    assert painted(canvas, [(50, 80), (50, 100)]) == [True, False]
    paint_layer = page.get_by_test_id("layer-paint-visible")

    assert page.get_by_test_id("upscale-model").input_value() == "lanczos"
    canvas.set_field("upscale-factor", "2")
    assert page.get_by_test_id("upscale-note").inner_text() == "160×120 → 320×240"
    page.get_by_test_id("upscale").click()
    page.get_by_test_id("picture-size").filter(has_text="320×240").wait_for()

    # the mask and the paint went along: over the same part of the picture, now twice as large
    assert painted(canvas, [(100, 160), (100, 200)]) == [True, False]
    paint_layer.uncheck()  # the picture alone: the paint is a layer of its own, not upscaled into it
    upscaled = canvas.download(tmp_path)
    assert upscaled.shape[:2] == (240, 320)
    # the server's Lanczos of the picture, to within rounding
    expected = cv2.resize(original, (320, 240), interpolation=cv2.INTER_LANCZOS4)
    assert near(upscaled[..., :3], expected, 1)
    assert tinted(canvas, [(100, 60), (100, 200)], upscaled) == [True, False]
    assert page.get_by_test_id("bbox-size").inner_text().startswith("box 320×240")

    page.evaluate("window.retouch.saved()")  # the upscaled document and its undo step are kept over a reload
    page.reload()
    page.locator("body[data-restored=true]").wait_for()
    assert page.get_by_test_id("picture-size").inner_text().startswith("320×240")

    canvas.focus()
    page.keyboard.press("Control+z")
    page.get_by_test_id("picture-size").filter(has_text="160×120").wait_for()
    assert np.array_equal(canvas.download(tmp_path)[..., :3], original), "undo did not bring the picture back exactly"
    assert tinted(canvas, [(50, 30), (100, 60)], original) == [True, False]
    paint_layer.check()
    assert painted(canvas, [(50, 80), (50, 100)]) == [True, False]
    paint_layer.uncheck()
    assert page.get_by_test_id("bbox-size").inner_text().startswith("box 160×120")

    page.keyboard.press("Control+Shift+z")
    page.get_by_test_id("picture-size").filter(has_text="320×240").wait_for()
    assert np.array_equal(canvas.download(tmp_path), upscaled)

    # a model is offered here (not as a fill engine), at its own factor and no more
    assert page.locator("[data-testid=engine-select] option[value=pixels-x2]").count() == 0
    canvas.set_field("upscale-model", "pixels-x2")
    factor = page.get_by_test_id("upscale-factor")
    assert factor.input_value() == "2" and factor.get_attribute("max") == "2"
    page.get_by_test_id("upscale").click()
    page.get_by_test_id("picture-size").filter(has_text="640×480").wait_for()
    assert np.array_equal(canvas.download(tmp_path)[..., :3], upscaled[..., :3].repeat(2, 0).repeat(2, 1))


def face_screen_box(page, index: int) -> dict:
    return page.get_by_test_id("face-box").nth(index).bounding_box()


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=6)
    page.mouse.up()


def test_faces_are_found_corrected_fixed_in_one_job_and_staged(canvas: Canvas, tmp_path):
    page = canvas.page
    picture, _ = rocket_group()  # a 640x427 photograph with four faces of 40 to 96 px
    canvas.open(save_png(picture, tmp_path / "group.png"))
    canvas.set_field("engine-select", "slow-face")
    canvas.set_field("steps", "10")
    canvas.set_field("strength", "0.5")
    with page.expect_response("**/api/v1/faces") as answer:
        page.get_by_test_id("faces-find").click()
    found = answer.value.json()["faces"]
    assert len(found) == 4, found  # the four faces pasted
    boxes = page.get_by_test_id("face-box")
    boxes.nth(len(found) - 1).wait_for()
    assert boxes.count() == len(found)
    assert [boxes.nth(i).get_by_test_id("face-number").inner_text() for i in range(len(found))] == [
        str(i + 1) for i in range(len(found))
    ]
    assert page.get_by_test_id("zoom").inner_text() == "100 %", "the test reads screen pixels as picture pixels"
    ox, oy = canvas.screen_of((0, 0))

    def screen(x: float, y: float) -> tuple[float, float]:
        return ox + x, oy + y

    # where face 1 is on the screen is where the detector put it
    first = face_screen_box(page, 0)
    assert abs(first["x"] - (ox - 0.5 + found[0]["x"])) <= 2, (first, found[0])

    # face 2 off; face 1 moved by (6, -4); face 3 made 10 px wider and 8 taller from its corner; a new face drawn
    page.get_by_test_id("face-toggle").nth(1).uncheck()
    assert boxes.nth(1).get_attribute("data-enabled") == "false"
    fourth = face_screen_box(page, 3)  # a click on a box switches it off, and on again
    page.mouse.click(fourth["x"] + fourth["width"] / 2, fourth["y"] + fourth["height"] / 2)
    assert boxes.nth(3).get_attribute("data-enabled") == "false"
    assert not page.get_by_test_id("face-toggle").nth(3).is_checked()
    page.mouse.click(fourth["x"] + fourth["width"] / 2, fourth["y"] + fourth["height"] / 2)
    assert boxes.nth(3).get_attribute("data-enabled") == "true"
    drag(
        page,
        (first["x"] + first["width"] / 2, first["y"] + first["height"] / 2),
        (first["x"] + first["width"] / 2 + 6, first["y"] + first["height"] / 2 - 4),
    )
    third = face_screen_box(page, 2)
    corner = (third["x"] + third["width"] - 1, third["y"] + third["height"] - 1)
    drag(page, corner, (corner[0] + 10, corner[1] + 8))
    new_at = canvas.picture_point(screen(500, 20))
    drag(page, screen(500, 20), screen(540, 64))
    assert boxes.count() == len(found) + 1
    assert boxes.nth(len(found)).get_by_test_id("face-number").inner_text() == str(len(found) + 1)
    prompts = page.get_by_test_id("face-prompt")
    prompts.nth(0).fill("a smiling astronaut")
    prompts.nth(len(found)).fill("a drawn face")
    canvas.set_field("prompt", "a face")

    with page.expect_request("**/api/v1/jobs") as request:
        page.get_by_test_id("faces-fix").click()
    body = json.loads(request.value.post_data)
    f0, f2 = found[0], found[2]
    expected = [
        {
            "x": f0["x"] + 6,
            "y": f0["y"] - 4,
            "width": f0["width"],
            "height": f0["height"],
            "prompt": "a smiling astronaut",
        },
        {"x": f2["x"], "y": f2["y"], "width": f2["width"] + 10, "height": f2["height"] + 8},
        *[{k: f[k] for k in ("x", "y", "width", "height")} for f in found[3:]],
        {"x": new_at[0], "y": new_at[1], "width": 40, "height": 44, "prompt": "a drawn face"},
    ]
    assert body["kind"] == "faces" and body["engine"] == "slow-face" and body["strength"] == 0.5
    assert body["prompt"] == "a face" and body["steps"] == 10
    assert body["faces"] == expected
    # progress over the whole job, face by face
    page.locator("#progress-label").filter(
        has_text=re.compile(rf"face \d of {len(expected)}, step \d+ of 10")
    ).wait_for()
    canvas.wait_staged()
    page.get_by_test_id("progress").wait_for(state="hidden")

    def centre(box: dict) -> tuple[int, int]:
        return box["x"] + box["width"] // 2, box["y"] + box["height"] // 2

    # each face in its prompt's colour, the one switched off as it was
    off = centre(found[1])
    one, three, drawn, second = seen(canvas, [centre(expected[0]), centre(expected[1]), centre(expected[-1]), off])
    assert near(one, prompt_colour("a smiling astronaut"), 3)
    assert near(three, prompt_colour("a face"), 3)
    assert near(drawn, prompt_colour("a drawn face"), 3)
    assert near(second, picture[off[1], off[0]], 2)
    canvas.focus()
    page.keyboard.down("Backslash")  # before: the picture as it was
    (before,) = seen(canvas, [centre(expected[0])])
    page.keyboard.up("Backslash")
    assert near(before, picture[centre(expected[0])[::-1]], 2)

    page.get_by_test_id("staging-accept").click()
    page.get_by_test_id("staging-accept").wait_for(state="hidden")
    fixed = canvas.download(tmp_path)[..., :3]
    reach = 4 + 8  # each face's mask grows by 4 px and is feathered over 8 (the job's defaults)
    outside = np.ones(picture.shape[:2], bool)
    for box in expected:
        outside[max(0, box["y"] - reach) : box["y"] + box["height"] + reach,
                max(0, box["x"] - reach) : box["x"] + box["width"] + reach] = False  # fmt: skip
    assert np.array_equal(fixed[outside], picture[outside]), "pixels outside the faces changed"
    assert not np.array_equal(fixed, picture)
    canvas.focus()
    page.keyboard.press("Control+z")
    assert np.array_equal(canvas.download(tmp_path)[..., :3], picture), "undo did not bring the picture back"


def test_a_picture_without_faces_says_so_and_classical_engines_cannot_fix_faces(canvas: Canvas, tmp_path):
    page = canvas.page
    canvas.open(save_png(test_picture(240, 160), tmp_path / "gradient.png"))
    page.get_by_test_id("faces-find").click()
    note = page.get_by_test_id("faces-note")
    note.filter(has_text="No faces found").wait_for()
    assert note.is_visible()
    assert page.get_by_test_id("face-box").count() == 0
    assert page.get_by_test_id("faces-fix").is_disabled()

    # a face drawn by hand can be fixed, but not by a classical fill
    ox, oy = canvas.screen_of((0, 0))
    drag(page, (ox + 40, oy + 40), (ox + 100, oy + 110))
    assert page.get_by_test_id("face-box").count() == 1
    canvas.set_field("engine-select", "patchmatch")
    fix = page.get_by_test_id("faces-fix")
    assert fix.is_disabled()
    assert "slow-face" in page.get_by_test_id("faces-engine").inner_text()
    assert "cannot fix faces" in fix.get_attribute("title")
    # a face restorer alone fixes faces too: the job names it and no diffusion model
    canvas.set_field("face-restorer", "unsharp-faces")
    assert fix.is_enabled()
    with page.expect_request("**/api/v1/jobs") as request:
        fix.click()
    body = json.loads(request.value.post_data)
    assert body["restorer"] == "unsharp-faces" and "engine" not in body and len(body["faces"]) == 1
    canvas.wait_staged()
    page.get_by_test_id("staging-discard").click()
    canvas.set_field("face-restorer", "")
    assert fix.is_disabled()
    canvas.set_field("engine-select", "slow-face")
    assert fix.is_enabled()

    # the boxes and what the search said belong to that picture: another picture starts without them
    canvas.open(save_png(test_picture(200, 100), tmp_path / "other.png"))
    page.get_by_test_id("picture-size").filter(has_text="200×100").wait_for()
    assert page.get_by_test_id("face-box").count() == 0
    assert not note.is_visible()
