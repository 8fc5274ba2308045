"""The Models panel in real Chromium: with no model installed it offers LaMa first; Install shows the download's
progress (from the websocket), the engine list gains LaMa without a reload, and a fill runs with it. The server
is a `retouch serve` of its own (its catalog and manifest are this test's), downloading from a file server on
127.0.0.1 that holds the transfer half way so the progress can be seen."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.browser.conftest import Canvas, Serve, save_png, test_picture
from tests.model_files import manifest_for

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("RETOUCH_SHOTS", "/work/wt/shots/starter"))


def shot(page, name: str) -> None:
    if SHOTS.parent.exists():
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_install_lama_from_the_models_panel_then_fill_with_it(browser, tmp_path, file_server, served, monkeypatch):
    monkeypatch.setenv("RETOUCH_MANIFEST", str(manifest_for(tmp_path, file_server, served[1])))
    monkeypatch.setenv("RETOUCH_CATALOG", str(tmp_path / "catalog.yaml"))
    monkeypatch.delenv("RETOUCH_MODELS_DIR", raising=False)
    size = served[1]["lama"].stat().st_size
    gate = threading.Event()
    file_server.hold["big-lama.pt"] = (size // 3, gate)
    serve = Serve(tmp_path / "data").start()
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(serve.url + "/")
        page.get_by_test_id("connection").filter(has_text="connected").wait_for()
        first_run = page.get_by_test_id("models-first-run")
        first_run.wait_for()
        assert "No model is installed yet" in first_run.inner_text()
        assert "free in" in page.get_by_test_id("models-disk").inner_text()
        panel = page.get_by_test_id("models-panel")
        panel.scroll_into_view_if_needed()
        shot(page, "1-first-run")

        page.get_by_test_id("models-install-lama").click()
        status = page.locator("[data-model=lama] [data-testid=model-status]")
        status.filter(has_text="%").wait_for()  # progress arrives over the websocket while the server holds
        assert "downloading" in status.inner_text() and "of" in status.inner_text()
        progress = float(page.locator("[data-model=lama] [data-testid=model-progress]").get_attribute("value") or 0)
        assert 0 < progress < 0.4, progress  # the server holds the rest back at a third
        panel.scroll_into_view_if_needed()
        shot(page, "2-installing")
        gate.set()
        status.filter(has_text="installed").wait_for(timeout=120_000)
        page.locator("[data-testid=engine-select] option[value=lama]").wait_for(state="attached")
        assert page.get_by_test_id("models-first-run").count() == 0
        panel.scroll_into_view_if_needed()
        shot(page, "3-installed")

        canvas = Canvas(page)
        picture = test_picture()
        canvas.open(save_png(picture, tmp_path / "photo.png"))
        canvas.set_field("brush-size", "40")
        page.get_by_test_id("tool-brush").click()
        canvas.stroke([canvas.screen_of(p) for p in [(220.0, 180.0), (290.0, 200.0)]])
        canvas.set_field("engine-select", "lama")
        canvas.invoke()
        canvas.wait_staged()
        job = page.evaluate("window.retouch.state().jobs[window.retouch.state().jobOrder[0]]")
        assert (job["engine"], job["status"]) == ("lama", "succeeded")
        shot(page, "4-filled-with-lama")
        staged = canvas.pixel((255, 190))
        assert not np.array_equal(staged, picture[190, 255]), "the fill changed the painted region"
        assert not errors, errors
    finally:
        gate.set()
        context.close()
        serve.stop()
