"""Jobs: validate, enqueue, return 202. Nothing here runs a fill."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from retouch.errors import InputError
from retouch.recipe import BBox
from retouch.server.deps import EnginesDep, HubDep, PoolDep, QueueDep, SettingsDep, StoreDep
from retouch.server.errors import ApiError
from retouch.server.schemas import (
    ID_PATTERN,
    ErrorPublic,
    JobAccepted,
    JobCanceledEvent,
    JobCreate,
    JobPublic,
    JobQueuedEvent,
    JobsPublic,
    JobStatus,
)

router = APIRouter(prefix="/jobs", tags=["jobs"])

JobId = Annotated[str, Path(pattern=ID_PATTERN, description="Job id.")]
SessionHeader = Annotated[
    str | None,
    Header(
        alias="X-Retouch-Session",
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="The client's session; a websocket connected with `?session=` can follow all its jobs.",
    ),
]
_ERRORS = {404: {"model": ErrorPublic}, 409: {"model": ErrorPublic}, 422: {"model": ErrorPublic}}


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_input", message)


@router.post("", status_code=202, response_model=JobAccepted, responses=_ERRORS)
async def create_job(
    job: JobCreate,
    store: StoreDep,
    queue: QueueDep,
    hub: HubDep,
    pool: PoolDep,
    engines: EnginesDep,
    settings: SettingsDep,
    session: SessionHeader = None,
) -> JobAccepted:
    """Queue a fill of `image` inside `mask` with the recipe's engine and parameters."""
    if job.engine not in engines:
        raise _invalid(f"engine: {job.engine!r} is unknown; available: {', '.join(sorted(engines))}")
    try:
        engines[job.engine]().check(job)  # e.g. a sampler the model lacks: refused now, not after a model load
    except InputError as exc:
        raise _invalid(exc.message) from None
    image = store.get(job.image)
    if image is None:
        raise _invalid(f"image: no image with id {job.image!r} (upload it to /api/v1/images first)")
    if job.mask is not None:
        mask = store.get(job.mask)
        if mask is None:
            raise _invalid(f"mask: no image with id {job.mask!r}")
        at_box = isinstance(job.bbox, BBox) and (mask.width, mask.height) == (job.bbox.width, job.bbox.height)
        if (mask.width, mask.height) != (image.width, image.height) and not at_box:
            box_size = f" or the bbox's {job.bbox.width}x{job.bbox.height}" if isinstance(job.bbox, BBox) else ""
            raise _invalid(
                f"mask: is {mask.width}x{mask.height} but the image is {image.width}x{image.height}; "
                f"it must be the image's size{box_size}"
            )
        try:
            pixels = await run_in_threadpool(store.mask, mask, settings.max_pixels)
        except InputError as exc:
            raise _invalid(f"mask: {exc.message}") from None
        if not pixels.any() and not image.has_alpha:
            raise _invalid("mask: is empty (all black); paint the area to fill in white")
    elif not image.has_alpha:
        raise _invalid("mask: is required when the image has no transparent pixels to fill")
    if isinstance(job.bbox, BBox):
        box = job.bbox
        if box.x + box.width > image.width or box.y + box.height > image.height:
            raise _invalid(
                f"bbox: {box.x},{box.y},{box.width},{box.height} reaches outside the {image.width}x{image.height} "
                f"image (x + width <= {image.width}, y + height <= {image.height})"
            )

    public = queue.submit(job, session)
    hub.publish(JobQueuedEvent(job_id=public.id, position=public.position or 0), session)
    pool.wake()
    pool.publish_queue_status()
    return JobAccepted(id=public.id, position=public.position or 0)


@router.get("", response_model=JobsPublic)
async def list_jobs(
    queue: QueueDep,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JobsPublic:
    """Jobs, newest first."""
    jobs, count = queue.list(status, limit, offset)
    return JobsPublic(data=jobs, count=count)


@router.get("/{job_id}", response_model=JobPublic, responses=_ERRORS)
async def get_job(job_id: JobId, queue: QueueDep) -> JobPublic:
    job = queue.get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no job with id {job_id!r}")
    return job


@router.delete("/{job_id}", response_model=JobPublic, responses=_ERRORS)
async def cancel_job(job_id: JobId, queue: QueueDep, pool: PoolDep, hub: HubDep, response: Response) -> JobPublic:
    """Cancel a job: a queued one at once (200), a running one within a step (202, then `job.canceled`)."""
    before = queue.cancel(job_id)
    if before is None:
        raise ApiError(404, "not_found", f"no job with id {job_id!r}")
    if before.finished:
        raise ApiError(409, "conflict", f"job {job_id!r} already {before.value}; nothing to cancel")
    if before is JobStatus.queued:
        hub.publish(JobCanceledEvent(job_id=job_id), queue.session_of(job_id))
        pool.publish_queue_status()
    else:
        pool.cancel(job_id)
        response.status_code = 202
    job = queue.get(job_id)
    assert job is not None
    return job
