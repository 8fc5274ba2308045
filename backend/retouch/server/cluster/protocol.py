"""What the coordinator and its Ray bridge say to each other over their socket, and what a worker streams back.

The coordinator (the server process) never imports Ray: it talks to one bridge process, the Ray driver, with
these pickled messages. A worker actor's `run` yields `Begun`, then `Progress` items, then one `Finished`;
the bridge forwards them unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retouch.registry import Registry
from retouch.server.schemas import ErrorPublic

# coordinator -> bridge


@dataclass(frozen=True)
class Configure:
    """The first message: what every worker actor is built with."""

    engines: Registry  # engines and face detectors, as the server built them
    cpu_workers: int  # actors on a node without GPUs
    memory_budget: int | None  # bytes of models per worker; None = 80 % of its device's memory
    preview_every: float
    max_pixels: int
    refresh: float  # seconds between two looks at the cluster's nodes (and heartbeats)


@dataclass(frozen=True)
class Run:
    job_id: str
    worker_id: str
    request: str  # the job's request as JSON (`JOB_ADAPTER`)
    picture: bytes  # the stored picture's file (PNG), decoded by the worker
    mask: bytes | None


@dataclass(frozen=True)
class Cancel:
    job_id: str
    worker_id: str


@dataclass(frozen=True)
class Stop:
    pass


# bridge -> coordinator


@dataclass(frozen=True)
class Connected:
    address: str
    ray_version: str


@dataclass(frozen=True)
class Unreachable:
    message: str


@dataclass(frozen=True)
class WorkerInfo:
    worker_id: str
    node_id: str
    host: str
    device: str  # what a job's `device` shows: host, node and device, e.g. `gpu-box-2@5f3a2c91/gpu:0`
    label: str  # what people call the device, e.g. `NVIDIA L4`
    memory_bytes: int
    torch_device: str  # where engines load ("cuda:0", "cpu")


@dataclass(frozen=True)
class WorkerJoined:
    info: WorkerInfo


@dataclass(frozen=True)
class WorkerLeft:
    worker_id: str
    reason: str


@dataclass(frozen=True)
class NodeInfo:
    node_id: str
    address: str
    name: str
    alive: bool
    gpus: float
    cpus: float


@dataclass(frozen=True)
class Nodes:
    """The heartbeat: the cluster's nodes as Ray sees them, sent every `refresh` seconds."""

    nodes: list[NodeInfo]


@dataclass(frozen=True)
class Lost:
    """The worker running a job is gone (its node died, its process was killed, Ray lost it)."""

    job_id: str
    worker_id: str
    reason: str
    reached: bool  # whether the job had begun on the worker (else it never ran there)


# worker -> bridge -> coordinator


@dataclass(frozen=True)
class Begun:
    job_id: str


@dataclass(frozen=True)
class Progress:
    job_id: str
    step: int
    total: int
    stage: str | None
    preview: str | None  # a small JPEG data URL, made on the worker


@dataclass(frozen=True)
class Outcome:
    pixels: np.ndarray
    png: bytes  # encoded on the worker, with the recipe
    seed: int | None
    report: dict[str, Any]
    exif: bytes | None
    icc_profile: bytes | None


@dataclass(frozen=True)
class Finished:
    job_id: str
    outcome: Outcome | None = None  # a success
    error: ErrorPublic | None = None  # a failure
    canceled: bool = False
    loaded: list[str] = field(default_factory=list)  # the worker's model cache after the job
    used: int = 0  # its bytes
    log: str | None = None  # a bug's traceback, under the error id `error` names, for the coordinator's log
