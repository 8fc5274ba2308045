"""Applying a catalog entry's speed options (`retouch.catalog.speed.Speed`) to loaded modules."""

from __future__ import annotations

from typing import Any

from retouch.catalog.speed import Speed


def tune_module(module: Any, speed: Speed) -> None:
    """Channels-last weights and `torch.compile` on one `torch.nn.Module`, in place (the module keeps its
    identity, so whoever holds it runs the tuned one)."""
    import torch

    if speed.channels_last:
        module.to(memory_format=torch.channels_last)
    if speed.compile:
        module.compile()  # compiles at the first call, again for each new input shape


def set_attention(module: Any, attention: str) -> None:
    """A diffusers UNet's or VAE's attention: PyTorch SDPA (fused kernels) or the classic matmul-softmax-matmul."""
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    module.set_attn_processor(AttnProcessor2_0() if attention == "sdpa" else AttnProcessor())
