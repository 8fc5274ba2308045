"""`WS /api/v1/ws`: job-scoped events. A client subscribes to jobs (or all of its session's) and first
gets each job's current state, so reconnecting loses nothing. Events are never sent to everyone."""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from retouch.recipe import describe_errors
from retouch.server.deps import token_ok
from retouch.server.events import Subscriber
from retouch.server.queue import JobQueue
from retouch.server.schemas import (
    Event,
    JobCanceledEvent,
    JobFailedEvent,
    JobProgressEvent,
    JobPublic,
    JobQueuedEvent,
    JobStartedEvent,
    JobStatus,
    JobSucceededEvent,
    SocketErrorEvent,
    Subscribe,
)

router = APIRouter()

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


def current_state(job: JobPublic) -> list[Event]:
    """The events that bring a new subscriber up to date with `job`."""
    if job.status is JobStatus.queued:
        return [JobQueuedEvent(job_id=job.id, position=job.position or 0)]
    if job.status is JobStatus.running:
        return [
            JobStartedEvent(job_id=job.id, device=job.device or ""),
            JobProgressEvent(
                job_id=job.id, step=job.progress.step, total=job.progress.total, stage=job.progress.stage
            ),
        ]
    if job.status is JobStatus.succeeded:
        assert job.result is not None
        return [JobSucceededEvent(job_id=job.id, result=job.result, seed=job.seed)]
    if job.status is JobStatus.failed:
        assert job.error is not None
        return [JobFailedEvent(job_id=job.id, error=job.error)]
    return [JobCanceledEvent(job_id=job.id)]


@router.websocket("/ws")
async def events(websocket: WebSocket) -> None:
    if not token_ok(websocket):
        await websocket.close(code=POLICY_VIOLATION, reason="this server needs an access token (?token=)")
        return
    await websocket.accept()
    app = websocket.app
    queue: JobQueue = app.state.queue
    subscriber = Subscriber(session=websocket.query_params.get("session"))
    app.state.hub.subscribe(subscriber)
    sender = asyncio.create_task(_send(websocket, subscriber))
    try:
        while True:
            text = await websocket.receive_text()
            try:
                message = Subscribe.model_validate(json.loads(text))
            except (ValueError, ValidationError) as exc:
                detail = describe_errors(exc.errors()) if isinstance(exc, ValidationError) else str(exc)
                await websocket.send_text(SocketErrorEvent(code="invalid_input", message=detail).model_dump_json())
                continue
            if message.type == "unsubscribe":
                subscriber.job_ids.difference_update(message.job_ids)
                subscriber.all_of_session = subscriber.all_of_session and not message.all
                continue
            subscriber.job_ids.update(message.job_ids)
            jobs = queue.get_many(message.job_ids)
            if message.all and subscriber.session:
                subscriber.all_of_session = True
                jobs += queue.session_jobs(subscriber.session)
            for job in jobs:
                for event in current_state(job):
                    subscriber.offer(event)
    except WebSocketDisconnect:
        pass
    finally:
        app.state.hub.unsubscribe(subscriber)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


async def _send(websocket: WebSocket, subscriber: Subscriber) -> None:
    while (event := await subscriber.next()) is not None:
        await websocket.send_text(event.model_dump_json())
    await websocket.close(code=TRY_AGAIN_LATER, reason="too slow to keep up; reconnect and resubscribe")
