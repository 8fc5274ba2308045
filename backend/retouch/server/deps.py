"""What routes get from the app: typed dependencies, so signatures read like documentation."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from retouch.engines import EngineFactory
from retouch.server.errors import ApiError
from retouch.server.events import EventHub
from retouch.server.pool import DevicePool
from retouch.server.queue import JobQueue
from retouch.server.settings import Settings
from retouch.server.store import ImageStore


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _store(request: Request) -> ImageStore:
    return request.app.state.store


def _queue(request: Request) -> JobQueue:
    return request.app.state.queue


def _hub(request: Request) -> EventHub:
    return request.app.state.hub


def _pool(request: Request) -> DevicePool:
    return request.app.state.pool


def _engines(request: Request) -> Mapping[str, EngineFactory]:
    return request.app.state.engines


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[ImageStore, Depends(_store)]
QueueDep = Annotated[JobQueue, Depends(_queue)]
HubDep = Annotated[EventHub, Depends(_hub)]
PoolDep = Annotated[DevicePool, Depends(_pool)]
EnginesDep = Annotated[Mapping[str, EngineFactory], Depends(_engines)]


def token_ok(connection: HTTPConnection) -> bool:
    """Whether the connection carries the access token (when the server has one)."""
    expected = connection.app.state.settings.token
    if not expected:
        return True
    header = connection.headers.get("authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
    given = given or connection.headers.get("x-retouch-token") or connection.query_params.get("token")
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


def require_token(request: Request) -> None:
    if not token_ok(request):
        raise ApiError(401, "unauthorized", "this server needs an access token: Authorization: Bearer TOKEN")
