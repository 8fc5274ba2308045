"""What a model file or folder is: its family, read from configs and safetensors headers only."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from retouch.catalog.entries import PICKLE_SUFFIXES
from retouch.catalog.families import SD2_CONFIGS, Family
from retouch.errors import InputError


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
