"""The model catalog: which diffusion models this machine offers, where their weights are, and how to run them.

The catalog is a YAML file (`models/catalog.yaml` by default, or `$RETOUCH_CATALOG`)::

    models:
      - name: sd15-inpaint
        family: sd-inpaint            # see FAMILIES
        source: sd15-inpainting       # a diffusers folder (relative to the catalog), a hub id, or a .safetensors file
      - name: juggernaut
        family: sdxl
        source: /data/juggernautXL.safetensors
        config: stabilityai/stable-diffusion-xl-base-1.0   # configs + tokenizers for a single file (folder or hub id)

Nothing here imports torch or diffusers, so listing the catalog (the server's engine list, `retouch models`)
stays cheap. Only safetensors are ever loaded: pickled checkpoints (`.ckpt`, `.bin`, `.pt`) are refused.
"""

from __future__ import annotations

import json
import os
import re
import struct
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from retouch.errors import InputError
from retouch.recipe import describe_validation_error

Family = Literal["sd-inpaint", "sd", "sdxl-inpaint", "sdxl", "flux-fill"]
SourceKind = Literal["folder", "single-file", "hub"]
PICKLE_SUFFIXES = (".ckpt", ".bin", ".pt", ".pth", ".pkl", ".pickle")
ENV_CATALOG = "RETOUCH_CATALOG"
DEFAULT_CATALOG = Path("models") / "catalog.yaml"


@dataclass(frozen=True)
class FamilyInfo:
    label: str
    native_size: int
    grid: int
    cuda_dtype: str  # half precision that family runs well in
    steps: int
    guidance: float
    scheduler: str
    schedulers: tuple[str, ...]
    default_config: str  # hub id of the diffusers layout a single-file checkpoint of this family follows


_SD_SCHEDULERS = ("euler-a", "euler", "dpm++-2m-karras", "ddim", "unipc")

FAMILIES: dict[str, FamilyInfo] = {
    "sd-inpaint": FamilyInfo("Stable Diffusion 1.5/2.x inpainting (9-channel UNet)", 512, 8, "float16", 30, 7.5,
                             "dpm++-2m-karras", _SD_SCHEDULERS, "stable-diffusion-v1-5/stable-diffusion-inpainting"),
    "sd": FamilyInfo("Stable Diffusion 1.5/2.x text-to-image, inpainting by latent blending", 512, 8, "float16", 30,
                     7.5, "dpm++-2m-karras", _SD_SCHEDULERS, "stable-diffusion-v1-5/stable-diffusion-v1-5"),
    "sdxl-inpaint": FamilyInfo("Stable Diffusion XL inpainting (9-channel UNet)", 1024, 8, "float16", 30, 7.5,
                               "dpm++-2m-karras", _SD_SCHEDULERS, "diffusers/stable-diffusion-xl-1.0-inpainting-0.1"),
    "sdxl": FamilyInfo("Stable Diffusion XL text-to-image, inpainting by latent blending", 1024, 8, "float16", 30, 7.5,
                       "dpm++-2m-karras", _SD_SCHEDULERS, "stabilityai/stable-diffusion-xl-base-1.0"),
    "flux-fill": FamilyInfo("FLUX.1 Fill (flow matching, 16-channel latents)", 1024, 16, "bfloat16", 50, 30.0,
                            "flow-euler", ("flow-euler",), "black-forest-labs/FLUX.1-Fill-dev"),
}
#: SD 2.x checkpoints (OpenCLIP text encoder, 1024-wide cross attention) follow these layouts instead.
SD2_CONFIGS = {"sd-inpaint": "stabilityai/stable-diffusion-2-inpainting", "sd": "stabilityai/stable-diffusion-2-1"}


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


# ------------------------------------------------------------------------------------------ the file


