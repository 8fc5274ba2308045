"""The device pool on this machine: one or more worker threads per device, each with its own model cache.

One of the two `Pool`s (`pool_base.py`, with the rules both follow). A dispatcher thread hands the next queued
job to a free worker, preferring one that already has the job's engine loaded, else the least loaded one.
Workers run the job's workflow (`retouch.workflows`) and record each change through the queue, which announces
it; loading and filling never happen on the event loop.
"""

from __future__ import annotations

import logging
import queue as stdqueue
import threading
import time

import numpy as np

from retouch.devices import Device
from retouch.engines import Engine, Hooks
from retouch.errors import Cancelled
from retouch.imaging.io import Picture
from retouch.registry import Registry
from retouch.server.database import DatabaseBusy
from retouch.server.disk import StorageFull
from retouch.server.pool_base import (
    Dispatcher,
    ModelCache,
    Previews,
    ResultKeeper,
    job_error,
    place,
    stored_inputs,
    workflow_params,
)
from retouch.server.queue import Claimed, JobQueue
from retouch.server.schemas import ClusterPublic, ErrorPublic
from retouch.server.store import ImageStore
from retouch.workflows import WORKFLOWS, Source, WorkflowResult

log = logging.getLogger(__name__)

#: after a stop's grace period, seconds running jobs get to reach their next step and be queued again
STOP_AFTER_GRACE = 5.0
#: free bytes on the data disk that count as room again after it was full
ROOM = 4 << 20


class Worker:
    def __init__(self, pool: DevicePool, device: Device, index: int, budget: int) -> None:
        self.pool = pool
        self.device = device
        self.cache = ModelCache(device.name, budget)
        self.inbox: stdqueue.Queue[Claimed | None] = stdqueue.Queue()
        self.busy = False
        self.current: str | None = None
        self.thread = threading.Thread(target=self._loop, name=f"retouch-worker-{device.name}-{index}", daemon=True)

    def _loop(self) -> None:
        while (job := self.inbox.get()) is not None:
            self.current = job.id
            try:
                self._run(job)
            except Exception:  # nothing a job does may end the worker; a bug here is logged
                log.exception("worker %s: job %s", self.thread.name, job.id)
            finally:
                self.current = None
                self.busy = False
                self.pool.wake()
        self.cache.clear()

    def _run(self, job: Claimed) -> None:
        """Run one job to its end; the queue records and announces each change. A job's own failure fails the
        job; if even that cannot be recorded (a full disk), the pool records it once it can."""
        pool = self.pool
        previews = Previews(pool.preview_every)

        def on_step(step: int, total: int, preview: np.ndarray | None, stage: str) -> None:
            try:
                pool.queue.progress(job.id, step, total, stage or None, previews.url(preview))
            except StorageFull as exc:  # progress is not worth failing a job over; its result may still fit
                pool.storage_trouble(exc)
            except DatabaseBusy:  # another process holds the database a moment: the next step records again
                pass

        hooks = Hooks(on_step=on_step, is_cancelled=lambda: pool.is_cancelled(job.id))
        error: ErrorPublic | None = None
        try:
            hooks.check()
            result = self._work(job, hooks)
            self._keep(job, result)
        except Cancelled:
            if pool.stopping_now:
                pool.queue.release(job.id)  # a graceful stop: queued again, the attempt not spent
            else:
                pool.queue.mark_canceled(job.id)
        except Exception as exc:  # noqa: BLE001 - bad input, a bug, a library failure: the job fails, the worker lives
            if isinstance(exc, StorageFull):
                pool.storage_trouble(exc)
            error = job_error(exc, f"job {job.id} failed")
        finally:
            pool.forget_cancel(job.id)
        if error is not None:
            pool.settle(job.id, error)

    def _keep(self, job: Claimed, result: WorkflowResult) -> None:
        """Store the result with the job's success, waiting out another process's lock (`ResultKeeper`)."""
        picture = Picture(result.pixels, exif=result.exif, icc_profile=result.icc_profile)
        if self.pool.keeper.keep(job.id, picture, result.png(), result.seed, result.report):
            self.pool.storage_fine()

    def engine(self, name: str) -> Engine:
        """A loaded engine of this worker (its model cache), for the workflow."""
        return self.cache.engine(name, self.pool.engines, "this server")

    def _work(self, job: Claimed, hooks: Hooks) -> WorkflowResult:
        pool, request = self.pool, job.request
        workflow = WORKFLOWS[request.kind]
        image, stored_mask = stored_inputs(pool.store, request)
        picture = pool.store.picture(image)
        mask = pool.store.mask(stored_mask) if stored_mask is not None else None  # sizes were checked at submission
        engines = Source(self.engine, pool.engines.detectors)
        return workflow.run(picture, mask, workflow_params(request), engines, hooks)


