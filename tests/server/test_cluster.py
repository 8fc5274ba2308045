"""The device pool on a real Ray cluster: a head and three nodes on this machine (127.0.0.1), each node
declaring one GPU as a logical resource, the server joined to it with `ray=ADDRESS` as `retouch serve --ray`.

One cluster serves the whole module (starting one takes a while); the fault tests at the end kill nodes and
add new ones. Jobs are held running with gate files (`cluster_engines.HeldEngine`), never with sleeps.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest
import websockets
from ray.cluster_utils import Cluster

from tests.server.cluster_engines import GATES_VARIABLE, FaultyEngine, HeldEngine, ModelX, ModelY
from tests.server.conftest import ROOT, TEST_ENGINES, LiveServer, free_port, live_server
from tests.server.test_data_folder import held
from tests.support import run_cli

ENGINES = {**TEST_ENGINES, "held": HeldEngine, "model-x": ModelX, "model-y": ModelY, "faulty": FaultyEngine}
GPU_NODES = 3
FINISHED = {"job.succeeded", "job.failed", "job.canceled"}
#: jobs of the many-jobs test
JOBS = 100


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


def _workers(server: LiveServer, cluster: Cluster | None = None) -> list[dict]:
    """The workers of the nodes Ray says are alive; with `cluster`, only those on nodes the test has not killed
    (Ray takes a few seconds to declare a killed node dead)."""
    nodes = _health(server)["cluster"]["nodes"]
    kept = {node.node_id for node in cluster.list_all_nodes()} if cluster is not None else None
    return [
        worker
        for node in nodes
        if node["alive"] and (kept is None or node["node_id"] in kept)
        for worker in node["workers"]
    ]


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
    assert (
        health["cluster"]["connected"] is True and health["cluster"].get("problem") is None
    )  # (health leaves out what is None)
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
    running = [w for w in _workers(server) if w.get("job") is not None]
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


class Follower:
    """A websocket following some jobs on a thread of its own, from their current state until each finished."""

    def __init__(self, server: LiveServer, job_ids: list[str]) -> None:
        self.events: list[dict] = []
        self.subscribed = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._follow(server.ws_url, job_ids),), daemon=True)
        self.thread.start()
        assert self.subscribed.wait(30), "the websocket did not subscribe"

    async def _follow(self, url: str, job_ids: list[str]) -> None:
        finished: set[str] = set()
        async with websockets.connect(url, max_size=None) as socket_:
            await socket_.send(json.dumps({"type": "subscribe", "job_ids": job_ids}))
            async with asyncio.timeout(240):
                while len(finished) < len(job_ids):
                    event = json.loads(await socket_.recv())
                    if event.get("job_id") in job_ids:
                        self.events.append(event)
                        self.subscribed.set()  # the first event is a job's current state
                        finished |= {event["job_id"]} if event["type"] in FINISHED else set()

    def join(self) -> list[dict]:
        self.thread.join(240)
        assert not self.thread.is_alive(), "the jobs did not all finish"
        return self.events

    def of(self, job_id: str) -> list[str]:
        return [event["type"] for event in self.events if event["job_id"] == job_id]


def _kill(cluster: Cluster, node) -> None:
    """Kill a node: its worker processes and its raylet, at once, as a machine that loses power."""
    (raylet,) = node.all_processes["raylet"]
    workers = psutil.Process(raylet.process.pid).children(recursive=True)
    for worker in workers:
        worker.kill()
    cluster.remove_node(node, allow_graceful=False)


def _restore(server: LiveServer, cluster: Cluster) -> None:
    """A new GPU node joins; its worker gets work without a restart of anything."""
    cluster.add_node(**_node_args())
    _wait_for("the new node's worker", lambda: len(_workers(server, cluster)) == GPU_NODES)


def test_a_result_that_finishes_while_another_process_holds_the_database_waits_for_it_and_is_kept(
    server, inputs, closed
):
    """As on the local pool (tests/server/test_data_folder.py), from the same `ResultKeeper`: a backup tool's lock
    outlasting the busy timeout (5 s here) no longer fails a finished job and throws its result away; health
    says the result waits, and it is kept once the lock goes."""
    job_id = _submit(server, inputs, engine="held", steps=1, seed=71)
    _wait_for("the job's step", lambda: _job(server, job_id)["progress"]["step"] >= 1)
    waiting = "1 finished job(s) wait to record their results: another process holds the database"
    with held(server.app.state.settings.data_dir / "retouch.db"):
        (closed / "open-71").touch()  # the job ends on its node while the lock is held
        _wait_for("health to say the result waits", lambda: waiting in (_health(server).get("problems") or []))
        assert _job(server, job_id)["status"] == "running"
    done = server.wait(job_id)
    assert done["status"] == "succeeded", done
    assert (server.image(done["result"]["image"])[10:30, 20:40] == 255).all()
    assert waiting not in (_health(server).get("problems") or [])


def test_a_job_whose_node_dies_completes_elsewhere_exactly_once(server, cluster, inputs, closed):
    job_id = _submit(server, inputs, engine="held", steps=2, seed=31)
    _wait_for("the job's first step", lambda: _job(server, job_id)["progress"]["step"] >= 1)
    follower = Follower(server, [job_id])
    first = _job(server, job_id)["device"]
    _kill(cluster, _node_of(cluster, first))
    (closed / "open-31").touch()
    job = server.wait(job_id, timeout=120)
    kinds = follower.join() and follower.of(job_id)
    assert job["status"] == "succeeded" and job["device"] != first  # it ran again, on another node
    assert kinds.count("job.succeeded") == 1 and kinds[-1] == "job.succeeded"  # completed once
    assert kinds.index("job.queued") > kinds.index("job.started")  # it went back to the queue
    assert (server.image(job["result"]["image"])[10:30, 20:40] == 255).all()
    _restore(server, cluster)


def test_a_job_that_loses_its_node_on_its_last_attempt_fails_saying_so(server, cluster, inputs, closed):
    pool = server.app.state.pool
    pool.attempts = 1  # as `--ray-attempts 1`: this job's first attempt is its last
    try:
        job_id = _submit(server, inputs, engine="held", steps=2, seed=41)
        _wait_for("the job's first step", lambda: _job(server, job_id)["progress"]["step"] >= 1)
        device = _job(server, job_id)["device"]
        _kill(cluster, _node_of(cluster, device))
        job = server.wait(job_id, timeout=120)
    finally:
        pool.attempts = 3
    assert job["status"] == "failed" and job["error"]["code"] == "node_lost"
    assert "lost on each of its 1 attempts" in job["error"]["message"] and device in job["error"]["message"]
    _restore(server, cluster)


def test_many_jobs_with_two_node_kills_all_succeed_exactly_once(server, cluster, inputs, closed):
    jobs = [_submit(server, inputs, engine="held", steps=2, seed=1000 + n) for n in range(JOBS)]
    follower = Follower(server, jobs)

    def busy() -> list[dict]:
        return [w for w in _workers(server, cluster) if w.get("job") is not None]

    for kill in range(2):
        # every worker holds a job at its first step: the node killed takes one with it
        _wait_for("every worker busy", lambda: len(busy()) == GPU_NODES)
        victim = busy()[0]
        _kill(cluster, _node_of(cluster, victim["device"]))
        _restore(server, cluster)
        (closed / "open").touch()
        if kill == 0:
            _wait_for(
                "a third of the jobs",
                lambda: server.http.get("/api/v1/jobs?status=succeeded").json()["count"] >= JOBS // 3,
            )
            (closed / "open").unlink()
    (closed / "open").touch()
    follower.join()
    done = [server.wait(job) for job in jobs]
    assert [job["status"] for job in done] == ["succeeded"] * JOBS
    succeeded = Counter(event["job_id"] for event in follower.events if event["type"] == "job.succeeded")
    assert set(succeeded.values()) == {1} and len(succeeded) == JOBS  # each exactly once
    requeued = [job for job in jobs if "job.queued" in follower.of(job)[1:]]
    assert len(requeued) >= 2  # the two killed nodes' jobs ran again
    assert len({job["result"]["image"] for job in done}) == JOBS


def test_the_driver_lost_while_serving_jobs_wait_and_resume(server, cluster, inputs, closed):
    """Ray ends a driver whose cluster went away; the pool's driver is a process of its own, so the server lives
    on: its job goes back to the queue, health says the cluster is lost, and a new driver picks the job up."""
    pool = server.app.state.pool
    job_id = _submit(server, inputs, engine="held", steps=2, seed=51)
    _wait_for("the job's first step", lambda: _job(server, job_id)["progress"]["step"] >= 1)
    follower = Follower(server, [job_id])
    pool._process.kill()  # as Ray does to a driver whose cluster is gone
    seen: list[dict] = []
    _wait_for(
        "health to say so", lambda: not seen.append(_health(server)) and seen[-1]["cluster"]["connected"] is False
    )
    lost = seen[-1]
    assert "lost the Ray cluster" in lost["cluster"]["problem"] and lost["cluster"]["nodes"] == []
    assert lost["queue"]["running"] == 0
    (closed / "open-51").touch()
    job = server.wait(job_id, timeout=120)
    kinds = follower.join() and follower.of(job_id)
    assert job["status"] == "succeeded" and kinds.count("job.succeeded") == 1
    assert kinds.index("job.queued") > kinds.index("job.started")  # it waited in the queue, then resumed
    _wait_for("the workers back", lambda: len(_workers(server)) == GPU_NODES)


def test_an_unreachable_cluster_at_start_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as placeholder:  # a port where nothing listens
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    result = run_cli("serve", "--port", str(free_port()), "--data-dir", tmp_path, "--ray", f"127.0.0.1:{port}")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "Ray cluster" in lines[0], result.stderr


def test_a_bug_on_a_worker_reaches_the_client_as_an_error_id_and_the_server_log_with_its_traceback(
    server, inputs, caplog
):
    """The README's promise holds on a cluster too: no exception text to a client, the traceback in the log."""
    job = server.wait(_submit(server, inputs, engine="faulty"))
    assert job["status"] == "failed" and job["error"]["code"] == "internal_error"
    message = job["error"]["message"]
    assert "KeyError" not in message and FaultyEngine.SECRET not in message
    incident = message.rpartition("error id ")[2].rstrip(")")
    assert len(incident) == 8, message
    logged = [r.getMessage() for r in caplog.records if incident in r.getMessage()]
    assert logged and "KeyError" in logged[0] and FaultyEngine.SECRET in logged[0]  # the coordinator's log has it


