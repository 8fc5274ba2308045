"""Models: what the manifest offers and the catalog holds, installs of manifest entries (queued, one at a time,
progress on the websocket), and removal. Only a manifest entry can be installed: no URL or path from a client."""

from __future__ import annotations

import shutil
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from retouch.catalog import entry_summary, load_catalog, presence
from retouch.catalog.install import installed, models_dir, remove
from retouch.server.installs import Installer
from retouch.server.schemas import (
    BAD_BODY,
    InstalledModelPublic,
    InstallPublic,
    ModelInstallCreate,
    ModelsPublic,
    StarterModelPublic,
)

router = APIRouter(tags=["models"])


def _installer(request: Request) -> Installer:
    return request.app.state.installer


InstallerDep = Annotated[Installer, Depends(_installer)]


def models_public(installer: Installer) -> ModelsPublic:
    catalog_path = installer.catalog
    catalog = load_catalog(catalog_path) if catalog_path.is_file() else None
    rows = []
    for entry in catalog.models if catalog is not None else []:
        summary = entry_summary(entry)
        rows.append(
            InstalledModelPublic(
                name=entry.name,
                family=entry.family,
                purpose=summary["purpose"],
                label=summary["label"],
                present=presence(entry, catalog_path.parent)[0],
                downloaded=entry.downloaded,
                licence=summary["licence"],
            )
        )
    starter = [
        StarterModelPublic(
            **entry.model_dump(include={"name", "purpose", "family", "licence", "size", "size_approximate"}),
            description=entry.description,
            gated=entry.gated,
            installed=installed(entry, catalog, catalog_path.parent),
            install=installer.state(entry.name),
        )
        for entry in installer.manifest.models
    ]
    folder = models_dir(catalog_path)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    return ModelsPublic(
        installed=rows, starter=starter, disk_free=shutil.disk_usage(existing).free, models_dir=str(folder)
    )


@router.get("/models", response_model=ModelsPublic)
async def list_models(installer: InstallerDep) -> ModelsPublic:
    """The catalog's models and the manifest's starter models (installed or not, size, licence), disk space."""
    return await run_in_threadpool(models_public, installer)


@router.post("/models/installs", status_code=202, response_model=InstallPublic, responses=BAD_BODY)
async def install_model(body: ModelInstallCreate, installer: InstallerDep) -> InstallPublic:
    """Queue the install of a manifest entry; `model.install` events follow it on the websocket."""
    return installer.submit(body.name)


@router.delete("/models/installs/{name}", response_model=InstallPublic)
async def cancel_install(name: str, installer: InstallerDep) -> InstallPublic:
    """Cancel a queued or running install; a started download keeps its `.part` to resume later."""
    return installer.cancel(name)


@router.delete("/models/{name}", response_model=ModelsPublic)
async def remove_model(name: str, installer: InstallerDep, request: Request) -> ModelsPublic:
    """Unregister a model; its files are deleted only when Retouch downloaded them."""
    await run_in_threadpool(remove, installer.catalog, name)
    request.app.state.engines.engines.pop(name, None)  # the server's own table (app._installer)
    return await run_in_threadpool(models_public, installer)
