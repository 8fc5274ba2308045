"""The app factory. Nothing heavy at import: the lifespan builds the store, queue, hub and device pool."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import TypeAdapter
from starlette.routing import Match, Mount
from starlette.types import Scope

from retouch import __version__
from retouch.devices import Device, discover_devices
from retouch.registry import Registry, build_registry
from retouch.server.errors import Unhandled, install_error_handlers
from retouch.server.events import EventHub
from retouch.server.guard import BodyLimit, Guard
from retouch.server.installs import Installer
from retouch.server.migrations import open_database
from retouch.server.pool import DevicePool
from retouch.server.pool_base import Pool
from retouch.server.queue import SqliteJobQueue
from retouch.server.routes import faces, images, jobs, meta, models, select, ws
from retouch.server.routes.ws import SocketLimits
from retouch.server.runtime import release_memory
from retouch.server.schemas import API_PREFIX, DATABASE_BUSY, ServerEvent, Subscribe
from retouch.server.selection import SelectorCache
from retouch.server.settings import Settings
from retouch.server.store import IMAGES, ImageStore

log = logging.getLogger("retouch.server")

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
#: how often finished work older than the retention period is looked for (the byte limit is also checked
#: after every stored picture)
RETENTION_EVERY = 3600.0
IDLE_CHECK_EVERY = 2.0


async def _housekeeping(store: ImageStore, pool: Pool) -> None:
    """Every few seconds: once a burst of work is over, give freed memory back to the system; every
    `RETENTION_EVERY` seconds, delete what the retention policy says is old."""
    last_sweep = time.monotonic()
    seen = store.writes
    while True:
        await asyncio.sleep(IDLE_CHECK_EVERY)
        if store.writes != seen and pool.running() == 0:
            seen = store.writes
            await asyncio.to_thread(release_memory)
        if time.monotonic() - last_sweep >= RETENTION_EVERY:
            last_sweep = time.monotonic()
            try:
                await asyncio.to_thread(store.sweep_retention)
            except Exception:  # a full disk, say: the next round tries again
                log.exception("the retention sweep failed")


class CanvasMount(Mount):
    """The canvas's files at `/`, never under the API: a GET on a route that only takes POST is a 405 naming
    what it allows (a mount at `/` would otherwise take it and answer 404 for a file it lacks)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("path", "").startswith(f"{API_PREFIX}/"):
            return Match.NONE, {}
        return super().matches(scope)


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


def _installer(settings: Settings, hub: EventHub, table: Registry) -> Installer:
    """Installs of the manifest's models into the server's catalog; each finished one joins `table`."""
    from retouch.catalog import user_catalog_path
    from retouch.catalog.manifest import load_manifest
    from retouch.engines import ENGINES

    catalog = settings.catalog or user_catalog_path()

    def refresh() -> None:  # the engines an install added join the table the routes and workers read
        fresh = build_registry(catalog, settings.engine_plugins, missing_ok=True)
        table.engines.update(fresh.engines)
        table.detectors.update(fresh.detectors)
        table.selectors.update(fresh.selectors)

    return Installer(load_manifest(), catalog, hub.publish, refresh, reserved=set(ENGINES))


def create_app(
    settings: Settings | None = None,
    *,
    engines: Registry | None = None,
    devices: list[Device] | None = None,
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = open_database(settings.data_dir, busy_timeout=settings.db_busy_timeout)
        store = ImageStore(
            db,
            settings.data_dir / IMAGES,
            cache_bytes=settings.picture_cache,
            decode_bytes=settings.decode_memory,
            max_pixels=settings.max_pixels,
            keep_days=settings.retention_days,
            keep_bytes=settings.retention_bytes,
        )
        store.sweep_orphans()
        hub = EventHub()
        await hub.start()
        queue = SqliteJobQueue(db, hub.publish)
        requeued, failed = queue.recover()
        if requeued or failed:
            log.warning("recovered after a stop: %d job(s) queued again, %d failed", requeued, failed)
        store.sweep_retention()
        # a copy: installs add engines to the server's own table, never to a table the caller shares
        table = (
            Registry(engines, engines.detectors, engines.selectors)
            if engines is not None
            else build_registry(settings.catalog, settings.engine_plugins, missing_ok=True)
        )
        pool: Pool
        selector_device = "cpu"  # object selection runs in the server's process: on its first device, or the CPU
        if settings.ray:
            from retouch.server.cluster.pool import RayPool  # the bridge process only with --ray

            pool = RayPool(
                queue,
                store,
                table,
                address=settings.ray,
                cpu_workers=settings.ray_cpu_workers,
                attempts=settings.ray_attempts,
                memory_budget=settings.model_memory_budget,
                preview_every=settings.preview_every,
                max_pixels=settings.max_pixels,
            )
        else:
            found = devices or discover_devices()
            if settings.devices:
                found = [d for d in found if d.name in settings.devices] or found
            selector_device = found[0].name
            pool = DevicePool(
                queue,
                store,
                table,
                found,
                workers_per_device=settings.workers_per_device,
                memory_budget=settings.model_memory_budget,
                preview_every=settings.preview_every,
                max_pixels=settings.max_pixels,
            )
        app.state.settings, app.state.store, app.state.queue = settings, store, queue
        app.state.hub, app.state.pool, app.state.engines = hub, pool, table
        app.state.sockets = SocketLimits(settings)
        app.state.selectors = SelectorCache(table.selectors, selector_device)
        installer = _installer(settings, hub, table)
        app.state.installer = installer
        pool.start()
        installer.start()
        housekeeping = asyncio.create_task(_housekeeping(store, pool), name="retouch-housekeeping")
        try:
            yield
        finally:
            housekeeping.cancel()
            await asyncio.to_thread(installer.stop)
            await asyncio.to_thread(pool.stop, settings.stop_grace)
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
    api = APIRouter(
        prefix=API_PREFIX, responses=DATABASE_BUSY
    )  # the token, Host and Origin are checked by `Guard`, before any route
    for module in (images, jobs, faces, select, meta, models):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(ws.router, prefix=API_PREFIX)
    app.add_middleware(Unhandled)  # innermost: a bug is a 500 answer, and the connection lives on
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(Guard, settings=settings)  # outermost: nothing is read before it
    app.openapi = lambda: _openapi_with_events(app)  # type: ignore[method-assign]

    if (STATIC_DIR / "index.html").exists():
        app.router.routes.append(CanvasMount("/", StaticFiles(directory=STATIC_DIR, html=True), name="canvas"))
    else:

        @app.get("/", include_in_schema=False)
        async def canvas_missing() -> HTMLResponse:
            return HTMLResponse(
                "<h1>Retouch</h1><p>The API runs at <a href='/docs'>/docs</a>. The canvas is not built: "
                "run <code>make run</code> from the checkout.</p>"
            )

    return app