def test_a_stop_keeps_a_job_finishing_within_its_grace_and_queues_one_still_running_after_it(server, inputs, closed):
    """Last of the tests on the module's server: it stops the server's pool, as a shutdown does. One job
    finishes within the grace period (its result is kept, the job succeeded); the other cannot (its gate stays
    closed) and is queued again for the next start, its attempt not spent."""
    finishing = _submit(server, inputs, engine="held", steps=2, seed=61)
    held = _submit(server, inputs, engine="held", steps=2, seed=62)
    _wait_for("both jobs' first step", lambda: all(_job(server, j)["progress"]["step"] >= 1 for j in (finishing, held)))
    pool = server.app.state.pool
    stopping = threading.Thread(target=pool.stop, kwargs={"grace": 5.0})
    stopping.start()
    _wait_for("the stop to begin", pool._stopping.is_set)
    (closed / "open-61").touch()  # only now can the first job finish: within the grace period
    stopping.join(60)
    assert not stopping.is_alive()

    done = _job(server, finishing)
    assert done["status"] == "succeeded", "a job finishing within the grace period keeps its result"
    assert (server.image(done["result"]["image"])[10:30, 20:40] == 255).all()
    job = _job(server, held)
    assert job["status"] == "queued", "a job running past the grace is queued again for the next start, not lost"
    assert job["result"] is None and job["error"] is None
