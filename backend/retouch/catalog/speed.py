"""Speed options a catalog entry turns on: a setting, never a code change.

```yaml
- name: sdxl-inpaint
  family: sdxl-inpaint
  source: sdxl-inpainting
  dtype: float16                  # precision (all entries): auto, float16, bfloat16, float32
  speed: {compile: true, channels_last: true, attention: sdpa, vae_tiling: auto}
```

What each does, and what it measured, is in the README's table (`benchmarks/gpu.py` measures them). Nothing here
imports torch: `retouch.engines.speed` applies them when a model loads.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Precision = Literal["auto", "float16", "bfloat16", "float32"]


class Speed(BaseModel):
    """How a model runs; the defaults are what runs everywhere without a first-run cost."""

    model_config = ConfigDict(extra="forbid")

    compile: bool = Field(
        False,
        description="torch.compile the denoiser (UNet/transformer) or the spandrel model: faster steps on CUDA, "
        "after a first run that compiles (tens of seconds to minutes; again for each new size).",
    )
    channels_last: bool = Field(
        False, description="Keep convolution weights channels-last (NHWC): faster convolutions on tensor cores."
    )
    attention: Literal["sdpa", "classic"] = Field(
        "sdpa",
        description="Diffusion models: `sdpa` = PyTorch's fused scaled-dot-product attention (flash / memory-"
        "efficient kernels); `classic` = matmul and softmax as separate steps (for comparison, or old drivers).",
    )
    vae_tiling: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Diffusion models: decode the latents tile by tile. `auto` tiles regions over twice the "
        "model's native area; `on` always (least memory); `off` never (fastest while it fits).",
    )

    def changed(self) -> dict[str, object]:
        """The options set away from their defaults (what a benchmark row or a log line names)."""
        return self.model_dump(exclude_defaults=True)
