"""The Ray bridge: a process of its own that is the coordinator's Ray driver.

`python -m retouch.server.cluster.bridge FD ADDRESS TIMEOUT` joins the cluster at ADDRESS and serves the
coordinator on the socket FD (messages of `protocol`). It keeps one worker actor per GPU of every live node
(`cpu_workers` on a node without GPUs), places each on its node, runs the jobs the coordinator sends on the
worker it names and forwards what their streams yield. A worker whose stream breaks (its node died, its
process was killed) is killed for good and reported `Lost` with its job; the coordinator queues the job again.

Ray ends a driver whose cluster is gone; in a process of its own that ends only the bridge, and the server
waits for Ray to come back. With `--probe` it only joins, says whether it could, and exits.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from retouch.server.cluster.protocol import (
    Begun,
    Cancel,
    Configure,
    Connected,
    Finished,
    Lost,
    NodeInfo,
    Nodes,
    Run,
    Stop,
    Unreachable,
    WorkerInfo,
    WorkerJoined,
    WorkerLeft,
)
from retouch.server.cluster.worker import WorkerActor
from retouch.server.pool_base import job_error

log = logging.getLogger("retouch.cluster.bridge")

#: seconds before a node where a worker failed to start is tried again
RETRY_START = 30.0


@dataclass
class Handle:
    actor: Any
    info: WorkerInfo
    job: str | None = None


@dataclass
class Starting:
    """An actor asked for and not yet answering: it joins once `describe` answers."""

    actor: Any
    node_id: str
    ready: Any  # the ObjectRef of its `describe`
    since: float


def connect(address: str, timeout: float) -> str | None:
    """Join the cluster; None, or why it could not be joined within `timeout` seconds."""
    import ray

    outcome: list[str | None] = []

    def init() -> None:
        try:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False, include_dashboard=False)
            outcome.append(None)
        except Exception as exc:  # ConnectionError, ValueError for a malformed address, ...
            outcome.append(f"{type(exc).__name__}: {exc}".splitlines()[0])

    thread = threading.Thread(target=init, daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        return f"no answer within {timeout:g} s"
    return outcome[0]


class Bridge:
    def __init__(self, conn: Connection, config: Configure) -> None:
        import ray

        self.ray = ray
        self.conn = conn
        self.config = config
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self.workers: dict[str, Handle] = {}
        self.starting: list[Starting] = []
        self._counter = 0
        self._failed: dict[str, float] = {}  # node -> when a worker last failed to start there
        self._stopping = False
        self._actor_class: Any = ray.remote(WorkerActor)

    def send(self, message: object) -> None:
        with self._send_lock:
            self.conn.send(message)

    # membership

    def watch(self) -> None:
        """Every `refresh` seconds: the nodes (sent as the heartbeat), actors for nodes that lack them, the
        actors that came up, and the workers of nodes that died."""
        while not self._stopping:
            try:
                self._look()
            except Exception:
                log.exception("looking at the cluster failed")
            time.sleep(self.config.refresh)

    def _look(self) -> None:
        nodes = [
            NodeInfo(
                node_id=node["NodeID"],
                address=node.get("NodeManagerAddress", ""),
                name=node.get("NodeName") or node.get("NodeManagerHostname", ""),
                alive=bool(node["Alive"]),
                gpus=float(node.get("Resources", {}).get("GPU", 0)),
                cpus=float(node.get("Resources", {}).get("CPU", 0)),
            )
            for node in self.ray.nodes()
        ]
        self.send(Nodes(nodes))
        alive = {node.node_id: node for node in nodes if node.alive}
        self._collect_started()
        with self._lock:
            gone = [handle for handle in self.workers.values() if handle.info.node_id not in alive]
            placed: dict[str, int] = {}
            for handle in self.workers.values():
                placed[handle.info.node_id] = placed.get(handle.info.node_id, 0) + 1
            for starting in self.starting:
                placed[starting.node_id] = placed.get(starting.node_id, 0) + 1
        for handle in gone:
            if handle.job is None:
                self.drop(handle.info.worker_id, "its node left the cluster")
            else:  # its stream breaks now and reports the job lost
                self.ray.kill(handle.actor, no_restart=True)
        for node in alive.values():
            if time.monotonic() - self._failed.get(node.node_id, -RETRY_START) < RETRY_START:
                continue
            wanted = int(node.gpus) if node.gpus >= 1 else self.config.cpu_workers
            for _ in range(wanted - placed.get(node.node_id, 0)):
                self._start_actor(node)

    def _start_actor(self, node: NodeInfo) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        resources = {"num_gpus": 1, "num_cpus": 0} if node.gpus >= 1 else {"num_cpus": 1}
        self._counter += 1
        actor = self._actor_class.options(
            **resources,
            max_concurrency=2,  # `run` and `cancel` at once
            max_restarts=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node.node_id, soft=False),
        ).remote(
            self.config.engines,
            index=self._counter,
            memory_budget=self.config.memory_budget,
            preview_every=self.config.preview_every,
            max_pixels=self.config.max_pixels,
        )
        with self._lock:
            self.starting.append(Starting(actor, node.node_id, actor.describe.remote(), time.monotonic()))

    def _collect_started(self) -> None:
        with self._lock:
            starting, self.starting = self.starting, []
        if not starting:
            return
        ready, _ = self.ray.wait([s.ready for s in starting], num_returns=len(starting), timeout=0)
        done = set(ready)
        for item in starting:
            if item.ready not in done:
                with self._lock:
                    self.starting.append(item)  # still starting (or waiting for its node to be declared dead)
                continue
            try:
                info: WorkerInfo = self.ray.get(item.ready)
            except Exception as exc:  # its node died meanwhile, or the actor could not be built
                log.warning("a worker on node %s did not start: %s", item.node_id[:8], exc)
                self._failed[item.node_id] = time.monotonic()
                continue
            with self._lock:
                self.workers[info.worker_id] = Handle(item.actor, info)
            self.send(WorkerJoined(info))

    def drop(self, worker_id: str, reason: str) -> None:
        with self._lock:
            handle = self.workers.pop(worker_id, None)
        if handle is None:
            return
        try:
            self.ray.kill(handle.actor, no_restart=True)
        except Exception:  # already gone
            pass
        self.send(WorkerLeft(worker_id, reason))

    # jobs

    def run(self, run: Run) -> None:
        with self._lock:
            handle = self.workers.get(run.worker_id)
            if handle is not None:
                handle.job = run.job_id
        if handle is None:
            self.send(Lost(run.job_id, run.worker_id, "its worker had left the cluster", reached=False))
            return
        threading.Thread(target=self._stream, args=(handle, run), name=f"stream-{run.job_id}", daemon=True).start()

    def _stream(self, handle: Handle, run: Run) -> None:
        """Forward the job's stream; a broken stream means the worker is lost, with the job."""
        ray = self.ray
        reached = False
        try:
            picture = ray.put(run.picture)
            mask = ray.put(run.mask) if run.mask is not None else None
            stream = handle.actor.run.options(num_returns="streaming").remote(run.job_id, run.request, picture, mask)
            for ref in stream:
                item = ray.get(ref)
                reached = True
                if not isinstance(item, Begun):
                    self.send(item)
        except ray.exceptions.RayTaskError as exc:  # the worker's own code raised: a failure, not a lost node
            # (this process's log is the server's: its stderr is the server's)
            self.send(Finished(run.job_id, error=job_error(exc, f"job {run.job_id} failed on {handle.info.device}")))
        except Exception as exc:
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            with self._lock:
                handle.job = None
            self.send(Lost(run.job_id, handle.info.worker_id, reason, reached))
            self.drop(handle.info.worker_id, reason)
            return
        with self._lock:
            handle.job = None

    def cancel(self, message: Cancel) -> None:
        with self._lock:
            handle = self.workers.get(message.worker_id)
        if handle is not None:
            handle.actor.cancel.remote(message.job_id)

    def serve(self) -> None:
        threading.Thread(target=self.watch, name="watch", daemon=True).start()
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):  # the coordinator is gone
                break
            if isinstance(message, Run):
                self.run(message)
            elif isinstance(message, Cancel):
                self.cancel(message)
            elif isinstance(message, Stop):
                break
        self._stopping = True
        with self._lock:
            handles = list(self.workers.values())
        for handle in handles:
            try:
                self.ray.kill(handle.actor, no_restart=True)
            except Exception:
                pass


def main(argv: list[str]) -> int:
    probe = "--probe" in argv
    fd, address, timeout = int(argv[0]), argv[1], float(argv[2])
    conn = Connection(fd)
    if not probe:
        config = conn.recv()
        assert isinstance(config, Configure)
    problem = connect(address, timeout)
    if problem is not None:
        conn.send(Unreachable(problem))
        conn.close()
        os._exit(1)  # a hanging connection attempt may hold threads
    import ray

    conn.send(Connected(address, ray.__version__))
    if probe:
        conn.close()
        ray.shutdown()
        return 0
    bridge = Bridge(conn, config)
    bridge.serve()
    conn.close()
    os._exit(0)  # Ray's own threads need not be waited for; the cluster drops this driver's actors


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
