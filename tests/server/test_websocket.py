"""Job-scoped events over the websocket: the sequence, catching up on subscribe, sessions, many clients."""

from __future__ import annotations

import asyncio
import json

import websockets

from tests.server.conftest import collect, live_server

FINAL = {"job.succeeded", "job.failed", "job.canceled"}


def test_event_sequence_for_a_job(tmp_path, picture, hole, gate):
    async def scenario(server):
        image_id, mask_id = server.upload(picture)["id"], server.upload(hole)["id"]
        async with websockets.connect(server.ws_url) as ws:
            gate.clear()  # the job waits after its first step until the client follows it
            job_id = server.submit(image=image_id, mask=mask_id, engine="gated", steps=5).json()["id"]
            await ws.send(json.dumps({"type": "subscribe", "job_ids": [job_id]}))
            events: list[dict] = []
            while not events:  # the job's current state: the subscription is in place
                event = json.loads(await ws.recv())
                if "job_id" in event:
                    events.append(event)
            gate.set()
            async with asyncio.timeout(30):
                while not events or events[-1].get("type") not in FINAL:
                    event = json.loads(await ws.recv())
                    if event["type"] != "queue.status":
                        events.append(event)
            return job_id, events

    with live_server(tmp_path / "data", preview_every=0) as server:
        job_id, events = asyncio.run(scenario(server))
    assert all(event["job_id"] == job_id for event in events)
    types = [event["type"] for event in events]
    assert types[-1] == "job.succeeded"
    assert "job.started" in types
    steps = [event["step"] for event in events if event["type"] == "job.progress"]
    assert steps == sorted(steps) and steps[-1] == 5
    previews = [event["preview"] for event in events if event["type"] == "job.progress" and event["preview"]]
    assert previews and previews[0].startswith("data:image/jpeg;base64,")
    final = events[-1]
    assert final["result"]["image"] and isinstance(final["seed"], int)


def test_subscribing_late_gets_the_current_state(server, uploaded):
    image_id, mask_id = uploaded
    job_id = server.submit(image=image_id, mask=mask_id, engine="invert").json()["id"]
    server.wait(job_id)
    events = asyncio.run(collect(server.ws_url, {"type": "subscribe", "job_ids": [job_id]}, FINAL, 1))
    assert [e["type"] for e in events if e["type"] != "queue.status"] == ["job.succeeded"]


def test_events_are_not_broadcast(server, uploaded):
    image_id, mask_id = uploaded

    async def scenario():
        async with websockets.connect(server.ws_url) as mine, websockets.connect(server.ws_url) as theirs:
            a = server.submit(image=image_id, mask=mask_id, engine="gated", steps=3).json()["id"]
            b = server.submit(image=image_id, mask=mask_id, engine="gated", steps=3).json()["id"]
            await mine.send(json.dumps({"type": "subscribe", "job_ids": [a]}))
            await theirs.send(json.dumps({"type": "subscribe", "job_ids": [b]}))
            seen = {"mine": set(), "theirs": set()}
            for name, ws, target in (("mine", mine, a), ("theirs", theirs, b)):
                async with asyncio.timeout(30):
                    while True:
                        event = json.loads(await ws.recv())
                        if "job_id" in event:
                            seen[name].add(event["job_id"])
                        if event.get("job_id") == target and event["type"] in FINAL:
                            break
            return a, b, seen

    a, b, seen = asyncio.run(scenario())
    assert seen == {"mine": {a}, "theirs": {b}}


def test_session_subscription_follows_all_jobs_of_the_session(server, uploaded):
    image_id, mask_id = uploaded
    headers = {"X-Retouch-Session": "canvas-tab-1"}
    first = server.http.post(
        "/api/v1/jobs", json={"image": image_id, "mask": mask_id, "engine": "invert"}, headers=headers
    ).json()["id"]
    server.wait(first)
    stranger = server.submit(image=image_id, mask=mask_id, engine="invert").json()["id"]

    async def scenario():
        async with websockets.connect(server.ws_url + "?session=canvas-tab-1") as ws:
            await ws.send(json.dumps({"type": "subscribe", "all": True}))
            second = server.http.post(
                "/api/v1/jobs", json={"image": image_id, "mask": mask_id, "engine": "invert"}, headers=headers
            ).json()["id"]
            finished, seen = set(), set()
            async with asyncio.timeout(30):
                while finished != {first, second}:
                    event = json.loads(await ws.recv())
                    if "job_id" in event:
                        seen.add(event["job_id"])
                        if event["type"] in FINAL:
                            finished.add(event["job_id"])
            return second, seen

    second, seen = asyncio.run(scenario())
    assert seen == {first, second}
    assert stranger not in seen


def test_bad_subscribe_message_is_answered_and_the_connection_stays(server, uploaded):
    image_id, mask_id = uploaded

    async def scenario():
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(json.dumps({"type": "subscribe", "jobs": ["x"]}))
            error = json.loads(await ws.recv())
            job_id = server.submit(image=image_id, mask=mask_id, engine="invert").json()["id"]
            await ws.send(json.dumps({"type": "subscribe", "job_ids": [job_id]}))
            async with asyncio.timeout(30):
                while True:
                    event = json.loads(await ws.recv())
                    if event.get("type") in FINAL:
                        return error, event

    error, final = asyncio.run(scenario())
    assert error["type"] == "error" and "jobs" in error["message"]
    assert final["type"] == "job.succeeded"


def test_fifty_clients_two_hundred_jobs_nothing_lost(server, uploaded):
    image_id, mask_id = uploaded
    clients, per_client = 50, 4

    async def client(index: int) -> tuple[list[str], dict[str, list[str]]]:
        async with websockets.connect(server.ws_url) as ws:
            async with __import__("httpx").AsyncClient(base_url=server.base) as http:
                ids = []
                for _ in range(per_client):
                    response = await http.post(
                        "/api/v1/jobs", json={"image": image_id, "mask": mask_id, "engine": "invert"}
                    )
                    ids.append(response.json()["id"])
            await ws.send(json.dumps({"type": "subscribe", "job_ids": ids}))
            got: dict[str, list[str]] = {job_id: [] for job_id in ids}
            async with asyncio.timeout(120):
                while sum(1 for types in got.values() if set(types) & FINAL) < len(ids):
                    event = json.loads(await ws.recv())
                    if "job_id" in event:
                        got[event["job_id"]].append(event["type"])
            return ids, got

    async def everyone():
        return await asyncio.gather(*(client(i) for i in range(clients)))

    results = asyncio.run(everyone())
    all_ids = [job_id for ids, _ in results for job_id in ids]
    assert len(set(all_ids)) == clients * per_client == 200
    for ids, got in results:
        assert set(got) == set(ids)  # nobody received someone else's job
        for types in got.values():
            assert types.count("job.succeeded") == 1
    statuses = {server.http.get(f"/api/v1/jobs/{job_id}").json()["status"] for job_id in all_ids}
    assert statuses == {"succeeded"}
