"""The data folder when something outside the server holds or limits it: another process's exclusive lock on the
database, a read-only folder, a full disk. Each said in one line (start) or one answer (503, 507), nothing
half written, and the server serves again once the cause is gone."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.server.conftest import ROOT, live_server
from tests.server.test_faults import _fill, small_disk  # noqa: F401 - the fixture, for the full disk
from tests.support import run_cli

HOLD = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


@contextmanager
def held(database: Path) -> Iterator[None]:
    """Another process (a backup tool, say) holding `BEGIN EXCLUSIVE` on the database until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(database)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _files(data: Path) -> set[str]:
    return {path.name for path in (data / "images").rglob("*") if path.is_file()}


def _refused_at_start(data: Path) -> str:
    result = run_cli("serve", "--port", "0", "--data-dir", data, cwd=ROOT)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture
def short_busy_wait(monkeypatch):
    """Writes wait 0.3 s (not 5) for a database another process holds, so the test does not sit out a lock."""
    monkeypatch.setenv("RETOUCH_DB_BUSY_TIMEOUT", "0.3")


def test_a_database_held_by_another_process_is_a_503_to_retry_nothing_half_written_and_one_line_at_start(
    tmp_path, short_busy_wait
):
    data = tmp_path / "data"
    picture = np.full((32, 32, 3), 80, np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[8:16, 8:16] = 255
    with live_server(data, db_busy_timeout=0.3) as server:  # writes wait 0.3 s for the lock, not 5
        client = server.http
        image, mask_id = server.upload(picture)["id"], server.upload(mask)["id"]
        job = {"image": image, "mask": mask_id, "engine": "slow", "steps": 200}
        running, queued = client.post("/api/v1/jobs", json=job), client.post("/api/v1/jobs", json=job)
        files = _files(data)
        with held(data / "retouch.db"):
            answers = {
                "upload": client.post("/api/v1/images", files={"file": ("y.png", _png(picture + 1))}),
                "job": client.post("/api/v1/jobs", json={"image": image, "mask": mask_id, "engine": "telea"}),
                "cancel": client.delete(f"/api/v1/jobs/{queued.json()['id']}"),
            }
            for what, answer in answers.items():
                assert answer.status_code == 503, (what, answer.text)
                assert answer.headers["retry-after"].isdigit(), what
                assert answer.json()["code"] == "database_busy" and "try again" in answer.json()["message"]
            assert client.get("/api/v1/health").status_code == 200  # reading goes on
            assert client.get(f"/api/v1/images/{image}").status_code == 200
            assert _files(data) == files  # no picture without its record, no upload left behind
        assert client.post("/api/v1/images", files={"file": ("y.png", _png(picture + 1))}).status_code == 201
        assert client.get("/api/v1/jobs").json()["count"] == 2  # the refused job was never queued
        assert client.delete(f"/api/v1/jobs/{queued.json()['id']}").status_code == 200
        assert client.get(f"/api/v1/jobs/{running.json()['id']}").json()["status"] == "running"  # lived through it
        client.delete(f"/api/v1/jobs/{running.json()['id']}")
    with held(data / "retouch.db"):  # starting while another process holds it: one line, no traceback
        line = _refused_at_start(data)
    assert str(data / "retouch.db") in line and "locked by another process" in line
    assert "damaged" not in line and "rebuild-index" not in line


def test_a_result_that_finishes_while_another_process_holds_the_database_waits_for_it_and_is_kept(tmp_path):
    """A backup tool's lock outlasting the busy timeout used to fail a finished job (its result thrown away)."""
    from tests.server.engines import GatedEngine

    data = tmp_path / "data"
    picture = np.full((32, 32, 3), 80, np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[8:16, 8:16] = 255
    GatedEngine.gate.clear()
    try:
        with live_server(data, db_busy_timeout=0.2) as server:
            client = server.http
            image, mask_id = server.upload(picture)["id"], server.upload(mask)["id"]
            job = client.post("/api/v1/jobs", json={"image": image, "mask": mask_id, "engine": "gated", "steps": 1})
            job_id = job.json()["id"]
            _eventually(lambda: client.get(f"/api/v1/jobs/{job_id}").json()["progress"]["step"] == 1)  # at the gate
            waiting = "1 finished job(s) wait to record their results: another process holds the database"
            with held(data / "retouch.db"):
                GatedEngine.gate.set()  # the fill ends while the lock is held, for many busy timeouts
                _eventually(lambda: waiting in (client.get("/api/v1/health").json().get("problems") or []))
                assert client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "running"
            done = server.wait(job_id)
            assert done["status"] == "succeeded", done
            result = server.image(done["result"]["image"])
            assert (result[8:16, 8:16] == 255).all() and (result[:8] == 80).all()
            assert client.get("/api/v1/health").json()["status"] == "ok"
    finally:
        GatedEngine.gate.set()


def _eventually(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.02)


@contextmanager
def read_only(folder: Path) -> Iterator[str]:
    """`folder` made read-only: a read-only bind mount as root (permissions do not stop root), else chmod.
    Yields the words the server should use."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield "permission denied"
        finally:
            folder.chmod(0o755)
        return
    mount = ["mount", "--bind", str(folder), str(folder)]
    if subprocess.run(mount, capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot bind-mount the folder read-only")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True, capture_output=True)
        yield "read-only"
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_read_only_data_folder_is_said_as_such_not_as_a_damaged_database(tmp_path):
    data = tmp_path / "data"
    with live_server(data) as server:
        server.upload(np.zeros((16, 16, 3), np.uint8))
    with read_only(data) as words:
        line = _refused_at_start(data)
        rebuild = run_cli("rebuild-index", "--data-dir", data, cwd=ROOT)  # nor can it be rebuilt there
    assert words in line and str(data) in line
    assert "damaged" not in line and "rebuild-index" not in line
    assert rebuild.returncode == 2 and words in rebuild.stderr and len(rebuild.stderr.strip().splitlines()) == 1


def test_a_full_disk_at_start_and_after_a_refused_upload_is_said(small_disk):  # noqa: F811
    data = small_disk / "data"
    picture = np.random.default_rng(0).integers(0, 255, (600, 600, 3), dtype=np.uint8)  # ~1.1 MB as PNG
    with live_server(data) as server:
        filler = small_disk / "filler"
        _fill(filler)
        os.truncate(filler, filler.stat().st_size - 700_000)  # 0.7 MB free: more than "almost full", too little
        refused = server.http.post("/api/v1/images", files={"file": ("x.png", _png(picture))})
        assert refused.status_code == 507 and "disk is full" in refused.json()["message"]
        health = server.http.get("/api/v1/health").json()
        assert health["status"] == "degraded"
        assert any("refused for lack of space" in problem for problem in health["problems"]), health
        filler.unlink()
        assert server.http.post("/api/v1/images", files={"file": ("x.png", _png(picture))}).status_code == 201
        assert server.http.get("/api/v1/health").json()["status"] == "ok"
    try:
        _fill(small_disk / "filler")
    except OSError as exc:  # the pictures and the database's log took the last of it already
        assert exc.errno == errno.ENOSPC
    line = _refused_at_start(data)
    assert "no space left" in line and str(data) in line
