"""The model catalog: which diffusion models this machine offers, where their weights are, and how to run them.

The catalog is a YAML file (`$RETOUCH_CATALOG`, else `catalog.yaml` in the user's config folder)::

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

from retouch.catalog.detect import detect_family, safetensors_header
from retouch.catalog.entries import (
    PICKLE_SUFFIXES,
    CatalogEntry,
    ResolvedSource,
    SourceKind,
    hub_cached,
    looks_like_hub_id,
    presence,
    resolve_source,
)
from retouch.catalog.families import FAMILIES, SD2_CONFIGS, Family, FamilyInfo
from retouch.catalog.file import (
    ENV_CATALOG,
    Catalog,
    add_model,
    default_catalog_path,
    load_catalog,
    save_catalog,
    user_catalog_path,
)

__all__ = [
    "ENV_CATALOG", "FAMILIES", "PICKLE_SUFFIXES", "SD2_CONFIGS", "Catalog", "CatalogEntry", "Family", "FamilyInfo",
    "ResolvedSource", "SourceKind", "add_model", "default_catalog_path", "detect_family", "hub_cached",
    "load_catalog", "looks_like_hub_id", "presence", "resolve_source", "safetensors_header", "save_catalog",
    "user_catalog_path",
]
