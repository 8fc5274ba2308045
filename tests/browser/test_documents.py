"""Opening pictures against a real server: one over the server's pixel limit is refused (or opened scaled
down) when it is opened, before anything is sent; a background upload the server refuses says so."""

from __future__ import annotations

import struct
import zlib

import pytest

from tests.browser.conftest import Canvas, save_png, test_picture

pytestmark = pytest.mark.browser


def flat_png(width: int, height: int) -> bytes:
    """A valid grey PNG of `width`x`height` zeros, written row by row (no full array in memory)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compress = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(compress.compress(row) for _ in range(height)) + compress.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def test_a_picture_over_the_pixel_limit_is_refused_or_scaled_down_when_opened(canvas: Canvas, tmp_path):
    page = canvas.page
    # a background upload the server refuses says so, naming what it was for, and Invoke stays usable
    refusal = '{"code": "too_large", "message": "upload is over the limit of 10 bytes"}'
    tries: list[str] = []

    def refuse(route) -> None:
        tries.append(route.request.url)
        route.fulfill(status=413, body=refusal, content_type="application/json")

    page.route("**/api/v1/images", refuse)
    canvas.open(save_png(test_picture(), tmp_path / "photo.png"))
    failed = page.get_by_test_id("error").filter(has_text='Could not send the picture "photo"')
    failed.wait_for()
    assert "over the limit of 10 bytes" in failed.inner_text()
    page.keyboard.press("m")  # state changes (the mask hidden, shown) do not send it again and again
    page.keyboard.press("m")
    page.evaluate("() => fetch('/api/v1/health')")
    assert len(tries) == 1, f"the refused picture was sent {len(tries)} times"
    page.unroute("**/api/v1/images")
    assert page.get_by_test_id("invoke").is_enabled()

    huge = tmp_path / "huge9000.png"
    huge.write_bytes(flat_png(9000, 9000))  # 81 MP; the server takes 64 MP

    page.get_by_test_id("upload-input").set_input_files(str(huge))
    question = page.get_by_test_id("ask")
    question.wait_for()
    text = question.inner_text()
    assert "9000×9000" in text and "64 MP" in text and "scaled down to 8000×8000" in text, text
    page.get_by_test_id("ask-cancel").click()
    error = page.get_by_test_id("error").filter(has_text="huge9000")
    error.wait_for()
    assert "not opened" in error.inner_text() and "64000000" in error.inner_text()
    assert page.get_by_test_id("picture-size").inner_text().startswith("512×384"), "the open picture was replaced"
    assert page.get_by_test_id("invoke").is_enabled()

    page.get_by_test_id("upload-input").set_input_files(str(huge))
    page.get_by_test_id("ask-choice").click()
    page.get_by_test_id("picture-size").filter(has_text="8000×8000").wait_for()
