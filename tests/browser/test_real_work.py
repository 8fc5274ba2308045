"""The canvas for real work (issue 13), in real Chromium against a real server: nothing is lost on reload,
an invoke sends only the mask, results can be judged (before/after, the mask steps aside), keys work
after a dropdown, a paint layer reaches the result, settings show where they act, downloads keep the
photo's metadata and recipes can be recalled, the box behaves as InvokeAI's does."""

from __future__ import annotations

import io
import json
import re

import httpx
import numpy as np
import pytest
from PIL import Image

from retouch.imaging.io import read_recipe
from tests.browser.conftest import Canvas, save_png, test_picture

pytestmark = pytest.mark.browser

STROKE = [(226.0, 186.0), (286.0, 200.0)]


def paint_mask(canvas: Canvas, size: int = 36, points=STROKE) -> None:
    canvas.set_field("brush-size", str(size))
    canvas.page.get_by_test_id("tool-brush").click()
    canvas.stroke([canvas.screen_of(p) for p in points])


def invoke_and_stage(canvas: Canvas, engine: str = "telea") -> None:
    canvas.set_field("engine-select", engine)
    canvas.invoke()
    canvas.wait_staged()


def near(a, b, tolerance: int = 12) -> bool:
    return bool(np.all(np.abs(np.asarray(a, int) - np.asarray(b, int)) <= tolerance))


# --- 1. nothing is lost ----------------------------------------------------------------------------------


def test_reload_restores_the_document_and_the_gallery_lists_results(canvas: Canvas, tmp_path):
    page = canvas.page
    original = test_picture()
    canvas.open(save_png(original, tmp_path / "photo.png"))
    paint_mask(canvas)
    invoke_and_stage(canvas)
    page.get_by_test_id("staging-accept").click()
    page.get_by_test_id("staging-accept").wait_for(state="hidden")
    accepted = canvas.download(tmp_path)
    paint_mask(canvas, points=[(100.0, 100.0), (140.0, 110.0)])  # a second stroke, then a staged result
    invoke_and_stage(canvas)
    box_before = page.get_by_test_id("bbox-size").inner_text()
    page.evaluate("window.retouch.saved()")

    page.reload()
    page.locator("body[data-restored=true]").wait_for()
    assert page.get_by_test_id("picture-size").inner_text().startswith("512×384")
    assert page.get_by_test_id("bbox-size").inner_text() == box_before
    page.get_by_test_id("staging-count").filter(has_text="1 / 1").wait_for()  # the staged result is back
    page.get_by_test_id("staging-discard").click()
    assert np.array_equal(canvas.download(tmp_path), accepted), "the picture came back changed"
    tinted = canvas.pixel((120, 105))  # the second stroke's mask is back, shown over the picture
    assert tinted[0] > accepted[105, 120, 0] + 40, f"the mask did not come back: {tinted}"
    canvas.focus()
    page.keyboard.press("Control+z")  # undo history survived: the second stroke goes
    page.keyboard.press("Control+z")  # then the accepted result
    assert np.array_equal(canvas.download(tmp_path)[..., :3], original)

    # the gallery lists both results with a thumbnail, engine and time; one can be staged again
    first, second = page.evaluate("window.retouch.state().jobOrder.slice().reverse()")  # this test's jobs
    items = page.get_by_test_id("gallery-item")
    items.nth(1).wait_for()
    newest = items.first
    assert newest.get_attribute("data-job-id") == second
    assert "telea" in newest.inner_text() and "photo" in newest.inner_text()
    page.wait_for_function("document.querySelector('[data-testid=gallery-item] img').naturalWidth > 0", timeout=10_000)
    page.locator(f"[data-testid=gallery-item][data-job-id='{first}']").get_by_test_id("gallery-stage").click()
    page.get_by_test_id("staging-count").filter(has_text="1 / 1").wait_for()
    page.get_by_test_id("staging-accept").click()
    page.get_by_test_id("staging-accept").wait_for(state="hidden")
    assert np.array_equal(canvas.download(tmp_path), accepted)


