"""One bridge from worker threads into the event loop, and one task that fans events out.

Workers call `EventHub.publish` from any thread; it hands the event to the loop with
`call_soon_threadsafe`. The fan-out task puts each event into the bounded buffer of every subscriber
that asked for its job. A slow client never slows anyone else: progress events are dropped for it
when its buffer is full, and if even a state event does not fit, that client is disconnected (it can
reconnect and resubscribe, and gets every job's current state first, so nothing is lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field

from retouch.server.schemas import (
    Event,
    JobCanceledEvent,
    JobFailedEvent,
    JobProgressEvent,
    JobSucceededEvent,
    ModelInstallEvent,
    QueueStatusEvent,
)

log = logging.getLogger(__name__)

BUFFER = 256


def _droppable(event: Event) -> bool:
    running_install = isinstance(event, ModelInstallEvent) and event.install.state == "running"
    return running_install or isinstance(event, JobProgressEvent | QueueStatusEvent)


@dataclass(eq=False)
class Subscriber:
    """One websocket connection's interest and its bounded outgoing buffer."""

    session: str | None = None
    job_ids: set[str] = field(default_factory=set)
    all_of_session: bool = False
    limit: int = BUFFER
    overflowed: bool = False
    dropped: int = 0
    _buffer: deque[Event] = field(default_factory=deque)
    _finished: set[str] = field(default_factory=set)  # jobs whose final event this client already has
    _steps: dict[str, int] = field(default_factory=dict)  # the last step sent per running job
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, event: Event, session: str | None) -> bool:
        if isinstance(event, QueueStatusEvent | ModelInstallEvent):
            return True
        if event.job_id in self.job_ids:
            return True
        return self.all_of_session and session is not None and session == self.session

    def offer(self, event: Event) -> None:
        """Buffer an event. When full, progress and queue counts give way; state events never do.

        A job's current state (sent on subscribe) can overtake live events still on their way, so
        anything after a job's final event, and progress older than what was sent, is dropped.
        """
        if not isinstance(event, QueueStatusEvent | ModelInstallEvent):
            if event.job_id in self._finished:
                return
            if isinstance(event, JobProgressEvent):
                if event.step < self._steps.get(event.job_id, 0):
                    return
                self._steps[event.job_id] = event.step
            elif isinstance(event, JobSucceededEvent | JobFailedEvent | JobCanceledEvent):
                self._finished.add(event.job_id)
                self._steps.pop(event.job_id, None)
        if isinstance(event, QueueStatusEvent):  # only the latest count matters
            stale = [e for e in self._buffer if isinstance(e, QueueStatusEvent)]
            for old in stale:
                self._buffer.remove(old)
        if len(self._buffer) >= self.limit:
            if _droppable(event):
                self.dropped += 1
                return
            victim = next((e for e in self._buffer if _droppable(e)), None)
            if victim is None:
                self.overflowed = True  # the sender closes the connection; the client resubscribes
                self._ready.set()
                return
            self._buffer.remove(victim)
            self.dropped += 1
        self._buffer.append(event)
        self._ready.set()

    async def next(self) -> Event | None:
        """The next event to send, or None once this client fell too far behind."""
        while not self._buffer and not self.overflowed:
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            return None
        return self._buffer.popleft()


class EventHub:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbox: asyncio.Queue[tuple[Event, str | None]] | None = None
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._inbox = asyncio.Queue()
        self._task = asyncio.create_task(self._fan_out(), name="retouch-event-fan-out")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._loop = None

    def publish(self, event: Event, session: str | None = None) -> None:
        """Hand an event (of a job of `session`) to the loop. Safe from any thread; a no-op once stopped."""
        loop, inbox = self._loop, self._inbox
        if loop is None or inbox is None:
            return
        try:
            if _on_loop(loop):
                inbox.put_nowait((event, session))
            else:
                loop.call_soon_threadsafe(inbox.put_nowait, (event, session))
        except RuntimeError:  # the loop closed between the check and the call
            pass

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    async def _fan_out(self) -> None:
        assert self._inbox is not None
        while True:
            event, session = await self._inbox.get()
            for subscriber in list(self._subscribers):
                if subscriber.wants(event, session):
                    subscriber.offer(event)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