class DetectorEntry(BaseModel):
    """A face detector from a file (`retouch faces --detector NAME`); `hog` is built in and needs none."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$",
                      description="Detector name, e.g. `yunet`.")
    kind: Literal["yunet"] = Field("yunet", description="`yunet`: an OpenCV Zoo YuNet ONNX file.")
    source: str = Field(min_length=1, description="The model file (.onnx), relative to the catalog or absolute.")
    description: str = Field("", max_length=300)

    @field_validator("source")
    @classmethod
    def _onnx(cls, value: str) -> str:
        if not value.lower().endswith(".onnx"):
            raise ValueError(f"a YuNet detector is an .onnx file, got {value!r}")
        return value


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[CatalogEntry] = Field(default_factory=list)
    detectors: list[DetectorEntry] = Field(default_factory=list)

    def get(self, name: str) -> CatalogEntry | None:
        return next((m for m in self.models if m.name == name), None)


def default_catalog_path() -> Path | None:
    """`$RETOUCH_CATALOG`, else `./models/catalog.yaml` when it exists, else None."""
    env = os.environ.get(ENV_CATALOG)
    if env:
        return Path(env).expanduser()
    return DEFAULT_CATALOG if DEFAULT_CATALOG.is_file() else None


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


# ------------------------------------------------------------------------------------------ detection


def safetensors_header(path: Path) -> dict[str, dict]:
    """Tensor names -> {dtype, shape} from a .safetensors header, reading only the header."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(8)
            if len(raw) != 8:
                raise ValueError("the file is shorter than a safetensors header")
            (length,) = struct.unpack("<Q", raw)
            if length > 100_000_000 or length > path.stat().st_size - 8:
                raise ValueError("the header length is implausible")
            header = json.loads(handle.read(length))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{str(path)!r} is not a valid .safetensors file ({exc})") from None
    if not isinstance(header, dict):
        raise InputError(f"{str(path)!r} is not a valid .safetensors file (bad header)")
    header.pop("__metadata__", None)
    return header


def _family_from_keys(shapes: dict[str, list[int]], where: str) -> tuple[Family, str | None]:
    """Family (and the config layout it follows) of a single-file checkpoint, from tensor names and shapes."""

    def shape(*names: str) -> list[int] | None:
        for name in names:
            for prefix in ("", "model.diffusion_model."):
                if prefix + name in shapes:
                    return shapes[prefix + name]
        return None

    image_in = shape("img_in.weight", "x_embedder.weight")
    if image_in is not None or shape("double_blocks.0.img_attn.qkv.weight", "transformer_blocks.0.attn.to_q.weight"):
        if image_in is not None and image_in[1] == 384:
            return "flux-fill", None
        raise InputError(
            f"{where} is a FLUX transformer but not FLUX.1 Fill (input width {image_in[1] if image_in else '?'}, "
            "Fill has 384); only FLUX.1 Fill can inpaint"
        )
    conv_in = shape("input_blocks.0.0.weight")
    if conv_in is None:
        raise InputError(f"{where} has no UNet or FLUX transformer weights; it is not a model Retouch can run")
    inpainting = conv_in[1] == 9
    if conv_in[1] not in (4, 9):
        raise InputError(f"{where} has a {conv_in[1]}-channel UNet input; Retouch runs 4- or 9-channel UNets")
    if any(k.startswith("conditioner.embedders.") for k in shapes) or shape("label_emb.0.0.weight"):
        return ("sdxl-inpaint" if inpainting else "sdxl"), None
    family: Family = "sd-inpaint" if inpainting else "sd"
    attention = shape("input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight",
                      "input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight")
    if attention is not None and attention[-1] == 1024:
        return family, SD2_CONFIGS[family]
    return family, None


