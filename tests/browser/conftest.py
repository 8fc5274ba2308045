"""The canvas in real Chromium (Playwright) against a real `retouch serve` subprocess.

The server runs the classical engines plus test engines as engine plugins (the way users add engines):
the server tests' slow engine, so a job can be watched and cancelled while it runs, and one shaped like
a diffusion model (prompt, grid 64).
"""

from __future__ import annotations

import io
import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.server.conftest import ServeProcess

ROOT = Path(__file__).resolve().parents[2]
STATIC_INDEX = ROOT / "backend" / "retouch" / "static" / "index.html"
CHROMIUM = os.environ.get("RETOUCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
PLUGINS = [
    "tests.server.engines:SlowEngine",
    "tests.browser.engines:PromptGridEngine",
    "tests.browser.engines:FaceRedrawEngine",
    "tests.browser.engines:PixelDoubler",
    "tests.browser.engines:UnsharpFaces",
    "tests.browser.engines:FlatEngine",
]

pytestmark = pytest.mark.browser


class Serve(ServeProcess):
    """`retouch serve` with the test engines the canvas tests use."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir, PLUGINS)


def _needs_browser_and_build() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (`make test` installs Debian's chromium)")
    if not STATIC_INDEX.exists():
        pytest.fail(
            f"the canvas is not built ({STATIC_INDEX} is missing): run `make test` or `npm run build` in frontend/"
        )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    _needs_browser_and_build()
    serve = Serve(tmp_path_factory.mktemp("serve-data")).start()
    yield serve
    serve.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Chromium for one test module. Not for the session: Playwright's sync API keeps an event loop
    running in this thread while it is open, and tests elsewhere call `asyncio.run`."""
    _needs_browser_and_build()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server: Serve) -> Iterator:
    """A fresh browser context (empty localStorage) on the canvas."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url + "/")
    page.get_by_test_id("connection").filter(has_text="connected").wait_for()
    page.locator("[data-testid=engine-select] option[value=patchmatch]").wait_for(state="attached")
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


# --- pictures ----------------------------------------------------------------------------------------


def test_picture(width: int = 512, height: int = 384) -> np.ndarray:
    """A smooth gradient with a small red disc in the middle: a stroke across it covers it whole."""
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 120)], -1).astype(np.uint8)
    pixels[(x - width // 2) ** 2 + (y - height // 2) ** 2 < 10**2] = (230, 30, 30)
    return pixels


test_picture.__test__ = False  # a helper, not a test


def save_png(pixels: np.ndarray, path: Path) -> Path:
    Image.fromarray(pixels).save(path)
    return path


def load_png(path: Path | str) -> np.ndarray:
    return np.asarray(Image.open(path))


# --- what a user does --------------------------------------------------------------------------------


class Canvas:
    """The canvas as a user sees it: screen points, and the picture coordinates the status bar shows."""

    def __init__(self, page) -> None:
        self.page = page
        self.element = page.get_by_test_id("canvas")

    def open(self, path: Path) -> None:
        self.page.get_by_test_id("upload-input").set_input_files(str(path))
        self.page.get_by_test_id("picture-size").filter(has_text=re.compile(r"\d+×\d+")).wait_for()

    def box(self) -> dict:
        return self.element.bounding_box()

    def picture_point(self, screen: tuple[float, float]) -> tuple[int, int]:
        """The picture pixel under a screen point, read from the status bar like a user would."""
        self.page.mouse.move(*screen)
        text = self.page.get_by_test_id("position").inner_text()
        match = re.search(r"x (-?\d+), y (-?\d+)", text)
        assert match, f"status bar shows no position: {text!r}"
        return int(match[1]), int(match[2])

    def screen_of(self, doc: tuple[float, float]) -> tuple[float, float]:
        """Screen point of a picture point, from two status bar readings (zoom and offset)."""
        b = self.box()
        a_screen = (b["x"] + 100, b["y"] + 100)
        c_screen = (b["x"] + 500, b["y"] + 400)
        a = self.picture_point(a_screen)
        c = self.picture_point(c_screen)
        zoom = (c_screen[0] - a_screen[0]) / max(1, c[0] - a[0])
        return a_screen[0] + (doc[0] - a[0] + 0.5) * zoom, a_screen[1] + (doc[1] - a[1] + 0.5) * zoom

    def pixel(self, doc: tuple[float, float]) -> np.ndarray:
        """The colour the user sees at a picture point (RGB from a screenshot)."""
        x, y = self.screen_of(doc)
        shot = np.asarray(Image.open(io.BytesIO(self.page.screenshot())).convert("RGB"))
        return shot[int(y), int(x)].astype(int)

    def stroke(self, points: list[tuple[float, float]]) -> None:
        """Drag the mouse through screen points with the button held (a brush stroke)."""
        mouse = self.page.mouse
        mouse.move(*points[0])
        mouse.down()
        for a, b in itertools.pairwise(points):
            mouse.move(*b, steps=max(1, min(60, int(np.hypot(b[0] - a[0], b[1] - a[1]) // 4))))
        mouse.up()

    def set_field(self, testid: str, value: str) -> None:
        field = self.page.get_by_test_id(testid)
        tag = field.evaluate("e => e.tagName")
        if tag == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
            field.dispatch_event("change")

    def type_into(self, testid: str, text: str) -> None:
        """Replace a field's text key by key, as a person types, then leave it with Tab."""
        field = self.page.get_by_test_id(testid)
        field.click()
        field.press("Control+a")
        field.press_sequentially(text)
        field.press("Tab")

    def focus(self) -> None:
        """Click the canvas with the middle button (a pan that goes nowhere) so hotkeys reach it."""
        b = self.box()
        self.page.mouse.click(b["x"] + 5, b["y"] + 5, button="middle")

    def invoke(self) -> None:
        self.page.get_by_test_id("invoke").click()

    def download(self, into: Path) -> np.ndarray:
        with self.page.expect_download() as info:
            self.page.get_by_test_id("download").click()
        target = into / info.value.suggested_filename
        info.value.save_as(target)
        return load_png(target)

    def wait_staged(self) -> None:
        self.page.get_by_test_id("staging-accept").wait_for()


@pytest.fixture
def canvas(page) -> Canvas:
    return Canvas(page)


def capsule_distance(shape: tuple[int, int], points: list[tuple[float, float]]) -> np.ndarray:
    """Distance of every pixel to the polyline through `points` (picture coordinates)."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    best = np.full((h, w), np.inf, np.float32)
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        dx, dy = bx - ax, by - ay
        t = np.clip(((x - ax) * dx + (y - ay) * dy) / max(1e-6, dx * dx + dy * dy), 0, 1)
        best = np.minimum(best, np.hypot(x - (ax + t * dx), y - (ay + t * dy)))
    return best
