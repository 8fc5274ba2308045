"""Jobs: validate, enqueue, return 202. Nothing here runs a workflow.

The routes are plain functions, which FastAPI runs in its thread pool: they read and write SQLite (and a job's
check decodes its picture), and a database another process holds makes a write wait, never the event loop.

A job is checked once, here, by the code the command line uses (its workflow's `check`: `plan()` and the
engine's own `check` for a fill), so a job that would fail on its input is a 422 now, never a failure later.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Response

from retouch.errors import InputError
from retouch.server.deps import EnginesDep, PoolDep, QueueDep, StoreDep
from retouch.server.errors import ApiError
from retouch.server.pool_base import workflow_params
from retouch.server.schemas import (
    BAD_BODY,
    ID_PATTERN,
    ErrorPublic,
    JobAccepted,
    JobCreate,
    JobPublic,
    JobsPublic,
    JobStatus,
)
from retouch.workflows import WORKFLOWS

router = APIRouter(prefix="/jobs", tags=["jobs"])
MAX_OFFSET = 1 << 40

JobId = Annotated[str, Path(pattern=ID_PATTERN, description="Job id.")]
SessionHeader = Annotated[
    str | None,
    Header(
        alias="X-Retouch-Session",
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="The client's session; a websocket connected with `?session=` can follow all its jobs.",
    ),
]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic},
    409: {"model": ErrorPublic},
    422: {"model": ErrorPublic},
}


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_input", message)


@router.post(
    "",
    status_code=202,
    response_model=JobAccepted,
    responses={**BAD_BODY, **_ERRORS, 410: {"model": ErrorPublic, "description": "A picture's file is gone."}},
)
def create_job(
    job: Annotated[JobCreate, Body()],
    store: StoreDep,
    queue: QueueDep,
    pool: PoolDep,
    engines: EnginesDep,
    session: SessionHeader = None,
) -> JobAccepted:
    """Queue a job: a `fill` (the default kind) or an `upscale` of a stored picture."""
    workflow = WORKFLOWS[job.kind]
    params = workflow_params(job)
    image = store.get(job.image)
    if image is None:
        raise _invalid(f"image: no image with id {job.image!r} (upload it to /api/v1/images first)")
    mask_id = job.mask_id()
    mask_image = None
    if mask_id is not None:
        mask_image = store.get(mask_id)
        if mask_image is None:
            raise _invalid(f"mask: no image with id {mask_id!r}")

    for stored in (image, mask_image):  # a file gone from disk is 410 here, as for GET, though a decoded
        if stored is not None:  # copy may still be in memory
            store.path(stored)
    picture = store.picture(image)
    try:
        mask = store.mask(mask_image) if mask_image is not None else None
    except InputError as exc:
        raise _invalid(f"mask: {exc.message}") from None
    try:
        workflow.check(picture, mask, params, engines)
    except InputError as exc:
        raise _invalid(exc.message) from None
    public = queue.submit(job, workflow.label(params), session)
    pool.wake()
    return JobAccepted(id=public.id, position=public.position or 0)


@router.get("", response_model=JobsPublic)
def list_jobs(
    queue: QueueDep,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> JobsPublic:
    """Jobs, newest first."""
    jobs, count = queue.list(status, limit, offset)
    return JobsPublic(data=jobs, count=count)


@router.get("/{job_id}", response_model=JobPublic, responses=_ERRORS)
def get_job(job_id: JobId, queue: QueueDep) -> JobPublic:
    job = queue.get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no job with id {job_id!r}")
    return job


@router.delete("/{job_id}", response_model=JobPublic, responses=_ERRORS)
def cancel_job(job_id: JobId, queue: QueueDep, pool: PoolDep, response: Response) -> JobPublic:
    """Cancel a job: a queued one at once (200), a running one within a step (202, then `job.canceled`)."""
    before = queue.cancel(job_id)
    if before is None:
        raise ApiError(404, "not_found", f"no job with id {job_id!r}")
    if before.finished:
        raise ApiError(409, "conflict", f"job {job_id!r} already {before.value}; nothing to cancel")
    if before is JobStatus.running:
        pool.cancel(job_id)
        response.status_code = 202
    job = queue.get(job_id)
    assert job is not None
    return job
