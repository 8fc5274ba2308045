"""The HTTP/WebSocket server: routes validate and enqueue; workers fill; events stream back.

A request's path through the folders: `routes/` (validate, enqueue, 202) -> `queue.py` (persisted job)
-> `pool.py` (a device's worker runs `retouch.pipeline.fill`) -> `events.py` (bridge into the event loop,
fan-out to subscribed websockets) -> `store.py` (result image).
"""
