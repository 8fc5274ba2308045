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
from retouch.server.queue import Claimed, JobQueue
from retouch.server.schemas import ErrorPublic, Job
from retouch.server.store import ImageStore
from retouch.workflows import WORKFLOWS, WorkflowResult

log = logging.getLogger(__name__)

PREVIEW_SIDE = 256


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
        self.thread = threading.Thread(target=self._loop, name=f"retouch-worker-{device.name}-{index}", daemon=True)

    def _loop(self) -> None:
        while (job := self.inbox.get()) is not None:
            try:
                self._run(job)
            finally:
                self.busy = False
                self.pool.wake()
        self.cache.clear()

    def _run(self, job: Claimed) -> None:
        """Run one job to its end; the queue records and announces each change."""
        pool = self.pool
        last_preview = 0.0

        def on_step(step: int, total: int, preview: np.ndarray | None, stage: str) -> None:
            nonlocal last_preview
            url = None
            if preview is not None and time.monotonic() - last_preview >= pool.preview_every:
                url, last_preview = _jpeg_data_url(preview), time.monotonic()
            pool.queue.progress(job.id, step, total, stage or None, url)

        hooks = Hooks(on_step=on_step, is_cancelled=lambda: pool.is_cancelled(job.id))
        try:
            hooks.check()
            result = self._work(job, hooks)
            picture = Picture(result.pixels, exif=result.exif, icc_profile=result.icc_profile)
            stored = pool.store.add_picture(picture, "result", png=result.png())
            pool.queue.succeed(job.id, stored.id, result.seed, result.report)
        except Cancelled:
            pool.queue.mark_canceled(job.id)
        except RetouchError as exc:
            pool.queue.fail(job.id, ErrorPublic(code=exc.code, message=exc.message))
        except Exception as exc:  # a bug or a library failure: the job fails, the worker lives on
            log.exception("job %s failed", job.id)
            pool.queue.fail(job.id, ErrorPublic(code="internal_error", message=f"{type(exc).__name__}: {exc}"))
        finally:
            pool.forget_cancel(job.id)

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
        picture = pool.store.picture(image, pool.max_pixels)
        mask = None
        mask_id = getattr(request, "mask", None)
        if mask_id is not None:
            stored_mask = pool.store.get(mask_id)
            if stored_mask is None:
                raise InputError(f"mask {mask_id!r} no longer exists")
            mask = pool.store.mask(stored_mask, pool.max_pixels)  # sizes were checked when the job came in
        return workflow.run(picture, mask, workflow_params(request), self.engine, hooks)


def workflow_params(request: Job) -> Any:
    """The workflow's parameters out of a job request: its fields, less image, priority and the kind's inputs."""
    workflow = WORKFLOWS[request.kind]
    fields = set(workflow.Params.model_fields)
    return workflow.Params.model_validate(request.model_dump(include=fields, exclude_unset=True))


def _jpeg_data_url(preview: np.ndarray) -> str:
    height, width = preview.shape[:2]
    factor = PREVIEW_SIDE / max(height, width)
    if factor < 1:
        preview = cv2.resize(preview, (max(1, round(width * factor)), max(1, round(height * factor))),
                             interpolation=cv2.INTER_AREA)
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
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name="retouch-dispatcher", daemon=True)

    def start(self) -> None:
        for worker in self.workers:
            worker.thread.start()
        self._dispatcher.start()
        self.wake()

    def stop(self, timeout: float = 5.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        self._dispatcher.join(timeout)
        for worker in self.workers:
            worker.inbox.put(None)
        # Jobs still running stay `running` in the queue and are re-queued at the next start.

    def wake(self) -> None:
        """Something changed (a job arrived, a worker freed up): let the dispatcher look."""
        with self._wake:
            self._pending_wake = True
            self._wake.notify()

    def cancel(self, job_id: str) -> None:
        with self._cancel_lock:
            self._cancelled.add(job_id)

    def is_cancelled(self, job_id: str) -> bool:
        return job_id in self._cancelled

    def forget_cancel(self, job_id: str) -> None:
        with self._cancel_lock:
            self._cancelled.discard(job_id)

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
                self._dispatch()
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
