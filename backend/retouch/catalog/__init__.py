"""The model catalog: which models this machine offers (diffusion models, and LaMa, MAT, upscalers and face
restorers that spandrel loads), where their weights are, and how to run them.

The catalog is a YAML file (`$RETOUCH_CATALOG`, else `catalog.yaml` in the user's config folder)::

    models:
      - name: sd15-inpaint
        family: sd-inpaint            # see FAMILIES
        source: sd15-inpainting       # a diffusers folder (relative to the catalog), a hub id, or a .safetensors file
      - name: juggernaut
        family: sdxl
        source: /data/juggernautXL.safetensors
        config: stabilityai/stable-diffusion-xl-base-1.0   # configs + tokenizers for a single file (folder or hub id)
      - name: lama
        family: spandrel              # recorded by `retouch models add`: spandrel detected it from the weights
        source: /data/big-lama.safetensors
        architecture: LaMa
        purpose: inpainting           # or upscaling (with its scale), face-restoration (with its native_size)
      - name: sam-vit-base
        family: sam                   # segment-anything, for object selection: a transformers folder or hub id
        source: facebook/sam-vit-base

Nothing here imports torch or diffusers, so listing the catalog (the server's engine list, `retouch models`)
stays cheap. Diffusion models load only from safetensors; spandrel models also from `.pth`/`.ckpt`/`.pt` state
dicts, read with `torch.load(weights_only=True)` so a pickle carrying code is refused without running it.
"""

from retouch.catalog.detect import detect_family, safetensors_header
from retouch.catalog.entries import (
    PICKLE_SUFFIXES,
    SAM,
    SPANDREL,
    AnyEntry,
    CatalogEntry,
    DetectorEntry,
    Entry,
    ResolvedSource,
    SamEntry,
    SourceKind,
    SpandrelEntry,
    entry_summary,
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
    "ENV_CATALOG",
    "FAMILIES",
    "PICKLE_SUFFIXES",
    "SAM",
    "SD2_CONFIGS",
    "SPANDREL",
    "AnyEntry",
    "Catalog",
    "CatalogEntry",
    "DetectorEntry",
    "Entry",
    "Family",
    "FamilyInfo",
    "SamEntry",
    "SpandrelEntry",
    "entry_summary",
    "ResolvedSource",
    "SourceKind",
    "add_model",
    "default_catalog_path",
    "detect_family",
    "hub_cached",
    "load_catalog",
    "looks_like_hub_id",
    "presence",
    "resolve_source",
    "safetensors_header",
    "save_catalog",
    "user_catalog_path",
]
