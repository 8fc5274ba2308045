"""What a model file or folder is: its family, read from configs and safetensors headers only."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from retouch.catalog.entries import PICKLE_SUFFIXES
from retouch.catalog.families import SD2_CONFIGS, Family
from retouch.errors import InputError


def safetensors_header(path: Path) -> dict[str, dict]:
    """Tensor names -> {dtype, shape} from a .safetensors header, reading only the header. Anything but the
    documented layout (a JSON object of {dtype: str, shape: [int, ...], data_offsets: [int, int]}) is refused."""
    where = repr(str(path))
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
        raise InputError(f"{where} is not a valid .safetensors file ({exc})") from None
    except RecursionError:
        raise InputError(f"{where} is not a valid .safetensors file (its header is nested too deeply)") from None
    if not isinstance(header, dict):
        raise InputError(f"{where} is not a valid .safetensors file (its header is not a JSON object)")
    header.pop("__metadata__", None)
    for name, tensor in header.items():
        if not (
            isinstance(tensor, dict)
            and isinstance(tensor.get("dtype"), str)
            and isinstance(tensor.get("shape"), list)
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in tensor["shape"])
        ):
            raise InputError(
                f"{where} is not a valid .safetensors file (tensor {name[:80]!r} has no dtype and shape of whole "
                "numbers)"
            )
    return header


#: tensors only diffusion checkpoints have (UNets, FLUX transformers), with or without the LDM prefix
_DIFFUSION_KEYS = (
    "input_blocks.0.0.weight",
    "img_in.weight",
    "x_embedder.weight",
    "double_blocks.0.img_attn.qkv.weight",
    "transformer_blocks.0.attn.to_q.weight",
)


def is_diffusion_checkpoint(path: Path) -> bool:
    """Whether a .safetensors file holds a diffusion model (else it may be a model spandrel loads)."""
    names = safetensors_header(path)
    return any(key in names or f"model.diffusion_model.{key}" in names for key in _DIFFUSION_KEYS)


def _family_from_keys(shapes: dict[str, list[int]], where: str) -> tuple[Family, str | None]:
    """Family (and the config layout it follows) of a single-file checkpoint, from tensor names and shapes."""

    def shape(*names: str, dims: int) -> list[int] | None:
        """The first tensor found under one of `names` (with or without the checkpoint prefix); it must have
        `dims` dimensions, as that layer's weights do."""
        for name in names:
            for prefix in ("", "model.diffusion_model."):
                if prefix + name in shapes:
                    found = shapes[prefix + name]
                    if len(found) != dims:
                        raise InputError(
                            f"{where}: tensor {prefix + name!r} has shape {found[:8]}; a model's "
                            f"weights there have {dims} dimensions"
                        )
                    return found
        return None

    image_in = shape("img_in.weight", "x_embedder.weight", dims=2)
    if image_in is not None or shape(
        "double_blocks.0.img_attn.qkv.weight", "transformer_blocks.0.attn.to_q.weight", dims=2
    ):
        if image_in is not None and image_in[1] == 384:
            return "flux-fill", None
        raise InputError(
            f"{where} is a FLUX transformer but not FLUX.1 Fill (input width {image_in[1] if image_in else '?'}, "
            "Fill has 384); only FLUX.1 Fill can inpaint"
        )
    conv_in = shape("input_blocks.0.0.weight", dims=4)
    if conv_in is None:
        raise InputError(f"{where} has no UNet or FLUX transformer weights; it is not a model Retouch can run")
    inpainting = conv_in[1] == 9
    if conv_in[1] not in (4, 9):
        raise InputError(f"{where} has a {conv_in[1]}-channel UNet input; Retouch runs 4- or 9-channel UNets")
    if any(k.startswith("conditioner.embedders.") for k in shapes) or shape("label_emb.0.0.weight", dims=2):
        return ("sdxl-inpaint" if inpainting else "sdxl"), None
    family: Family = "sd-inpaint" if inpainting else "sd"
    attention = shape(
        "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight",
        "input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight",
        dims=2,
    )
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
    pipeline = _json_object(index, where).get("_class_name", "")
    if not isinstance(pipeline, str):
        raise InputError(f"{where}: model_index.json names no pipeline class (_class_name)")
    _no_pickled_weights(path, where)
    if pipeline.startswith("Flux"):
        if pipeline != "FluxFillPipeline":
            raise InputError(f"{where} is a {pipeline}; only FLUX.1 Fill (FluxFillPipeline) can inpaint")
        return "flux-fill", None
    channels = _json_object(path / "unet" / "config.json", where).get("in_channels")
    if not isinstance(channels, int):
        raise InputError(f"{where}: unet/config.json gives no number of input channels (in_channels)")
    inpainting = channels == 9
    if pipeline.startswith("StableDiffusionXL"):
        return ("sdxl-inpaint" if inpainting else "sdxl"), None
    if pipeline.startswith("StableDiffusion"):
        return ("sd-inpaint" if inpainting else "sd"), None
    raise InputError(
        f"{where} is a {pipeline or 'pipeline of unknown kind'}; Retouch runs "
        "Stable Diffusion 1.5/2.x, SDXL and FLUX.1 Fill"
    )


def _json_object(path: Path, where: str) -> dict:
    name = f"{path.parent.name}/{path.name}" if path.parent.name == "unet" else path.name
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not valid JSON"
        raise InputError(f"{where}: {name} cannot be read ({reason})") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: {name} is not a JSON object")
    return data


def _no_pickled_weights(folder: Path, where: str) -> None:
    """Refuse a diffusers folder any of whose parts has its weights only as pickles (found now, not at load)."""
    for part in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = [f.name for f in part.iterdir() if f.is_file()]
        pickles = [name for name in files if name.lower().endswith(PICKLE_SUFFIXES)]
        if pickles and not any(name.endswith(".safetensors") for name in files):
            raise InputError(
                f"{where}: {part.name}/ holds its weights only as pickles ({', '.join(sorted(pickles)[:3])}); "
                "Retouch loads only .safetensors (pickles can run code). Convert them first"
            )
