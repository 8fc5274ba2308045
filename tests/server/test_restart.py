"""`retouch serve` killed with SIGKILL mid-queue: nothing is lost and nothing runs twice to completion."""

from __future__ import annotations

import sqlite3
import time

import httpx
import numpy as np

from tests.server.conftest import ServeProcess


def _client(serve: ServeProcess) -> httpx.Client:
    return httpx.Client(base_url=serve.start().url, timeout=10)


def _wait_running(client: httpx.Client, job_id: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] == "running" and job["progress"]["step"] >= 2:
            return
        time.sleep(0.02)
    raise AssertionError(f"job never ran: {job}")


def _wait_finished(client: httpx.Client, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "canceled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job never finished: {job}")


def _upload(client: httpx.Client, pixels: np.ndarray) -> str:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return client.post("/api/v1/images", files={"file": ("x.png", buffer.getvalue())}).json()["id"]


def test_sigkill_mid_queue(tmp_path):
    serve = ServeProcess(tmp_path / "data", ["tests.server.engines:SlowEngine"])
    try:
        client = _client(serve)
        picture = np.full((64, 64, 3), 90, np.uint8)
        mask = np.zeros((64, 64), np.uint8)
        mask[20:40, 20:40] = 255
        image_id, mask_id = _upload(client, picture), _upload(client, mask)
        long_job = client.post(
            "/api/v1/jobs", json={"image": image_id, "mask": mask_id, "engine": "slow", "steps": 100}
        ).json()["id"]
        short_jobs = [
            client.post("/api/v1/jobs", json={"image": image_id, "mask": mask_id, "engine": "slow", "steps": 2}).json()[
                "id"
            ]
            for _ in range(2)
        ]

        # first kill while the long job runs: it is queued again and runs from the start
        _wait_running(client, long_job)
        serve.kill()
        client = _client(serve)
        assert client.get(f"/api/v1/jobs/{long_job}").json()["status"] in ("queued", "running")
        _wait_running(client, long_job)

        # second kill during its second run: it is failed with a message, the queue goes on
        serve.kill()
        client = _client(serve)
        failed = _wait_finished(client, long_job)
        assert failed["status"] == "failed"
        assert failed["error"]["code"] == "interrupted" and "stopped" in failed["error"]["message"]
        for job_id in short_jobs:
            assert _wait_finished(client, job_id)["status"] == "succeeded"
        serve.stop()

        with sqlite3.connect(tmp_path / "data" / "retouch.db") as db:
            results = db.execute("SELECT COUNT(*) FROM images WHERE kind = 'result'").fetchone()[0]
        assert results == len(short_jobs)  # each finished once, the interrupted job never
    finally:
        serve.stop()
