"""Seams in the canvas (issue 12), in real Chromium against a real server: every staged fill shows its seam
score, "Repair seams" repairs the last accepted fill's edge in one click (score before → after, only the band
and the fill change, undoable, repeatable), a seam painted by hand can be repaired, the last fill's boundary
can be highlighted, and the fill's seam pass can be switched on."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import Canvas, save_png, test_picture

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("RETOUCH_SHOTS", "")) if os.environ.get("RETOUCH_SHOTS") else None
STROKE = [(100.0, 90.0), (150.0, 100.0)]  # picture points on the 256x192 test picture
BAND = 8  # the repair's default band


def jobs_sent(page) -> list[dict]:
    """The job bodies the page posts, as they go."""
    sent: list[dict] = []
    page.on(
        "request",
        lambda r: (
            sent.append(json.loads(r.post_data or "{}"))
            if r.method == "POST" and r.url.endswith("/api/v1/jobs")
            else None
        ),
    )
    return sent


def fill_flat(canvas: Canvas, tmp_path: Path, *, points=STROKE) -> None:
    """A flat grey fill with no feather over a stroke across the gradient: a hard seam, staged."""
    canvas.open(save_png(test_picture(256, 192), tmp_path / "photo.png"))
    canvas.set_field("feather", "0")
    canvas.set_field("engine-select", "flat")
    canvas.set_field("brush-size", "24")
    canvas.page.get_by_test_id("tool-brush").click()
    canvas.stroke([canvas.screen_of(p) for p in points])
    canvas.invoke()
    canvas.wait_staged()


def staged_report(page) -> dict:
    page.wait_for_function("(() => { const s = window.retouch.state().staging; return s.items[s.index]?.report; })()")
    return page.evaluate("(() => { const s = window.retouch.state().staging; return s.items[s.index].report; })()")


def seam_text(page) -> str:
    score = page.get_by_test_id("seam-score")
    score.filter(has_text=re.compile(r"seam \d")).wait_for()
    return score.inner_text()


def accept(page) -> None:
    page.get_by_test_id("staging-accept").click()
    page.get_by_test_id("staging-accept").wait_for(state="hidden")


def shot(page, name: str) -> None:
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name))


def test_repair_seams_after_accepting_a_fill(canvas: Canvas, tmp_path):
    page = canvas.page
    sent = jobs_sent(page)
    original = test_picture(256, 192)
    fill_flat(canvas, tmp_path)
    fill_score = staged_report(page)["seam"]
    assert fill_score > 1.5, f"a flat grey fill on a gradient should leave a visible seam, scored {fill_score}"
    assert seam_text(page) == f"seam {fill_score:.1f}"
    accept(page)
    filled = canvas.download(tmp_path)[..., :3]
    region = np.any(filled != original, axis=-1)  # flat grey over a gradient: what the fill filled
    page.evaluate("window.retouch.saved()")
    page.reload()  # what the accepted fill filled is kept with it: the repair works after a reload
    page.locator("body[data-restored=true]").wait_for()

    page.get_by_test_id("repair-seams").click()
    canvas.wait_staged()
    report = staged_report(page)
    before, after = report["seam_before"], report["seam"]
    assert after < before, report
    # the repair scored the very boundary the fill did: the canvas sent the region the server filled
    assert before == pytest.approx(fill_score, abs=0.002)
    digits = 2 if f"{before:.1f}" == f"{after:.1f}" else 1
    assert seam_text(page) == f"seam {before:.{digits}f} → {after:.{digits}f}"
    body = sent[-1]
    assert body["kind"] == "seams" and body["painted"] is False and body["engine"] == "poisson"
    shot(page, "repair-staged.png")
    accept(page)
    repaired = canvas.download(tmp_path)[..., :3]
    outside = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    far = outside > BAND + 1
    assert np.array_equal(repaired[far], filled[far]), "pixels farther than the band from the fill changed"
    assert np.abs(repaired.astype(int) - filled.astype(int))[~far].max() > 8, "the seam was not touched"

    # repeat: the accepted repair can be repaired again, from where the last one left it
    page.get_by_test_id("repair-seams").click()
    canvas.wait_staged()
    assert staged_report(page)["seam_before"] == pytest.approx(after, abs=0.002)
    page.get_by_test_id("staging-discard").click()

    canvas.focus()
    page.keyboard.press("Control+z")  # the accepted repair goes: the fill's pixels come back exactly
    page.wait_for_function("window.retouch.state().history.canRedo")
    assert np.array_equal(canvas.download(tmp_path)[..., :3], filled)


def test_a_seam_painted_by_hand_is_repaired(canvas: Canvas, tmp_path):
    page = canvas.page
    sent = jobs_sent(page)
    canvas.open(save_png(test_picture(256, 192), tmp_path / "photo.png"))
    canvas.set_field("brush-size", "12")
    canvas.set_field("seam-target", "0.5")  # below any real boundary: a pass runs
    page.get_by_test_id("tool-brush").click()
    canvas.stroke([canvas.screen_of((60.0, 40.0)), canvas.screen_of((60.0, 150.0))])
    page.get_by_test_id("repair-painted").click()
    page.get_by_test_id("seam-outcome").wait_for()
    body = sent[-1]
    assert body["kind"] == "seams" and body["painted"] is True and body["target"] == 0.5
    # the stroke lies over an untouched picture: no seam there, so the pass cannot lower it and is dropped
    outcome = page.get_by_test_id("seam-outcome").inner_text()
    said = re.fullmatch(
        r"Nothing staged: pass dropped: it (made the seam worse|did not lower the seam) \(([\d.]+) → ([\d.]+)\)\.",
        outcome,
    )
    assert said and float(said[3]) >= float(said[2]), outcome
    assert page.evaluate("window.retouch.state().staging.items.length") == 0
    shot(page, "repair-pass-dropped.png")


def canvas_pixels(page) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.get_by_test_id("canvas").screenshot())).convert("RGB")).astype(int)


def test_the_boundary_highlight_follows_the_last_fill(canvas: Canvas, tmp_path):
    page = canvas.page
    fill_flat(canvas, tmp_path)
    toggle = page.get_by_test_id("seam-outline")
    page.mouse.move(0, 0)  # no brush outline in the shots
    off = canvas_pixels(page)
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    on = canvas_pixels(page)
    changed = np.any(on != off, axis=-1)
    # the highlight runs along the edge of the filled stroke: over its top edge above the stroke's middle,
    # not inside the grey fill and not far out on the picture
    box = page.get_by_test_id("canvas").bounding_box()
    top = canvas.screen_of((125.0, 83.0))
    x, y = int(top[0] - box["x"]), int(top[1] - box["y"])
    assert changed[y - 8 : y + 8, x].any(), "no outline along the fill's top edge"
    middle = canvas.screen_of((125.0, 95.0))
    assert not changed[int(middle[1] - box["y"]), int(middle[0] - box["x"])], "the outline covers the fill"
    assert not changed[:20].any(), "drawn far from the boundary"
    shot(page, "boundary-highlight.png")

    # it stays on the boundary when the view zooms
    page.get_by_test_id("view-fit-box").click()
    page.wait_for_function("document.querySelector('[data-testid=zoom]').textContent !== '100 %'")
    zoomed_on = canvas_pixels(page)
    toggle.click()
    zoomed_off = canvas_pixels(page)
    top = canvas.screen_of((125.0, 83.0))
    x, y = int(top[0] - box["x"]), int(top[1] - box["y"])
    assert np.any(zoomed_on != zoomed_off, axis=-1)[y - 12 : y + 12, x].any()
    assert toggle.get_attribute("aria-pressed") == "false"


def test_the_seam_pass_switch_reaches_the_job(canvas: Canvas, tmp_path):
    page = canvas.page
    sent = jobs_sent(page)
    page.get_by_test_id("seam-pass").check()
    fill_flat(canvas, tmp_path)
    assert sent[-1]["seam_pass"] is True
    report = staged_report(page)
    assert report["seam"] < report["seam_before_passes"]
    assert seam_text(page).startswith(f"seam {report['seam_before_passes']:.1f} → ")


def test_tone_match_meets_the_pictures_tone_at_the_fills_edge(canvas: Canvas, tmp_path):
    """The switch reaches the job, and what a user sees: a flat grey fill over a gradient leaves a hard step at
    its edge; with tone match the fill meets the surroundings there (a lower seam score, staged as usual)."""
    page = canvas.page
    sent = jobs_sent(page)
    fill_flat(canvas, tmp_path)
    plain = staged_report(page)["seam"]
    page.get_by_test_id("staging-discard").click()
    assert "tone_match" not in sent[-1]

    page.get_by_test_id("tone-match").check()
    canvas.invoke()
    canvas.wait_staged()
    assert sent[-1]["tone_match"] is True
    matched = staged_report(page)["seam"]
    assert matched < plain / 2, f"tone match left the seam at {matched:.2f} (without it {plain:.2f})"
    shot(page, "tone-match-staged.png")
    page.reload()  # the switch is a setting: it survives a reload
    page.locator("body[data-restored=true]").wait_for()
    assert page.get_by_test_id("tone-match").is_checked()


def test_a_repair_that_changes_nothing_stages_nothing_and_says_why(canvas: Canvas, tmp_path):
    """A target the seam already meets: no pass runs, nothing is staged, the panel says why; a target the
    settings cannot take says what they allow instead of quietly going back."""
    page = canvas.page
    fill_flat(canvas, tmp_path)
    accept(page)
    target = page.get_by_test_id("seam-target")
    target.fill("12")  # typed, not yet left
    invalid = page.get_by_test_id("seam-invalid")
    assert (
        invalid.inner_text() == 'Target: "12" is not allowed; it takes a number from 0.5 to 10 (the repair keeps 0.9).'
    )
    canvas.set_field("seam-band", "2.5")
    assert invalid.inner_text() == (
        'Band: "2.5" is not allowed; it takes a whole number from 1 to 256 (the repair keeps 8).'
    )
    shot(page, "seam-setting-invalid.png")
    canvas.set_field("seam-band", "8")
    canvas.set_field("seam-target", "10")
    assert invalid.is_hidden()

    page.get_by_test_id("repair-seams").click()
    outcome = page.get_by_test_id("seam-outcome")
    outcome.filter(has_text="Nothing staged").wait_for()
    assert re.fullmatch(r"Nothing staged: no pass needed: seam \d\.\d\d is under the target 10\.", outcome.inner_text())
    assert page.evaluate("window.retouch.state().staging.items.length") == 0
    assert page.get_by_test_id("staging-accept").is_hidden()
    shot(page, "repair-nothing-to-do.png")
