"""Bounded resources, before authentication too: bodies counted as they stream, decodes within a memory
budget, websockets capped per client, in all and in subscriptions."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import threading
from pathlib import Path

import httpx
import numpy as np
import websockets
from PIL import Image

from retouch.server.pictures import DecodeBudget
from tests.server.conftest import ServeProcess, live_server

MiB = 1 << 20


def _chunked(base: str, path: str, content_type: str, chunks: int, chunk: bytes, token: str | None = None) -> int:
    """POST a chunked body (no Content-Length) over a raw socket, stopping when the server closes; its status."""
    host, port = base.removeprefix("http://").split(":")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n"
    )
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall((head + "\r\n").encode())
        try:
            for _ in range(chunks):
                conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            conn.sendall(b"0\r\n\r\n")
        except OSError:  # the server answered and closed before the body ended: what we want
            pass
        answer = b""
        try:
            while b"\r\n" not in answer and (data := conn.recv(65536)):
                answer += data
        except OSError:
            pass
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def test_chunked_bodies_are_cut_off_at_the_limit(tmp_path):
    with live_server(tmp_path / "data", max_upload_bytes=MiB) as server:
        # a JSON body without Content-Length, 8 MiB against a 1 MiB limit
        status = _chunked(server.base, "/api/v1/jobs", "application/json", 128, b" " * 65536)
        assert status == 413
        # a multipart upload without Content-Length, 8 MiB against 1 MiB: refused as it streams
        boundary = "retouchboundary"
        start = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        status = _chunked(
            server.base,
            "/api/v1/images",
            f"multipart/form-data; boundary={boundary}",
            128,
            start + b"\0" * (65536 - len(start)),
        )
        assert status == 413
        incoming = tmp_path / "data" / "images" / ".incoming"
        assert list(incoming.iterdir()) == []  # nothing half-written is left behind
        assert server.http.get("/api/v1/health").json()["storage"]["pictures"] == 0
        # with a Content-Length over the limit the answer comes before any of the body is read
        big = server.http.post(
            "/api/v1/jobs", content=b"{" + b" " * (2 * MiB) + b"}", headers={"Content-Type": "application/json"}
        )
        assert big.status_code == 413 and "limited to" in big.json()["message"]
        assert server.http.get("/api/v1/health").status_code == 200  # and the server goes on


def test_chunked_bodies_are_cut_off_before_the_token_is_checked_too(tmp_path):
    with live_server(tmp_path / "data", token="s3cret-token-for-tests") as server:
        status = _chunked(server.base, "/api/v1/jobs", "application/json", 64, b" " * 65536)
        assert status == 401  # refused at the door, without reading 4 MiB


def _peak_rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) * 1024


def _rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) * 1024


def test_decompression_bombs_within_the_pixel_limit_stay_under_the_memory_ceiling(tmp_path):
    """Six all-black 4000x4000 PNGs (about 50 KB each, 16 M pixels: inside the pixel limit) at once. Decoded
    together they would take ~900 MB; the decode budget makes them take turns."""
    bomb = io.BytesIO()
    Image.fromarray(np.zeros((4000, 4000, 3), np.uint8)).save(bomb, "PNG", optimize=True)
    assert len(bomb.getvalue()) < 200_000
    serve = ServeProcess(tmp_path / "data")
    serve.extra_args = ["--decode-memory-mb", "64", "--picture-cache-mb", "16"]
    try:
        serve.start()
        pid = serve.process.pid
        small = io.BytesIO()
        Image.fromarray(np.full((64, 64, 3), 7, np.uint8)).save(small, "PNG")
        assert httpx.post(f"{serve.url}/api/v1/images", files={"file": ("s.png", small.getvalue())}).status_code == 201
        before = _rss(pid)
        answers: list[int] = []

        def upload() -> None:
            response = httpx.post(
                f"{serve.url}/api/v1/images", files={"file": ("bomb.png", bomb.getvalue())}, timeout=120
            )
            answers.append(response.status_code)

        threads = [threading.Thread(target=upload) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [201] * 6  # a legitimate if odd picture is still accepted, in turn
        # one decode at a time (~160 MB at its peak: Pillow's image, its bytes, the array) and what the server
        # holds besides; six at once would take ~900 MB
        ceiling = 2 * DecodeBudget.estimate(4000, 4000)
        assert _peak_rss(pid) - before < ceiling, "decodes did not wait for each other"
        assert httpx.get(f"{serve.url}/api/v1/health").json()["status"] in ("ok", "degraded")
    finally:
        serve.stop()


async def _close_of(url: str, send: list[str | bytes] | None = None, **connect) -> tuple[int, str] | None:
    """Connect, send messages, and return the close (code, reason) the server sends, or None while open."""
    async with websockets.connect(url, **connect) as ws:
        for message in send or []:
            await ws.send(message)
        try:
            await asyncio.wait_for(ws.recv(), 0.5)
            await asyncio.wait_for(ws.recv(), 0.5)
        except websockets.ConnectionClosed as closed:
            return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (0, "")
        except TimeoutError:
            return None
    return None


def test_websockets_are_capped_per_client_in_all_and_in_subscriptions(tmp_path):
    with live_server(tmp_path / "data", ws_max_connections=4, ws_max_per_client=3, ws_max_subscriptions=5) as server:
        url = server.ws_url

        async def scenario() -> None:
            held = [await websockets.connect(url) for _ in range(3)]
            code, reason = await _close_of(url)
            assert code == 1013 and "127.0.0.1" in reason and "limit 3" in reason
            held.append(await websockets.connect(url, local_addr=("127.0.0.2", 0)))  # another client: room left
            code, reason = await _close_of(url, local_addr=("127.0.0.3", 0))
            assert code == 1013 and "limit 4" in reason
            assert (await asyncio.to_thread(server.http.get, "/api/v1/health")).status_code == 200
            for ws in held:
                await ws.close()
            # room again once they left; too many subscriptions and binary frames are closed with a reason
            ids = [f"job-{n:016d}" for n in range(6)]
            code, reason = await _close_of(url, [json.dumps({"type": "subscribe", "job_ids": ids})])
            assert code == 1008 and "limit 5" in reason
            code, reason = await _close_of(url, [b"\x00\x01binary"])
            assert code == 1003 and "binary" in reason
            assert await _close_of(url, [json.dumps({"type": "subscribe", "job_ids": ids[:5]})]) is None

        asyncio.run(scenario())
