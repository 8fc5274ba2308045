"""The page and its server: it survives a restart (says so, reconnects, picks up its job), and it works
with a server that needs an access token."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Canvas, Serve, save_png, test_picture

pytestmark = pytest.mark.browser


@pytest.fixture
def own_server(tmp_path, browser):
    serve = Serve(tmp_path / "data").start()
    yield serve
    serve.stop()


def test_job_survives_a_server_restart(browser, own_server: Serve, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(own_server.url + "/")
    page.get_by_test_id("connection").filter(has_text="connected").wait_for()
    canvas = Canvas(page)
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    canvas.set_field("brush-size", "30")
    canvas.stroke([canvas.screen_of((230, 190)), canvas.screen_of((280, 195))])
    page.locator("[data-testid=engine-select] option[value=slow]").wait_for(state="attached")
    canvas.set_field("engine-select", "slow")
    canvas.set_field("steps", "40")
    canvas.invoke()
    page.get_by_test_id("queue-item").filter(has_text=re.compile("running")).wait_for()

    own_server.kill()  # SIGKILL mid-job
    page.get_by_test_id("connection").filter(has_text="reconnecting").wait_for()
    # while the server is away the job's state is unknown: it says so, and offers no Cancel that cannot work
    item = page.get_by_test_id("queue-item").first
    item.filter(has_text="server unreachable").wait_for()
    assert item.get_by_test_id("cancel-job").is_hidden()
    canvas.invoke()  # fails: the server cannot be reached
    page.get_by_test_id("error").filter(has_text="cannot be reached").wait_for()
    own_server.start()  # same port, same data: the running job is queued again

    page.get_by_test_id("connection").filter(has_text="connected").wait_for()
    page.get_by_test_id("error").filter(has_text="cannot be reached").wait_for(state="detached")
    page.get_by_test_id("staging-accept").wait_for(timeout=60_000)
    assert "succeeded" in page.get_by_test_id("queue-item").first.inner_text()
    context.close()


def test_a_server_with_a_token(browser, tmp_path):
    """Beyond loopback the server needs a token: the canvas takes it once from its URL."""
    serve = Serve(tmp_path / "data")
    serve.extra_args = ["--token", "s3cret-token-for-the-test"]
    serve.start()
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        refused = page.goto(serve.url + "/")  # the canvas itself needs the token: the page says how to give it
        assert refused is not None and refused.status == 401
        assert "/?token=" in page.inner_text("body")

        page.goto(serve.url + "/?token=s3cret-token-for-the-test")
        page.get_by_test_id("connection").filter(has_text="connected").wait_for()
        page.locator("[data-testid=engine-select] option[value=patchmatch]").wait_for(state="attached")
        assert "token" not in page.url  # not left in the address bar or history
        canvas = Canvas(page)
        canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
        canvas.set_field("brush-size", "30")
        canvas.stroke([canvas.screen_of((230, 190)), canvas.screen_of((280, 195))])
        canvas.set_field("engine-select", "telea")
        canvas.invoke()
        canvas.wait_staged()
        context.close()
    finally:
        serve.stop()
