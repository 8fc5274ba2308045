"""A slow client's buffer: progress gives way, state events are kept or the client is cut off."""

from __future__ import annotations

import asyncio

from retouch.server.events import EventHub, Subscriber
from retouch.server.schemas import (
    JobProgressEvent,
    JobQueuedEvent,
    JobResult,
    JobStartedEvent,
    JobSucceededEvent,
    QueueStatusEvent,
)


def _drain(subscriber: Subscriber) -> list:
    async def run():
        events = []
        while subscriber._buffer:
            events.append(await subscriber.next())
        return events

    return asyncio.run(run())


def test_progress_gives_way_to_state_events_when_full():
    subscriber = Subscriber(job_ids={"a"}, limit=8)
    subscriber.offer(JobStartedEvent(job_id="a", device="cpu"))
    for step in range(1, 100):
        subscriber.offer(JobProgressEvent(job_id="a", step=step, total=100))
    subscriber.offer(JobSucceededEvent(job_id="a", result=JobResult(image="r" * 22), seed=1))
    events = _drain(subscriber)
    assert len(events) == 8 and not subscriber.overflowed
    assert events[0].type == "job.started" and events[-1].type == "job.succeeded"
    steps = [e.step for e in events if e.type == "job.progress"]
    assert steps == sorted(steps)


def test_state_events_never_dropped_client_is_cut_off_instead():
    subscriber = Subscriber(job_ids={f"job{i}" for i in range(10)}, limit=4)
    for i in range(5):
        subscriber.offer(JobQueuedEvent(job_id=f"job{i}", position=i))
    assert subscriber.overflowed
    assert asyncio.run(subscriber.next()) is None


def test_only_the_latest_queue_status_is_kept():
    subscriber = Subscriber()
    for pending in range(50):
        subscriber.offer(QueueStatusEvent(pending=pending, running=1))
    assert [e.pending for e in _drain(subscriber)] == [49]


def test_nothing_after_a_final_event():
    subscriber = Subscriber(job_ids={"a"})
    subscriber.offer(JobSucceededEvent(job_id="a", result=JobResult(image="r" * 22), seed=1))
    subscriber.offer(JobStartedEvent(job_id="a", device="cpu"))
    subscriber.offer(JobSucceededEvent(job_id="a", result=JobResult(image="r" * 22), seed=1))
    assert [e.type for e in _drain(subscriber)] == ["job.succeeded"]


def test_hub_routes_by_job_and_session_from_other_threads():
    async def scenario():
        hub = EventHub()
        await hub.start()
        mine = Subscriber(job_ids={"a"})
        session = Subscriber(session="s1", all_of_session=True)
        other = Subscriber(job_ids={"z"})
        for subscriber in (mine, session, other):
            hub.subscribe(subscriber)
        await asyncio.to_thread(hub.publish, JobQueuedEvent(job_id="a", position=0), "s1")
        await asyncio.to_thread(hub.publish, JobQueuedEvent(job_id="b", position=1), "s1")
        async with asyncio.timeout(10):  # both events reached the session's buffer
            while len(session._buffer) < 2:
                await asyncio.sleep(0)
        await hub.stop()
        return [e.job_id for e in _drain_now(mine)], [e.job_id for e in _drain_now(session)], list(other._buffer)

    def _drain_now(subscriber):
        return list(subscriber._buffer)

    mine, session, other = asyncio.run(scenario())
    assert mine == ["a"]
    assert session == ["a", "b"]
    assert other == []