class DevicePool:
    def __init__(
        self,
        queue: JobQueue,
        store: ImageStore,
        engines: Registry,
        devices: list[Device],
        *,
        workers_per_device: int = 1,
        memory_budget: int | None = None,
        preview_every: float = 0.25,
        max_pixels: int,
    ) -> None:
        self.queue, self.store, self.engines = queue, store, engines
        self.devices = devices
        self.preview_every = preview_every
        self.max_pixels = max_pixels
        self.workers = [
            Worker(self, device, index, memory_budget if memory_budget is not None else int(device.memory_bytes * 0.8))
            for device in devices
            for index in range(workers_per_device)
        ]
        self._stopping = False
        self._cancelled: set[str] = set()
        self._cancel_lock = threading.Lock()
        self.stopping_now = False  # set when the grace period of a stop is over: running jobs are released
        self._unsettled: dict[str, ErrorPublic] = {}  # failures not yet recorded (the disk was full)
        self.keeper = ResultKeeper(store, queue, self.is_cancelled)
        self._storage_error: str | None = None
        self._dispatcher = Dispatcher("retouch-dispatcher", self._dispatch_round)

    def start(self) -> None:
        for worker in self.workers:
            worker.thread.start()
        self._dispatcher.start()

    def stop(self, grace: float = 30.0) -> None:
        """Stop taking jobs; let running ones finish within `grace` seconds, then stop them at their next step
        and queue them again without counting the attempt. A job whose engine never reaches a step is queued
        again all the same (its thread is abandoned; the process is ending)."""
        self._stopping = True
        self._dispatcher.stop()
        for worker in self.workers:
            worker.inbox.put(None)
        deadline = time.monotonic() + grace
        for worker in self.workers:
            worker.thread.join(max(0.0, deadline - time.monotonic()))
        if any(worker.thread.is_alive() for worker in self.workers):
            self.stopping_now = True  # `is_cancelled` now says yes to every job
            deadline = time.monotonic() + STOP_AFTER_GRACE
            for worker in self.workers:
                worker.thread.join(max(0.0, deadline - time.monotonic()))
        for worker in self.workers:
            if worker.thread.is_alive() and (job_id := worker.current) is not None:
                self.queue.release(job_id)
        self._settle_all()

    def settle(self, job_id: str, error: ErrorPublic) -> None:
        """Record a job's failure; if the disk is too full to, keep it and try again at every dispatch."""
        try:
            self.queue.fail(job_id, error)
        except (StorageFull, DatabaseBusy) as exc:
            if isinstance(exc, StorageFull):
                self.storage_trouble(exc)
            with self._cancel_lock:
                self._unsettled[job_id] = error

    def _settle_all(self) -> None:
        with self._cancel_lock:
            waiting = list(self._unsettled.items())
        for job_id, error in waiting:
            try:
                self.queue.fail(job_id, error)
            except (StorageFull, DatabaseBusy):
                return
            with self._cancel_lock:
                self._unsettled.pop(job_id, None)
        if waiting:
            self.storage_fine()

    def storage_trouble(self, exc: StorageFull) -> None:
        if self._storage_error is None:
            log.error("storage: %s", exc.message)
        self._storage_error = exc.message

    def storage_fine(self) -> None:
        self._storage_error = None

    def _recheck_storage(self) -> None:
        """A storage error is over once nothing waits to be recorded and the disk has room again."""
        if self._storage_error is not None and not self._unsettled and self.store.usage().free_bytes > ROOM:
            self.storage_fine()

    def wake(self) -> None:
        """Something changed (a job arrived, a worker freed up): let the dispatcher look."""
        self._dispatcher.wake()

    def cancel(self, job_id: str) -> None:
        with self._cancel_lock:
            self._cancelled.add(job_id)

    def is_cancelled(self, job_id: str) -> bool:
        return self.stopping_now or job_id in self._cancelled

    def forget_cancel(self, job_id: str) -> None:
        with self._cancel_lock:
            self._cancelled.discard(job_id)

    def problems(self) -> list[str]:
        """What keeps the pool from working as it should, for the health answer."""
        problems = []
        if self._storage_error is not None:
            problems.append(self._storage_error)
        if self._unsettled:
            problems.append(f"{len(self._unsettled)} failed job(s) wait for disk space to be recorded")
        if waiting := self.keeper.problem():
            problems.append(waiting)
        dead = [worker.thread.name for worker in self.workers if not worker.thread.is_alive() and not self._stopping]
        if dead:
            problems.append(f"worker thread(s) stopped: {', '.join(dead)}")
        return problems

    def running(self) -> int:
        return sum(worker.busy for worker in self.workers)

    def cluster(self) -> ClusterPublic | None:
        return None  # this machine's devices

    def _dispatch_round(self) -> None:
        try:
            self._settle_all()
            self._recheck_storage()
            self._dispatch()
        except StorageFull as exc:  # jobs wait in the queue until there is room to record their start
            self.storage_trouble(exc)

    def _dispatch(self) -> None:
        idle = [worker for worker in self.workers if not worker.busy]
        if not idle:
            return
        for job in self.queue.peek(len(idle)):
            worker = place(job.request, idle, lambda w: w.cache, lambda w: (w.cache.used(), w.device.name))
            if not self.queue.start(job.id, worker.device.name):
                continue  # cancelled meanwhile
            worker.busy = True
            idle.remove(worker)
            worker.inbox.put(job)
            if not idle:
                return
