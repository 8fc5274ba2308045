"""The device pool: one or more worker threads per device, each with its own model cache.

A dispatcher thread hands the next queued job to a free worker, preferring one that already has the
job's engine loaded, else the least loaded one. Workers run the job's workflow (`retouch.workflows`) and
record each change through the queue, which announces it; loading and filling never happen on the event loop.
"""

from __future__ import annotations

import base64
import logging
import queue as stdqueue
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from retouch.devices import Device
from retouch.engines import Engine, EngineFactory, Hooks
from retouch.errors import Cancelled, EngineError, InputError, RetouchError
from retouch.imaging.io import Picture
from retouch.server.database import DatabaseBusy
from retouch.server.disk import StorageFull
from retouch.server.errors import internal_error
from retouch.server.queue import Claimed, JobQueue
from retouch.server.schemas import ErrorPublic, Job
from retouch.server.store import ImageStore
from retouch.workflows import WORKFLOWS, Source, WorkflowResult, detectors_of

log = logging.getLogger(__name__)

PREVIEW_SIDE = 256
#: after a stop's grace period, seconds running jobs get to reach their next step and be queued again
STOP_AFTER_GRACE = 5.0
#: free bytes on the data disk that count as room again after it was full
ROOM = 4 << 20


class ModelCache:
    """Loaded engines of one worker, least recently used first out when over the memory budget."""

    def __init__(self, device: str, budget: int) -> None:
        self.device = device
        self.budget = budget
        self._engines: OrderedDict[str, Engine] = OrderedDict()

    def __contains__(self, name: str) -> bool:
        return name in self._engines

    def used(self) -> int:
        return sum(engine.size_bytes() for engine in self._engines.values())

    def names(self) -> list[str]:
        """The loaded engines, least recently used first."""
        return list(self._engines)

    def get(self, name: str, factory: EngineFactory) -> Engine:
        if name in self._engines:
            self._engines.move_to_end(name)
            return self._engines[name]
        engine = factory()
        try:
            engine.load(self.device)
        except RetouchError:
            raise
        except Exception as exc:
            raise EngineError(f"could not load engine {name!r} on {self.device}: {exc}") from exc
        self._engines[name] = engine
        while len(self._engines) > 1 and self.used() > self.budget:
            _, evicted = self._engines.popitem(last=False)
            evicted.unload()
        return engine

    def clear(self) -> None:
        while self._engines:
            _, engine = self._engines.popitem()
            engine.unload()


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
        except RetouchError as exc:
            if isinstance(exc, StorageFull):
                pool.storage_trouble(exc)
            error = ErrorPublic(code=exc.code, message=exc.message)
        except Exception:  # noqa: BLE001 - a bug or a library failure: the job fails, the worker lives on
            error = ErrorPublic(code="internal_error", message=internal_error(f"job {job.id} failed"))
        finally:
            pool.forget_cancel(job.id)
        if error is not None:
            pool.settle(job.id, error)

    def _keep(self, job: Claimed, result: WorkflowResult) -> None:
        picture = Picture(result.pixels, exif=result.exif, icc_profile=result.icc_profile)
        pool = self.pool
        if keep_result(pool.store, pool.queue, job.id, picture, result.png(), result.seed, result.report):
            pool.storage_fine()

    def engine(self, name: str) -> Engine:
        """A loaded engine of this worker (its model cache), for the workflow."""
        factory = self.pool.engines.get(name)
        if factory is None:
            raise InputError(f"engine {name!r} is not available on this server")
        return self.cache.get(name, factory)

    def _work(self, job: Claimed, hooks: Hooks) -> WorkflowResult:
        pool, request = self.pool, job.request
        workflow = WORKFLOWS[request.kind]
        image = pool.store.get(request.image)
        if image is None:
            raise InputError(f"image {request.image!r} no longer exists")
        picture = pool.store.picture(image)
        mask = None
        mask_id = getattr(request, "mask", None)
        if mask_id is not None:
            stored_mask = pool.store.get(mask_id)
            if stored_mask is None:
                raise InputError(f"mask {mask_id!r} no longer exists")
            mask = pool.store.mask(stored_mask)  # sizes were checked when the job came in
        engines = Source(self.engine, detectors_of(pool.engines))
        return workflow.run(picture, mask, workflow_params(request), engines, hooks)


