"""Installing a manifest's model: download its files (or its Hugging Face folder), verify them, and register
the model in the user's catalog exactly as `retouch models add` does (`add_model`), recording the sha256 and
that Retouch downloaded it. Used by `retouch models install` and the server's `install` jobs.

Files go to `$RETOUCH_MODELS_DIR`, else a `models/` folder beside the catalog, one folder per model. Hub folders
go to the Hugging Face cache (`HF_HOME`), where the diffusion engine looks for them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from retouch.catalog.download import (
    ChecksumError,
    Downloaded,
    DownloadError,
    Progress,
    check_free_space,
    download,
    file_sums,
    locked,
)
from retouch.catalog.entries import SAM, SPANDREL, Entry, SpandrelEntry, hub_offline, presence
from retouch.catalog.families import FAMILIES
from retouch.catalog.file import Catalog, add_model, load_catalog, save_catalog
from retouch.catalog.manifest import ManifestEntry
from retouch.errors import InputError

ENV_MODELS_DIR = "RETOUCH_MODELS_DIR"

Status = Literal["installed", "already installed", "downloaded"]


@dataclass
class InstallResult:
    name: str
    status: Status
    paths: list[Path] = field(default_factory=list)
    transferred: int = 0  # bytes over the network in this install
    resumed: int = 0  # bytes of earlier `.part` files kept
    note: str = ""


def models_dir(catalog_path: Path) -> Path:
    """Where downloaded model files go: `$RETOUCH_MODELS_DIR`, else `models/` beside the catalog."""
    env = os.environ.get(ENV_MODELS_DIR)
    return Path(env).expanduser() if env else catalog_path.parent / "models"


def registrable(entry: ManifestEntry) -> bool:
    """Whether the catalog has a family for this entry (diffusion, spandrel, segment-anything)."""
    return entry.family in (SPANDREL, SAM) or entry.family in FAMILIES


def installed(entry: ManifestEntry, catalog: Catalog | None, base: Path) -> bool:
    """The entry is in the catalog and its weights are here."""
    found = catalog.get(entry.name) if catalog is not None else None
    if found is None:
        return entry.is_hub and not registrable(entry) and _hub_present(entry)
    return presence(found, base)[0]


def install(
    entry: ManifestEntry,
    catalog_path: Path,
    *,
    register: bool = True,
    reserved: Iterable[str] = (),
    on_progress: Progress | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> InstallResult:
    """Download, verify and register one manifest entry. Two installs of the same model at once: the second
    waits for the first and finds it done."""
    folder = models_dir(catalog_path)
    with locked(folder / f".{entry.name}.install.lock"):
        if register and registrable(entry):
            existing = _existing(entry, catalog_path)
            if existing is not None:
                return InstallResult(entry.name, "already installed", note=f"{entry.name} is already in {catalog_path}")
        if entry.is_hub:
            paths, transferred, resumed = [_hub_download(entry)], 0, 0
        else:
            fetched = _file_download(entry, folder / entry.name, on_progress, is_cancelled)
            paths = [f.path for f in fetched]
            transferred = sum(f.transferred for f in fetched)
            resumed = sum(f.resumed_from for f in fetched)
            sha256 = fetched[0].sha256
        if not register:
            return InstallResult(entry.name, "downloaded", paths, transferred, resumed)
        if not registrable(entry):
            note = (
                f"{entry.name} is in the Hugging Face cache ({paths[0]}); the catalog has no `{entry.family}` family "
                "yet, so it is not registered"
            )
            return InstallResult(entry.name, "downloaded", paths, transferred, resumed, note)
        with locked(catalog_path.with_name(f".{catalog_path.name}.lock")):
            if entry.is_hub:
                add_model(
                    catalog_path,
                    f"hub:{entry.repo}",
                    entry.name,
                    family=entry.family,  # type: ignore[arg-type] # registrable: a catalog family
                    description=entry.description,
                    reserved=reserved,
                    downloaded=True,
                )
            else:
                add_model(
                    catalog_path,
                    str(paths[0]),
                    entry.name,
                    family=SPANDREL if entry.family == SPANDREL else None,
                    description=entry.description,
                    reserved=reserved,
                    sha256=sha256,
                    downloaded=True,
                )
        return InstallResult(entry.name, "installed", paths, transferred, resumed)


def _existing(entry: ManifestEntry, catalog_path: Path) -> Entry | None:
    """The catalog's entry of that name when it is this model, installed; an `InputError` when the name is
    taken by another model."""
    if not catalog_path.is_file():
        return None
    found = load_catalog(catalog_path).get(entry.name)
    if found is None:
        return None
    if not found.downloaded:
        raise InputError(
            f"catalog {str(catalog_path)!r} already has a model named {entry.name!r} that `models add` registered; "
            "remove it first (retouch models remove NAME) or install under the manifest's name elsewhere"
        )
    if presence(found, catalog_path.parent)[0]:
        return found
    _forget(catalog_path, entry.name)  # registered, but its files are gone: download them again
    return None


def _forget(catalog_path: Path, name: str) -> None:
    with locked(catalog_path.with_name(f".{catalog_path.name}.lock")):
        catalog = load_catalog(catalog_path)
        catalog.models = [m for m in catalog.models if m.name != name]
        save_catalog(catalog, catalog_path)


def _file_download(
    entry: ManifestEntry, folder: Path, on_progress: Progress | None, is_cancelled: Callable[[], bool] | None
) -> list[Downloaded]:
    assert entry.files is not None
    single = len(entry.files) == 1
    done_before = 0
    results = []
    for item in entry.files:
        target = folder / item.filename

        def progress(done: int, total: int | None, before: int = done_before) -> None:
            if on_progress is not None:
                on_progress(before + done, entry.size if not single or total is None else total)

        results.append(
            download(
                item.url,
                target,
                what=entry.name,
                size=entry.size if single else None,
                sha256=item.sha256,
                md5=item.md5,
                on_progress=progress,
                is_cancelled=is_cancelled,
            )
        )
        done_before += results[-1].size
    return results


def _hub_present(entry: ManifestEntry) -> bool:
    try:
        _snapshot(entry, local_only=True)
    except Exception:  # not (fully) cached
        return False
    return True


def _snapshot(entry: ManifestEntry, *, local_only: bool) -> str:
    from huggingface_hub import snapshot_download

    return snapshot_download(
        entry.repo or "",
        revision=entry.revision,
        allow_patterns=entry.allow,
        ignore_patterns=entry.ignore,
        local_files_only=local_only,
    )


def _hub_download(entry: ManifestEntry) -> Path:
    """The entry's folder in the Hugging Face cache, downloaded unless it is there (HF_TOKEN, HF_HUB_OFFLINE)."""
    from huggingface_hub import constants
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    if _hub_present(entry):
        return Path(_snapshot(entry, local_only=True))
    if hub_offline():
        raise InputError(f"{entry.name}: {entry.repo} is not in the Hugging Face cache and HF_HUB_OFFLINE is set")
    check_free_space(Path(constants.HF_HUB_CACHE), entry.size, entry.name)
    try:
        folder = Path(_snapshot(entry, local_only=False))
    except GatedRepoError:
        raise InputError(_gated(entry)) from None
    except RepositoryNotFoundError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403):
            raise InputError(_gated(entry)) from None
        raise DownloadError(f"{entry.name}: {entry.repo} was not found on the Hugging Face hub") from None
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403):
            raise InputError(_gated(entry)) from None
        raise DownloadError(f"{entry.name}: {entry.repo}: {str(exc).splitlines()[0]}") from None
    except OSError as exc:
        raise DownloadError(f"{entry.name}: {entry.repo} could not be downloaded ({exc})") from None
    _check_snapshot(entry, folder)
    return folder


