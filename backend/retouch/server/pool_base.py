"""What both device pools share: the `Pool` contract and the one copy of their rules.

`DevicePool` (`pool.py`, this machine's devices) and `RayPool` (`cluster/pool.py`, a Ray cluster's) are two
implementations of `Pool`; the app, the routes and health use only the contract, never asking which one they
hold. The rules they would otherwise each write, and let drift, are here: the placement rule (`place`), the
dispatcher thread and its wake-up (`Dispatcher`), a job's inputs (`stored_inputs`), engine lookup in a worker's
model cache (`ModelCache.engine`), previews (`Previews`), a job's parameters (`workflow_params`), keeping a
result with its job's success in one transaction (`keep_result`) and the one mapping of an exception to a job's
failure (`job_error`): a `RetouchError` says its own words; anything else is "internal error (error id …)",
never exception text.
"""

from __future__ import annotations

import base64
import logging
import secrets
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Container, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import cv2
import numpy as np

from retouch.devices import Device
from retouch.engines import Engine, EngineFactory
from retouch.errors import EngineError, InputError, RetouchError
from retouch.imaging.io import Picture
from retouch.server.database import DatabaseBusy
from retouch.server.errors import incident_message
from retouch.server.queue import JobQueue
from retouch.server.schemas import ClusterPublic, ErrorPublic, Job
from retouch.server.store import ImageStore, StoredImage
from retouch.workflows import WORKFLOWS

log = logging.getLogger("retouch.server.pool")

PREVIEW_SIDE = 256


class Pool(Protocol):
    """Runs the queue's jobs on workers and answers for them; what the app, the routes and health use."""

    def start(self) -> None: ...

    def stop(self, grace: float = 30.0) -> None:
        """Stop taking jobs; let running ones finish within `grace` seconds (their results are kept), then
        queue those still running again without counting the attempt."""
        ...

    def wake(self) -> None:
        """Something changed (a job arrived): let the dispatcher look."""
        ...

    def cancel(self, job_id: str) -> None:
        """Stop a running job at its next step."""
        ...

    def running(self) -> int: ...

    @property
    def devices(self) -> list[Device]: ...

    def problems(self) -> list[str]:
        """What keeps the pool from working as it should, for the health answer."""
        ...

    def cluster(self) -> ClusterPublic | None:
        """The cluster the pool runs on, for the health answer; None for this machine's devices."""
        ...


# the rules of a job's failure


def _log(text: str) -> None:
    log.error("%s", text)


def job_error(exc: BaseException, what: str, report: Callable[[str], None] = _log) -> ErrorPublic:
    """A job's failure as its client sees it. A `RetouchError` is said in its own words; anything else (a bug, a
    library's failure) goes to `report` (the server's log) with its traceback under a fresh error id, and the
    client gets the id, no exception text: the README's promise, kept by both pools. A Ray worker reports into
    its `Finished` message, so the coordinator logs it where the client is told to look."""
    if isinstance(exc, RetouchError):
        return ErrorPublic(code=exc.code, message=exc.message)
    incident = secrets.token_hex(4)
    trace = "".join(traceback.format_exception(exc)).rstrip()
    report(f"{what} (error id {incident})\n{trace}")
    return ErrorPublic(code="internal_error", message=incident_message(incident))


# what a worker does, wherever it runs


class ModelCache:
    """Loaded engines of one worker, least recently used first out when over the memory budget."""

    def __init__(self, device: str, budget: int) -> None:
        self.device = device
        self.budget = budget
        self._engines: OrderedDict[str, Engine] = OrderedDict()

    def __contains__(self, name: object) -> bool:
        return name in self._engines

    def used(self) -> int:
        return sum(engine.size_bytes() for engine in self._engines.values())

    def names(self) -> list[str]:
        """The loaded engines, least recently used first."""
        return list(self._engines)

    def engine(self, name: str, engines: Mapping[str, EngineFactory], where: str) -> Engine:
        """The engine `name` of the table `engines`, loaded here (a job's workflow asks for it by name)."""
        factory = engines.get(name)
        if factory is None:
            raise InputError(f"engine {name!r} is not available on {where}")
        return self.get(name, factory)

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


