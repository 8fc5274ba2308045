"""A catalog entry and where its `source` points (a folder, a single file, a hub id), without loading anything."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from retouch.catalog.families import FAMILIES, Family, FamilyInfo

SourceKind = Literal["folder", "single-file", "hub"]
PICKLE_SUFFIXES = (".ckpt", ".bin", ".pt", ".pth", ".pkl", ".pickle")


class CatalogEntry(BaseModel):
    """One model. `source` and `config` paths are relative to the catalog file's folder."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$",
                      description="Engine name jobs use, e.g. `sd15-inpaint`.")
    family: Family = Field(description="Model family: " + ", ".join(FAMILIES))
    source: str = Field(min_length=1, description="Diffusers folder, hub id (owner/name) or .safetensors file.")
    config: str | None = Field(None, description="For a single file: diffusers folder or hub id with the configs, "
                                                 "tokenizers and any component the file lacks.")
    dtype: Literal["auto", "float16", "bfloat16", "float32"] = Field(
        "auto", description="`auto` = the family's half precision on CUDA, float32 on the CPU.")
    native_size: int | None = Field(None, ge=64, le=4096, description="Side of the native working area (px).")
    grid: int | None = Field(None, ge=8, le=128, description="Working sizes are multiples of this.")
    description: str = Field("", max_length=300)
    cpu_offload: bool = Field(False, description="Keep weights in CPU memory and move each part to the GPU in turn.")

    @field_validator("source", "config")
    @classmethod
    def _no_pickles(cls, value: str | None) -> str | None:
        if value is not None and value.lower().endswith(PICKLE_SUFFIXES):
            raise ValueError(
                f"{value!r} is a pickle checkpoint; Retouch loads only .safetensors (pickles can run code). "
                "Convert it to .safetensors first"
            )
        return value

    @property
    def info(self) -> FamilyInfo:
        return FAMILIES[self.family]

    @property
    def size(self) -> int:
        return self.native_size or self.info.native_size

    @property
    def step(self) -> int:
        return self.grid or self.info.grid


@dataclass(frozen=True)
class ResolvedSource:
    kind: SourceKind
    location: str  # absolute path, or the hub id


def looks_like_hub_id(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", text)) and not text.endswith(".safetensors")


def resolve_source(source: str, base: Path) -> ResolvedSource:
    """Where a `source` (or `config`) points: a local folder, a local single file, or a hub id.

    `hub:owner/name` is always a hub id; `./x/y`, `/x/y` and `~/x` are always paths; a bare `owner/name` is a
    path when it (or its first folder) exists next to the catalog, else a hub id.
    """
    if source.startswith("hub:"):
        return ResolvedSource("hub", source[4:])
    path = Path(source).expanduser()
    if not path.is_absolute():
        path = base / path
    if source.lower().endswith(".safetensors"):
        return ResolvedSource("single-file", str(path))
    explicit = source.startswith(("./", "../", "/", "~"))
    if explicit or path.exists() or path.parent.exists() and path.parent != base or not looks_like_hub_id(source):
        return ResolvedSource("folder", str(path))
    return ResolvedSource("hub", source)


def hub_cached(repo_id: str) -> bool:
    """Whether a hub model's index is in the local Hugging Face cache (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub comes with diffusers
        return False
    found = try_to_load_from_cache(repo_id, "model_index.json")
    return isinstance(found, str)


def presence(entry: CatalogEntry, base: Path) -> tuple[bool, str]:
    """(present, why) without loading anything: does the entry's source exist here?"""
    source = resolve_source(entry.source, base)
    if source.kind == "hub":
        if hub_cached(source.location):
            return True, f"hub id {source.location}, in the local cache"
        return False, f"hub id {source.location}, not in the local cache (downloaded on first use when online)"
    path = Path(source.location)
    if source.kind == "single-file":
        if not path.is_file():
            return False, f"file {path} does not exist"
        layout = resolve_source(entry.config or entry.info.default_config, base)
        if layout.kind == "hub" and not hub_cached(layout.location):
            return False, (f"{path}; its layout {layout.location} is not in the local cache "
                           "(downloaded on first use when online, or give --config a local diffusers folder)")
        if layout.kind == "folder" and not (Path(layout.location) / "model_index.json").is_file():
            return False, f"{path}; its config {layout.location} is not a diffusers folder"
        return True, str(path)
    if (path / "model_index.json").is_file():
        return True, str(path)
    if path.exists():
        return False, f"folder {path} has no model_index.json (not a diffusers folder)"
    return False, f"folder {path} does not exist"
