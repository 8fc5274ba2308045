"""Tiny randomly initialised diffusion pipelines of each family, built locally (nothing is downloaded).

The shapes follow diffusers' own pipeline tests: a few thousand parameters per model, real architectures.
Each builder saves a diffusers folder (safetensors weights, configs, a locally made tokenizer) that Retouch
then loads through the same `from_pretrained` / `from_single_file` code users run. `write_sd_single_file`
writes the same weights as one original-layout (LDM) `.safetensors` checkpoint, as people download them.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

# --------------------------------------------------------------------------------------------- tokenizers


def _bytes_to_unicode() -> list[str]:
    """The 256 printable stand-ins byte-level BPE uses for raw bytes (GPT-2 / CLIP convention)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = [], 0
    for byte in range(256):
        if byte in printable:
            chars.append(chr(byte))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return chars


def write_clip_tokenizer(folder: Path) -> int:
    """A CLIP BPE tokenizer with a byte-level vocabulary and a few merges; returns its vocabulary size."""
    folder.mkdir(parents=True, exist_ok=True)
    symbols = _bytes_to_unicode()
    vocab: dict[str, int] = {}
    for symbol in symbols:
        vocab[symbol] = len(vocab)
    for symbol in symbols:
        vocab[symbol + "</w>"] = len(vocab)
    merges = [("a", "t</w>"), ("c", "at</w>"), ("s", "k"), ("sk", "y</w>"), ("r", "e"), ("re", "d</w>")]
    for left, right in merges:
        vocab[left + right] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n")
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "CLIPTokenizer",
                "model_max_length": 77,
                "bos_token": "<|startoftext|>",
                "eos_token": "<|endoftext|>",
                "unk_token": "<|endoftext|>",
                "pad_token": "<|endoftext|>",
            }
        )
    )
    (folder / "special_tokens_map.json").write_text(
        json.dumps(
            {
                "bos_token": "<|startoftext|>",
                "eos_token": "<|endoftext|>",
                "unk_token": "<|endoftext|>",
                "pad_token": "<|endoftext|>",
            }
        )
    )
    return len(vocab)


def clip_tokenizer():
    import tempfile

    from transformers import CLIPTokenizer

    with tempfile.TemporaryDirectory() as folder:
        write_clip_tokenizer(Path(folder))
        return CLIPTokenizer.from_pretrained(folder)


