"""A worker of the Ray pool: one actor per GPU (or a few per CPU-only node), each with its own model cache.

It does what a local worker thread does (`retouch.server.pool.Worker`), on another machine, with the same
rules (`retouch.server.pool_base`): decode the job's
picture, run its workflow with the engines of its cache, and stream back `Begun`, `Progress` (with previews
made here) and one `Finished` carrying the result, encoded here. It records nothing: the coordinator's queue
does. A cancel (`cancel`, served by a second thread of the actor) is seen by the job's next step.
"""

from __future__ import annotations

import ctypes
import logging
import os
import queue as stdqueue
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from retouch.devices import Device, discover_devices
from retouch.engines import Engine, Hooks
from retouch.errors import Cancelled
from retouch.imaging.io import load_picture, mask_of
from retouch.registry import Registry
from retouch.server.cluster.protocol import Begun, Finished, Outcome, Progress, WorkerInfo
from retouch.server.pool_base import ModelCache, Previews, job_error, workflow_params
from retouch.server.schemas import JOB_ADAPTER
from retouch.workflows import WORKFLOWS, Source

log = logging.getLogger(__name__)

Item = Begun | Progress | Finished


def _cuda_driver_present() -> bool:
    """Whether this machine has NVIDIA's driver library; without it torch cannot see a GPU (nor need importing)."""
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


def _device(gpu_ids: list[str], index: int) -> tuple[Device, str]:
    """(the device engines load on, its name within the node). Ray shows an actor only its own GPU."""
    if gpu_ids and _cuda_driver_present():
        device = discover_devices()[0]
        if device.name.startswith("cuda"):
            return device, f"gpu:{gpu_ids[0]}"
    # a CPU-only node, or a GPU that is only a declared resource (tests): the CPU does the work
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        memory = 0
    name = f"gpu:{gpu_ids[0]}" if gpu_ids else f"cpu:{index}"
    return Device("cpu", "CPU", int(memory)), name


class WorkerActor:
    """The actor's class; the bridge makes it a Ray actor (`num_gpus=1`, or `num_cpus=1` on a CPU-only node)."""

    def __init__(
        self,
        engines: Registry,
        *,
        index: int,
        memory_budget: int | None,
        preview_every: float,
        max_pixels: int,
    ) -> None:
        import ray

        context = ray.get_runtime_context()
        self.engines = engines
        self.preview_every = preview_every
        self.max_pixels = max_pixels
        gpu_ids = [str(gpu) for gpu in ray.get_gpu_ids()]
        device, local_name = _device(gpu_ids, index)
        node_id = context.get_node_id()
        host = socket.gethostname()
        self.info = WorkerInfo(
            worker_id=context.get_actor_id() or f"{node_id}-{index}",
            node_id=node_id,
            host=host,
            device=f"{host}@{node_id[:8]}/{local_name}",
            label=device.label,
            memory_bytes=device.memory_bytes,
            torch_device=device.name,
        )
        budget = memory_budget if memory_budget is not None else int(device.memory_bytes * 0.8)
        self.cache = ModelCache(device.name, budget)
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()

    def describe(self) -> WorkerInfo:
        return self.info

    def cancel(self, job_id: str) -> None:
        with self._lock:
            self._cancelled.add(job_id)

    def run(self, job_id: str, request: str, picture_png: bytes, mask_png: bytes | None) -> Iterator[Item]:
        """The job's stream (a Ray streaming generator): the workflow runs on a thread of its own, so its steps
        are yielded while it runs."""
        yield Begun(job_id)
        items: stdqueue.Queue[Item] = stdqueue.Queue()
        thread = threading.Thread(
            target=self._work, args=(job_id, request, picture_png, mask_png, items.put), name=f"job-{job_id}"
        )
        thread.start()
        while True:
            item = items.get()
            yield item
            if isinstance(item, Finished):
                break
        thread.join()

    def _engine(self, name: str) -> Engine:
        return self.cache.engine(name, self.engines, f"worker {self.info.device}")

    def _work(
        self, job_id: str, request: str, picture_png: bytes, mask_png: bytes | None, put: Callable[[Item], None]
    ) -> None:
        previews = Previews(self.preview_every)

        def on_step(step: int, total: int, preview: np.ndarray | None, stage: str) -> None:
            put(Progress(job_id, step, total, stage or None, previews.url(preview)))

        def is_cancelled() -> bool:
            return job_id in self._cancelled

        hooks = Hooks(on_step=on_step, is_cancelled=is_cancelled)
        finished: Finished
        try:
            hooks.check()
            job = JOB_ADAPTER.validate_json(request)
            workflow = WORKFLOWS[job.kind]
            picture = load_picture(picture_png, max_pixels=self.max_pixels)
            mask = None
            if mask_png is not None:
                mask = mask_of(load_picture(mask_png, max_pixels=self.max_pixels, what="mask"))
            engines = Source(self._engine, self.engines.detectors)
            result = workflow.run(picture, mask, workflow_params(job), engines, hooks)
            outcome = Outcome(result.pixels, result.png(), result.seed, result.report, result.exif, result.icc_profile)
            finished = Finished(job_id, outcome=outcome)
        except Cancelled:
            finished = Finished(job_id, canceled=True)
        except Exception as exc:  # a bad input, a bug or a library failure: the job fails, the worker lives on
            trace: list[str] = []  # a bug's traceback goes to the coordinator's log, where the client looks
            finished = Finished(job_id, error=job_error(exc, "failed", trace.append), log=trace[0] if trace else None)
        finally:
            with self._lock:
                self._cancelled.discard(job_id)
        put(replace(finished, loaded=self.cache.names(), used=self.cache.used()))
