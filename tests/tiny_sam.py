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


def save_tiny_sam2(folder: Path, seed: int = 0) -> Path:
    """A tiny SAM 2 (Hiera backbone, 256 px input), saved like `save_tiny_sam`."""
    import torch
    from transformers import (
        Sam2Config,
        Sam2HieraDetConfig,
        Sam2ImageProcessor,
        Sam2MaskDecoderConfig,
        Sam2Model,
        Sam2Processor,
        Sam2PromptEncoderConfig,
        Sam2VisionConfig,
    )

    backbone = Sam2HieraDetConfig(
        hidden_size=16,
        num_attention_heads=1,
        image_size=[SIDE, SIDE],
        blocks_per_stage=[1, 1, 2, 1],
        embed_dim_per_stage=[16, 32, 64, 128],
        num_attention_heads_per_stage=[1, 1, 1, 1],
        window_size_per_stage=[4, 4, 4, 4],
        global_attention_blocks=[3],  # not a stage's first block (those pool, and a global one has no window)
        window_positional_embedding_background_size=[4, 4],
    )
    side = SIDE // 4
    vision = Sam2VisionConfig(
        backbone_config=backbone,
        backbone_channel_list=[128, 64, 32, 16],
        fpn_hidden_size=32,
        backbone_feature_sizes=[[side, side], [side // 2, side // 2], [side // 4, side // 4]],
    )
    prompts = Sam2PromptEncoderConfig(hidden_size=32, image_size=SIDE, patch_size=16)
    decoder = Sam2MaskDecoderConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_dim=64, iou_head_hidden_dim=32
    )
    torch.manual_seed(seed)
    model = Sam2Model(Sam2Config(vision_config=vision, prompt_encoder_config=prompts, mask_decoder_config=decoder))
    model.eval().save_pretrained(folder, safe_serialization=True)
    images = Sam2ImageProcessor(size={"height": SIDE, "width": SIDE}, mask_size={"height": side, "width": side})
    Sam2Processor(images).save_pretrained(folder)
    return folder
