"""What an outside probe (schemathesis, a fuzzer, raw sockets) found, each checked against a real server:
odd `kind` values, a 500 that dropped the connection, GET on a POST-only route, a vanished file answered from
memory, the Origin's scheme, the bearer scheme's case, a deeply nested websocket message."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
import websockets

from retouch.server import app as app_module
from tests.server.conftest import LiveServer, live_server

TOKEN = "s3cret-token-for-probes"


@pytest.mark.parametrize("kind", [{"a": 1}, [1, 2], 7])
def test_a_kind_that_is_no_string_is_a_422_naming_the_field(server: LiveServer, uploaded, kind):
    image, mask = uploaded
    answer = server.submit(kind=kind, image=image, mask=mask)
    assert answer.status_code == 422, answer.text
    message = answer.json()["message"]
    assert message.startswith("kind:") and "fill, upscale" in message


def _exchange(sock: socket.socket, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send one HTTP/1.1 request on an open connection and read exactly its answer (Content-Length framed)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection mid-answer"
        body += chunk
    return int(lines[0].split()[1]), headers, body


def test_a_500_is_an_answer_and_the_keep_alive_connection_serves_the_next_request(server: LiveServer, uploaded):
    """uvicorn closed the connection when Starlette raised the bug again after its 500: the client's next
    request on it failed with "connection reset"."""
    image, mask = uploaded
    host, port = server.base.removeprefix("http://").split(":")
    body = json.dumps({"image": image, "mask": mask, "engine": "buggy"}).encode()  # its check has a bug
    post = (
        b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        for _ in range(2):
            status, headers, answer = _exchange(sock, post)
            assert status == 500 and headers.get("connection") != "close"
            assert json.loads(answer)["code"] == "internal_error" and "ZeroDivision" not in answer.decode()
            status, _, answer = _exchange(sock, b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert status == 200 and json.loads(answer)["status"] == "ok"


def test_get_on_a_post_only_route_is_405_naming_what_it_allows_with_the_canvas_mounted(tmp_path, monkeypatch):
    canvas = tmp_path / "static"
    canvas.mkdir()
    (canvas / "index.html").write_text("<!doctype html><title>canvas</title>")
    monkeypatch.setattr(app_module, "STATIC_DIR", canvas)
    with live_server(tmp_path / "data") as server:
        for path, allowed in (("/api/v1/faces", "POST"), ("/api/v1/images", "POST")):
            answer = server.http.get(path)
            assert answer.status_code == 405, (path, answer.text)
            assert answer.headers["allow"] == allowed and answer.json()["code"] == "method_not_allowed"
        assert server.http.get("/api/v1/nothing-here").status_code == 404
        assert "canvas" in server.http.get("/").text  # the canvas is still served at /


def test_a_file_gone_from_disk_is_410_for_new_jobs_and_face_searches_though_its_pixels_are_cached(
    server: LiveServer, uploaded, tmp_path
):
    image, mask = uploaded
    next((tmp_path / "data" / "images").glob(f"*/{image}.png")).unlink()
    assert server.http.get(f"/api/v1/images/{image}").status_code == 410
    job = server.submit(image=image, mask=mask, engine="invert")
    assert job.status_code == 410 and "missing" in job.json()["message"], job.text
    faces = server.http.post("/api/v1/faces", json={"image": image})
    assert faces.status_code == 410 and "missing" in faces.json()["message"], faces.text
    assert server.http.get("/api/v1/jobs").json()["count"] == 0


def test_the_origin_check_compares_the_scheme_and_the_bearer_scheme_is_case_insensitive(tmp_path):
    with live_server(tmp_path / "data", token=TOKEN) as server:
        own = server.base.removeprefix("http://")
        for scheme in ("bearer", "BEARER", "Bearer"):
            authorization = {"Authorization": f"{scheme} {TOKEN}"}
            assert server.http.get("/api/v1/jobs", headers=authorization).status_code == 200, scheme
            wrong = {"Authorization": f"{scheme} not-the-token"}
            assert server.http.get("/api/v1/jobs", headers=wrong).status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert server.http.get("/api/v1/jobs", headers={**auth, "Origin": f"http://{own}"}).status_code == 200
        other_scheme = server.http.get("/api/v1/jobs", headers={**auth, "Origin": f"https://{own}"})
        assert other_scheme.status_code == 403 and other_scheme.json()["code"] == "forbidden_origin"


def test_the_upload_documents_its_400_and_415_answers(server: LiveServer):
    upload = server.http.get("/openapi.json").json()["paths"]["/api/v1/images"]["post"]["responses"]
    assert {"400", "415"} <= set(upload)
    assert server.http.post("/api/v1/images", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
    malformed = server.http.post(
        "/api/v1/images", content=b"--b\r\nnonsense", headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert malformed.status_code in (400, 422) and malformed.json()["code"] in ("bad_request", "invalid_input")


async def _nested_then_finish(server: LiveServer, job_id: str, gate) -> tuple[dict, dict]:
    async with websockets.connect(server.ws_url) as ws:
        await ws.send(json.dumps({"type": "subscribe", "job_ids": [job_id]}))
        assert json.loads(await ws.recv())["job_id"] == job_id  # its current state
        await ws.send("[" * 100_000)
        error = json.loads(await ws.recv())
        while error["type"] != "error":  # progress of the subscribed job may come first
            error = json.loads(await ws.recv())
        gate.set()
        async with asyncio.timeout(30):
            while (event := json.loads(await ws.recv()))["type"] != "job.succeeded":
                pass
    return error, event


def test_a_deeply_nested_websocket_message_is_an_error_event_and_the_subscription_lives_on(
    server: LiveServer, uploaded, gate
):
    image, mask = uploaded
    gate.clear()
    job_id = server.submit(image=image, mask=mask, engine="gated", steps=1).json()["id"]
    error, event = asyncio.run(_nested_then_finish(server, job_id, gate))
    assert error["code"] == "invalid_input" and "nests too deeply" in error["message"]
    assert "column" not in error["message"] and "recursion" not in error["message"]  # our words, not the parser's
    assert event["job_id"] == job_id


async def _say(server: LiveServer, text: str) -> str:
    async with websockets.connect(server.ws_url) as ws:
        await ws.send(text)
        return json.loads(await ws.recv())["message"]


def test_websocket_errors_are_in_retouchs_own_words(server: LiveServer):
    assert asyncio.run(_say(server, "nope")).startswith("the message is not JSON; send an object such as")
    assert asyncio.run(_say(server, "[1]")).startswith("the message must be a JSON object")
    assert "job_ids" in asyncio.run(_say(server, '{"type": "subscribe", "job_ids": ["x"]}'))
