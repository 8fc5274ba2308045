"""The device pool on a Ray cluster: throughput as workers are added, a Ray worker's cost per job over a local
worker's, and how long a job whose node died waits before it runs again.

    python benchmarks/cluster.py [--jobs-per-worker 8] [--hold-steps 5] [--round-trips 30] [--kills 3]

A real local Ray cluster (a head and GPU nodes on 127.0.0.1, each declaring one GPU as a logical resource),
the real server joined to it as `retouch serve --ray`, jobs submitted over HTTP and followed to `job.succeeded`.
- **throughput**: `jobs-per-worker` x N jobs at once on N = 1, 2, 3 workers, with an engine that holds its
  worker for `hold-steps` x 100 ms without using the CPU (a stand-in for GPU time). Scaling efficiency of N
  workers = throughput(N) / (N x throughput(1)); goal >= 0.9.
- **per-job overhead**: one job at a time with an engine that costs nothing (`invert`), on the Ray pool and on
  the local pool (worker threads in the server's process), median round trip (submit to `job.succeeded` seen
  on the websocket); the difference is what Ray adds (goal <= 15 ms).
- **recovery**: a job held running on a node whose processes are then killed; time from the kill to the job
  running again on another node (its second `job.started`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "backend")]
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "backend")])  # the nodes' workers import this

from ray.cluster_utils import Cluster  # noqa: E402

from tests.server.cluster_engines import GATES_VARIABLE, HeldEngine, TimedEngine  # noqa: E402
from tests.server.conftest import TEST_ENGINES, LiveServer, live_server  # noqa: E402
from tests.server.test_cluster import _kill, _node_args, _node_of, _wait_for, _workers  # noqa: E402

ENGINES = {**TEST_ENGINES, "timed": TimedEngine, "held": HeldEngine}


def _inputs(server: LiveServer) -> tuple[str, str]:
    rng = np.random.default_rng(0)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    return server.upload(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))["id"], server.upload(mask)["id"]


async def _run_jobs(server: LiveServer, inputs: tuple[str, str], count: int, **job) -> float:
    """Submit `count` jobs at once; seconds until the websocket saw every one succeed."""
    image, mask = inputs
    session = f"bench{time.monotonic_ns()}"
    async with websockets.connect(f"{server.ws_url}?session={session}", max_size=None) as socket_:
        await socket_.send(json.dumps({"type": "subscribe", "all": True}))
        start = time.perf_counter()
        for _ in range(count):
            response = server.http.post(
                "/api/v1/jobs", json={"image": image, "mask": mask, **job}, headers={"X-Retouch-Session": session}
            )
            assert response.status_code == 202, response.text
        done = 0
        while done < count:
            event = json.loads(await socket_.recv())
            assert event["type"] != "job.failed", event
            done += event["type"] == "job.succeeded"
        return time.perf_counter() - start


def _round_trips(server: LiveServer, inputs: tuple[str, str], repeat: int) -> float:
    """Median seconds of one `invert` job, submitted alone and followed to `job.succeeded`."""
    times = [asyncio.run(_run_jobs(server, inputs, 1, engine="invert")) for _ in range(repeat + 3)]
    return statistics.median(times[3:])  # the first ones warm the worker up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs-per-worker", type=int, default=8)
    parser.add_argument("--hold-steps", type=int, default=5, help="steps of 100 ms each job holds its worker")
    parser.add_argument("--round-trips", type=int, default=30)
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        gates = base / "gates"
        gates.mkdir()
        os.environ[GATES_VARIABLE] = str(gates)
        with live_server(base / "local", engines=ENGINES) as server:
            local = _round_trips(server, _inputs(server), args.round_trips)

        cluster = Cluster(
            initialize_head=True,
            connect=False,
            head_node_args={
                "num_cpus": 1,
                "num_gpus": 0,
                "node_ip_address": "127.0.0.1",
                "include_dashboard": False,
                "_system_config": {"health_check_period_ms": 500, "health_check_failure_threshold": 4},
            },
        )
        try:
            cluster.add_node(**_node_args())
            settings = {"ray": cluster.address, "ray_cpu_workers": 0}
            with live_server(base / "ray", engines=ENGINES, **settings) as server:
                _wait_for("one worker", lambda: len(_workers(server)) == 1)
                inputs = _inputs(server)
                remote = _round_trips(server, inputs, args.round_trips)
                throughput: dict[int, float] = {}
                for workers in (1, 2, 3):
                    while len(cluster.list_all_nodes()) - 1 < workers:
                        cluster.add_node(**_node_args())
                    _wait_for(f"{workers} workers", lambda n=workers: len(_workers(server)) == n)
                    count = args.jobs_per_worker * workers
                    seconds = asyncio.run(_run_jobs(server, inputs, count, engine="timed", steps=args.hold_steps))
                    throughput[workers] = count / seconds
                recoveries = []
                for kill in range(args.kills):
                    (gates / "open").unlink(missing_ok=True)
                    job_id = server.submit(image=inputs[0], mask=inputs[1], engine="held", steps=2, seed=kill).json()[
                        "id"
                    ]
                    _wait_for(
                        "the job's first step",
                        lambda job_id=job_id: server.http.get(f"/api/v1/jobs/{job_id}").json()["progress"]["step"] >= 1,
                    )
                    first = server.http.get(f"/api/v1/jobs/{job_id}").json()["device"]
                    killed = time.perf_counter()
                    _kill(cluster, _node_of(cluster, first))

                    def again(job_id: str = job_id, first: str = first) -> bool:
                        job = server.http.get(f"/api/v1/jobs/{job_id}").json()
                        return job["status"] == "running" and job["device"] != first

                    _wait_for("the job running again", again)
                    recoveries.append(time.perf_counter() - killed)
                    (gates / "open").touch()
                    server.wait(job_id)
                    cluster.add_node(**_node_args())
                    _wait_for("the workers back", lambda: len(_workers(server)) == 3)
        finally:
            cluster.shutdown()

    hold = args.hold_steps * 0.1
    print(f"\n### Throughput ({args.jobs_per_worker} jobs per worker, each holding its worker {hold:.1f} s)\n")
    print("| workers | jobs/s | ideal jobs/s | scaling efficiency |")
    print("| ---: | ---: | ---: | ---: |")
    for workers, rate in throughput.items():
        print(f"| {workers} | {rate:.2f} | {workers / hold:.2f} | {rate / (workers * throughput[1]):.2f} |")
    print("\n### Per-job overhead (one `invert` job at a time, median round trip)\n")
    print("| pool | round trip ms |")
    print("| --- | ---: |")
    print(f"| local (threads in the server) | {local * 1000:.1f} |")
    print(f"| Ray (a worker actor on another node) | {remote * 1000:.1f} |")
    print(f"| **Ray over local** | **{(remote - local) * 1000:.1f}** |")
    print("\n### Recovery (a node killed mid-job: kill to the job running on another node)\n")
    print("| kill | seconds |")
    print("| ---: | ---: |")
    for index, seconds in enumerate(recoveries, 1):
        print(f"| {index} | {seconds:.2f} |")
    print(f"| median | {statistics.median(recoveries):.2f} |")


if __name__ == "__main__":
    main()
