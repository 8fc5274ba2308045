"""The catalog file: reading, checking, writing, and adding a model to it (a diffusion model, detected from its
configs or safetensors header, or a model spandrel loads, detected by spandrel from its weights).

A user's catalog lives outside the repository: `$RETOUCH_CATALOG`, else `catalog.yaml` in the user's config
folder (e.g. `~/.config/retouch/`). `models/catalog.example.yaml` in the repository shows the format.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from retouch.catalog.detect import detect_family, is_diffusion_checkpoint
from retouch.catalog.entries import (
    PICKLE_SUFFIXES,
    SAM,
    SAM_MODEL_TYPES,
    SPANDREL,
    AnyEntry,
    CatalogEntry,
    DetectorEntry,
    Entry,
    SamEntry,
    SpandrelEntry,
    resolve_source,
)
from retouch.catalog.families import FAMILIES, Family
from retouch.catalog.spandrel import PICKLE_SUFFIXES as SPANDREL_PICKLES
from retouch.catalog.spandrel import WEIGHT_SUFFIXES, check_usable, inspect_file
from retouch.errors import InputError
from retouch.recipe import describe_validation_error

ENV_CATALOG = "RETOUCH_CATALOG"


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[AnyEntry] = Field(default_factory=list)
    detectors: list[DetectorEntry] = Field(default_factory=list, description="Face detectors from files.")

    def get(self, name: str) -> Entry | None:
        return next((m for m in self.models if m.name == name), None)


def user_catalog_path() -> Path:
    """Where this user's catalog is read from and written to: `$RETOUCH_CATALOG`, else the config folder's."""
    env = os.environ.get(ENV_CATALOG)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path("retouch") / "catalog.yaml"


def default_catalog_path() -> Path | None:
    """The user's catalog when it exists (or `$RETOUCH_CATALOG` is set), else None: no models."""
    path = user_catalog_path()
    return path if os.environ.get(ENV_CATALOG) or path.is_file() else None


def load_catalog(path: Path) -> Catalog:
    """Read and check a catalog file; a broken one is an `InputError` naming the file and the bad field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise InputError(f"catalog {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"catalog {str(path)!r} cannot be read: {str(exc).splitlines()[0]}") from None
    if isinstance(data, list):
        data = {"models": data}
    if not isinstance(data, dict):
        raise InputError(f"catalog {str(path)!r} must be a mapping with a `models` list")
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"catalog {str(path)!r}: {describe_validation_error(exc)}") from None
    names = [m.name for m in catalog.models] + [d.name for d in catalog.detectors]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"catalog {str(path)!r} names {', '.join(duplicates)} more than once")
    return catalog


def save_catalog(catalog: Catalog, path: Path) -> None:
    """Write the catalog atomically, leaving out fields that hold their defaults."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document: dict = {"models": [m.model_dump(mode="json", exclude_defaults=True) for m in catalog.models]}
    if catalog.detectors:
        document["detectors"] = [d.model_dump(mode="json", exclude_defaults=True) for d in catalog.detectors]
    text = "# Retouch model catalog: see `retouch models --help` and ARCHITECTURE.md\n"
    text += yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def add_model(
    catalog_path: Path,
    source: str,
    name: str,
    *,
    family: Family | Literal["spandrel", "sam"] | None = None,
    config: str | None = None,
    description: str = "",
    reserved: Iterable[str] = (),
    sha256: str | None = None,
    downloaded: bool = False,
) -> Entry:
    """Register a model (detecting what it is from local files), write the catalog and return the entry.
    `retouch models install` passes the sha256 it verified and `downloaded=True` (its files are Retouch's)."""
    catalog = load_catalog(catalog_path) if catalog_path.is_file() else Catalog()
    if catalog.get(name):
        raise InputError(f"catalog {str(catalog_path)!r} already has a model named {name!r}")
    if name in set(reserved):
        raise InputError(f"{name!r} is the name of a built-in engine; choose another name")
    base = catalog_path.parent
    if family == SAM or family is None and _transformers_model_type(source, base) is not None:
        entry: Entry = _sam_entry(source, name, base, description)
    elif family == SPANDREL or _is_spandrel_file(source, base, family):
        entry = _spandrel_entry(source, name, base, description)
    else:
        entry = _diffusion_entry(source, name, base, family, config, description)
    entry = entry.model_copy(update={"sha256": sha256, "downloaded": downloaded})
    catalog.models.append(entry)
    save_catalog(catalog, catalog_path)
    return entry