def workflow_params(request: Job) -> Any:
    """The workflow's parameters out of a job request: its fields, less image, priority and the kind's inputs."""
    workflow = WORKFLOWS[request.kind]
    fields = set(workflow.Params.model_fields)
    return workflow.Params.model_validate(request.model_dump(include=fields, exclude_unset=True))


# what the coordinator does for every job


def stored_inputs(store: ImageStore, request: Job) -> tuple[StoredImage, StoredImage | None]:
    """The job's picture and mask records; an `InputError` if one was deleted since the job was queued."""
    image = store.get(request.image)
    if image is None:
        raise InputError(f"image {request.image!r} no longer exists")
    mask_id = request.mask_id()
    if mask_id is None:
        return image, None
    mask = store.get(mask_id)
    if mask is None:
        raise InputError(f"mask {mask_id!r} no longer exists")
    return image, mask


Seat = TypeVar("Seat")


def place(
    request: Job, idle: Sequence[Seat], holds: Callable[[Seat], Container[str]], load: Callable[[Seat], Any]
) -> Seat:
    """The free worker a job goes to: the first that holds the job's main engine loaded, else the least loaded
    (`load`: bytes of loaded models, then the device's name, so the choice is stable)."""
    wanted = WORKFLOWS[request.kind].engine_names(workflow_params(request))
    warm = [worker for worker in idle if wanted and wanted[0] in holds(worker)]
    return warm[0] if warm else min(idle, key=load)


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


#: how long, at most, a finished job's result waits for a database another process holds (each try waits the
#: database's busy timeout); past it the job fails as `database_busy`. A result can take minutes of GPU time, and
#: the holder (a backup's lock) usually lets go in seconds
RESULT_WAITS_FOR_DATABASE = 600.0


class ResultKeeper:
    """Keeps finished jobs' results by the rule both pools follow: the result and its job's success in one
    transaction (`keep_result`), and while another process holds the database (a backup tool, say) the result
    waits, trying again each busy timeout, rather than being thrown away, until `gives_up(job_id)` says so (a
    cancel, a stop past its grace period) or `RESULT_WAITS_FOR_DATABASE` passes. Health says meanwhile how many
    results wait (`problem`)."""

    def __init__(self, store: ImageStore, queue: JobQueue, gives_up: Callable[[str], bool]) -> None:
        self.store, self.queue = store, queue
        self._gives_up = gives_up
        self._waiting: set[str] = set()
        self._lock = threading.Lock()

    def keep(self, job_id: str, picture: Picture, png: bytes, seed: int | None, report: dict) -> bool:
        """`keep_result`, waiting out another process's lock; False when the job was cancelled or released."""
        deadline = time.monotonic() + RESULT_WAITS_FOR_DATABASE
        try:
            while True:
                try:
                    return keep_result(self.store, self.queue, job_id, picture, png, seed, report)
                except DatabaseBusy:
                    if self._gives_up(job_id) or time.monotonic() > deadline:
                        raise
                    with self._lock:
                        self._waiting.add(job_id)
        finally:
            with self._lock:
                self._waiting.discard(job_id)

    def problem(self) -> str | None:
        with self._lock:
            waiting = len(self._waiting)
        if not waiting:
            return None
        return f"{waiting} finished job(s) wait to record their results: another process holds the database"


class Dispatcher:
    """The thread that places queued jobs: it runs `round` whenever woken (a job arrived, a worker freed up) and
    at least once a second. An exception in a round is logged and the next wake retries: the thread never dies."""

    def __init__(self, name: str, round: Callable[[], None]) -> None:
        self._round = round
        self._wake = threading.Condition()
        self._pending = False
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()
        self.wake()

    def wake(self) -> None:
        with self._wake:
            self._pending = True
            self._wake.notify()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop(self, timeout: float = 5.0) -> None:
        """No more rounds; waits for the one under way."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._wake:
                if not self._pending and not self._stopping:
                    self._wake.wait(timeout=1.0)
                if self._stopping:
                    return
                self._pending = False
            try:
                self._round()
            except Exception:  # never let the dispatcher die; the next wake retries
                log.exception("dispatching failed")
                time.sleep(0.5)
