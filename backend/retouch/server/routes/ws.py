"""`WS /api/v1/ws`: job-scoped events. A client subscribes to jobs (or all of its session's) and first
gets each job's current state, so reconnecting loses nothing. Events are never sent to everyone."""

from __future__ import annotations

import asyncio
import contextlib
import resource
from collections import Counter

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from retouch.recipe import describe_errors
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
from retouch.server.settings import Settings

router = APIRouter()

UNSUPPORTED_DATA = 1003
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


class SocketLimits:
    """Open websockets, in all and per client address; the total also stays well under the process's file
    descriptor limit, so HTTP (health included) always has room."""

    def __init__(self, settings: Settings) -> None:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        room = soft // 2 if soft != resource.RLIM_INFINITY else settings.ws_max_connections
        self.total = max(1, min(settings.ws_max_connections, room))
        self.per_client = settings.ws_max_per_client
        self.subscriptions = settings.ws_max_subscriptions
        self._open: Counter[str] = Counter()

    def enter(self, client: str) -> str | None:
        """Count a new connection in, or say why it is refused."""
        if sum(self._open.values()) >= self.total:
            return f"too many connections to this server (limit {self.total}); try again later"
        if self._open[client] >= self.per_client:
            return f"too many connections from {client} (limit {self.per_client}); close some first"
        self._open[client] += 1
        return None

    def leave(self, client: str) -> None:
        self._open[client] -= 1
        if self._open[client] <= 0:
            del self._open[client]


EXAMPLE = '{"type": "subscribe", "job_ids": ["..."]}'


def unreadable(error: ValidationError) -> str:
    """Why a message was not understood, in our words (no parser's text: it names columns, not the fix)."""
    problems = error.errors()
    if problems and problems[0]["type"] == "json_invalid":
        if "recursion" in str(problems[0].get("ctx", {}).get("error", "")):
            return f"the message nests too deeply to be a subscription; send one flat object such as {EXAMPLE}"
        return f"the message is not JSON; send an object such as {EXAMPLE}"
    if problems and problems[0]["type"] == "model_type":
        return f"the message must be a JSON object such as {EXAMPLE}"
    return describe_errors(problems)


def current_state(job: JobPublic) -> list[Event]:
    """The events that bring a new subscriber up to date with `job`."""
    if job.status is JobStatus.queued:
        return [JobQueuedEvent(job_id=job.id, position=job.position or 0)]
    if job.status is JobStatus.running:
        return [
            JobStartedEvent(job_id=job.id, device=job.device or ""),
            JobProgressEvent(job_id=job.id, step=job.progress.step, total=job.progress.total, stage=job.progress.stage),
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
    """Job events. The token, Host and Origin were checked before this runs (`Guard`)."""
    app = websocket.app
    limits: SocketLimits = app.state.sockets
    client = websocket.client.host if websocket.client else "unknown"
    await websocket.accept()
    if (refusal := limits.enter(client)) is not None:
        await websocket.close(code=TRY_AGAIN_LATER, reason=refusal)
        return
    try:
        await _serve(websocket, limits)
    finally:
        limits.leave(client)


async def _serve(websocket: WebSocket, limits: SocketLimits) -> None:
    app = websocket.app
    queue: JobQueue = app.state.queue
    subscriber = Subscriber(session=websocket.query_params.get("session"))
    app.state.hub.subscribe(subscriber)
    sender = asyncio.create_task(_send(websocket, subscriber))
    try:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                break
            text = frame.get("text")
            if text is None:
                await websocket.close(code=UNSUPPORTED_DATA, reason="binary frames are not understood; send JSON text")
                break
            try:
                message = Subscribe.model_validate_json(text)  # pydantic's parser bounds nesting, unlike json
            except ValidationError as exc:
                await websocket.send_text(
                    SocketErrorEvent(code="invalid_input", message=unreadable(exc)).model_dump_json()
                )
                continue
            if message.type == "unsubscribe":
                subscriber.job_ids.difference_update(message.job_ids)
                subscriber.all_of_session = subscriber.all_of_session and not message.all
                continue
            if len(subscriber.job_ids | set(message.job_ids)) > limits.subscriptions:
                reason = f"too many subscriptions (limit {limits.subscriptions} jobs per connection)"
                await websocket.close(code=POLICY_VIOLATION, reason=reason)
                break
            subscriber.job_ids.update(message.job_ids)
            jobs = await run_in_threadpool(queue.get_many, message.job_ids)  # SQLite, off the event loop
            if message.all and subscriber.session:
                subscriber.all_of_session = True
                jobs += await run_in_threadpool(queue.session_jobs, subscriber.session)
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
