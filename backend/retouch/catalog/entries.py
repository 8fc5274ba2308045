"""Catalog entries (diffusion models, and models spandrel loads) and where a `source` points (a folder, a single
file, a hub id), without loading anything."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from retouch.catalog.families import FAMILIES, Family, FamilyInfo
from retouch.catalog.spandrel import PURPOSE_LABELS, WEIGHT_SUFFIXES, ModelInfo
from retouch.catalog.speed import Precision, Speed

SourceKind = Literal["folder", "single-file", "hub"]
PICKLE_SUFFIXES = (".ckpt", ".bin", ".pt", ".pth", ".pkl", ".pickle")


class Installed(BaseModel):
    """What `retouch models install` records of a model it fetched, for every kind of entry."""

    sha256: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{64}$",
        description="The weights' sha256, recorded when installed; `retouch models verify`.",
    )
    downloaded: bool = Field(
        False, description="Retouch downloaded it (`models install`); removing it deletes its files."
    )


class CatalogEntry(Installed):
    """One model. `source` and `config` paths are relative to the catalog file's folder."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$",
        description="Engine name jobs use, e.g. `sd15-inpaint`.",
    )
    family: Family = Field(description="Model family: " + ", ".join(FAMILIES))
    source: str = Field(min_length=1, description="Diffusers folder, hub id (owner/name) or .safetensors file.")
    config: str | None = Field(
        None,
        description="For a single file: diffusers folder or hub id with the configs, "
        "tokenizers and any component the file lacks.",
    )
    dtype: Precision = Field("auto", description="`auto` = the family's half precision on CUDA, float32 on the CPU.")
    native_size: int | None = Field(None, ge=64, le=4096, description="Side of the native working area (px).")
    grid: int | None = Field(None, ge=8, le=128, description="Working sizes are multiples of this.")
    description: str = Field("", max_length=300)
    cpu_offload: bool = Field(False, description="Keep weights in CPU memory and move each part to the GPU in turn.")
    speed: Speed = Field(default_factory=Speed, description="Speed options: compile, channels_last, attention, ...")

    @model_validator(mode="after")
    def _attention_of_family(self) -> CatalogEntry:
        if self.family == "flux-fill" and self.speed.attention != "sdpa":
            raise ValueError(f"speed.attention {self.speed.attention!r}: FLUX.1 Fill runs only sdpa attention")
        return self

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


NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]*$"


class DetectorEntry(BaseModel):
    """A face detector from a file (`retouch faces --detector NAME`); `hog` is built in and needs none."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN, description="Detector name, e.g. `yunet`.")
    kind: Literal["yunet"] = Field("yunet", description="`yunet`: an OpenCV Zoo YuNet ONNX file.")
    source: str = Field(min_length=1, description="The model file (.onnx), relative to the catalog or absolute.")
    description: str = Field("", max_length=300)

    @field_validator("source")
    @classmethod
    def _onnx(cls, value: str) -> str:
        if not value.lower().endswith(".onnx"):
            raise ValueError(f"a YuNet detector is an .onnx file, got {value!r}")
        return value

    def path(self, base: Path) -> Path:
        location = Path(self.source).expanduser()
        return location if location.is_absolute() else base / location


SPANDREL: Literal["spandrel"] = "spandrel"


class SpandrelEntry(Installed):
    """A model spandrel loads (LaMa, MAT, an upscaler, a face restorer): one weights file, and what
    `retouch models add` found it to be (spandrel detects the architecture from the weights)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=NAME_PATTERN,
        description="Engine name jobs use, e.g. `lama`, `realesrgan-x4`.",
    )
    family: Literal["spandrel"] = Field(description="`spandrel`: a model spandrel loads.")
    source: str = Field(min_length=1, description="The weights: .safetensors, or a .pth/.ckpt/.pt state dict.")
    architecture: str = Field(min_length=1, max_length=100, description="spandrel's architecture id, e.g. `LaMa`.")
    purpose: Literal["inpainting", "upscaling", "face-restoration"] = Field(description="What the model is for.")
    scale: int = Field(1, ge=1, le=16, description="Output size / input size (upscalers: 2, 4, ...).")
    native_size: int | None = Field(
        None, ge=16, le=4096, description="Side of the square it works on (face crops, MAT)."
    )
    parameters: int = Field(0, ge=0, description="Number of weights.")
    size_bytes: int = Field(0, ge=0, description="Weights in memory at float32.")
    supports_half: bool = Field(False, description="Runs in float16 on CUDA.")
    supports_bfloat16: bool = Field(False, description="Runs in bfloat16 on CUDA.")
    licence: str = Field("", max_length=300, description="Licence note for architectures under restrictive terms.")
    description: str = Field("", max_length=300)
    dtype: Precision = Field(
        "auto", description="`auto` = float16 on CUDA where the architecture allows, else bfloat16; float32 elsewhere."
    )
    speed: Speed = Field(default_factory=Speed, description="Speed options: compile, channels_last.")

    @model_validator(mode="after")
    def _options_that_apply(self) -> SpandrelEntry:
        diffusion_only = {"attention", "vae_tiling"} & set(self.speed.changed())
        if diffusion_only:
            raise ValueError(f"speed.{sorted(diffusion_only)[0]} applies to diffusion models only")
        if self.dtype == "float16" and not self.supports_half:
            raise ValueError(f"dtype float16: {self.architecture} does not run in float16 (spandrel says so)")
        if self.dtype == "bfloat16" and not self.supports_bfloat16:
            raise ValueError(f"dtype bfloat16: {self.architecture} does not run in bfloat16 (spandrel says so)")
        return self

    @field_validator("source")
    @classmethod
    def _weights_file(cls, value: str) -> str:
        if not value.lower().endswith(WEIGHT_SUFFIXES):
            raise ValueError(f"{value!r} is not a model file spandrel models load from ({', '.join(WEIGHT_SUFFIXES)})")
        return value

    @classmethod
    def from_info(cls, name: str, source: str, info: ModelInfo, description: str = "") -> SpandrelEntry:
        return cls(name=name, family=SPANDREL, source=source, description=description, **info.as_dict())

    def model_info(self) -> ModelInfo:
        return ModelInfo(**{key: getattr(self, key) for key in ModelInfo.__dataclass_fields__})

    @property
    def label(self) -> str:
        factor = f" {self.scale}x" if self.scale > 1 else ""
        return f"{self.architecture}{factor}, {PURPOSE_LABELS[self.purpose]}"

    def path(self, base: Path) -> Path:
        path = Path(self.source).expanduser()
        return path if path.is_absolute() else base / path


