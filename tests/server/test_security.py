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
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "backend")},
    )
    assert result.returncode == 2
    assert "token" in result.stderr and len(result.stderr.strip().splitlines()) == 1


async def _socket(url: str, **connect) -> str:
    """What a websocket client gets: `open`, `closed CODE REASON` or `refused STATUS`."""
    try:
        async with websockets.connect(url, **connect) as ws:
            await ws.send('{"type": "subscribe", "job_ids": []}')
            await asyncio.wait_for(ws.recv(), 0.5)
            return "open"
    except websockets.ConnectionClosed as closed:
        return f"closed {closed.rcvd.code} {closed.rcvd.reason}" if closed.rcvd else "closed"
    except websockets.InvalidStatus as refused:
        return f"refused {refused.response.status_code}"
    except TimeoutError:
        return "open"


def test_token_covers_everything_but_a_minimal_health_answer(tmp_path):
    with live_server(tmp_path / "data", token=TOKEN) as server:
        bare = server.http.get("/api/v1/health")
        assert bare.status_code == 200 and bare.json() == {"status": "ok"}  # no version, devices, disk use
        for path in ("/api/v1/jobs", "/api/v1/engines", "/openapi.json", "/docs", "/redoc", "/", "/assets/x.js"):
            refused = server.http.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"].startswith("Bearer"), path
            assert "token" in refused.json()["message"]
        assert server.http.get("/api/v1/health", headers={"Authorization": "Bearer wrong"}).json() == {"status": "ok"}
        auth = {"Authorization": f"Bearer {TOKEN}"}
        full = server.http.get("/api/v1/health", headers=auth).json()
        assert full["status"] == "ok" and full["version"] and full["storage"]["free_bytes"] > 0
        assert full["limits"]["max_pixels"] > 0 and full["limits"]["max_upload_bytes"] > 0  # the canvas checks them
        assert server.http.get("/openapi.json", headers=auth).status_code == 200
        assert server.http.get("/api/v1/jobs", params={"token": TOKEN}).status_code == 200

        # the canvas opened once with ?token=: the page answers and sets a cookie that serves its assets
        with httpx.Client(base_url=server.base) as browser:
            page = browser.get("/", params={"token": TOKEN})
            assert page.status_code == 200
            cookie = page.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
            assert browser.get("/").status_code == 200
            assert browser.get("/api/v1/jobs").status_code == 401  # the cookie is not a key to the API

        assert asyncio.run(_socket(server.ws_url)) == "refused 401"
        assert asyncio.run(_socket(server.ws_url + f"?token={TOKEN}")) == "open"


def test_foreign_host_names_are_refused_on_http_and_websocket(server, uploaded):
    """DNS rebinding: a page on attacker.example resolving to 127.0.0.1 must not read or create jobs."""
    rebound = {"Host": "attacker.example:8000"}
    refused = server.http.get("/api/v1/jobs", headers=rebound)
    assert refused.status_code == 403 and "attacker.example" in refused.json()["message"]
    image, mask = uploaded
    assert server.http.post("/api/v1/jobs", json={"image": image, "mask": mask}, headers=rebound).status_code == 403
    assert server.http.delete(f"/api/v1/images/{image}", headers=rebound).status_code == 403
    port = int(server.base.rsplit(":", 1)[1])
    rebound_url = f"ws://attacker.example:{port}/api/v1/ws"  # the Host it names; the connection goes to loopback
    assert asyncio.run(_socket(rebound_url, host="127.0.0.1", port=port)) == "refused 403"
    for name in ("localhost", "127.0.0.1", "[::1]"):
        assert server.http.get("/api/v1/jobs", headers={"Host": f"{name}:8000"}).status_code == 200, name


def test_configured_host_names_are_served(tmp_path):
    with live_server(tmp_path / "data", allowed_hosts=["studio.lan"]) as server:
        assert server.http.get("/api/v1/jobs", headers={"Host": "studio.lan:8000"}).status_code == 200
        assert server.http.get("/api/v1/jobs", headers={"Host": "other.lan"}).status_code == 403


def test_pages_of_other_origins_can_neither_read_nor_write(server, picture, uploaded):
    """A web page elsewhere: its fetches carry its Origin; multipart POSTs need no preflight, so the server
    itself must refuse them."""
    evil = {"Origin": "https://attacker.example"}
    image, mask = uploaded
    assert server.http.get("/api/v1/jobs", headers=evil).status_code == 403
    assert server.http.post("/api/v1/jobs", json={"image": image, "mask": mask}, headers=evil).status_code == 403
    upload = server.http.post("/api/v1/images", files={"file": ("x.png", b"\x89PNG")}, headers=evil)
    assert upload.status_code == 403 and "attacker.example" in upload.json()["message"]
    job = server.submit(image=image, mask=mask, engine="slow", steps=50).json()["id"]
    assert server.http.delete(f"/api/v1/jobs/{job}", headers=evil).status_code == 403
    assert server.http.get(f"/api/v1/jobs/{job}").json()["status"] in ("queued", "running")
    assert server.http.delete(f"/api/v1/jobs/{job}").status_code in (200, 202)
    cross_site = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}
    assert server.http.get(f"/api/v1/images/{image}", headers=cross_site).status_code == 403
    assert asyncio.run(_socket(server.ws_url, origin="http://attacker.example")) == "refused 403"
    assert asyncio.run(_socket(server.ws_url, origin="null")) == "refused 403"

    # the server's own page: same origin as the Host it was loaded from
    own = server.base.replace("http://", "")
    assert server.http.get("/api/v1/jobs", headers={"Origin": f"http://{own}"}).status_code == 200
    assert asyncio.run(_socket(server.ws_url, origin=f"http://{own}")) == "open"


def test_every_answer_carries_security_headers(server):
    for response in (server.http.get("/api/v1/jobs"), server.http.get("/api/v1/jobs/nope"), server.http.get("/")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page = server.http.get("/")
    if page.headers["content-type"].startswith("text/html"):
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'self'" in policy
    not_allowed = server.http.put("/api/v1/jobs")
    assert not_allowed.status_code == 405
    assert set(not_allowed.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}
    assert not_allowed.json()["code"] == "method_not_allowed"


def test_query_parameters_are_bounded(server):
    huge = server.http.get("/api/v1/jobs", params={"offset": 9223372036854775808})
    assert huge.status_code == 422 and "offset" in huge.json()["message"]
    assert server.http.get("/api/v1/jobs", params={"limit": 10**6}).status_code == 422


def test_an_internal_error_names_no_detail_but_an_id_in_the_log(tmp_path, caplog):
    from fastapi.testclient import TestClient

    from retouch.server.app import create_app

    app = create_app(Settings(data_dir=tmp_path / "data"))

    async def boom() -> None:
        raise OverflowError(f"secret detail at {tmp_path}")

    app.add_api_route("/api/v1/boom", boom)
    app.router.routes.insert(0, app.router.routes.pop())  # ahead of the canvas's catch-all mount

    response = TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False).get("/api/v1/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal_error" and "secret" not in body["message"] and str(tmp_path) not in body["message"]
    incident = body["message"].split("error id ")[1].rstrip(")")
    assert any(incident in record.getMessage() for record in caplog.records)
