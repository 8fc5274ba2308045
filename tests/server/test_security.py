"""Loopback by default; beyond it only with a token, checked on HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import websockets
from pydantic import ValidationError

from retouch.server.settings import Settings
from tests.server.conftest import live_server

TOKEN = "s3cret-token-for-tests"
ROOT = Path(__file__).resolve().parents[2]


def test_default_binds_loopback():
    assert Settings().host == "127.0.0.1"


def test_listening_beyond_loopback_needs_a_token():
    with pytest.raises(ValidationError, match="token"):
        Settings(host="0.0.0.0")
    assert Settings(host="0.0.0.0", token=TOKEN).token == TOKEN


def test_serve_refuses_to_listen_openly_without_a_token():
    result = subprocess.run(
        [sys.executable, "-m", "retouch.cli", "serve", "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "backend")},
    )
    assert result.returncode == 2
    assert "token" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_token_is_checked_on_http_and_websocket(tmp_path):
    with live_server(tmp_path / "data", token=TOKEN) as server:
        assert server.http.get("/api/v1/health").status_code == 401
        assert server.http.get("/api/v1/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = httpx.get(server.base + "/api/v1/health", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200

        async def socket(url: str) -> str:
            try:
                async with websockets.connect(url) as ws:
                    await ws.send('{"type": "subscribe", "job_ids": []}')
                    await asyncio.wait_for(ws.recv(), 0.5)
                    return "open"
            except websockets.ConnectionClosed as closed:
                return f"closed {closed.rcvd.code if closed.rcvd else ''}"
            except websockets.InvalidStatus as refused:
                return f"refused {refused.response.status_code}"
            except TimeoutError:
                return "open"

        refused = asyncio.run(socket(server.ws_url))
        assert refused.startswith(("closed 1008", "refused 403"))
        assert asyncio.run(socket(server.ws_url + f"?token={TOKEN}")) == "open"