def _check_snapshot(entry: ManifestEntry, folder: Path) -> None:
    """huggingface_hub names each cached file after the hub's ETag (an LFS file's sha256, a small file's git blob
    sha1) but does not hash what arrived: the files are checked here. One that does not match is deleted (the
    next install fetches it again) and nothing is registered. A cache that keeps copies rather than symbolic
    links does not name the sums; its files are taken as they are."""
    wrong = []
    for link in sorted(folder.rglob("*")):
        if not link.is_symlink() or not link.is_file():
            continue
        blob = link.resolve()
        expected = blob.name
        if len(expected) == 64:
            kind, actual = "sha256", file_sums(blob, md5=False)[0]
        elif len(expected) == 40:
            kind, actual = "git blob sha1", _git_blob_sha1(blob)
        else:
            continue
        if actual != expected:
            blob.unlink()
            link.unlink()
            name = link.relative_to(folder).as_posix()
            wrong.append(f"{name}: {kind} mismatch: the hub says {expected}, the download is {actual}")
    if wrong:
        raise ChecksumError(
            f"{entry.name} from {entry.repo}: {'; '.join(wrong)}; "
            f"{'that file was' if len(wrong) == 1 else 'those files were'} deleted and nothing was registered"
        )


def _git_blob_sha1(path: Path) -> str:
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())  # git's object id of the file's bytes
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _gated(entry: ManifestEntry) -> str:
    token = "HF_TOKEN is set but was refused" if os.environ.get("HF_TOKEN") else "no HF_TOKEN is set"
    return (
        f"{entry.name}: {entry.repo} is gated ({token}): accept its licence at https://huggingface.co/{entry.repo} "
        "while logged in, then set HF_TOKEN to a read token from https://huggingface.co/settings/tokens"
    )


def verify(catalog_path: Path) -> list[tuple[str, str, bool]]:
    """(name, what, ok) for each catalog entry that recorded a sha256: its file hashed again."""
    catalog = load_catalog(catalog_path)
    rows = []
    for entry in catalog.models:
        if not isinstance(entry, SpandrelEntry) or not entry.sha256:
            continue
        path = entry.path(catalog_path.parent)
        if not path.is_file():
            rows.append((entry.name, f"{path} is missing", False))
            continue
        sha, _ = file_sums(path)
        ok = sha == entry.sha256
        rows.append(
            (entry.name, "sha256 matches" if ok else f"sha256 is {sha}, the catalog recorded {entry.sha256}", ok)
        )
    return rows


def remove(catalog_path: Path, name: str) -> list[Path]:
    """Unregister a model; delete its files only when Retouch downloaded them (never a user's own files).
    Returns the paths deleted."""
    with locked(catalog_path.with_name(f".{catalog_path.name}.lock")):
        catalog = load_catalog(catalog_path) if catalog_path.is_file() else Catalog()
        entry = catalog.get(name)
        if entry is None:
            raise InputError(f"catalog {str(catalog_path)!r} has no model named {name!r}")
        deleted: list[Path] = []
        if entry.downloaded and isinstance(entry, SpandrelEntry):
            path = entry.path(catalog_path.parent)
            folder = models_dir(catalog_path) / name
            if path.is_file() and path.resolve().parent == folder.resolve():
                shutil.rmtree(folder)
                deleted.append(path)
        catalog.models = [m for m in catalog.models if m.name != name]
        save_catalog(catalog, catalog_path)
        return deleted
