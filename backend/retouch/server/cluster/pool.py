"""The device pool on a Ray cluster: `Pool` (`retouch.server.pool_base`) as `DevicePool` is, over many machines.

The server stays the one coordinator: the SQLite queue (which records and announces every change), the image
store and the websockets stay here. `RayPool` keeps a picture of the cluster's workers (one Ray actor per GPU,
see `worker.py`), places each queued job by the rule both pools share (`pool_base.place`: a free worker that
already holds the job's model, else the least loaded), sends it with its picture, and records what the worker streams back: progress,
previews, the result or the failure. A worker lost with its job (its node died) puts the job back in the queue,
where another worker takes it; a job that lost its worker on every attempt fails, saying so.

This process never imports Ray: `bridge.py`, a child process, is the Ray driver. Ray ends a driver whose
cluster went away; here that ends only the bridge, and the pool starts another until the cluster is back,
the jobs waiting in the queue meanwhile.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection

from retouch.devices import Device
from retouch.imaging.io import Picture
from retouch.registry import Registry
from retouch.server.cluster.protocol import (
    Cancel,
    Configure,
    Connected,
    Finished,
    Lost,
    Nodes,
    Outcome,
    Progress,
    Run,
    Stop,
    Unreachable,
    WorkerInfo,
    WorkerJoined,
    WorkerLeft,
)
from retouch.server.pool_base import Dispatcher, ResultKeeper, job_error, place, stored_inputs
from retouch.server.queue import (
    Claimed,
    JobQueue,
    stored_request,  # as the queue keeps it: unset fields stay unset
)
from retouch.server.schemas import ClusterPublic, ErrorPublic, NodePublic, RemoteWorkerPublic
from retouch.server.settings import is_loopback
from retouch.server.store import ImageStore

log = logging.getLogger("retouch.cluster")

#: longest wait between two attempts to reach a cluster that is gone
RECONNECT_MAX = 10.0


def _loopback_address(address: str) -> bool:
    """Whether a Ray address (`host:port`) is on this machine."""
    return is_loopback(address.rpartition(":")[0].strip("[]") or address)


def _spawn(address: str, timeout: float, *extra: str) -> tuple[Connection, subprocess.Popen]:
    """The bridge process and the coordinator's end of its socket."""
    ours, theirs = socket.socketpair()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    if _loopback_address(address):
        # Ray turns a loopback address into the machine's network address, where a cluster started on
        # 127.0.0.1 (tests, a single machine) does not listen; this keeps loopback as it is.
        env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    command = [sys.executable, "-m", "retouch.server.cluster.bridge", str(theirs.fileno()), address, f"{timeout:g}"]
    process = subprocess.Popen([*command, *extra], pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL)
    theirs.close()
    return Connection(ours.detach()), process


def _end(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(10)


def probe(address: str, timeout: float = 30.0) -> str | None:
    """Whether the cluster at `address` can be joined: None, or why not (for one line and exit code 2)."""
    host, _, port = address.rpartition(":")
    if host and port.isdigit():  # nothing listening is said at once; Ray itself would retry for a minute
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=min(timeout, 5.0)).close()
        except OSError as exc:
            return f"nothing answers at {host}:{port} ({exc.strerror or type(exc).__name__})"
    conn, process = _spawn(address, timeout, "--probe")
    try:
        if not conn.poll(timeout + 30):  # starting Python and importing Ray take a while on a busy machine
            return f"no answer within {timeout:g} s"
        answer = conn.recv()
    except (EOFError, OSError):
        return "the Ray driver process ended without an answer (is the `cluster` extra installed?)"
    finally:
        conn.close()
        _end(process)
    return answer.message if isinstance(answer, Unreachable) else None


@dataclass
class RemoteWorker:
    """What the coordinator knows of one worker actor."""

    info: WorkerInfo
    job: str | None = None
    loaded: list[str] = field(default_factory=list)
    used: int = 0


