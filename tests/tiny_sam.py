"""Tiny segment-anything models with random weights, built from transformers' own config classes and saved as
the folders `retouch models add` takes (config.json, model.safetensors, preprocessor_config.json)."""

from __future__ import annotations

from pathlib import Path

#: the tiny model's input side (SAM's is 1024): a 16x16 embedding, 64x64 low-resolution masks
SIDE = 256


def save_tiny_sam(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import (
        SamConfig,
        SamImageProcessor,
        SamMaskDecoderConfig,
        SamModel,
        SamProcessor,
        SamPromptEncoderConfig,
        SamVisionConfig,
    )

    vision = SamVisionConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        mlp_dim=64,
        output_channels=32,
        num_pos_feats=16,
        image_size=SIDE,
        patch_size=16,
        window_size=4,
        global_attn_indexes=[1],
    )
    prompts = SamPromptEncoderConfig(hidden_size=32, image_size=SIDE, patch_size=16, image_embedding_size=SIDE // 16)
    decoder = SamMaskDecoderConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_dim=64, iou_head_hidden_dim=32
    )
    torch.manual_seed(seed)
    model = SamModel(SamConfig(vision_config=vision, prompt_encoder_config=prompts, mask_decoder_config=decoder))
    model.eval().save_pretrained(folder, safe_serialization=True)
    images = SamImageProcessor(size={"longest_edge": SIDE}, pad_size={"height": SIDE, "width": SIDE})
    SamProcessor(images).save_pretrained(folder)
    return folder
