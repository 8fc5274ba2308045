"""Model manifests: what `retouch models install` can fetch, where from, how big, under which licence, and the
checksums each file must match. Retouch ships one (`starter.yaml` beside this module); a user or a test gives
their own with `--manifest FILE` or `$RETOUCH_MANIFEST`.

An entry is either a list of direct files (`files:`, each a URL with an optional sha256 and md5) or a Hugging
Face repository (`repo:`, with `revision`, `allow` and `ignore` patterns), which huggingface_hub downloads into
its cache and checks itself.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from retouch.catalog.entries import NAME_PATTERN
from retouch.errors import InputError
from retouch.recipe import describe_validation_error

ENV_MANIFEST = "RETOUCH_MANIFEST"
STARTER_MANIFEST = Path(__file__).with_name("starter.yaml")

ManifestPurpose = Literal["inpainting", "upscaling", "faces", "segmentation"]
PURPOSES: tuple[str, ...] = ("inpainting", "upscaling", "faces", "segmentation")


class ManifestFile(BaseModel):
    """One file to download: a URL and the sums it must match."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, description="http(s) URL of the file.")
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="The file's published sha256.")
    md5: str | None = Field(None, pattern=r"^[0-9a-f]{32}$", description="The file's published md5.")
    name: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$", description="File name on disk (default: the URL's)."
    )

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"url must be http(s)://host/path, got {value!r}")
        return value

    @property
    def filename(self) -> str:
        if self.name:
            return self.name
        base = posixpath.basename(unquote(urlparse(self.url).path))
        if not base or base in (".", ".."):
            raise InputError(f"{self.url!r} names no file; give `name:` in the manifest")
        return base


class ManifestEntry(BaseModel):
    """A model the manifest offers."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN, description="The engine name, e.g. lama.")
    purpose: ManifestPurpose = Field(description="inpainting | upscaling | faces | segmentation")
    family: str = Field(min_length=1, max_length=40, description="The catalog family (spandrel, sd-inpaint, ...).")
    licence: str = Field(min_length=1, max_length=200)
    size: int = Field(gt=0, description="Bytes on disk, all files together.")
    size_approximate: bool = Field(False, description="The size is an estimate (hub folders).")
    description: str = Field("", max_length=300)
    gated: bool = Field(False, description="Needs a Hugging Face token and an accepted licence.")
    files: list[ManifestFile] | None = Field(None, min_length=1)
    repo: str | None = Field(None, pattern=r"^[A-Za-z0-9][\w.-]*/[\w.-]+$", description="Hugging Face repo id.")
    revision: str | None = Field(None, max_length=100)
    allow: list[str] | None = None
    ignore: list[str] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ManifestEntry:
        if (self.files is None) == (self.repo is None):
            raise ValueError(f"model {self.name!r} needs either `files` or `repo`, not both or neither")
        if self.files is not None and (self.revision or self.allow or self.ignore):
            raise ValueError(f"model {self.name!r}: revision/allow/ignore belong to a `repo` entry")
        return self

    @property
    def is_hub(self) -> bool:
        return self.repo is not None


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[ManifestEntry] = Field(default_factory=list)

    def get(self, name: str) -> ManifestEntry | None:
        return next((m for m in self.models if m.name == name), None)

    def select(self, names: list[str], *, every: bool = False, purpose: str | None = None) -> list[ManifestEntry]:
        """The entries a command asked for, in manifest order; an unknown name is an `InputError`."""
        if every:
            return list(self.models)
        if purpose is not None:
            if purpose not in PURPOSES:
                raise InputError(f"purpose must be one of {', '.join(PURPOSES)}, got {purpose!r}")
            return [m for m in self.models if m.purpose == purpose]
        known = [m.name for m in self.models]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise InputError(
                f"no model named {', '.join(map(repr, unknown))} in the manifest; known: {', '.join(known)}"
            )
        return [m for m in self.models if m.name in names]


def manifest_path(given: Path | None = None) -> Path:
    """The manifest to use: the one given, else `$RETOUCH_MANIFEST`, else the starter set shipped with Retouch."""
    if given is not None:
        return given
    env = os.environ.get(ENV_MANIFEST)
    return Path(env).expanduser() if env else STARTER_MANIFEST


def load_manifest(path: Path | None = None) -> Manifest:
    path = manifest_path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise InputError(f"manifest {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"manifest {str(path)!r} cannot be read: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise InputError(f"manifest {str(path)!r} must be a mapping with a `models` list")
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"manifest {str(path)!r}: {describe_validation_error(exc)}") from None
    names = [m.name for m in manifest.models]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"manifest {str(path)!r} names {', '.join(duplicates)} more than once")
    return manifest
