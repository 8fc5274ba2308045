"""What this server can do: engines and health."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter

from retouch import __version__
from retouch.server.deps import AuthorizedDep, EnginesDep, PoolDep, QueueDep, SettingsDep, StoreDep
from retouch.server.schemas import EnginePublic, HealthPublic, LimitsPublic, StoragePublic

router = APIRouter(tags=["meta"])

LOW_DISK = 100 * 1000 * 1000  # below this many free bytes (or 5 % of a small disk) the server is degraded


@router.get("/engines", response_model=list[EnginePublic])
async def list_engines(engines: EnginesDep) -> list[dict]:
    """Engines and models with their capabilities and defaults."""
    return [factory().capabilities() for factory in engines.values()]


@router.get("/health", response_model=HealthPublic, response_model_exclude_none=True)
def health(
    pool: PoolDep, queue: QueueDep, store: StoreDep, settings: SettingsDep, authorized: AuthorizedDep
) -> HealthPublic:
    """Whether the server works; with the token also its devices, queue, disk use and limits (the canvas
    checks a picture against them when it is opened)."""
    # a plain function: FastAPI runs it in its thread pool, off the event loop, as it reads SQLite and the disk
    usage = store.usage()
    problems = []
    if usage.free_bytes < min(LOW_DISK, usage.disk_bytes // 20):
        problems.append(f"the disk is almost full: {usage.free_bytes / 1e6:.1f} MB free")
    if store.refused:
        problems.append(store.refused)
    problems += pool.problems()
    status: Literal["ok", "degraded"] = "degraded" if problems else "ok"
    if not authorized:
        return HealthPublic(status=status)
    counts = queue.counts()
    return HealthPublic(
        status=status,
        problems=problems or None,
        version=__version__,
        devices=[asdict(device) for device in pool.devices],
        queue={"pending": counts["queued"], "running": pool.running()},
        storage=StoragePublic(**asdict(usage)),
        limits=LimitsPublic(max_pixels=settings.max_pixels, max_upload_bytes=settings.max_upload_bytes),
        cluster=pool.cluster(),
    )