def detect_family(path: Path) -> tuple[Family, str | None]:
    """The family of a diffusers folder or a .safetensors checkpoint, and for SD 2.x single files the hub id of
    the layout it follows. Reads configs and headers only."""
    where = repr(str(path))
    if path.is_file():
        if path.suffix.lower() in PICKLE_SUFFIXES:
            raise InputError(f"{where} is a pickle checkpoint; Retouch loads only .safetensors (pickles can run code)")
        if path.suffix.lower() != ".safetensors":
            raise InputError(f"{where} is not a .safetensors file or a diffusers folder")
        header = safetensors_header(path)
        return _family_from_keys({k: v.get("shape", []) for k, v in header.items()}, where)
    index = path / "model_index.json"
    if not index.is_file():
        raise InputError(f"{where} is neither a .safetensors file nor a diffusers folder (no model_index.json)")
    try:
        pipeline = json.loads(index.read_text()).get("_class_name", "")
    except (OSError, ValueError) as exc:
        raise InputError(f"{where}: model_index.json cannot be read ({exc})") from None
    if pipeline.startswith("Flux"):
        if pipeline != "FluxFillPipeline":
            raise InputError(f"{where} is a {pipeline}; only FLUX.1 Fill (FluxFillPipeline) can inpaint")
        return "flux-fill", None
    try:
        channels = json.loads((path / "unet" / "config.json").read_text())["in_channels"]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{where}: unet/config.json cannot be read ({exc})") from None
    inpainting = channels == 9
    if pipeline.startswith("StableDiffusionXL"):
        return ("sdxl-inpaint" if inpainting else "sdxl"), None
    if pipeline.startswith("StableDiffusion"):
        return ("sd-inpaint" if inpainting else "sd"), None
    raise InputError(f"{where} is a {pipeline or 'pipeline of unknown kind'}; Retouch runs "
                     "Stable Diffusion 1.5/2.x, SDXL and FLUX.1 Fill")


def add_model(catalog_path: Path, source: str, name: str, *, family: Family | None = None,
              config: str | None = None, description: str = "") -> CatalogEntry:
    """Register a model (detecting its family from local files), write the catalog and return the entry."""
    catalog = load_catalog(catalog_path) if catalog_path.is_file() else Catalog()
    if catalog.get(name):
        raise InputError(f"catalog {str(catalog_path)!r} already has a model named {name!r}")
    from retouch.engines import ENGINES

    if name in ENGINES:
        raise InputError(f"{name!r} is the name of a built-in engine; choose another name")
    if source.lower().endswith(PICKLE_SUFFIXES):
        raise InputError(f"{source!r} is a pickle checkpoint; Retouch loads only .safetensors (pickles can run code)")
    base = catalog_path.parent
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
        entry = CatalogEntry(name=name, family=family, source=source, config=config, description=description)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc)) from None
    catalog.models.append(entry)
    save_catalog(catalog, catalog_path)
    return entry


def _relative_if_inside(path: Path, base: Path) -> str:
    path = path.resolve()
    try:
        return "./" + str(path.relative_to(base.resolve()))  # "./": never mistaken for a hub id
    except ValueError:
        return str(path)


# ------------------------------------------------------------------------------------------ engines


def all_engines(catalog_path: Path | str | None = None) -> dict:
    """The classical engines plus one factory per catalog model, by name (`retouch.engines.ENGINES` + catalog).

    With no path the default catalog is used (`$RETOUCH_CATALOG`, else `./models/catalog.yaml` if present).
    A model named like a built-in engine is an error, so no name silently hides another.
    """
    from retouch.engines import ENGINES
    from retouch.engines.diffusion import DiffusionEngine

    table = dict(ENGINES)
    path = Path(catalog_path) if catalog_path is not None else default_catalog_path()
    if path is None:
        return table
    catalog = load_catalog(path)
    base = path.parent.resolve()
    for entry in catalog.models:
        if entry.name in table:
            raise InputError(f"catalog {str(path)!r}: model {entry.name!r} has the name of a built-in engine")
        table[entry.name] = partial(DiffusionEngine, entry, base)
    return table


def face_detectors(catalog_path: Path | str | None = None) -> dict:
    """The built-in face detector (`hog`) plus one per catalog `detectors:` entry, by name.

    With no path the default catalog is used, as for `all_engines`.
    """
    from retouch.detect.faces import DETECTORS, YuNetDetector

    table = dict(DETECTORS)
    path = Path(catalog_path) if catalog_path is not None else default_catalog_path()
    if path is None:
        return table
    catalog = load_catalog(path)
    base = path.parent.resolve()
    for entry in catalog.detectors:
        if entry.name in table:
            raise InputError(f"catalog {str(path)!r}: detector {entry.name!r} has the name of a built-in detector")
        location = Path(entry.source).expanduser()
        table[entry.name] = partial(YuNetDetector, entry.name, location if location.is_absolute() else base / location)
    return table