def t5_tokenizer():
    """A tiny T5 (SentencePiece-Unigram) tokenizer made with the `tokenizers` library."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return _t5_tokenizer(Path(folder))


def _t5_tokenizer(folder: Path):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import T5TokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    letters = "abcdefghijklmnopqrstuvwxyz"
    pieces += [("▁" + c, -2.0) for c in letters] + [(c, -3.0) for c in letters]
    pieces += [("▁", -4.0)]
    tok = Tokenizer(models.Unigram(pieces, unk_id=2, byte_fallback=False))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tok.save(str(folder / "tokenizer.json"))
    tokenizer = T5TokenizerFast(
        tokenizer_file=str(folder / "tokenizer.json"),
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        extra_ids=0,
        model_max_length=512,
    )
    return tokenizer


# --------------------------------------------------------------------------------------------- models


def _clip_text(vocab_size: int, *, projection: bool = False, hidden: int = 32):
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        bos_token_id=vocab_size - 2,
        eos_token_id=vocab_size - 1,
        pad_token_id=vocab_size - 1,
        hidden_size=hidden,
        intermediate_size=37,
        layer_norm_eps=1e-05,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=vocab_size,
        hidden_act="gelu",
        projection_dim=32,
        max_position_embeddings=77,
    )
    return (CLIPTextModelWithProjection if projection else CLIPTextModel)(config)


def _sd_vae(latent_channels: int = 4, **extra):
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        layers_per_block=1,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=latent_channels,
        norm_num_groups=32,
        sample_size=32,
        **extra,
    )


def build_sd(folder: Path, *, inpainting: bool, seed: int = 0) -> Path:
    """Tiny SD 1.5-style pipeline: 9-channel UNet for an inpainting checkpoint, 4-channel otherwise."""
    from diffusers import (
        DDIMScheduler,
        StableDiffusionInpaintPipeline,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=32,
        in_channels=9 if inpainting else 4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=32,
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    vae = _sd_vae()
    tokenizer = clip_tokenizer()
    text_encoder = _clip_text(len(tokenizer))
    cls = StableDiffusionInpaintPipeline if inpainting else StableDiffusionPipeline
    pipe = cls(
        unet=unet,
        scheduler=scheduler,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def build_sdxl(folder: Path, *, inpainting: bool, seed: int = 0) -> Path:
    """Tiny SDXL-style pipeline with both text encoders; 9-channel UNet for an inpainting checkpoint."""
    from diffusers import (
        EulerDiscreteScheduler,
        StableDiffusionXLInpaintPipeline,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=32,
        in_channels=9 if inpainting else 4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 2),
        projection_class_embeddings_input_dim=80,
        cross_attention_dim=32 + 48,
        norm_num_groups=32,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1, timestep_spacing="leading"
    )
    vae = _sd_vae(scaling_factor=0.13025)
    tokenizer = clip_tokenizer()
    text_encoder = _clip_text(len(tokenizer))
    # a wider second encoder, as in SDXL (768 vs 1280): checkpoint loaders tell the two apart by width
    text_encoder_2 = _clip_text(len(tokenizer), projection=True, hidden=48)
    cls = StableDiffusionXLInpaintPipeline if inpainting else StableDiffusionXLPipeline
    extra = {"requires_aesthetics_score": False} if inpainting else {}
    pipe = cls(
        unet=unet,
        scheduler=scheduler,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer,
        **extra,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def build_flux_fill(folder: Path, *, seed: int = 0) -> Path:
    """Tiny FLUX.1 Fill pipeline: 16 latent channels like the real VAE, so previews use the real factors."""
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxFillPipeline, FluxTransformer2DModel
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(seed)
    vae = AutoencoderKL(
        sample_size=32,
        in_channels=3,
        out_channels=3,
        block_out_channels=(8, 8),
        layers_per_block=1,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=16,
        norm_num_groups=4,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.1159,
        scaling_factor=0.3611,
    )
    vae_scale = 2 ** (len(vae.config.block_out_channels) - 1)
    packed = 16 * 4
    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=packed * 2 + vae_scale * vae_scale * 4,
        out_channels=packed,
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=32,
        pooled_projection_dim=32,
        axes_dims_rope=[4, 4, 8],
        guidance_embeds=True,
    )
    tokenizer = clip_tokenizer()
    text_encoder = _clip_text(len(tokenizer))
    tokenizer_2 = t5_tokenizer()
    text_encoder_2 = T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer_2),
            d_model=32,
            d_kv=8,
            d_ff=37,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            decoder_start_token_id=0,
            pad_token_id=0,
            eos_token_id=1,
        )
    )
    scheduler = FlowMatchEulerDiscreteScheduler()
    pipe = FluxFillPipeline(
        scheduler=scheduler,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer_2,
        transformer=transformer,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


# --------------------------------------------------------------------------------------------- single file


def _unet_to_ldm(state: dict, layers_per_block: int, blocks: int) -> dict:
    """Diffusers UNet keys -> the original `model.diffusion_model.*` layout (input/middle/output blocks)."""
    renames = [
        ("time_embedding.linear_1.", "time_embed.0."),
        ("time_embedding.linear_2.", "time_embed.2."),
        ("add_embedding.linear_1.", "label_emb.0.0."),
        ("add_embedding.linear_2.", "label_emb.0.2."),
        ("conv_in.", "input_blocks.0.0."),
        ("conv_norm_out.", "out.0."),
        ("conv_out.", "out.2."),
    ]
    prefixes: list[tuple[str, str]] = []
    per = layers_per_block + 1  # original blocks per level: the resnets plus a down/upsampler
    for i in range(blocks):
        for j in range(layers_per_block):
            prefixes.append((f"down_blocks.{i}.resnets.{j}.", f"input_blocks.{i * per + j + 1}.0."))
            prefixes.append((f"down_blocks.{i}.attentions.{j}.", f"input_blocks.{i * per + j + 1}.1."))
        prefixes.append((f"down_blocks.{i}.downsamplers.0.conv.", f"input_blocks.{(i + 1) * per}.0.op."))
        for j in range(layers_per_block + 1):
            prefixes.append((f"up_blocks.{i}.resnets.{j}.", f"output_blocks.{i * per + j}.0."))
            prefixes.append((f"up_blocks.{i}.attentions.{j}.", f"output_blocks.{i * per + j}.1."))
    for i in range(blocks):
        has_attention = any(k.startswith(f"up_blocks.{i}.attentions.") for k in state)
        prefixes.append(
            (f"up_blocks.{i}.upsamplers.0.", f"output_blocks.{i * per + layers_per_block}.{2 if has_attention else 1}.")
        )
    prefixes += [
        ("mid_block.attentions.0.", "middle_block.1."),
        ("mid_block.resnets.0.", "middle_block.0."),
        ("mid_block.resnets.1.", "middle_block.2."),
    ]
    resnet = [
        ("norm1", "in_layers.0"),
        ("conv1", "in_layers.2"),
        ("norm2", "out_layers.0"),
        ("conv2", "out_layers.3"),
        ("time_emb_proj", "emb_layers.1"),
        ("conv_shortcut", "skip_connection"),
    ]
    out = {}
    for key, value in state.items():
        new = key
        for old, repl in renames:
            if new.startswith(old):
                new = repl + new[len(old) :]
        if "resnets" in new:
            for old, repl in resnet:
                new = new.replace(f".{old}.", f".{repl}.")
        for old, repl in prefixes:
            if new.startswith(old):
                new = repl + new[len(old) :]
                break
        out["model.diffusion_model." + new] = value
    return out


def _vae_to_ldm(state: dict, blocks: int, layers_per_block: int) -> dict:
    prefixes: list[tuple[str, str]] = []
    for i in range(blocks):
        for j in range(layers_per_block):
            prefixes.append((f"encoder.down_blocks.{i}.resnets.{j}.", f"encoder.down.{i}.block.{j}."))
        prefixes.append((f"encoder.down_blocks.{i}.downsamplers.0.", f"encoder.down.{i}.downsample."))
        for j in range(layers_per_block + 1):
            prefixes.append((f"decoder.up_blocks.{i}.resnets.{j}.", f"decoder.up.{blocks - 1 - i}.block.{j}."))
        prefixes.append((f"decoder.up_blocks.{i}.upsamplers.0.", f"decoder.up.{blocks - 1 - i}.upsample."))
    for part in ("encoder", "decoder"):
        prefixes += [
            (f"{part}.mid_block.resnets.0.", f"{part}.mid.block_1."),
            (f"{part}.mid_block.resnets.1.", f"{part}.mid.block_2."),
            (f"{part}.mid_block.attentions.0.", f"{part}.mid.attn_1."),
            (f"{part}.conv_norm_out.", f"{part}.norm_out."),
        ]
    attention = [
        ("group_norm.", "norm."),
        ("to_q.", "q."),
        ("to_k.", "k."),
        ("to_v.", "v."),
        ("to_out.0.", "proj_out."),
    ]
    out = {}
    for key, value in state.items():
        new = key
        for old, repl in prefixes:
            if new.startswith(old):
                new = repl + new[len(old) :]
                break
        new = new.replace(".conv_shortcut.", ".nin_shortcut.")
        if ".mid.attn_1." in new:
            for old, repl in attention:
                new = new.replace(".mid.attn_1." + old, ".mid.attn_1." + repl)
            if value.ndim == 2:
                value = value.reshape(*value.shape, 1, 1)
        out["first_stage_model." + new] = value
    return out


def _with_text_model(state: dict) -> dict:
    """The original layout names CLIP weights `text_model.*` (newer transformers save them without it)."""
    keep = ("text_model.", "text_projection")
    return {("" if k.startswith(keep) else "text_model.") + k: v for k, v in state.items()}


def _clip_to_open_clip(state: dict) -> dict:
    """A CLIP text model with projection -> OpenCLIP's layout (`transformer.resblocks.N...`, fused q/k/v)."""
    state = {k.removeprefix("text_model."): v for k, v in state.items()}
    out: dict = {
        "token_embedding.weight": state.pop("embeddings.token_embedding.weight"),
        "positional_embedding": state.pop("embeddings.position_embedding.weight"),
        "ln_final.weight": state.pop("final_layer_norm.weight"),
        "ln_final.bias": state.pop("final_layer_norm.bias"),
        "text_projection": state.pop("text_projection.weight").T.contiguous(),
    }
    layers = sorted({int(k.split(".")[2]) for k in state if k.startswith("encoder.layers.")})
    for n in layers:
        src, dst = f"encoder.layers.{n}.", f"transformer.resblocks.{n}."
        for kind in ("weight", "bias"):
            out[dst + f"attn.in_proj_{kind}"] = torch.cat(
                [state.pop(src + f"self_attn.{p}_proj.{kind}") for p in ("q", "k", "v")]
            )
            out[dst + f"attn.out_proj.{kind}"] = state.pop(src + f"self_attn.out_proj.{kind}")
            out[dst + f"ln_1.{kind}"] = state.pop(src + f"layer_norm1.{kind}")
            out[dst + f"ln_2.{kind}"] = state.pop(src + f"layer_norm2.{kind}")
            out[dst + f"mlp.c_fc.{kind}"] = state.pop(src + f"mlp.fc1.{kind}")
            out[dst + f"mlp.c_proj.{kind}"] = state.pop(src + f"mlp.fc2.{kind}")
    assert not state, f"unconverted text encoder weights: {sorted(state)[:5]}"
    return out


