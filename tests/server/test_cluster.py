"""The device pool on a real Ray cluster: a head and three nodes on this machine (127.0.0.1), each node
declaring one GPU as a logical resource, the server joined to it with `ray=ADDRESS` as `retouch serve --ray`.

One cluster serves the whole module (starting one takes a while); the fault tests at the end kill nodes and
add new ones. Jobs are held running with gate files (`cluster_engines.HeldEngine`), never with sleeps.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import websockets
from ray.cluster_utils import Cluster

from tests.server.cluster_engines import GATES_VARIABLE, HeldEngine, ModelX, ModelY
from tests.server.conftest import ROOT, TEST_ENGINES, LiveServer, collect, live_server
from tests.support import run_cli

ENGINES = {**TEST_ENGINES, "held": HeldEngine, "model-x": ModelX, "model-y": ModelY}
GPU_NODES = 3
FINISHED = {"job.succeeded", "job.failed", "job.canceled"}


def _node_args() -> dict:
    return {"num_cpus": 1, "num_gpus": 1, "node_ip_address": "127.0.0.1", "object_store_memory": 80 << 20}


@pytest.fixture(scope="module")
def gates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gates")


@pytest.fixture(scope="module")
def cluster(gates: Path) -> Iterator[Cluster]:
    """A head without GPUs (it runs no worker) and three nodes with one (logical) GPU each."""
    with pytest.MonkeyPatch.context() as patch:
        # what the nodes' worker processes inherit: this checkout's code and the gate folder
        patch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(ROOT / "backend")]))
        patch.setenv(GATES_VARIABLE, str(gates))
        cluster = Cluster(
            initialize_head=True,
            connect=False,
            head_node_args={
                "num_cpus": 1,
                "num_gpus": 0,
                "node_ip_address": "127.0.0.1",
                "include_dashboard": False,
                "object_store_memory": 80 << 20,
                # a killed node is declared dead within a few seconds
                "_system_config": {"health_check_period_ms": 500, "health_check_failure_threshold": 4},
            },
        )
        for _ in range(GPU_NODES):
            cluster.add_node(**_node_args())
        try:
            yield cluster
        finally:
            cluster.shutdown()


def _health(server: LiveServer) -> dict:
    return server.http.get("/api/v1/health").json()


def _workers(server: LiveServer) -> list[dict]:
    cluster = _health(server)["cluster"]
    return [worker for node in cluster["nodes"] if node["alive"] for worker in node["workers"]]


def _wait_for(what: str, condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def server(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("data")
    with live_server(data, engines=ENGINES, ray=cluster.address, ray_cpu_workers=0, preview_every=0) as live:
        _wait_for("a worker on every GPU node", lambda: len(_workers(live)) == GPU_NODES)
        yield live


@pytest.fixture
def closed(gates: Path) -> Iterator[Path]:
    """Every gate closed for the test (held jobs wait); all open again after it."""
    for gate in gates.iterdir():
        gate.unlink()
    yield gates
    (gates / "open").touch()


@pytest.fixture(scope="module")
def inputs(server: LiveServer) -> tuple[str, str]:
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    mask = np.zeros((48, 64), np.uint8)
    mask[10:30, 20:40] = 255
    return server.upload(picture)["id"], server.upload(mask)["id"]


def _submit(server: LiveServer, inputs: tuple[str, str], **job) -> str:
    image, mask = inputs
    response = server.submit(image=image, mask=mask, **job)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def _job(server: LiveServer, job_id: str) -> dict:
    return server.http.get(f"/api/v1/jobs/{job_id}").json()


def _node_of(cluster: Cluster, device: str):
    """The cluster's node a job's `device` (host@node/gpu:N) names."""
    prefix = device.split("@")[1].split("/")[0]
    (node,) = [node for node in cluster.list_all_nodes() if node.node_id.startswith(prefix)]
    return node


def test_health_lists_the_nodes_and_a_worker_per_gpu(server: LiveServer, cluster: Cluster):
    health = _health(server)
    assert health["cluster"]["connected"] is True and health["cluster"]["problem"] is None
    nodes = {node["node_id"]: node for node in health["cluster"]["nodes"]}
    assert cluster.head_node.node_id in nodes and nodes[cluster.head_node.node_id]["workers"] == []  # no GPU
    gpu_nodes = [node for node in nodes.values() if node["gpus"] == 1]
    assert len(gpu_nodes) == GPU_NODES and all(len(node["workers"]) == 1 for node in gpu_nodes)
    devices = {device["name"] for device in health["devices"]}
    assert devices == {node["workers"][0]["device"] for node in gpu_nodes}
    assert all(f"@{node['node_id'][:8]}/gpu:0" in node["workers"][0]["device"] for node in gpu_nodes)


def test_jobs_spread_over_the_nodes_and_report_where_they_ran(server, cluster, inputs, closed):
    jobs = [_submit(server, inputs, engine="held", steps=2, seed=seed) for seed in (1, 2, 3)]
    _wait_for("three jobs running at once", lambda: all(_job(server, j)["progress"]["step"] >= 1 for j in jobs))
    running = [w for w in _workers(server) if w["job"] is not None]
    assert sorted(w["job"] for w in running) == sorted(jobs)  # health says which worker runs which job
    (closed / "open").touch()
    done = [server.wait(job) for job in jobs]
    assert all(job["status"] == "succeeded" for job in done)
    nodes = {_node_of(cluster, job["device"]).node_id for job in done}
    assert len(nodes) == GPU_NODES  # one job on each node
    result = server.image(done[0]["result"]["image"])
    assert (result[10:30, 20:40] == 255).all()  # the engine's last step painted the hole on the worker


def test_a_worker_that_holds_the_model_gets_its_jobs(server, inputs, closed):
    (closed / "open").touch()
    first = server.wait(_submit(server, inputs, engine="model-x"))
    again = [server.wait(_submit(server, inputs, engine="model-x")) for _ in range(3)]
    other = server.wait(_submit(server, inputs, engine="model-y"))
    assert all(job["status"] == "succeeded" for job in [first, *again, other])
    assert {job["device"] for job in again} == {first["device"]}  # stays where the model is loaded
    assert other["device"] != first["device"]  # a worker without models takes the new one
    loaded = {w["device"]: w["loaded"] for w in _workers(server)}
    assert "model-x" in loaded[first["device"]] and "model-y" in loaded[other["device"]]
    assert (server.image(other["result"]["image"])[10:30, 20:40] == ModelY.colour).all()


def test_cancel_stops_a_remote_job_within_a_step(server, inputs, closed):
    job_id = _submit(server, inputs, engine="held", steps=5, seed=11)
    _wait_for("the job's first step", lambda: _job(server, job_id)["progress"]["step"] >= 1)
    response = server.http.delete(f"/api/v1/jobs/{job_id}")
    assert response.status_code == 202
    job = server.wait(job_id)
    assert job["status"] == "canceled"
    assert job["progress"]["step"] == 1  # its gate never opened: it stopped at the step it was at
    assert job["result"] is None


def test_events_arrive_in_order(server, inputs, closed):
    job_id = _submit(server, inputs, engine="held", steps=4, seed=21)

    async def follow() -> list[dict]:
        events: list[dict] = []
        async with websockets.connect(server.ws_url, max_size=None) as socket_:
            await socket_.send(json.dumps({"type": "subscribe", "job_ids": [job_id]}))
            async with asyncio.timeout(60):
                while not events:  # the job's current state: the subscription is in place
                    event = json.loads(await socket_.recv())
                    events += [event] if event.get("job_id") == job_id else []
                (closed / "open-21").touch()
                while events[-1]["type"] not in FINISHED:
                    event = json.loads(await socket_.recv())
                    events += [event] if event.get("job_id") == job_id else []
        return events

    events = asyncio.run(follow())
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "job.succeeded" and kinds.count("job.succeeded") == 1
    assert kinds.index("job.started") < kinds.index("job.progress")
    steps = [e["step"] for e in events if e["type"] == "job.progress"]
    assert steps == sorted(steps) and {2, 3, 4} <= set(steps)  # each step streamed from the worker, in order
    assert all(e["total"] == 4 for e in events if e["type"] == "job.progress" and e["step"] > 0)
    assert any(e["preview"] for e in events if e["type"] == "job.progress")  # previews made on the worker
