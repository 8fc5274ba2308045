"""The app factory. Nothing heavy at import: the lifespan builds the store, queue, hub and device pool."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from retouch import __version__
from retouch.devices import Device, discover_devices
from retouch.engines import ENGINES, Engine, EngineFactory
from retouch.errors import InputError
from retouch.server.deps import require_token
from retouch.server.errors import error_response, install_error_handlers
from retouch.server.events import EventHub
from retouch.server.pool import DevicePool
from retouch.server.queue import SqliteJobQueue
from retouch.server.routes import images, jobs, meta, ws
from retouch.server.settings import Settings
from retouch.server.store import Database, ImageStore

log = logging.getLogger("retouch.server")

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
API_PREFIX = "/api/v1"
_JSON_BODY_LIMIT = 1 << 20  # jobs are small; only uploads may be large


def load_plugin(spec: str) -> tuple[str, EngineFactory]:
    """`module:Class` -> (its engine name, the class)."""
    module_name, _, attribute = spec.partition(":")
    try:
        engine = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise InputError(f"engine plugin {spec!r} cannot be imported: {exc}") from None
    if not (isinstance(engine, type) and issubclass(engine, Engine)):
        raise InputError(f"engine plugin {spec!r} is not an Engine subclass")
    return engine.name, engine


def engine_table(settings: Settings) -> dict[str, EngineFactory]:
    table: dict[str, EngineFactory] = dict(ENGINES)
    table.update(load_plugin(spec) for spec in settings.engine_plugins)
    return table


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
        queue = SqliteJobQueue(db)
        requeued, failed = queue.recover()
        if requeued or failed:
            log.warning("recovered after a stop: %d job(s) queued again, %d failed", requeued, failed)
        hub = EventHub()
        await hub.start()
        table = engines if engines is not None else engine_table(settings)
        found = devices or discover_devices()
        if settings.devices:
            found = [d for d in found if d.name in settings.devices] or found
        pool = DevicePool(
            queue, store, hub, table, found,
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
    for module in (images, jobs, meta):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(ws.router, prefix=API_PREFIX)  # checks the token itself, before accepting
    app.add_middleware(BodyLimit, settings=settings)

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