def _unet_and_vae(folder: Path) -> dict:
    from safetensors.torch import load_file

    unet_config = json.loads((folder / "unet" / "config.json").read_text())
    vae_config = json.loads((folder / "vae" / "config.json").read_text())
    state: dict = {}
    state.update(
        _unet_to_ldm(
            load_file(folder / "unet" / "diffusion_pytorch_model.safetensors"),
            unet_config["layers_per_block"],
            len(unet_config["block_out_channels"]),
        )
    )
    state.update(
        _vae_to_ldm(
            load_file(folder / "vae" / "diffusion_pytorch_model.safetensors"),
            len(vae_config["block_out_channels"]),
            vae_config["layers_per_block"],
        )
    )
    return state


def write_sdxl_single_file(folder: Path, target: Path) -> Path:
    """The SDXL pipeline in `folder` as one original-layout checkpoint: UNet, VAE, CLIP-L and OpenCLIP-G."""
    from safetensors.torch import load_file, save_file

    state = _unet_and_vae(folder)
    clip_l = _with_text_model(load_file(folder / "text_encoder" / "model.safetensors"))
    state.update({"conditioner.embedders.0.transformer." + k: v for k, v in clip_l.items()})
    clip_g = _clip_to_open_clip(load_file(folder / "text_encoder_2" / "model.safetensors"))
    state.update({"conditioner.embedders.1.model." + k: v for k, v in clip_g.items()})
    save_file({k: v.contiguous() for k, v in state.items()}, target)
    return target


