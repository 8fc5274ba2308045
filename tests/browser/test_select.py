"""The Select tool in Chromium: a box and a click each propose the object's outline, Enter adds it to the mask
as one undo step, and "Remove object" fills it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from tests.browser.conftest import save_png
from tests.select_scenes import cat_on

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("RETOUCH_SHOTS", "")) if os.environ.get("RETOUCH_SHOTS") else None


def shot(page, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"))


def until(page, condition: str) -> None:
    """Wait in the page, frame by frame, until `condition` (a JavaScript expression) holds."""
    page.evaluate(f"async () => {{ while (!({condition})) await new Promise((r) => requestAnimationFrame(r)); }}")


def proposed_area(page) -> int:
    note = page.get_by_test_id("select-note")
    note.filter(has_text=re.compile(r"px selected")).wait_for()
    return int(re.search(r"([\d,]+) px selected", note.inner_text())[1].replace(",", ""))


def test_select_by_box_and_click_add_to_mask_undo_and_remove(canvas, page, tmp_path):
    picture, truth, (bx, by, bw, bh) = cat_on("rocket")
    canvas.open(save_png(picture, tmp_path / "scene.png"))
    area = int(np.count_nonzero(truth))
    centre = (150, 170)  # inside the cat-fur blob
    before = canvas.pixel(centre)
    canvas.focus()
    page.keyboard.press("s")

    # a box around the object proposes it
    canvas.stroke([canvas.screen_of((bx, by)), canvas.screen_of((bx + bw, by + bh))])
    assert abs(proposed_area(page) - area) <= 0.1 * area
    shot(page, "1-box-proposal")
    page.keyboard.press("Escape")
    page.get_by_test_id("select-note").filter(has_text="Click an object").wait_for()

    # a click on it proposes it too; Enter adds it to the mask (tinted), one undo step takes it away again
    page.mouse.click(*canvas.screen_of(centre))
    assert abs(proposed_area(page) - area) <= 0.1 * area
    shot(page, "2-click-proposal")
    version = page.evaluate("window.retouch.state().mask.version")
    page.keyboard.press("Enter")
    until(page, f"window.retouch.state().mask.version > {version}")
    tinted = canvas.pixel(centre)
    assert tinted[0] > before[0] + 20 or abs(tinted - before).sum() > 60  # the mask's red tint over it
    assert page.evaluate("window.retouch.state().select.proposal") is None
    shot(page, "3-added-to-mask")
    page.keyboard.press("Control+z")
    until(page, "!window.retouch.state().history.canUndo")
    assert abs(canvas.pixel(centre) - before).sum() <= 6

    # Remove object: select, add to the mask, box it and fill; the staged result replaces the object
    page.mouse.click(*canvas.screen_of(centre))
    proposed_area(page)
    page.get_by_test_id("select-remove").click()
    canvas.wait_staged()
    box = page.evaluate("window.retouch.state().bbox")
    assert box["x"] <= 61 and box["y"] <= 80 and box["x"] + box["width"] >= 240 and box["y"] + box["height"] >= 260
    page.keyboard.press("m")  # hide the mask to see the fill
    shot(page, "4-removed")
    filled = canvas.pixel(centre)
    assert abs(filled - before).sum() > 60  # the fur is gone from the middle of the object


def test_remove_object_fills_at_the_engines_own_size_and_the_queue_names_a_manual_working_size(canvas, page, tmp_path):
    """A manual "scale before processing" set for an earlier box (here 256x128) would stretch the box Remove
    object makes around the object; that job runs at the engine's own size, the setting stays for the user's
    boxes, and the queue line of a job that did use a manual size says so."""
    picture, _, _ = cat_on("rocket")
    canvas.open(save_png(picture, tmp_path / "scene.png"))
    sent: list[dict] = []
    page.on(
        "request", lambda r: sent.append(r.post_data_json) if r.method == "POST" and r.url.endswith("/jobs") else None
    )
    canvas.set_field("scale-mode", "manual")
    canvas.set_field("scale-width", "256")
    canvas.set_field("scale-height", "128")
    canvas.focus()
    page.keyboard.press("b")
    canvas.stroke([canvas.screen_of((400, 300)), canvas.screen_of((440, 310))])
    canvas.invoke()
    canvas.wait_staged()
    names = page.get_by_test_id("queue-item").locator(".name")
    assert names.first.inner_text().endswith("at 256×128")
    page.get_by_test_id("staging-discard").click()

    page.keyboard.press("s")
    page.mouse.click(*canvas.screen_of((150, 170)))
    proposed_area(page)
    page.get_by_test_id("select-remove").click()
    until(page, "Object.keys(window.retouch.state().jobs).length === 2")
    assert sent[0]["scale"] == {"mode": "manual", "width": 256, "height": 128}
    assert sent[1]["scale"]["mode"] == "auto", sent[1]
    assert page.evaluate("window.retouch.state().settings.scaleMode") == "manual"
    assert "at " not in names.first.inner_text()
    canvas.wait_staged()