def _transformers_model_type(source: str, base: Path) -> str | None:
    """The `model_type` of a local transformers folder (its config.json), or None when it is not one."""
    resolved = resolve_source(source, base)
    config = Path(resolved.location) / "config.json"
    if resolved.kind != "folder" or not config.is_file():
        return None
    try:
        value = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _sam_entry(source: str, name: str, base: Path, description: str) -> SamEntry:
    """A segment-anything folder (checked: its config says `sam` and its weights are safetensors) or hub id."""
    resolved = resolve_source(source, base)
    if resolved.kind == "folder":
        folder = Path(resolved.location)
        if not (folder / "config.json").is_file():
            raise InputError(f"{source!r} is not a transformers folder (no config.json)")
        model_type = _transformers_model_type(source, base)
        if model_type not in SAM_MODEL_TYPES:
            raise InputError(
                f"{source!r} holds a {model_type!r} model; family sam takes {', '.join(SAM_MODEL_TYPES)} models"
            )
        if not any(folder.glob("*.safetensors")):
            raise InputError(f"{source!r} has no .safetensors weights (Retouch loads no pickles)")
        source = _relative_if_inside(folder, base)
    elif resolved.kind != "hub":
        raise InputError(f"{source!r}: a segment-anything model is a transformers folder or a hub id")
    try:
        return SamEntry(name=name, family=SAM, source=source, description=description)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc)) from None


def _is_spandrel_file(source: str, base: Path, family: str | None) -> bool:
    """A .pth/.ckpt/.pt state dict, or a .safetensors file that holds no diffusion model."""
    if family is not None:
        return False
    lowered = source.lower()
    if lowered.endswith(SPANDREL_PICKLES):
        return True
    path = Path(resolve_source(source, base).location)
    return lowered.endswith(".safetensors") and path.is_file() and not is_diffusion_checkpoint(path)


def _spandrel_entry(source: str, name: str, base: Path, description: str) -> SpandrelEntry:
    path = Path(source).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise InputError(f"{source!r} does not exist" if not path.exists() else f"{source!r} is not a file")
    if not path.name.lower().endswith(WEIGHT_SUFFIXES):
        raise InputError(f"{source!r}: spandrel models are single files ({', '.join(WEIGHT_SUFFIXES)})")
    info = inspect_file(path)  # loads the weights on the CPU, safely
    check_usable(info, repr(source))
    try:
        return SpandrelEntry.from_info(name, _relative_if_inside(path, base), info, description)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc)) from None


def _diffusion_entry(
    source: str, name: str, base: Path, family: Family | None, config: str | None, description: str
) -> CatalogEntry:
    if source.lower().endswith(PICKLE_SUFFIXES):
        raise InputError(f"{source!r} is a pickle checkpoint; Retouch loads only .safetensors (pickles can run code)")
    resolved = resolve_source(source, base)
    if resolved.kind == "hub":
        if family is None:
            raise InputError(f"{source!r} is a hub id; give its family with --family ({', '.join(FAMILIES)})")
    else:
        local = Path(resolved.location)
        if not local.exists():
            raise InputError(f"{source!r} does not exist")
        detected, layout = detect_family(local)
        if family is not None and family != detected:
            raise InputError(f"{source!r} looks like {detected}, not {family}")
        family = detected
        if resolved.kind == "single-file" and config is None:
            config = layout
        source = _relative_if_inside(local, base)
    try:
        return CatalogEntry(name=name, family=family, source=source, config=config, description=description)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc)) from None


def _relative_if_inside(path: Path, base: Path) -> str:
    path = path.resolve()
    try:
        return "./" + str(path.relative_to(base.resolve()))  # "./": never mistaken for a hub id
    except ValueError:
        return str(path)