def workflow_params(request: Job) -> Any:
    """The workflow's parameters out of a job request: its fields, less image, priority and the kind's inputs."""
    workflow = WORKFLOWS[request.kind]
    fields = set(workflow.Params.model_fields)
    return workflow.Params.model_validate(request.model_dump(include=fields, exclude_unset=True))


def keep_result(
    store: ImageStore, queue: JobQueue, job_id: str, picture: Picture, png: bytes, seed: int | None, report: dict
) -> bool:
    """Store a job's result and record its success in one transaction: a kill between the two leaves a file no
    record names (swept at the next start), never a result without its job or a job done twice. False when the
    job was cancelled or released meanwhile (nothing is kept)."""
    written = store.write(png, picture, "result")
    try:
        recorded = queue.succeed(job_id, written.image.id, seed, report, within=lambda: store.record(written))
    except BaseException:
        store.discard(written)
        raise
    if recorded:
        store.kept(written)
    else:
        store.discard(written)
    return recorded


class Previews:
    """A job's previews as JPEG data URLs, at most one every `every` seconds (the rest are dropped)."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._last = 0.0

    def url(self, preview: np.ndarray | None) -> str | None:
        if preview is None or time.monotonic() - self._last < self.every:
            return None
        self._last = time.monotonic()
        return jpeg_data_url(preview)


def jpeg_data_url(preview: np.ndarray) -> str:
    height, width = preview.shape[:2]
    factor = PREVIEW_SIDE / max(height, width)
    if factor < 1:
        preview = cv2.resize(
            preview, (max(1, round(width * factor)), max(1, round(height * factor))), interpolation=cv2.INTER_AREA
        )
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(preview[..., :3], cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 70])
    return "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode() if ok else ""


class DevicePool:
    def __init__(
        self,
        queue: JobQueue,
        store: ImageStore,
        engines: Mapping[str, EngineFactory],
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
        self._wake = threading.Condition()
        self._pending_wake = False
        self._stopping = False
        self._cancelled: set[str] = set()
        self._cancel_lock = threading.Lock()
        self.stopping_now = False  # set when the grace period of a stop is over: running jobs are released
        self._unsettled: dict[str, ErrorPublic] = {}  # failures not yet recorded (the disk was full)
        self._storage_error: str | None = None
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name="retouch-dispatcher", daemon=True)

    def start(self) -> None:
        for worker in self.workers:
            worker.thread.start()
        self._dispatcher.start()
        self.wake()

    def stop(self, grace: float = 30.0) -> None:
        """Stop taking jobs; let running ones finish within `grace` seconds, then stop them at their next step
        and queue them again without counting the attempt. A job whose engine never reaches a step is queued
        again all the same (its thread is abandoned; the process is ending)."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        self._dispatcher.join(5)
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
        with self._wake:
            self._pending_wake = True
            self._wake.notify()

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
        dead = [worker.thread.name for worker in self.workers if not worker.thread.is_alive() and not self._stopping]
        if dead:
            problems.append(f"worker thread(s) stopped: {', '.join(dead)}")
        return problems

    def running(self) -> int:
        return sum(worker.busy for worker in self.workers)

    def _dispatch_loop(self) -> None:
        while True:
            with self._wake:
                while not self._pending_wake and not self._stopping:
                    self._wake.wait(timeout=1.0)
                    break
                if self._stopping:
                    return
                self._pending_wake = False
            try:
                self._settle_all()
                self._recheck_storage()
                self._dispatch()
            except StorageFull as exc:  # jobs wait in the queue until there is room to record their start
                self.storage_trouble(exc)
            except Exception:  # never let the dispatcher die; the next wake retries
                log.exception("dispatching failed")
                time.sleep(0.5)

    def _dispatch(self) -> None:
        idle = [worker for worker in self.workers if not worker.busy]
        if not idle:
            return
        for job in self.queue.peek(len(idle)):
            wanted = WORKFLOWS[job.request.kind].engine_names(workflow_params(job.request))
            warm = [worker for worker in idle if wanted and wanted[0] in worker.cache]
            worker = warm[0] if warm else min(idle, key=lambda w: (w.cache.used(), w.device.name))
            if not self.queue.start(job.id, worker.device.name):
                continue  # cancelled meanwhile
            worker.busy = True
            idle.remove(worker)
            worker.inbox.put(job)
            if not idle:
                return
