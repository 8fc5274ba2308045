"""Queue behaviour: priority, cancel of queued and running jobs, and independence of jobs."""

from __future__ import annotations

import time


def _running(server, job_id, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = server.http.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] == "running" and job["progress"]["step"] >= 1:
            return job
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} never ran")


def test_priority_runs_first(server, uploaded, gate):
    image_id, mask_id = uploaded
    gate.clear()
    blocker = server.submit(image=image_id, mask=mask_id, engine="gated", steps=2).json()["id"]
    _running(server, blocker)
    normal = [server.submit(image=image_id, mask=mask_id, engine="invert").json()["id"] for _ in range(3)]
    urgent = server.submit(image=image_id, mask=mask_id, engine="invert", priority=100).json()
    assert urgent["position"] == 0
    gate.set()
    jobs = {job_id: server.wait(job_id) for job_id in [blocker, *normal, urgent["id"]]}
    order = sorted(normal + [urgent["id"]], key=lambda job_id: jobs[job_id]["started_at"])
    assert order == [urgent["id"], *normal]


def test_cancel_queued_job(server, uploaded, gate):
    image_id, mask_id = uploaded
    gate.clear()
    blocker = server.submit(image=image_id, mask=mask_id, engine="gated", steps=2).json()["id"]
    waiting = server.submit(image=image_id, mask=mask_id, engine="invert").json()["id"]
    response = server.http.delete(f"/api/v1/jobs/{waiting}")
    assert response.status_code == 200 and response.json()["status"] == "canceled"
    gate.set()
    assert server.wait(blocker)["status"] == "succeeded"
    assert server.wait(waiting)["status"] == "canceled"
    assert server.wait(waiting)["result"] is None


def test_cancel_running_job_stops_within_a_step_and_touches_no_other(server, uploaded, gate):
    image_id, mask_id = uploaded
    gate.clear()
    running = server.submit(image=image_id, mask=mask_id, engine="gated", steps=200).json()["id"]
    other = server.submit(image=image_id, mask=mask_id, engine="gated", steps=4).json()["id"]
    _running(server, running)
    response = server.http.delete(f"/api/v1/jobs/{running}")
    assert response.status_code == 202
    stopped = server.wait(running, timeout=10)  # while the gate is closed: the cancel alone stopped it
    assert stopped["status"] == "canceled"
    assert stopped["progress"]["step"] == 1
    gate.set()
    assert server.wait(other)["status"] == "succeeded"


def test_cancel_finished_job_is_a_conflict(server, uploaded):
    image_id, mask_id = uploaded
    done = server.submit(image=image_id, mask=mask_id, engine="invert").json()["id"]
    server.wait(done)
    response = server.http.delete(f"/api/v1/jobs/{done}")
    assert response.status_code == 409
    assert "succeeded" in response.json()["message"]
