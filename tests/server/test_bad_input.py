"""Bad input gets a 4xx naming what was wrong, and the server keeps serving."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a size, with a tiny body: a decompression bomb as far as sizes go."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    )


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


UPLOADS = [
    ("zero bytes", b"", 422, "empty"),
    ("not an image", b"hello, this is text", 422, "not an image"),
    (
        "truncated png",
        _png(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))[:2000],
        422,
        "truncated",
    ),
    ("30000x30000 header", png_header_claiming(30000, 30000), 422, "pixels"),
]


@pytest.mark.parametrize(("name", "data", "status", "words"), UPLOADS, ids=[u[0] for u in UPLOADS])
def test_bad_uploads(server, name, data, status, words):
    response = server.http.post("/api/v1/images", files={"file": ("x.png", data)})
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message"}
    assert words in body["message"]
    assert server.http.get("/api/v1/health").status_code == 200


def test_upload_over_the_size_limit(tmp_path):
    from tests.server.conftest import live_server

    with live_server(tmp_path / "data", max_upload_bytes=4096) as small:
        noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
        response = small.http.post("/api/v1/images", files={"file": ("x.png", _png(noise))})
        assert response.status_code == 413
        assert "4096" in response.json()["message"]
        assert small.http.get("/api/v1/health").status_code == 200


def test_upload_without_file_field(server):
    response = server.http.post("/api/v1/images", files={"picture": ("x.png", b"abc")})
    assert response.status_code == 422
    assert "file" in response.json()["message"]


def _job_cases(image_id: str, mask_id: str, small_mask_id: str, opaque_no_mask: str) -> list:
    base = {"image": image_id, "mask": mask_id, "engine": "telea"}
    return [
        ("mask size mismatch", {**base, "mask": small_mask_id}, "mask", "must match"),
        ("bbox outside the image", {**base, "bbox": {"x": 100, "y": 0, "width": 64, "height": 10}}, "bbox", "outside"),
        ("negative size", {**base, "bbox": {"x": 0, "y": 0, "width": -5, "height": 10}}, "bbox.width", "-5"),
        ("unknown engine", {**base, "engine": "dall-e"}, "engine", "dall-e"),
        ("NaN", {**base, "guidance": "NaN"}, "guidance", "nan"),
        ("misspelled field", {**base, "stength": 0.5}, "stength", "unknown field"),
        ("strength too high", {**base, "strength": 1.7}, "strength", "1.7"),
        ("10 MB prompt", {**base, "prompt": "x" * 10_000_000}, "", "limited"),
        ("unknown image", {**base, "image": "A" * 22}, "image", "no image"),
        ("bad id characters", {**base, "image": "../../etc/passwd"}, "image", "pattern"),
        ("no mask, no alpha", {"image": opaque_no_mask, "engine": "telea"}, "mask", "required"),
        ("unknown infill", {**base, "infill": {"method": "magic"}}, "infill.method", "magic"),
        ("manual scale without size", {**base, "scale": {"mode": "manual"}}, "scale", "width and height"),
        ("seed too large", {**base, "seed": 2**40}, "seed", str(2**40)),
    ]


def test_bad_jobs_table(server, picture, hole):
    image_id = server.upload(picture)["id"]
    mask_id = server.upload(hole)["id"]
    small_mask_id = server.upload(hole[:50, :50])["id"]
    for name, body, field, words in _job_cases(image_id, mask_id, small_mask_id, image_id):
        response = server.http.post("/api/v1/jobs", json=body)
        assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
        message = response.json()["message"]
        assert field in message and words.lower() in message.lower(), (name, message)
    # the server still serves, and a good job still runs
    good = server.submit(image=image_id, mask=mask_id, engine="telea").json()["id"]
    assert server.wait(good)["status"] == "succeeded"


def test_empty_mask_is_rejected(server, picture):
    image_id = server.upload(picture)["id"]
    empty = server.upload(np.zeros(picture.shape[:2], np.uint8))["id"]
    response = server.submit(image=image_id, mask=empty, engine="telea")
    assert response.status_code == 422
    assert "empty" in response.json()["message"]


@pytest.mark.parametrize("path", ["/api/v1/images/" + "Z" * 22, "/api/v1/jobs/" + "Z" * 22])
def test_unknown_ids_are_404(server, path):
    response = server.http.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_path_ids_cannot_reach_the_filesystem(server):
    response = server.http.get("/api/v1/images/..%2F..%2Fretouch.db")
    assert response.status_code in (404, 422)
    assert b"SQLite" not in response.content


def test_malformed_json(server):
    response = server.http.post("/api/v1/jobs", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