SAM: Literal["sam"] = "sam"
#: the `model_type` of the transformers configs a `sam` entry loads (SAM ViT-B/L/H and SlimSAM: `sam`; SAM 2)
SAM_MODEL_TYPES = ("sam", "sam2")


class SamEntry(Installed):
    """A segment-anything model for object selection: a transformers folder (config.json, safetensors weights,
    the processor's config) or a hub id of one."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN, description="Name selections use.")
    family: Literal["sam"] = Field(
        description="`sam`: a segment-anything model (transformers `SamModel`, `Sam2Model`)."
    )
    source: str = Field(min_length=1, description="The transformers folder, or a hub id (owner/name).")
    description: str = Field("", max_length=300)

    label: ClassVar[str] = "Segment Anything (object selection)"

    def location(self, base: Path) -> str:
        """The folder's absolute path, or the hub id."""
        return resolve_source(self.source, base).location


def _entry_kind(value: Any) -> str:
    family = value.get("family") if isinstance(value, dict) else getattr(value, "family", None)
    # a wrong family is named by CatalogEntry's check
    return {SPANDREL: "Spandrel", SAM: "Sam"}.get(family, "Diffusion") if isinstance(family, str) else "Diffusion"


#: Any catalog entry: a diffusion model (by its family), a spandrel model or a segment-anything model.
AnyEntry = Annotated[
    Annotated[CatalogEntry, Tag("Diffusion")]
    | Annotated[SpandrelEntry, Tag("Spandrel")]
    | Annotated[SamEntry, Tag("Sam")],
    Discriminator(_entry_kind),
]
Entry = CatalogEntry | SpandrelEntry | SamEntry


def entry_summary(entry: Entry) -> dict[str, Any]:
    """What `retouch models` shows of an entry: its kind and purpose, without loading anything."""
    if isinstance(entry, SamEntry):
        return {
            "family": entry.family,
            "architecture": "SamModel",
            "purpose": "selection",
            "scale": 1,
            "native_size": 1024,
            "label": entry.label,
            "licence": None,
        }
    if isinstance(entry, SpandrelEntry):
        return {
            "family": entry.family,
            "architecture": entry.architecture,
            "purpose": entry.purpose,
            "scale": entry.scale,
            "native_size": entry.native_size,
            "label": entry.label,
            "licence": entry.licence or None,
        }
    return {
        "family": entry.family,
        "architecture": None,
        "purpose": "inpainting",
        "scale": 1,
        "native_size": entry.size,
        "label": entry.info.label,
        "licence": None,
    }


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


def hub_offline() -> bool:
    """`HF_HUB_OFFLINE` is set: nothing may be fetched from the hub."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_cached(repo_id: str) -> bool:
    """Whether a hub model's index is in the local Hugging Face cache (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub comes with diffusers
        return False
    found = try_to_load_from_cache(repo_id, "model_index.json")
    return isinstance(found, str)


def hub_cached_file(repo_id: str, filename: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub comes with diffusers and transformers
        return False
    return isinstance(try_to_load_from_cache(repo_id, filename), str)


def presence(entry: Entry, base: Path) -> tuple[bool, str]:
    """(present, why) without loading anything: does the entry's source exist here?"""
    if isinstance(entry, SamEntry):
        source = resolve_source(entry.source, base)
        if source.kind == "hub":
            if hub_cached_file(source.location, "config.json"):
                return True, f"hub id {source.location}, in the local cache"
            return False, f"hub id {source.location}, not in the local cache (downloaded on first use when online)"
        if (Path(source.location) / "config.json").is_file():
            return True, source.location
        return False, f"folder {source.location} has no config.json (not a transformers folder)"
    if isinstance(entry, SpandrelEntry):
        path = entry.path(base)
        return (True, str(path)) if path.is_file() else (False, f"file {path} does not exist")
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
            return False, (
                f"{path}; its layout {layout.location} is not in the local cache "
                "(downloaded on first use when online, or give --config a local diffusers folder)"
            )
        if layout.kind == "folder" and not (Path(layout.location) / "model_index.json").is_file():
            return False, f"{path}; its config {layout.location} is not a diffusers folder"
        return True, str(path)
    if (path / "model_index.json").is_file():
        return True, str(path)
    if path.exists():
        return False, f"folder {path} has no model_index.json (not a diffusers folder)"
    return False, f"folder {path} does not exist"
