"""What routes get from the app: typed dependencies, so signatures read like documentation."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from retouch.registry import Registry
from retouch.server.events import EventHub
from retouch.server.pool_base import Pool
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


def _pool(request: Request) -> Pool:
    return request.app.state.pool


def _engines(request: Request) -> Registry:
    return request.app.state.engines


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[ImageStore, Depends(_store)]
QueueDep = Annotated[JobQueue, Depends(_queue)]
HubDep = Annotated[EventHub, Depends(_hub)]
PoolDep = Annotated[Pool, Depends(_pool)]
EnginesDep = Annotated[Registry, Depends(_engines)]


def _authorized(request: Request) -> bool:
    """Whether the request carried the token (or the server has none); set by `Guard`, which already refused
    an unauthorized request everywhere but the minimal health answer."""
    return request.scope.get("state", {}).get("authorized", False)


AuthorizedDep = Annotated[bool, Depends(_authorized)]