class RayPool:
    """Runs the queue's jobs on the workers of a Ray cluster; offers what the routes use of a `DevicePool`."""

    def __init__(
        self,
        queue: JobQueue,
        store: ImageStore,
        engines: Registry,
        *,
        address: str,
        cpu_workers: int = 1,
        attempts: int = 3,
        memory_budget: int | None = None,
        preview_every: float = 0.25,
        max_pixels: int,
        timeout: float = 30.0,
        refresh: float = 1.0,
    ) -> None:
        self.queue, self.store, self.engines = queue, store, engines
        self.address = address
        self.attempts = attempts
        self.max_pixels = max_pixels
        self.timeout = timeout
        self.heartbeat_timeout = max(10.0, refresh * 10)
        # the workers get the registry whole: the catalog's face detectors travel with its engines
        self._configure = Configure(engines, cpu_workers, memory_budget, preview_every, max_pixels, refresh)
        self.workers: dict[str, RemoteWorker] = {}
        self.nodes: Nodes = Nodes([])
        self.ray_version: str | None = None
        self.problem: str | None = f"connecting to the Ray cluster at {address}"
        self._conn: Connection | None = None
        self._process: subprocess.Popen | None = None
        self._where: dict[str, str] = {}  # job -> worker running it
        self._attempt: dict[str, int] = {}  # job -> which attempt runs now
        self._cancelled: set[str] = set()
        self._keeping: set[str] = set()  # finished jobs whose results are being kept
        self.keeper = ResultKeeper(store, queue, lambda job_id: self._leaving.is_set() or job_id in self._cancelled)
        # results are kept on their own thread: a result waiting for the database must not hold up the bridge
        self._results = ThreadPoolExecutor(1, thread_name_prefix="retouch-ray-results")
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)  # notified whenever a job leaves its worker
        self._send_lock = threading.Lock()
        self._stopping = threading.Event()  # a stop began: no new jobs, no new bridge
        self._leaving = threading.Event()  # its grace is over: what the bridge still says is not ours
        self._dispatcher = Dispatcher("retouch-ray-dispatcher", self._dispatch)
        self._supervisor = threading.Thread(target=self._supervise, name="retouch-ray-bridge", daemon=True)

    # what the app and the routes use

    def start(self) -> None:
        self._supervisor.start()
        self._dispatcher.start()

    def stop(self, grace: float = 30.0, timeout: float = 5.0) -> None:
        """Stop taking jobs; let running ones finish within `grace` seconds (the bridge is still heard meanwhile,
        so their results are kept, each with its job's success in one transaction), then queue those still
        running again without counting the attempt, as the local pool does, and leave the cluster."""
        self._stopping.set()
        self._dispatcher.stop(timeout)
        with self._idle:
            self._idle.wait_for(lambda: not self._where and not self._keeping, timeout=grace)
            unfinished = list(self._where.items())
            self._where.clear()  # what their streams still say is no longer ours
            self._leaving.set()
        for job_id, worker_id in unfinished:
            self._send(Cancel(job_id, worker_id))
            self.queue.release(job_id)
        self._send(Stop())
        self._results.shutdown()  # a result still waiting for the database gives up within one busy timeout
        process = self._process
        if process is not None:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self._supervisor.join(timeout)

    def wake(self) -> None:
        self._dispatcher.wake()

    def cancel(self, job_id: str) -> None:
        with self._lock:
            self._cancelled.add(job_id)
            worker_id = self._where.get(job_id)
            if worker_id is not None:
                self._send(Cancel(job_id, worker_id))

    def running(self) -> int:
        with self._lock:
            return sum(worker.job is not None for worker in self.workers.values())

    @property
    def devices(self) -> list[Device]:
        with self._lock:
            return [Device(w.info.device, w.info.label, w.info.memory_bytes) for w in self.workers.values()]

    def problems(self) -> list[str]:
        """What keeps the pool from running jobs, for the health answer."""
        problems = [waiting] if (waiting := self.keeper.problem()) else []
        with self._lock:
            if self.problem is not None:
                return [self.problem, *problems]
            if not self.workers:
                problems.append(
                    f"the Ray cluster at {self.address} has no workers yet (no GPU node, and no CPU workers)"
                )
        return problems

    def cluster(self) -> ClusterPublic | None:
        """The cluster as health shows it: nodes, their workers, what each has loaded and runs."""
        with self._lock:
            workers = list(self.workers.values())
            nodes = self.nodes.nodes
            connected = self._conn is not None and self.problem is None
            problem = self.problem
        return ClusterPublic(
            address=self.address,
            connected=connected,
            problem=problem,
            ray_version=self.ray_version,
            nodes=[
                NodePublic(
                    node_id=node.node_id,
                    address=node.address,
                    name=node.name,
                    alive=node.alive,
                    gpus=node.gpus,
                    workers=[
                        RemoteWorkerPublic(
                            device=w.info.device, label=w.info.label, loaded=w.loaded, used_bytes=w.used, job=w.job
                        )
                        for w in workers
                        if w.info.node_id == node.node_id
                    ],
                )
                for node in nodes
            ],
        )

    # the bridge

    def _send(self, message: object) -> bool:
        with self._send_lock:
            conn = self._conn
            if conn is None:
                return False
            try:
                conn.send(message)
            except (OSError, ValueError):
                return False
        return True

    def _supervise(self) -> None:
        """Keep a bridge joined to the cluster: start one, serve it until it ends, then try again."""
        delay = 1.0
        while not self._stopping.is_set():
            if self._session():
                delay = 1.0
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, RECONNECT_MAX)

    def _session(self) -> bool:
        """One bridge from start to end; whether it joined the cluster."""
        conn, process = _spawn(self.address, self.timeout)
        self._process = process
        reason = "the Ray driver process ended"
        joined = False
        try:
            conn.send(self._configure)
            if not conn.poll(self.timeout + 30):
                self._set_problem(f"the Ray cluster at {self.address} does not answer")
                return False
            answer = conn.recv()
            if isinstance(answer, Unreachable):
                self._set_problem(f"the Ray cluster at {self.address} is unreachable: {answer.message}")
                return False
            assert isinstance(answer, Connected)
            joined = True
            with self._lock:
                self._conn, self.ray_version, self.problem = conn, answer.ray_version, None
            log.warning("joined the Ray cluster at %s (Ray %s)", self.address, answer.ray_version)
            heard = time.monotonic()
            while not self._leaving.is_set():
                if conn.poll(0.5):
                    self._handle(conn.recv())
                    heard = time.monotonic()
                elif time.monotonic() - heard > self.heartbeat_timeout:
                    reason = f"no word from the Ray driver for {self.heartbeat_timeout:g} s"
                    break
        except (EOFError, OSError) as exc:
            reason = f"the Ray driver process ended ({type(exc).__name__})"
        finally:
            with self._send_lock:
                self._conn = None
            conn.close()
            _end(process)
            if joined and not self._leaving.is_set():
                self._lose_cluster(reason)
        return joined

    def _set_problem(self, problem: str) -> None:
        with self._lock:
            if problem != self.problem:
                log.error("%s; jobs wait in the queue", problem)
            self.problem = problem

    def _lose_cluster(self, reason: str) -> None:
        """The bridge is gone: so are its workers. Their jobs go back to the queue and wait for the cluster."""
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        self._set_problem(f"lost the Ray cluster at {self.address} at {stamp} UTC ({reason})")
        with self._lock:
            busy = [(w.job, w.info.device) for w in self.workers.values() if w.job is not None]
            self.workers.clear()
            self.nodes = Nodes([])
        for job_id, device in busy:
            self._lost(job_id, device, reason, reached=True)

    # what the bridge says

    def _handle(self, message: object) -> None:
        try:
            self._heard(message)
        except Exception:  # a full disk while recording, say: the session lives on, the job is settled later
            log.exception("handling %s from the Ray bridge failed", type(message).__name__)

    def _heard(self, message: object) -> None:
        if isinstance(message, Progress):
            if self._where.get(message.job_id) is not None:
                self.queue.progress(message.job_id, message.step, message.total, message.stage, message.preview)
        elif isinstance(message, Finished):
            self._finished(message)
        elif isinstance(message, Nodes):
            with self._lock:
                self.nodes = message
        elif isinstance(message, WorkerJoined):
            with self._lock:
                self.workers[message.info.worker_id] = RemoteWorker(message.info)
            log.info("worker %s joined", message.info.device)
            self.wake()
        elif isinstance(message, WorkerLeft):
            with self._lock:
                worker = self.workers.pop(message.worker_id, None)
            if worker is not None:
                log.warning("worker %s left: %s", worker.info.device, message.reason)
                if worker.job is not None:
                    self._release_worker(worker.job)
                    self._lost(worker.job, worker.info.device, message.reason, reached=True)
            self.wake()
        elif isinstance(message, Lost):
            with self._lock:
                worker = self.workers.get(message.worker_id)
                device = worker.info.device if worker is not None else message.worker_id
                ours = self._where.get(message.job_id) == message.worker_id
            if ours:
                self._release_worker(message.job_id)
                self._lost(message.job_id, device, message.reason, message.reached)
            self.wake()

    def _release_worker(self, job_id: str) -> RemoteWorker | None:
        with self._lock:
            worker_id = self._where.pop(job_id, None)
            worker = self.workers.get(worker_id) if worker_id is not None else None
            if worker is not None and worker.job == job_id:
                worker.job = None
            self._idle.notify_all()
            return worker

    def _lost(self, job_id: str, device: str, reason: str, reached: bool) -> None:
        """A job whose worker was lost: queued again, unless it was cancelled or lost its worker every time."""
        with self._lock:
            self._where.pop(job_id, None)
            self._idle.notify_all()
            attempt = self._attempt.pop(job_id, 1)
            cancelled = job_id in self._cancelled
            self._cancelled.discard(job_id)
        if cancelled:
            self.queue.mark_canceled(job_id)
        elif not reached:
            self.queue.retry(job_id, spent=False)
        elif attempt >= self.attempts:
            message = (
                f"the worker running this job was lost on each of its {attempt} attempts "
                f"(the last on {device}: {reason}); not retried again"
            )
            self.queue.fail(job_id, ErrorPublic(code="node_lost", message=message))
        else:
            log.warning("job %s lost its worker %s (%s); queued again", job_id, device, reason)
            self.queue.retry(job_id)

    def _finished(self, message: Finished) -> None:
        job_id = message.job_id
        with self._lock:
            if job_id not in self._where:
                return  # a stream the pool gave up on
            worker = self._release_worker(job_id)
            if worker is not None:
                worker.loaded, worker.used = message.loaded, message.used
            self._attempt.pop(job_id, None)
            if message.outcome is not None:
                self._keeping.add(job_id)  # its cancel stays noted until the result is kept
            else:
                self._cancelled.discard(job_id)
        if message.log is not None:  # a bug on the worker: its traceback, under the error id the client got
            log.error("job %s on %s: %s", job_id, worker.info.device if worker is not None else "?", message.log)
        if message.outcome is not None:
            self._results.submit(self._keep, job_id, message.outcome)
        elif message.canceled:
            self.queue.mark_canceled(job_id)
        else:
            assert message.error is not None
            self.queue.fail(job_id, message.error)
        self.wake()

    def _keep(self, job_id: str, outcome: Outcome) -> None:
        """Store a finished job's result with its success (on the results thread)."""
        picture = Picture(outcome.pixels, exif=outcome.exif, icc_profile=outcome.icc_profile)
        try:
            self.keeper.keep(job_id, picture, outcome.png, outcome.seed, outcome.report)
        except Exception as exc:  # keeping the result failed (a full disk, say): the job fails, the pool lives on
            self._fail(job_id, job_error(exc, f"job {job_id}: keeping its result failed"))
        finally:
            with self._idle:
                self._keeping.discard(job_id)
                self._cancelled.discard(job_id)
                self._idle.notify_all()

    def _fail(self, job_id: str, error: ErrorPublic) -> None:
        """Record a failure from the results thread, whose exceptions nobody else would see."""
        try:
            self.queue.fail(job_id, error)
        except Exception:  # noqa: BLE001 - a full disk, a held database: the next start queues the job again
            log.exception("job %s: recording its failure failed", job_id)

    # placement

    def _dispatch(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            idle = [worker for worker in self.workers.values() if worker.job is None]
        if not idle:
            return
        for job in self.queue.peek(len(idle)):
            worker = place(job.request, idle, lambda w: w.loaded, lambda w: (w.used, w.info.device))
            if not self._send_job(job, worker):
                continue
            idle.remove(worker)
            if not idle:
                return

    def _send_job(self, job: Claimed, worker: RemoteWorker) -> bool:
        """Start `job` on `worker`: whether the worker took it (else it stays free)."""
        try:
            image, mask_image = stored_inputs(self.store, job.request)
            picture = self.store.read(image)  # as stored (PNG); the worker decodes them
            mask = self.store.read(mask_image) if mask_image is not None else None
        except Exception as exc:  # deleted since it was queued, gone from the disk
            if self.queue.start(job.id, worker.info.device):
                self.queue.fail(job.id, job_error(exc, f"job {job.id}: reading its inputs failed"))
            return False
        if not self.queue.start(job.id, worker.info.device):
            return False  # cancelled meanwhile
        with self._lock:
            if self.workers.get(worker.info.worker_id) is not worker or worker.job is not None:
                self.queue.retry(job.id, spent=False)  # the worker left meanwhile
                return False
            worker.job = job.id
            self._where[job.id] = worker.info.worker_id
            self._attempt[job.id] = job.attempts + 1
            sent = self._send(Run(job.id, worker.info.worker_id, stored_request(job.request), picture, mask))
            if sent and job.id in self._cancelled:
                self._send(Cancel(job.id, worker.info.worker_id))
        if not sent:
            self._release_worker(job.id)
            with self._lock:
                self._attempt.pop(job.id, None)
            self.queue.retry(job.id, spent=False)
        return sent


__all__ = ["RayPool", "probe"]
