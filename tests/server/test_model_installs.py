"""Installs through the API: only manifest entries, queued, progress on the websocket, cancellable; the engine
list gains the model without a restart and a fill runs with it."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import numpy as np
import websockets

from retouch.catalog import load_catalog
from tests.model_files import manifest_for
from tests.server.conftest import live_server


async def install_events(
    ws_url: str, name: str, until: set[str], ready: threading.Event, timeout: float = 120
) -> list[dict]:
    """`model.install` events of `name` until its state is one of `until`; `ready` is set once the server
    has this connection among its subscribers (it answered a message, which it reads after subscribing it)."""
    events: list[dict] = []
    async with websockets.connect(ws_url, max_size=None) as socket_:
        await socket_.send("{}")
        assert json.loads(await socket_.recv())["type"] == "error"
        ready.set()
        async with asyncio.timeout(timeout):
            while True:
                event = json.loads(await socket_.recv())
                if event["type"] == "model.install" and event["install"]["name"] == name:
                    events.append(event["install"])
                    if event["install"]["state"] in until:
                        return events


def test_install_through_the_api_then_fill_with_it(tmp_path, file_server, served, monkeypatch, picture, hole):
    monkeypatch.setenv("RETOUCH_MANIFEST", str(manifest_for(tmp_path, file_server, served[1])))
    monkeypatch.delenv("RETOUCH_MODELS_DIR", raising=False)
    catalog = tmp_path / "catalog.yaml"
    with live_server(tmp_path / "data", catalog=catalog) as server:
        listed = server.http.get("/api/v1/models").json()
        lama = next(m for m in listed["starter"] if m["name"] == "lama")
        assert (lama["installed"], lama["licence"], lama["purpose"]) == (False, "Apache-2.0", "inpainting")
        assert listed["disk_free"] > 0 and listed["installed"] == []

        # nothing but a manifest entry's name is taken
        refused = server.http.post("/api/v1/models/installs", json={"name": "lama", "url": "http://example.com/x"})
        assert refused.status_code == 422 and "url" in refused.json()["message"]
        refused = server.http.post("/api/v1/models/installs", json={"name": "evil"})
        assert refused.status_code == 422 and "name must be a model of the manifest" in refused.json()["message"]

        events: list[dict] = []
        ready = threading.Event()
        final = {"succeeded", "failed"}
        watcher = threading.Thread(
            target=lambda: events.extend(asyncio.run(install_events(server.ws_url, "lama", final, ready)))
        )
        watcher.start()
        assert ready.wait(30)
        answer = server.http.post("/api/v1/models/installs", json={"name": "lama"})
        assert answer.status_code == 202 and answer.json()["state"] in ("queued", "running")
        watcher.join(120)
        states = [e["state"] for e in events]
        assert states[-1] == "succeeded", events
        assert "running" in states
        size = served[1]["lama"].stat().st_size
        assert events[-1]["done"] == size

        engines = {e["name"]: e for e in server.http.get("/api/v1/engines").json()}
        assert "lama" in engines, "the new model is an engine without a restart"
        assert load_catalog(catalog).get("lama").downloaded  # type: ignore[union-attr]
        image, mask = server.upload(picture)["id"], server.upload(hole)["id"]
        job = server.submit(image=image, mask=mask, engine="lama").json()
        done = server.wait(job["id"], timeout=120)
        assert done["status"] == "succeeded", done
        result = server.image(done["result"]["image"])[..., :3]
        assert np.array_equal(result[hole == 0], picture[hole == 0])

        listed = server.http.get("/api/v1/models").json()
        assert next(m for m in listed["starter"] if m["name"] == "lama")["installed"]
        removed = server.http.delete("/api/v1/models/lama")
        assert removed.status_code == 200 and [m["name"] for m in removed.json()["installed"]] == []
        assert "lama" not in {e["name"] for e in server.http.get("/api/v1/engines").json()}


def test_an_install_cancelled_half_way_registers_nothing_and_the_next_one_resumes(
    tmp_path, file_server, served, monkeypatch
):
    monkeypatch.setenv("RETOUCH_MANIFEST", str(manifest_for(tmp_path, file_server, served[1])))
    monkeypatch.delenv("RETOUCH_MODELS_DIR", raising=False)
    name, size = "RealESRGAN_x2plus.pth", served[1]["esrgan"].stat().st_size
    gate = threading.Event()
    file_server.hold[name] = (size // 2, gate)  # the server sends half, then waits
    catalog = tmp_path / "catalog.yaml"
    with live_server(tmp_path / "data", catalog=catalog) as server:

        def state() -> dict:
            starter = server.http.get("/api/v1/models").json()["starter"]
            return next(m for m in starter if m["name"] == "up2")["install"] or {}

        assert server.http.post("/api/v1/models/installs", json={"name": "up2"}).status_code == 202
        deadline = time.monotonic() + 30
        while not state().get("done"):  # running, and the first bytes have arrived
            assert time.monotonic() < deadline, state()
            time.sleep(0.02)
        cancelled = server.http.delete("/api/v1/models/installs/up2")
        assert cancelled.status_code == 200
        gate.set()
        while state().get("state") != "canceled":
            assert time.monotonic() < deadline, state()
            time.sleep(0.02)
        assert not catalog.exists(), "a cancelled install registers nothing"
        kept = (tmp_path / "models" / "up2" / f"{name}.part").stat().st_size
        assert kept > 0, "the cancelled install keeps what it received"
        assert "up2" not in {e["name"] for e in server.http.get("/api/v1/engines").json()}
        again = server.http.delete("/api/v1/models/installs/up2")
        assert again.status_code == 422 and "no install of 'up2'" in again.json()["message"]

        assert server.http.post("/api/v1/models/installs", json={"name": "up2"}).status_code == 202
        while state().get("state") != "succeeded":
            assert time.monotonic() < deadline, state()
            time.sleep(0.02)
        second = [s for s in file_server.log if s.path == "/" + name][-1]
        assert (second.range, second.sent) == (f"bytes={kept}-", size - kept), "the second install resumed"
        assert load_catalog(catalog).get("up2") is not None
