"""What a user does on the canvas, in real Chromium against a real server: paint, invoke, watch, stage,
accept, undo, download; outpaint past the edge; cancel from the queue; read the server's errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from retouch.imaging.io import read_recipe
from tests.browser.conftest import Canvas, capsule_distance, save_png, test_picture

pytestmark = pytest.mark.browser

BRUSH = 36
FEATHER = 4


def paint_across_disc(canvas: Canvas) -> list[tuple[float, float]]:
    """A stroke through the red disc; returns its points in picture coordinates."""
    canvas.set_field("brush-size", str(BRUSH))
    doc_points = [(226.0, 186.0), (256.0, 192.0), (286.0, 200.0)]
    canvas.stroke([canvas.screen_of(p) for p in doc_points])
    return doc_points


def test_paint_invoke_accept_download(canvas: Canvas, tmp_path):
    page = canvas.page
    original = test_picture()
    canvas.open(save_png(original, tmp_path / "photo.png"))
    stroke = paint_across_disc(canvas)

    canvas.set_field("engine-select", "patchmatch")
    canvas.set_field("feather", str(FEATHER))
    assert page.get_by_test_id("prompt").is_hidden()  # patchmatch takes no prompt
    # the box holds no empty pixels: the infill choice, which would change nothing, is not offered
    assert page.get_by_test_id("infill-select").is_hidden()
    canvas.invoke()

    canvas.wait_staged()
    # once the result is there the progress pill goes: it does not cover the result
    assert page.get_by_test_id("progress").is_hidden()
    assert page.get_by_test_id("staging-count").inner_text() == "1 / 1"
    item = page.get_by_test_id("queue-item").first
    assert "succeeded" in item.inner_text()

    page.get_by_test_id("staging-accept").click()
    page.get_by_test_id("staging-accept").wait_for(state="hidden")
    result = canvas.download(tmp_path)

    assert result.shape[:2] == original.shape[:2]
    changed = np.any(result[..., :3] != original, axis=-1)
    distance = capsule_distance(original.shape[:2], stroke)
    # only inside the painted area grown by the feather (and a pixel of antialiasing)
    assert changed.any(), "the fill changed nothing"
    assert not changed[distance > BRUSH / 2 + FEATHER + 1.5].any(), "pixels changed outside the painted area"
    # the disc under the stroke is gone: the centre of the stroke is no longer red
    centre = result[188:197, 250:262, :3].astype(int)
    assert (centre[..., 0] - centre[..., 1]).mean() < 120
    recipe = read_recipe((tmp_path / "photo-retouch.png").read_bytes())
    assert recipe and recipe["engine"] == "patchmatch" and recipe["feather"] == FEATHER


def accept_a_fill_across_the_disc(canvas: Canvas, tmp_path) -> np.ndarray:
    """Open the test picture, fill a stroke across its disc with Telea, accept it; the picture downloaded."""
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    paint_across_disc(canvas)
    canvas.set_field("engine-select", "telea")
    canvas.invoke()
    canvas.wait_staged()
    canvas.focus()
    canvas.page.keyboard.press("Enter")  # accept
    canvas.page.get_by_test_id("staging-accept").wait_for(state="hidden")
    return canvas.download(tmp_path)


def test_undo_after_accept_restores_the_picture(canvas: Canvas, tmp_path):
    page = canvas.page
    original = test_picture()
    accepted = accept_a_fill_across_the_disc(canvas, tmp_path)
    assert np.any(accepted[..., :3] != original)

    canvas.focus()
    page.keyboard.press("Control+z")  # undo the accept
    assert np.array_equal(canvas.download(tmp_path)[..., :3], original)
    page.keyboard.press("Control+Shift+z")  # redo
    assert np.array_equal(canvas.download(tmp_path), accepted)
    # redone, the accepted fill shows as accepting left it: the mask does not come back over it
    centre = canvas.pixel((256, 192))
    assert abs(int(centre[0]) - int(accepted[192, 256, 0])) <= 3, f"the mask covers the redone fill: {centre}"


def test_an_accepted_fills_mask_is_done_with_a_new_mask_fills_alone_and_undo_brings_it_back(canvas: Canvas, tmp_path):
    """Seen by a user: after accepting a fill, the mask vanished; the next stroke elsewhere brought it back over
    the accepted fill, and the next Invoke filled both places again."""
    import httpx

    page = canvas.page
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data or "{}")) if r.method == "POST" and r.url.endswith("/api/v1/jobs") else None)  # fmt: skip
    accepted = accept_a_fill_across_the_disc(canvas, tmp_path)

    canvas.stroke([canvas.screen_of((60.0, 300.0)), canvas.screen_of((120.0, 320.0))])  # a new stroke elsewhere
    centre = canvas.pixel((256, 192))
    assert abs(int(centre[0]) - int(accepted[192, 256, 0])) <= 3, f"the old mask came back: {centre}"
    canvas.invoke()
    canvas.wait_staged()
    body = sent[-1]
    box = body.get("bbox") or {"x": 0, "y": 0}
    mask = np.asarray(
        Image.open(__import__("io").BytesIO(httpx.get(f"{page.url.rstrip('/')}/api/v1/images/{body['mask']}").content))
    )
    at = lambda x, y: int(mask[y - box["y"], x - box["x"]])  # noqa: E731 - picture coordinates into the mask sent
    assert at(90, 310) == 255 and at(256, 192) == 0, "the job's mask is not the new stroke alone"
    page.get_by_test_id("staging-discard").click()

    canvas.focus()
    page.keyboard.press("Control+z")  # the new stroke goes
    page.keyboard.press("Control+z")  # then the accept: the picture and its mask come back as they were
    tinted = canvas.pixel((256, 192))
    assert tinted[0] > accepted[192, 256, 0] + 30 or tinted[1] < accepted[192, 256, 1] - 30, f"no mask: {tinted}"


def test_outpainting_past_the_edge(canvas: Canvas, tmp_path):
    page = canvas.page
    original = test_picture(320, 240)
    canvas.open(save_png(original, tmp_path / "small.png"))
    page.keyboard.press("c")  # box tool
    assert "active" in (page.get_by_test_id("tool-bbox").get_attribute("class") or "")
    # Shift-drag the box from its middle 96 picture pixels to the right: it now reaches past the picture
    start = canvas.screen_of((160, 120))
    end = canvas.screen_of((256, 120))
    page.keyboard.down("Shift")
    canvas.stroke([start, end])
    page.keyboard.up("Shift")
    page.get_by_test_id("picture-size").filter(has_text="outpainting").wait_for()

    canvas.set_field("engine-select", "patchmatch")
    canvas.set_field("infill-select", "tile")
    canvas.set_field("feather", "2")
    canvas.invoke()
    canvas.wait_staged()
    page.get_by_test_id("staging-accept").click()
    page.get_by_test_id("picture-size").filter(has_text="416×240").wait_for()
    result = canvas.download(tmp_path)

    assert result.shape[:2] == (240, 416)
    assert result.shape[2] == 4 and (result[:, 320:, 3] == 255).all(), "the area past the edge is not filled"
    # the recipe sits before the image data, where readers that do not load the pixels find it, and names
    # the box where it was in the picture (not at 0,0 of the crop that was sent)
    with Image.open(tmp_path / "small-retouch.png") as image:
        info = dict(image.info)  # read before loading
    assert "Model: patchmatch" in info["parameters"]
    assert json.loads(info["retouch"])["bbox"] == {"x": 96, "y": 0, "width": 320, "height": 240}
    # a box drawn elsewhere; recalling the download's settings puts the box back where the fill was
    canvas.stroke([canvas.screen_of((10, 10)), canvas.screen_of((60, 60))])
    assert page.evaluate("window.retouch.state().bbox")["x"] < 20
    page.get_by_test_id("upload-input").set_input_files(str(tmp_path / "small-retouch.png"))
    page.get_by_test_id("ask-choice").filter(has_text="Recall settings").click()
    page.get_by_test_id("ask").wait_for(state="detached")
    assert page.evaluate("window.retouch.state().bbox") == {"x": 96, "y": 0, "width": 320, "height": 240}
    assert result[:, 320:, :3].std() > 5, "the outpainted area is flat, not continued from the picture"
    # the picture itself is unchanged, except the feather's blend band at the old edge
    assert np.array_equal(result[:, : 320 - 3, :3], original[:, : 320 - 3])


def test_cancel_from_the_queue_leaves_other_jobs_alone(canvas: Canvas, tmp_path):
    page = canvas.page
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    paint_across_disc(canvas)
    canvas.set_field("engine-select", "slow")
    canvas.set_field("steps", "200")  # 10 s: long enough to cancel while it runs
    canvas.invoke()
    first = page.get_by_test_id("queue-item").first
    first.filter(has_text=re.compile(r"running \d+/200")).wait_for()
    # the progress bar inside the box counts the steps
    page.locator("#box-status").filter(has_text=re.compile(r"step \d+ of 200")).wait_for()
    assert page.get_by_test_id("progress").get_attribute("data-status") == "running"
    # and the live preview shows in the box: the slow engine paints the hole grey step by step
    canvas.focus()
    page.keyboard.press("m")  # hide the mask overlay to see the picture under it
    red, green, blue = canvas.pixel((256, 192))
    assert abs(red - green) < 16 and abs(green - blue) < 16, f"no preview under the stroke: {(red, green, blue)}"

    canvas.set_field("steps", "4")
    canvas.invoke()
    page.get_by_test_id("queue-item").nth(1).wait_for()
    jobs = page.get_by_test_id("queue-item")
    assert jobs.count() == 2
    running = jobs.filter(has_text="running")
    running.get_by_test_id("cancel-job").click()
    page.get_by_test_id("queue-item").filter(has_text="canceled").wait_for()

    # the other job was not touched: it runs and its result is staged
    canvas.wait_staged()
    statuses = sorted(t.split("\n")[-1] for t in page.get_by_test_id("queue-status").all_inner_texts())
    assert statuses == ["canceled", "succeeded"]
    assert page.get_by_test_id("staging-count").inner_text() == "1 / 1"


def test_empty_mask_is_caught_before_sending_anything(canvas: Canvas, tmp_path):
    page = canvas.page
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    canvas.set_field("engine-select", "patchmatch")
    page.evaluate("window.retouch.uploaded()")  # the picture's own background upload is done
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    canvas.invoke()  # nothing painted and the box is inside the picture: nothing to fill
    error = page.get_by_test_id("error").first
    error.wait_for()
    assert "Nothing to fill" in error.inner_text()
    assert sent == [], f"an empty mask was sent: {sent}"
    canvas.invoke()  # the same message again counts up; it does not pile up
    page.get_by_test_id("error").filter(has_text="×2").wait_for()
    assert page.get_by_test_id("error").count() == 1
    assert page.get_by_test_id("staging-accept").is_hidden()


def test_settings_and_hotkeys(canvas: Canvas, tmp_path):
    page = canvas.page
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    size = page.get_by_test_id("brush-size")
    before = int(size.input_value())
    canvas.focus()
    page.keyboard.press("]")
    assert int(size.input_value()) > before
    page.keyboard.press("e")
    assert "active" in (page.get_by_test_id("tool-eraser").get_attribute("class") or "")

    # infill shows once the box reaches past the picture (it fills the empty pixels there)
    assert page.get_by_test_id("infill-select").is_hidden()
    page.keyboard.press("c")
    page.keyboard.down("Shift")
    canvas.stroke([canvas.screen_of((256, 192)), canvas.screen_of((356, 192))])
    page.keyboard.up("Shift")
    canvas.set_field("infill-select", "solid")
    page.get_by_test_id("infill-color").wait_for()  # the colour picker shows for solid infill
    canvas.set_field("scale-mode", "manual")
    canvas.set_field("scale-width", "640")
    # a number out of range says what is allowed, and the value from before the edit stays: typed key by key,
    # 99999 passes through 99 and 999, which are allowed, and used to be what was kept
    width = page.get_by_test_id("scale-width")
    canvas.type_into("scale-width", "99999")
    refused = page.get_by_test_id("error").filter(has_text="99999")
    refused.wait_for()
    assert "from 8 to 8192" in refused.inner_text() and "Kept 640" in refused.inner_text(), refused.inner_text()
    assert width.input_value() == "640" and page.evaluate("window.retouch.state().settings.scaleWidth") == 640
    canvas.set_field("scale-width", "768")  # a good value: the note about the bad one goes
    refused.wait_for(state="detached")
    canvas.set_field("scale-width", "640")
    # the upscale factor says so too, instead of going back without a word
    canvas.type_into("upscale-factor", "20")
    page.get_by_test_id("error").filter(
        has_text='Factor: "20" is not allowed; it takes a number from 1 to 8. Kept 2.'
    ).wait_for()
    assert page.get_by_test_id("upscale-factor").input_value() == "2"
    page.reload()
    assert page.get_by_test_id("infill-select").input_value() == "solid"
    assert page.get_by_test_id("scale-mode").input_value() == "manual"
    assert page.get_by_test_id("scale-width").input_value() == "640"


def test_staging_cycles_discards_and_accepts(canvas: Canvas, tmp_path):
    page = canvas.page
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    paint_across_disc(canvas)
    canvas.set_field("engine-select", "slow")
    canvas.set_field("steps", "2")
    canvas.focus()
    page.keyboard.press("Control+Enter")  # invoke from the keyboard
    page.get_by_test_id("staging-count").filter(has_text="1 / 1").wait_for()
    canvas.invoke()
    page.get_by_test_id("staging-count").filter(has_text="2 / 2").wait_for()

    canvas.focus()
    page.keyboard.press("ArrowRight")
    assert page.get_by_test_id("staging-count").inner_text() == "1 / 2"
    page.get_by_test_id("staging-next").click()
    assert page.get_by_test_id("staging-count").inner_text() == "2 / 2"
    page.get_by_test_id("staging-discard").click()
    assert page.get_by_test_id("staging-count").inner_text() == "1 / 1"
    page.get_by_test_id("staging-accept").click()
    page.get_by_test_id("staging-accept").wait_for(state="hidden")
    # the slow engine filled the stroke grey; that is now in the picture
    canvas.focus()
    page.keyboard.press("m")
    red, green, blue = canvas.pixel((256, 192))
    assert abs(red - green) < 16 and abs(green - blue) < 16


def test_eraser_removes_what_the_brush_painted(canvas: Canvas, tmp_path):
    page = canvas.page
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    stroke = paint_across_disc(canvas)
    page.keyboard.press("e")
    canvas.set_field("brush-size", str(BRUSH * 3))
    canvas.stroke([canvas.screen_of(p) for p in stroke])
    canvas.set_field("engine-select", "patchmatch")
    canvas.invoke()
    error = page.get_by_test_id("error").first
    error.wait_for()
    assert "Nothing to fill" in error.inner_text()


def test_pan_and_zoom(canvas: Canvas, tmp_path):
    page = canvas.page
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    zoom = page.get_by_test_id("zoom")
    assert zoom.inner_text() == "100 %"
    b = canvas.box()
    centre = (b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    under = canvas.picture_point(centre)
    page.mouse.wheel(0, -300)  # zoom in at the pointer
    page.wait_for_function("document.querySelector('[data-testid=zoom]').textContent !== '100 %'")
    assert float(zoom.inner_text().split()[0]) > 100
    x, y = canvas.picture_point(centre)
    assert abs(x - under[0]) <= 1 and abs(y - under[1]) <= 1, "the point under the pointer moved while zooming"

    # hold Space and drag: the picture moves with the pointer, far past its edges if wanted
    canvas.focus()
    page.keyboard.down("Space")
    canvas.stroke([centre, (centre[0] + 400, centre[1] + 300)])
    page.keyboard.up("Space")
    moved = canvas.picture_point(centre)
    assert moved[0] < x - 100 and moved[1] < y - 100
    assert "active" in (page.get_by_test_id("tool-brush").get_attribute("class") or ""), (
        "Space did not give the brush back"
    )

    page.get_by_test_id("view-fit").click()
    page.get_by_test_id("tool-pan").click()
    canvas.stroke([centre, (centre[0] - 2000, centre[1])])  # middle of nowhere: the canvas has no edge
    assert canvas.picture_point(centre)[0] > 512


def test_box_snaps_to_the_engine_grid_and_prompt_shows(canvas: Canvas, tmp_path):
    page = canvas.page
    canvas.open(save_png(test_picture(480, 352), tmp_path / "photo.png"))
    bbox = page.get_by_test_id("bbox-size")
    assert bbox.inner_text() == "box 480×352 at 0, 0"
    page.locator("[data-testid=engine-select] option[value=slow-grid]").wait_for(state="attached")
    canvas.set_field("engine-select", "slow-grid")
    assert page.get_by_test_id("prompt").is_visible()  # this engine takes a prompt
    assert bbox.inner_text() == "box 448×320 at 0, 0"  # shrunk onto the grid of 64, inside the picture

    page.keyboard.press("c")
    right_edge = canvas.screen_of((447, 160))
    canvas.stroke([right_edge, canvas.screen_of((447 + 40, 160))])  # +40: nearer 512 than 448
    assert bbox.inner_text() == "box 512×320 at 0, 0"
    page.keyboard.down("Shift")  # Shift-drag inside the box moves it
    canvas.stroke([canvas.screen_of((200, 100)), canvas.screen_of((200 + 20, 100 + 70))])
    page.keyboard.up("Shift")
    assert bbox.inner_text() == "box 512×320 at 0, 64"


def test_server_refusal_is_shown_in_words(canvas: Canvas, tmp_path):
    page = canvas.page
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    paint_across_disc(canvas)
    page.locator("[data-testid=engine-select] option[value=slow-grid]").wait_for(state="attached")
    canvas.set_field("engine-select", "slow-grid")
    page.get_by_test_id("prompt").fill("a quiet lake " * 400)  # 5200 characters; the server takes 4000
    canvas.invoke()
    error = page.get_by_test_id("error").first
    error.wait_for()
    text = error.inner_text()
    assert "prompt" in text and "4000" in text, text
    assert page.get_by_test_id("queue-item").count() == 0


def test_a_note_about_a_file_that_would_not_open_goes_once_a_picture_opens(canvas: Canvas, tmp_path):
    page = canvas.page
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"this is not a picture")
    page.get_by_test_id("upload-input").set_input_files(str(fake))
    note = page.get_by_test_id("error").filter(has_text="Could not open fake.png")
    note.wait_for()
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    note.wait_for(state="detached")


def test_remove_object_says_so_when_the_selection_is_a_speck(canvas: Canvas, tmp_path):
    """The magic wand at tolerance 0 on a gradient takes a few pixels: nothing is filled, the note says why."""
    page = canvas.page
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and r.url.endswith("/api/v1/jobs") else None)
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    canvas.focus()
    page.keyboard.press("w")
    canvas.set_field("select-tolerance", "0")
    page.mouse.click(*canvas.screen_of((40.0, 40.0)))
    page.get_by_test_id("select-remove").wait_for()
    area = page.evaluate("window.retouch.state().select.proposal.area")
    assert 0 < area < 64, area
    page.get_by_test_id("select-remove").click()
    page.get_by_test_id("error").filter(has_text=f"Only {area} px are selected, too little to remove").wait_for()
    assert not sent


def test_open_by_drop_and_by_paste(page, tmp_path):
    png = save_png(test_picture(200, 100), tmp_path / "dropped.png").read_bytes()
    send = """async ([kind, bytes]) => {
        const file = new File([new Uint8Array(bytes)], "dropped.png", { type: "image/png" });
        const data = new DataTransfer();
        data.items.add(file);
        const options = { bubbles: true, cancelable: true };
        if (kind === "drop") {
            const stage = document.getElementById("stage");
            stage.dispatchEvent(new DragEvent("drop", { ...options, dataTransfer: data }));
        } else {
            document.body.dispatchEvent(new ClipboardEvent("paste", { ...options, clipboardData: data }));
        }
    }"""
    page.evaluate(send, ["drop", list(png)])
    page.get_by_test_id("picture-size").filter(has_text="200×100").wait_for()
    png2 = save_png(test_picture(64, 48), tmp_path / "pasted.png").read_bytes()
    page.evaluate(send, ["paste", list(png2)])
    page.get_by_test_id("picture-size").filter(has_text="64×48").wait_for()


PUBLIC_TEST_IDS = [
    "upload-input", "canvas", "tool-brush", "tool-eraser", "tool-bbox", "brush-size", "engine-select",
    "infill-select", "scale-mode", "prompt", "invoke", "progress", "staging-accept", "staging-discard",
    "staging-next", "download", "seam-score", "repair-seams", "seam-outline", "seam-pass",
]  # fmt: skip


def test_public_test_ids_are_there(page):
    """The data-testid names are a contract with outside automation (queue-item and cancel-job appear
    with jobs, and are used by the tests above)."""
    missing = [name for name in PUBLIC_TEST_IDS if page.get_by_test_id(name).count() != 1]
    assert not missing


def test_the_toolbar_is_one_row_on_a_1280_px_window(page):
    """On a common laptop window (1280 px, the tests' viewport) every tool, Download included, is in one row,
    not Download alone on a second row that pushes the canvas down."""
    rows = page.evaluate(
        "[...document.querySelectorAll('.toolbar > *')].map(e => Math.round(e.getBoundingClientRect().top))"
    )
    assert page.get_by_test_id("download").is_visible()
    assert max(rows) - min(rows) <= 8, rows
