"""`retouch models scan DIR`: register the models another tool already downloaded (AUTOMATIC1111/Forge's
`models/`, ComfyUI's `models/`, InvokeAI's `models/`), by path: nothing is copied. Each candidate goes through
`add_model`, as `retouch models add` would take it; what it refuses is reported with its reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from retouch.catalog.download import locked
from retouch.catalog.entries import SpandrelEntry, resolve_source
from retouch.catalog.file import add_model, load_catalog
from retouch.errors import InputError

MODEL_SUFFIXES = (".safetensors", ".pth", ".ckpt", ".pt", ".bin")
#: folders of add-ons that are not models Retouch runs on their own (A1111, ComfyUI and InvokeAI names)
ADDON_FOLDERS = {
    "lora",
    "loras",
    "lycoris",
    "embeddings",
    "textual_inversion",
    "hypernetworks",
    "controlnet",
    "t2i_adapter",
    "ip_adapter",
    "ipadapter",
    "clip",
    "clip_vision",
    "text_encoders",
    "t5_encoder",
    "vae",
    "vae_approx",
    "style_models",
    "gligen",
}
#: a pickle this big is a diffusion checkpoint, which Retouch loads only from .safetensors; not opened
BIG_PICKLE = 1_500_000_000


@dataclass
class ScanResult:
    added: list[tuple[str, Path, str]] = field(default_factory=list)  # (name, path, what it is)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (path, why)


def scan(folder: Path, catalog_path: Path, reserved: Iterable[str] = ()) -> ScanResult:
    if not folder.is_dir():
        raise InputError(f"{str(folder)!r} is not a folder")
    result = ScanResult()
    taken = set(reserved)
    with locked(catalog_path.with_name(f".{catalog_path.name}.lock")):
        catalog = load_catalog(catalog_path) if catalog_path.is_file() else None
        known: dict[Path, str] = {}
        if catalog is not None:
            for entry in catalog.models:
                taken.add(entry.name)
                location = entry.path(catalog_path.parent) if isinstance(entry, SpandrelEntry) else None
                if location is None:
                    resolved = resolve_source(entry.source, catalog_path.parent)
                    location = Path(resolved.location) if resolved.kind != "hub" else None
                if location is not None:
                    known[location.resolve()] = entry.name
        for path in _candidates(folder, result):
            if path.resolve() in known:
                result.skipped.append((path, f"already in the catalog as {known[path.resolve()]}"))
                continue
            if path.is_file() and path.suffix.lower() != ".safetensors" and path.stat().st_size > BIG_PICKLE:
                result.skipped.append(
                    (path, "a large pickle checkpoint; Retouch loads diffusion models only from .safetensors")
                )
                continue
            name = _free_name(_slug(path), taken)
            try:
                entry = add_model(catalog_path, str(path.resolve()), name)
            except InputError as exc:
                result.skipped.append((path, exc.message))
                continue
            taken.add(name)
            what = entry.label if isinstance(entry, SpandrelEntry) else entry.family
            result.added.append((name, path, what))
    return result


def _candidates(folder: Path, result: ScanResult) -> list[Path]:
    """Diffusers folders (with model_index.json) and single model files, add-on folders left out."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        if "model_index.json" in files:
            found.append(here)
            dirs[:] = []
            continue
        for name in sorted(dirs):
            if name.lower() in ADDON_FOLDERS:
                result.skipped.append(
                    (
                        here / name,
                        "add-ons (LoRAs, embeddings, ControlNets, VAEs, encoders) are not models Retouch runs",
                    )
                )
        dirs[:] = sorted(d for d in dirs if d.lower() not in ADDON_FOLDERS and not d.startswith("."))
        found.extend(here / f for f in sorted(files) if f.lower().endswith(MODEL_SUFFIXES))
    return found


def _slug(path: Path) -> str:
    stem = path.name if path.is_dir() else path.stem
    slug = re.sub(r"[^A-Za-z0-9._+-]+", "-", stem).strip("-._+") or "model"
    return slug[:90]


def _free_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    count = 2
    while f"{name}-{count}" in taken:
        count += 1
    return f"{name}-{count}"
