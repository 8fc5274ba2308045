"""A real Retouch server on 127.0.0.1 (uvicorn in a thread) and helpers to talk to it."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
import uvicorn
import websockets
from PIL import Image

from retouch.engines import ENGINES
from retouch.registry import Registry
from retouch.server.app import create_app
from retouch.server.settings import Settings
from tests.server.engines import BrokenEngine, BuggyEngine, GatedEngine, InvertEngine, SlowEngine

TEST_ENGINES = {
    **ENGINES,
    "slow": SlowEngine,
    "gated": GatedEngine,
    "invert": InvertEngine,
    "broken": BrokenEngine,
    "buggy": BuggyEngine,
}


ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    """`retouch serve` as a subprocess on a free loopback port; can be killed and started again."""

    def __init__(self, data_dir: Path, plugins: list[str] | tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir
        self.plugins = list(plugins)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.extra_args: list[str] = []
        self.grace = 0.0  # seconds running jobs get at a stop (SIGTERM); tests that stop mid-job want no wait

    def start(self) -> ServeProcess:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "backend")])}
        command = [
            sys.executable,
            "-m",
            "retouch.cli",
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
        ]
        for plugin in self.plugins:
            command += ["--engine-plugin", plugin]
        command += ["--stop-grace", str(self.grace), *self.extra_args]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"retouch serve exited: {self.process.stderr.read().decode()}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code in (200, 401):
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("retouch serve did not answer within 60 s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class LiveServer:
    def __init__(self, base: str, app) -> None:
        self.base = base
        self.app = app
        self.ws_url = base.replace("http://", "ws://") + "/api/v1/ws"
        self.http = httpx.Client(base_url=base, timeout=30)

    def upload(self, pixels: np.ndarray, fmt: str = "PNG") -> dict:
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, fmt)
        response = self.http.post("/api/v1/images", files={"file": ("picture.png", buffer.getvalue())})
        assert response.status_code == 201, response.text
        return response.json()

    def submit(self, **job) -> httpx.Response:
        return self.http.post("/api/v1/jobs", json=job)

    def wait(self, job_id: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.http.get(f"/api/v1/jobs/{job_id}").json()
            if job["status"] in ("succeeded", "failed", "canceled"):
                return job
            time.sleep(0.02)
        raise AssertionError(f"job {job_id} did not finish in {timeout} s: {job}")

    def image(self, image_id: str) -> np.ndarray:
        response = self.http.get(f"/api/v1/images/{image_id}")
        assert response.status_code == 200
        return np.asarray(Image.open(io.BytesIO(response.content)))


@contextmanager
def live_server(data_dir: Path, engines=None, devices=None, **settings) -> Iterator[LiveServer]:
    port = free_port()
    settings.setdefault("stop_grace", 0)  # a test leaving a job running need not wait for it at the end
    table = engines if isinstance(engines, Registry) else Registry(engines or TEST_ENGINES)  # built-in detectors
    app = create_app(Settings(port=port, data_dir=data_dir, **settings), engines=table, devices=devices)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    live = LiveServer(f"http://127.0.0.1:{port}", app)
    try:
        yield live
    finally:
        live.http.close()
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def server(tmp_path: Path, gate: threading.Event) -> Iterator[LiveServer]:
    with live_server(tmp_path / "data") as live:
        yield live
        gate.set()  # let a job still waiting finish before the server stops


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """The gated engine's gate, open unless a test closes it to hold a job on its worker."""
    GatedEngine.gate.set()
    yield GatedEngine.gate
    GatedEngine.gate.set()


@pytest.fixture
def picture() -> np.ndarray:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:96, 0:128]
    base = np.stack([x * 2, y * 2, (x + y)], axis=-1).astype(np.int32)
    return np.clip(base + rng.integers(0, 20, base.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def hole() -> np.ndarray:
    mask = np.zeros((96, 128), np.uint8)
    mask[30:60, 40:90] = 255
    return mask


@pytest.fixture
def uploaded(server: LiveServer, picture: np.ndarray, hole: np.ndarray) -> tuple[str, str]:
    return server.upload(picture)["id"], server.upload(hole)["id"]


async def collect(ws_url: str, subscribe: dict, until: set[str], count: int, timeout: float = 60) -> list[dict]:
    """Events on one connection until `count` jobs reached a type in `until`."""
    events: list[dict] = []
    finished: set[str] = set()
    async with websockets.connect(ws_url, max_size=None) as socket_:
        await socket_.send(json.dumps(subscribe))
        async with asyncio.timeout(timeout):
            while len(finished) < count:
                event = json.loads(await socket_.recv())
                events.append(event)
                if event["type"] in until:
                    finished.add(event["job_id"])
    return events
