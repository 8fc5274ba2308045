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
from dataclasses import dataclass, field

from retouch.server.schemas import Event, JobProgressEvent, QueueStatusEvent

log = logging.getLogger(__name__)

BUFFER = 256


@dataclass(eq=False)
class Subscriber:
    """One websocket connection's interest and its outgoing buffer."""

    session: str | None = None
    job_ids: set[str] = field(default_factory=set)
    all_of_session: bool = False
    buffer: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(BUFFER))
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0

    def wants(self, event: Event, session: str | None) -> bool:
        if isinstance(event, QueueStatusEvent):
            return True
        if event.job_id in self.job_ids:
            return True
        return self.all_of_session and session is not None and session == self.session

    def offer(self, event: Event) -> None:
        try:
            self.buffer.put_nowait(event)
        except asyncio.QueueFull:
            if isinstance(event, JobProgressEvent | QueueStatusEvent):
                self.dropped += 1  # the next one supersedes it
            else:
                self.overflowed.set()


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
