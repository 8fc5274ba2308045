"""What this server can do: engines and health."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from retouch import __version__
from retouch.server.cluster import RayPool
from retouch.server.deps import EnginesDep, PoolDep, QueueDep
from retouch.server.schemas import EnginePublic, HealthPublic

router = APIRouter(tags=["meta"])


@router.get("/engines", response_model=list[EnginePublic])
async def list_engines(engines: EnginesDep) -> list[dict]:
    """Engines and models with their capabilities and defaults."""
    return [factory().capabilities() for factory in engines.values()]


@router.get("/health", response_model=HealthPublic)
async def health(pool: PoolDep, queue: QueueDep) -> HealthPublic:
    counts = queue.counts()
    return HealthPublic(
        version=__version__,
        devices=[asdict(device) for device in pool.devices],
        queue={"pending": counts["queued"], "running": pool.running()},
        cluster=pool.cluster() if isinstance(pool, RayPool) else None,
    )