def write_flux_single_file(folder: Path, target: Path) -> Path:
    """The FLUX.1 Fill transformer alone as one file, as FLUX checkpoints are shared (text encoders and VAE apart)."""
    from safetensors.torch import load_file, save_file

    save_file(load_file(folder / "transformer" / "diffusion_pytorch_model.safetensors"), target)
    return target


def write_sd_single_file(folder: Path, target: Path) -> Path:
    """The SD 1.x pipeline in `folder` as one original-layout `.safetensors` checkpoint (UNet, VAE, CLIP)."""
    from safetensors.torch import load_file, save_file

    state = _unet_and_vae(folder)
    text = _with_text_model(load_file(folder / "text_encoder" / "model.safetensors"))
    state.update({"cond_stage_model.transformer." + k: v for k, v in text.items()})
    save_file({k: v.contiguous() for k, v in state.items()}, target)
    return target


if __name__ == "__main__":  # build them all into a folder, for a look by hand
    import sys

    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tiny-models")
    build_sd(root / "sd-inpaint", inpainting=True)
    build_sd(root / "sd", inpainting=False)
    build_sdxl(root / "sdxl-inpaint", inpainting=True)
    build_sdxl(root / "sdxl", inpainting=False)
    build_flux_fill(root / "flux-fill")
    write_sd_single_file(root / "sd-inpaint", root / "sd-inpaint.safetensors")
    write_sdxl_single_file(root / "sdxl-inpaint", root / "sdxl-inpaint.safetensors")
    write_flux_single_file(root / "flux-fill", root / "flux-fill-transformer.safetensors")
    print("built in", root)