def test_a_second_picture_keeps_the_first_in_recent_documents_with_its_undo(canvas: Canvas, tmp_path):
    page = canvas.page
    asked: list[str] = []
    page.on("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    paint_mask(canvas)
    masked = canvas.pixel((256, 192))
    page.get_by_test_id("upload-input").set_input_files(str(save_png(test_picture(200, 100), tmp_path / "other.png")))
    page.get_by_test_id("picture-size").filter(has_text="200×100").wait_for()
    assert not asked, f"opening another picture asked: {asked}"
    assert not page.evaluate("window.retouch.state().history.canUndo")

    # the first picture is among the recent documents; switching back brings its mask and its undo
    page.get_by_test_id("recent-item").filter(has_text="photo").click()
    page.get_by_test_id("picture-size").filter(has_text="512×384").wait_for()
    assert near(canvas.pixel((256, 192)), masked, 3), "the mask did not come back"
    assert page.get_by_test_id("recent-item").filter(has_text="other").count() == 1
    canvas.focus()
    page.keyboard.press("Control+z")  # the stroke, undone
    assert page.evaluate("window.retouch.state().history.canRedo")
    assert not near(canvas.pixel((256, 192)), masked, 3), "undo of the first picture's stroke did nothing"


# --- 2. an invoke sends the mask inside the box, once ------------------------------------------------------


def test_invoke_sends_only_the_job_and_cannot_be_doubled(canvas: Canvas, server, tmp_path):
    """The picture goes up once when opened and the mask inside the box after each change, both in the
    background; the click sends only the job, which names the picture with the box."""
    page = canvas.page
    uploads = []
    page.on("response", lambda r: uploads.append(r) if r.request.method == "POST" and "/images" in r.url else None)
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    page.keyboard.press("c")
    canvas.stroke([canvas.screen_of((200, 150)), canvas.screen_of((320, 230))])  # a box around the disc
    paint_mask(canvas)
    canvas.set_field("engine-select", "telea")
    page.evaluate("window.retouch.uploaded()")
    sent_before = len(uploads)
    held = []
    page.route("**/api/v1/jobs", lambda route: held.append(route))
    canvas.invoke()
    page.wait_for_function("document.querySelector('[data-testid=invoke]').disabled")
    page.get_by_test_id("invoke").click(force=True)  # a second click while sending does nothing
    canvas.focus()
    page.keyboard.press("Control+Enter")
    assert len(held) == 1
    body = json.loads(held[0].request.post_data)
    held[0].continue_()
    page.unroute("**/api/v1/jobs")
    canvas.wait_staged()
    assert len(uploads) == sent_before, "the click uploaded pixels"
    assert page.get_by_test_id("queue-item").count() == 1
    sizes = [(u.json()["width"], u.json()["height"]) for u in uploads]
    assert sizes.count((512, 384)) == 1, f"the picture went up more than once: {sizes}"
    box = body["bbox"]
    assert abs(box["width"] - 120) <= 1 and abs(box["height"] - 80) <= 1, box
    mask = np.asarray(Image.open(io.BytesIO(httpx.get(f"{server.url}/api/v1/images/{body['mask']}").content)))
    assert mask.shape[:2] == (box["height"], box["width"]), "the mask sent is not the box's crop"
    picture = httpx.get(f"{server.url}/api/v1/images/{body['image']}").content
    assert Image.open(io.BytesIO(picture)).size == (512, 384), "the job does not name the whole picture"
    assert page.get_by_test_id("invoke").is_enabled()


# --- 4. results can be judged -----------------------------------------------------------------------------


def test_before_after_and_the_mask_steps_aside(canvas: Canvas, tmp_path):
    page = canvas.page
    original = test_picture()
    canvas.open(save_png(original, tmp_path / "photo.png"))
    canvas.set_field("feather", "0")
    paint_mask(canvas)
    outside = (180, 186)  # 28 px left of the stroke's edge: untouched by the mask
    plain = canvas.pixel(outside)
    canvas.set_field("grow", "48")
    assert not near(canvas.pixel(outside), plain, 6), "grow is not previewed around the mask"
    canvas.set_field("grow", "0")

    invoke_and_stage(canvas, "slow")  # the slow engine paints the stroke grey
    centre = (256, 192)
    staged = canvas.pixel(centre)
    assert abs(staged[0] - staged[1]) < 16 and abs(staged[1] - staged[2]) < 16, f"mask over the result: {staged}"
    canvas.focus()
    page.keyboard.down("Backslash")  # hold \ : before
    before = canvas.pixel(centre)
    page.keyboard.up("Backslash")
    assert near(before, original[192, 256], 40) and before[0] > before[1] + 60, f"no before: {before}"
    assert near(canvas.pixel(centre), staged, 2), "after did not come back"
    # a click switches to before and back; the label says what is on show
    button = page.get_by_test_id("before-after")
    assert button.inner_text() == "Showing: result"
    button.click()
    assert button.inner_text() == "Showing: before"
    assert near(canvas.pixel(centre), before, 2), "the click did not show before"
    button.click()
    assert button.inner_text() == "Showing: result"
    assert near(canvas.pixel(centre), staged, 2), "the second click did not show the result again"

    page.keyboard.press("Enter")
    page.get_by_test_id("staging-accept").wait_for(state="hidden")
    assert near(canvas.pixel(centre), staged, 2), "the mask overlay covers the accepted result"


# --- 7. keys after a dropdown ----------------------------------------------------------------------------------


def test_canvas_keys_work_after_using_a_dropdown(canvas: Canvas, tmp_path):
    page = canvas.page
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    paint_mask(canvas)
    invoke_and_stage(canvas, "telea")
    canvas.invoke()
    page.get_by_test_id("staging-count").filter(has_text="2 / 2").wait_for()
    scale = page.get_by_test_id("scale-mode")
    scale.focus()
    scale.select_option("none")
    page.keyboard.press("ArrowLeft")
    assert page.get_by_test_id("staging-count").inner_text() == "1 / 2"
    assert scale.input_value() == "none", "the arrow changed the dropdown"
    seed = page.get_by_test_id("seed-mode")
    seed.focus()  # even while a dropdown has the focus, the canvas's keys act
    page.keyboard.press("ArrowRight")
    assert page.get_by_test_id("staging-count").inner_text() == "2 / 2"
    page.keyboard.press("e")
    assert "active" in (page.get_by_test_id("tool-eraser").get_attribute("class") or "")
    page.keyboard.press("Enter")
    page.get_by_test_id("staging-accept").wait_for(state="hidden")


# --- 8. the paint layer --------------------------------------------------------------------------------------


def test_paint_layer_reaches_the_result(canvas: Canvas, tmp_path):
    page = canvas.page
    original = test_picture()
    canvas.open(save_png(original, tmp_path / "photo.png"))
    page.get_by_test_id("layers").wait_for()
    page.get_by_test_id("tool-paint").click()
    page.get_by_test_id("paint-color").fill("#1040f0")
    canvas.set_field("brush-size", "20")
    paint = [(80.0, 300.0), (160.0, 300.0)]
    canvas.stroke([canvas.screen_of(p) for p in paint])
    assert near(canvas.pixel((120, 300)), (16, 64, 240), 6)
    page.get_by_test_id("layer-paint-visible").uncheck()
    assert near(canvas.pixel((120, 300)), original[300, 120], 6), "hiding the paint layer did not hide it"
    page.get_by_test_id("layer-paint-visible").check()
    # Alt+click is the eyedropper: it takes the colour under the pointer
    canvas.page.keyboard.down("Alt")
    page.mouse.click(*canvas.screen_of((20, 20)))
    canvas.page.keyboard.up("Alt")
    picked = page.get_by_test_id("paint-color").input_value()
    assert near([int(picked[i : i + 2], 16) for i in (1, 3, 5)], original[20, 20], 1), picked
    # so is its button (or I): one click on the picture picks, then the brush paints again
    page.get_by_test_id("eyedropper").click()
    assert page.get_by_test_id("eyedropper").get_attribute("aria-pressed") == "true"
    page.mouse.click(*canvas.screen_of((400, 40)))
    picked = page.get_by_test_id("paint-color").input_value()
    assert near([int(picked[i : i + 2], 16) for i in (1, 3, 5)], original[40, 400], 1), picked
    assert page.get_by_test_id("eyedropper").get_attribute("aria-pressed") == "false"
    page.get_by_test_id("paint-color").fill("#1040f0")

    paint_mask(canvas)
    invoke_and_stage(canvas, "telea")
    page.get_by_test_id("staging-accept").click()
    page.get_by_test_id("staging-accept").wait_for(state="hidden")
    result = canvas.download(tmp_path)
    assert near(result[300, 120, :3], (16, 64, 240), 2), "the paint did not reach the result"
    assert np.array_equal(result[50:80, 300:400, :3], original[50:80, 300:400])

    # clearing the paint is undoable; the result keeps the paint it was made with
    page.get_by_test_id("layer-paint-clear").click()
    assert near(canvas.download(tmp_path)[300, 120, :3], (16, 64, 240), 2)
    canvas.focus()
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")  # the accepted result goes: paint is back on its layer
    undone = canvas.download(tmp_path)
    assert near(undone[300, 120, :3], (16, 64, 240), 2)
    assert np.array_equal(undone[186:200, 250:262, :3], original[186:200, 250:262]), "undo left the fill"


# --- 3. settings show where they act ------------------------------------------------------------------------


def test_settings_show_their_effect_and_say_what_they_do(canvas: Canvas, tmp_path):
    page = canvas.page
    canvas.open(save_png(test_picture(480, 352), tmp_path / "photo.png"))
    auto = page.locator("#scale-auto")
    assert auto.inner_text() == "auto → 480×352 (the box's own size)"
    assert "retouch models add" in page.get_by_test_id("engine-models").inner_text()
    page.locator("[data-testid=engine-select] option[value=slow-grid]").wait_for(state="attached")
    canvas.set_field("engine-select", "slow-grid")  # native 512, grid 64: the box 448×320 is scaled up
    assert auto.inner_text().startswith("auto → 576×448")  # 512² of area, on the grid
    canvas.set_field("scale-mode", "manual")
    assert page.get_by_test_id("scale-width").input_value() == "576"  # manual starts in the box's shape
    assert page.get_by_test_id("scale-height").input_value() == "448"
    for testid in ("feather", "grow", "scale-mode", "engine-select", "infill-select", "seed-mode"):
        title = page.get_by_test_id(testid).evaluate("e => e.closest('label').title")
        assert len(title) > 10, f"{testid} has no tooltip"


# --- 5. metadata in, metadata out, recall ---------------------------------------------------------------------


def test_download_keeps_exif_icc_and_the_recipe_which_can_be_recalled(canvas: Canvas, tmp_path):
    page = canvas.page
    photo = Image.fromarray(test_picture())
    exif = Image.Exif()
    exif[0x010F] = "RetouchCam"  # Make
    exif[0x0112] = 1  # upright
    icc = b"\x00\x00\x02\x00fake-profile-for-the-test" + bytes(range(200))
    photo.save(tmp_path / "photo.jpg", quality=95, exif=exif.tobytes(), icc_profile=icc)
    canvas.open(tmp_path / "photo.jpg")
    paint_mask(canvas)
    canvas.set_field("feather", "3")
    invoke_and_stage(canvas, "telea")
    page.get_by_test_id("staging-accept").click()
    page.get_by_test_id("staging-accept").wait_for(state="hidden")
    canvas.download(tmp_path)
    saved = tmp_path / "photo-retouch.png"
    with Image.open(saved) as image:
        assert image.getexif().get(0x010F) == "RetouchCam"
        assert image.info.get("icc_profile") == icc
        parameters = image.info.get("parameters") or image.text.get("parameters")
    assert parameters and "Model: telea" in parameters and "Mask blur: 3" in parameters
    recipe = read_recipe(saved)
    assert recipe["engine"] == "telea" and recipe["feather"] == 3
    for unused in ("steps", "guidance", "strength", "prompt", "infill"):
        assert unused not in recipe, f"{unused} did nothing for telea but is in the recipe"

    # dropped over the open picture it asks: recall its settings (the picture stays), or open it
    canvas.set_field("engine-select", "patchmatch")
    canvas.set_field("feather", "9")
    page.get_by_test_id("upload-input").set_input_files(str(saved))
    question = page.get_by_test_id("ask")
    question.wait_for()
    assert "telea" in question.inner_text() and "Open as picture" in question.inner_text()
    page.get_by_test_id("ask-choice").filter(has_text="Recall settings").click()
    question.wait_for(state="detached")
    assert page.get_by_test_id("engine-select").input_value() == "telea"
    assert page.get_by_test_id("feather").input_value() == "3"
    assert page.evaluate("window.retouch.state().history.canUndo"), "recalling replaced the picture"
    # opened as a picture, it offers its settings
    canvas.set_field("feather", "9")
    page.get_by_test_id("upload-input").set_input_files(str(saved))
    page.get_by_test_id("ask-choice").filter(has_text="Open as picture").click()
    page.once("dialog", lambda d: d.accept())  # the accepted fill is not downloaded since: asked first
    recall = page.get_by_test_id("recall")
    recall.wait_for()
    assert "telea" in recall.inner_text()
    page.get_by_test_id("recall-apply").click()
    assert page.get_by_test_id("feather").input_value() == "3"
    assert recall.is_hidden()


# --- 6. the box --------------------------------------------------------------------------------------------------


def test_box_drag_draws_a_new_box_undoes_and_fits(canvas: Canvas, tmp_path):
    page = canvas.page
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    bbox = page.get_by_test_id("bbox-size")
    assert bbox.inner_text() == "box 512×384 at 0, 0"
    page.keyboard.press("c")
    canvas.stroke([canvas.screen_of((100, 80)), canvas.screen_of((300, 240))])  # inside the whole-picture box
    drawn = bbox.inner_text()
    assert re.fullmatch(r"box 200×160 at 10[01], [78][01]", drawn), drawn
    assert "outpainting" not in page.get_by_test_id("picture-size").inner_text()
    zoom = page.get_by_test_id("zoom").inner_text()
    page.keyboard.press("f")  # fit the view to the box
    assert page.get_by_test_id("zoom").inner_text() != zoom
    page.keyboard.press("Control+z")
    assert bbox.inner_text() == "box 512×384 at 0, 0"
    page.keyboard.press("Control+Shift+z")
    assert bbox.inner_text() == drawn


# --- 9. smaller things ---------------------------------------------------------------------------------------


def test_running_job_shows_time_left(canvas: Canvas, tmp_path):
    page = canvas.page
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    paint_mask(canvas)
    canvas.set_field("engine-select", "slow")
    canvas.set_field("steps", "60")
    canvas.invoke()
    page.get_by_test_id("queue-status").filter(has_text=re.compile(r"running \d+/60.* left")).wait_for()
    page.get_by_test_id("cancel-job").click()
    page.get_by_test_id("queue-status").filter(has_text="canceled").wait_for()
