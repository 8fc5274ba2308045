"""The app factory. Nothing heavy at import: the lifespan builds the store, queue, hub and device pool."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import TypeAdapter
from starlette.types import ASGIApp, Receive, Scope, Send

from retouch import __version__
from retouch.devices import Device, discover_devices
from retouch.engines import EngineFactory
from retouch.registry import build_registry
from retouch.server.deps import require_token
from retouch.server.errors import error_response, install_error_handlers
from retouch.server.events import EventHub
from retouch.server.pool import DevicePool
from retouch.server.queue import SqliteJobQueue
from retouch.server.routes import faces, images, jobs, meta, ws
from retouch.server.schemas import ServerEvent, Subscribe
from retouch.server.settings import Settings
from retouch.server.store import Database, ImageStore

log = logging.getLogger("retouch.server")

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
API_PREFIX = "/api/v1"
_JSON_BODY_LIMIT = 1 << 20  # jobs are small; only uploads may be large


class BodyLimit:
    """Refuse bodies over the limit from their Content-Length, before reading them."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            is_upload = scope["path"].startswith(f"{API_PREFIX}/images")
            limit = self.settings.max_upload_bytes + 65536 if is_upload else _JSON_BODY_LIMIT
            if length is not None and length.isdigit() and int(length) > limit:
                what = "uploads" if is_upload else "request bodies"
                response = error_response(413, "too_large", f"{what} are limited to {limit} bytes")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _openapi_with_events(app: FastAPI) -> dict[str, Any]:
    """The schema, plus what the websocket sends (`ServerEvent`) and takes (`Subscribe`), so clients type them."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, adapter in (("ServerEvent", TypeAdapter(ServerEvent)), ("Subscribe", TypeAdapter(Subscribe))):
        definition = adapter.json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
        components.update(definition.pop("$defs", {}))
        components[name] = definition
    app.openapi_schema = schema
    return schema


def create_app(
    settings: Settings | None = None,
    *,
    engines: dict[str, EngineFactory] | None = None,
    devices: list[Device] | None = None,
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.data_dir / "retouch.db")
        store = ImageStore(db, settings.data_dir / "images")
        hub = EventHub()
        await hub.start()
        queue = SqliteJobQueue(db, hub.publish)
        requeued, failed = queue.recover()
        if requeued or failed:
            log.warning("recovered after a stop: %d job(s) queued again, %d failed", requeued, failed)
        table = engines if engines is not None else build_registry(settings.catalog, settings.engine_plugins)
        found = devices or discover_devices()
        if settings.devices:
            found = [d for d in found if d.name in settings.devices] or found
        pool = DevicePool(
            queue, store, table, found,
            workers_per_device=settings.workers_per_device,
            memory_budget=settings.model_memory_budget,
            preview_every=settings.preview_every,
            max_pixels=settings.max_pixels,
        )
        app.state.settings, app.state.store, app.state.queue = settings, store, queue
        app.state.hub, app.state.pool, app.state.engines = hub, pool, table
        pool.start()
        try:
            yield
        finally:
            pool.stop()
            await hub.stop()
            db.close()

    app = FastAPI(
        title="Retouch",
        version=__version__,
        description="Inpainting studio API: upload pictures, queue fills, follow them over a websocket.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(require_token)])
    for module in (images, jobs, faces, meta):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(ws.router, prefix=API_PREFIX)  # checks the token itself, before accepting
    app.add_middleware(BodyLimit, settings=settings)
    app.openapi = lambda: _openapi_with_events(app)  # type: ignore[method-assign]

    if (STATIC_DIR / "index.html").exists():
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="canvas")
    else:

        @app.get("/", include_in_schema=False)
        async def canvas_missing() -> HTMLResponse:
            return HTMLResponse(
                "<h1>Retouch</h1><p>The API runs at <a href='/docs'>/docs</a>. The canvas is not built: "
                "run <code>make run</code> from the checkout.</p>"
            )

    return app
