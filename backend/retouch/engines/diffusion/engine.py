"""Diffusion engines: one per catalog entry, running diffusers' own inpainting pipelines.

Families and the pipeline each runs (no hand-written denoising loop anywhere):

- `sd-inpaint`, `sd`: `StableDiffusionInpaintPipeline` (9-channel UNets condition on the mask; 4-channel
  text-to-image UNets inpaint by blending the known latents back in at every step),
- `sdxl-inpaint`, `sdxl`: `StableDiffusionXLInpaintPipeline`, the same two ways,
- `flux-fill`: `FluxFillPipeline`.

Progress comes from `callback_on_step_end`; cancelling sets the pipeline's interrupt flag, which skips the
remaining steps; previews are the latents projected to RGB with the published linear factors. The pipeline
in `retouch.pipeline` does everything around the engine (crop, infill, scale, composite, recipe).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from retouch.catalog import FAMILIES, CatalogEntry, ResolvedSource, presence, resolve_source, safetensors_header
from retouch.engines.base import Engine, Hooks
from retouch.engines.diffusion.loading import dtype_keyword, first_line, hub_offline, quiet_loading
from retouch.engines.diffusion.previews import PREVIEW_EVERY, PREVIEW_FORMAT, latents_to_rgb
from retouch.engines.diffusion.samplers import scheduler_class
from retouch.engines.memory import free_memory, is_oom
from retouch.engines.speed import set_attention, tune_module
from retouch.errors import Cancelled, EngineError, InputError
from retouch.recipe import FillParams

log = logging.getLogger(__name__)


class DiffusionEngine(Engine):
    """An engine for one catalog entry. Cheap to build; `load` brings the weights in."""

    needs_weights = True
    takes_prompt = True
    parameters: tuple[str, ...] = ("steps", "guidance", "strength", "scheduler", "negative_prompt")

    def __init__(self, entry: CatalogEntry, base: Path | str = ".") -> None:
        self.entry = entry
        self.base = Path(base)
        self.name = entry.name  # type: ignore[misc]
        self.family = entry.family
        self.description = entry.description or FAMILIES[entry.family].label  # type: ignore[misc]
        self.native_size: int = entry.size
        self.grid = entry.step
        if self.family == "flux-fill":  # FLUX.1 Fill has no negative prompt
            self.parameters = tuple(p for p in self.parameters if p != "negative_prompt")
        self.pipe: Any = None
        self.offloaded = False
        self.dtype_name = "float32"
        self._schedulers: dict[str, Any] = {}
        self._base_scheduler_config: Any = None

    # ------------------------------------------------------------------ what the engine list shows

    def capabilities(self) -> dict[str, Any]:
        info = FAMILIES[self.family]
        present, where = presence(self.entry, self.base)
        caps = super().capabilities()
        caps.update(
            family=self.family,
            family_label=info.label,
            present=present,
            source=where,
            schedulers=list(info.schedulers),
            defaults={"steps": info.steps, "guidance": info.guidance, "strength": 1.0, "scheduler": info.scheduler},
        )
        return caps

    def version(self) -> str:
        from importlib.metadata import version

        return f"diffusers {version('diffusers')}; {self.family} {self.entry.source}; {self.dtype_name}"

    # ------------------------------------------------------------------ loading

    def load(self, device: str) -> None:
        """Load the weights onto `device`; a missing or broken model is an `EngineError` naming the entry."""
        import torch

        self.device = device
        self.dtype_name = self._dtype_for(device)
        dtype = getattr(torch, self.dtype_name)
        quiet_loading()
        try:
            pipe = self._load_pipeline(dtype)
        except (InputError, EngineError):
            raise
        except Exception as exc:  # diffusers/transformers/safetensors raise many kinds; name the model
            reason = first_line(exc)
            if "safetensors" in reason and "no file named" in reason.lower():
                reason += " (Retouch loads only .safetensors weights; pickled .bin/.ckpt files are refused)"
            raise EngineError(f"model {self.name!r} could not be loaded from {self.entry.source!r}: {reason}") from exc
        self.use(pipe, device)

    def use(self, pipe: Any, device: str) -> None:
        """Run `pipe` (a pipeline of this entry's family, loaded or built by the caller) on `device`: the
        entry's precision, placement and speed options, as `load` does with the pipeline it reads."""
        import torch

        self.device = device
        self.dtype_name = self._dtype_for(device)
        dtype = getattr(torch, self.dtype_name)
        if pipe.dtype != dtype:  # (a loaded pipeline already is: casting again only logs diffusers' warnings)
            pipe.to(dtype=dtype)
        pipe.set_progress_bar_config(disable=True)
        self._base_scheduler_config = pipe.scheduler.config
        self._schedulers.clear()
        self.pipe = pipe
        self._place(device, offload=self.entry.cpu_offload)
        self._tune()

    def _tune(self) -> None:
        """The entry's speed options (see `retouch.catalog.speed`)."""
        speed, pipe = self.entry.speed, self.pipe
        denoiser = pipe.transformer if self.family == "flux-fill" else pipe.unet
        if self.family != "flux-fill":
            set_attention(denoiser, speed.attention)
            set_attention(pipe.vae, speed.attention)
        if speed.channels_last:
            tune_module(pipe.vae, speed.model_copy(update={"compile": False}))
        tune_module(denoiser, speed)

    def _dtype_for(self, device: str) -> str:
        if self.entry.dtype != "auto":
            return self.entry.dtype
        if device.startswith("cuda"):
            return FAMILIES[self.family].cuda_dtype
        if device == "mps" and self.family != "flux-fill":
            return "float16"
        return "float32"  # CPUs run half precision slowly or not at all

    def _pipeline_class(self) -> Any:
        import diffusers

        name = {
            "sd-inpaint": "StableDiffusionInpaintPipeline",
            "sd": "StableDiffusionInpaintPipeline",
            "sdxl-inpaint": "StableDiffusionXLInpaintPipeline",
            "sdxl": "StableDiffusionXLInpaintPipeline",
            "flux-fill": "FluxFillPipeline",
        }[self.family]
        return getattr(diffusers, name)

    def _load_pipeline(self, dtype: Any) -> Any:
        cls = self._pipeline_class()
        source = resolve_source(self.entry.source, self.base)
        if source.kind == "single-file":
            path = Path(source.location)
            if not path.is_file():  # (its layout may still come from the hub: see _config_folder)
                raise EngineError(f"model {self.name!r} is not on this machine: file {path} does not exist")
            try:
                safetensors_header(path)  # a truncated or foreign file fails here with a clear message
            except InputError as exc:
                raise EngineError(f"model {self.name!r}: {exc.message}") from None
            config = self._config_folder(path)
            if self.family == "flux-fill":
                # FLUX files hold only the transformer; the text encoders and VAE come from the layout folder
                # (diffusers' pipeline-level from_single_file looks for them under diffusers' file names only)
                from diffusers import FluxTransformer2DModel

                transformer = FluxTransformer2DModel.from_single_file(
                    str(path), config=config, subfolder="transformer", local_files_only=True, **{dtype_keyword(): dtype}
                )
                return cls.from_pretrained(
                    config,
                    transformer=transformer,
                    use_safetensors=True,
                    local_files_only=True,
                    **{dtype_keyword(): dtype},
                )
            kwargs: dict[str, Any] = {"config": config, dtype_keyword(): dtype, "local_files_only": True}
            if self.family in ("sd", "sd-inpaint"):
                kwargs.update(safety_checker=None, requires_safety_checker=False)
            return cls.from_single_file(str(path), **kwargs)
        if source.kind == "hub":
            folder = self._hub_folder(source.location, weights=True)
        else:
            present, why = presence(self.entry, self.base)
            if not present:
                raise EngineError(f"model {self.name!r} is not on this machine: {why}")
            folder = source.location
        kwargs = {dtype_keyword(): dtype, "use_safetensors": True, "local_files_only": True}
        if self.family in ("sd", "sd-inpaint"):
            kwargs.update(safety_checker=None, requires_safety_checker=False)
        return cls.from_pretrained(folder, **kwargs)

    def _config_folder(self, checkpoint: Path) -> str:
        """A local folder with the diffusers layout (configs, tokenizers) a single-file checkpoint needs."""
        config = self.entry.config or FAMILIES[self.family].default_config
        resolved: ResolvedSource = resolve_source(config, self.base)
        if resolved.kind == "hub":
            # FLUX single files hold only the transformer: the text encoders and VAE come from the layout
            return self._hub_folder(resolved.location, weights=self.family == "flux-fill", skip="transformer/*")
        if not (Path(resolved.location) / "model_index.json").is_file():
            raise EngineError(f"model {self.name!r}: config {config!r} is not a diffusers folder (no model_index.json)")
        return resolved.location

    def _hub_folder(self, repo_id: str, *, weights: bool, skip: str | None = None) -> str:
        """The local snapshot of a hub model: from the cache, else downloaded (unless offline)."""
        from huggingface_hub import snapshot_download

        patterns = ["*.json", "*.txt", "*.model", "tokenizer*/*"]
        if weights:
            patterns.append("*/*.safetensors")  # component folders only: no root-level duplicate checkpoints
        ignore = ["*.fp16.*", "*.non_ema.*", "*.ema.*"] + ([skip] if skip else [])
        try:
            return snapshot_download(repo_id, allow_patterns=patterns, ignore_patterns=ignore, local_files_only=True)
        except Exception:  # not (fully) cached
            if hub_offline():
                raise EngineError(
                    f"model {self.name!r}: hub id {repo_id!r} is not in the local cache and HF_HUB_OFFLINE is set"
                ) from None
        try:
            log.info("downloading %s for model %s", repo_id, self.name)
            return snapshot_download(repo_id, allow_patterns=patterns, ignore_patterns=ignore, etag_timeout=10)
        except Exception as exc:
            raise EngineError(
                f"model {self.name!r}: hub id {repo_id!r} is not in the local cache and could not "
                f"be downloaded ({first_line(exc)})"
            ) from None

    def _place(self, device: str, *, offload: bool) -> None:
        pipe = self.pipe
        if device.startswith("cuda"):
            if offload:
                index = int(device.split(":")[1]) if ":" in device else 0
                pipe.enable_model_cpu_offload(gpu_id=index)
                self.offloaded = True
                return
            try:
                pipe.to(device)
            except Exception as exc:
                if not is_oom(exc):
                    raise
                log.warning("model %s does not fit on %s; using CPU offload", self.name, device)
                pipe.to("cpu")
                free_memory()
                self._place(device, offload=True)
                return
        else:
            pipe.to(device)
        self.offloaded = False

    def unload(self) -> None:
        if self.pipe is not None and self.offloaded:
            self.pipe.remove_all_hooks()  # accelerate's offload hooks hold references to the weights
        self.pipe = None
        self._schedulers.clear()
        free_memory()

    def size_bytes(self) -> int:
        import torch

        if self.pipe is None:
            return 0
        total = 0
        for component in self.pipe.components.values():
            if isinstance(component, torch.nn.Module):
                total += sum(t.numel() * t.element_size() for t in component.parameters())
                total += sum(t.numel() * t.element_size() for t in component.buffers())
        return total

    # ------------------------------------------------------------------ running

    def _scheduler(self, requested: str | None) -> Any:
        name = requested or FAMILIES[self.family].scheduler
        if name not in self._schedulers:
            import diffusers

            class_name, overrides = scheduler_class(name)
            cls = getattr(diffusers, class_name)
            self._schedulers[name] = cls.from_config(self._base_scheduler_config, **overrides)
        return self._schedulers[name]

    def check(self, params: FillParams) -> None:
        info = FAMILIES[self.family]
        name = params.scheduler or info.scheduler
        if name not in info.schedulers:
            raise InputError(
                f"scheduler {name!r} does not work with {self.family} model {self.name!r}; "
                f"choose one of {', '.join(info.schedulers)}"
            )
        if self.family == "flux-fill" and params.negative_prompt:
            raise InputError(f"{self.family} model {self.name!r} does not take a negative prompt")
        if int(params.steps * params.strength) < 1:
            raise InputError(
                f"steps x strength must reach at least one denoising step, got {params.steps} x {params.strength}"
            )

    def fill(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        if self.pipe is None:
            raise EngineError(f"model {self.name!r} is not loaded")
        self.check(params)
        self.pipe.scheduler = self._scheduler(params.scheduler)
        try:
            return self._run(image, mask, params, seed, hooks)
        except Exception as exc:
            if not is_oom(exc) or not self.device.startswith("cuda"):
                raise
            free_memory()
            if self.offloaded:
                raise EngineError(
                    f"out of GPU memory running {self.name!r} at {image.shape[1]}x{image.shape[0]} "
                    "even with CPU offload; use a smaller region or scale"
                ) from None
            log.warning("out of GPU memory running %s; retrying once with CPU offload", self.name)
            self.pipe.to("cpu")
            free_memory()
            self._place(self.device, offload=True)
            try:
                return self._run(image, mask, params, seed, hooks)
            except Exception as again:
                if not is_oom(again):
                    raise
                free_memory()
                raise EngineError(
                    f"out of GPU memory running {self.name!r} at {image.shape[1]}x{image.shape[0]} "
                    "even with CPU offload; use a smaller region or scale"
                ) from None

    def _run(self, image: np.ndarray, mask: np.ndarray, params: FillParams, seed: int, hooks: Hooks) -> np.ndarray:
        import torch
        from PIL import Image

        pipe = self.pipe
        height, width = image.shape[:2]
        if width % self.grid or height % self.grid:
            raise InputError(f"model {self.name!r} works on multiples of {self.grid} px, got {width}x{height}")
        # Large regions decode tile by tile so the VAE's memory stays bounded (same tiles every run: deterministic).
        tiling = self.entry.speed.vae_tiling
        if tiling == "on" or tiling == "auto" and width * height > 2 * self.native_size * self.native_size:
            pipe.vae.enable_tiling()
        else:
            pipe.vae.disable_tiling()

        preview_format = PREVIEW_FORMAT[self.family]
        latent_scale = pipe.vae_scale_factor

        def on_step_end(p: Any, index: int, timestep: Any, tensors: dict) -> dict:
            total = p.num_timesteps
            step = index + 1
            preview = None
            if step % PREVIEW_EVERY == 0 or step == total:
                latents = tensors["latents"]
                if self.family == "flux-fill":
                    latents = p._unpack_latents(latents, height, width, latent_scale)
                preview = latents_to_rgb(latents, preview_format)
            hooks.report(step, total, preview)
            if hooks.is_cancelled():
                p._interrupt = True  # the pipeline skips the remaining steps
            return tensors

        kwargs: dict[str, Any] = dict(
            prompt=params.prompt,
            image=Image.fromarray(np.ascontiguousarray(image[..., :3])),
            mask_image=Image.fromarray(mask),
            height=height,
            width=width,
            num_inference_steps=params.steps,
            guidance_scale=params.guidance,
            strength=params.strength,
            # noise is drawn on the CPU, so a seed means the same start on every device
            generator=torch.Generator("cpu").manual_seed(seed),
            output_type="np",
            callback_on_step_end=on_step_end,
            callback_on_step_end_tensor_inputs=["latents"],
        )
        if self.family != "flux-fill":
            kwargs["negative_prompt"] = params.negative_prompt or None
        hooks.check()
        with torch.inference_mode():
            result = pipe(**kwargs).images[0]
        if hooks.is_cancelled():
            raise Cancelled()
        if not np.isfinite(result).all():
            raise EngineError(f"model {self.name!r} produced NaNs (try dtype float32 in the catalog)")
        pixels = (np.clip(result, 0, 1) * 255).round().astype(np.uint8)
        if pixels.shape[:2] != (height, width):  # pipelines round sizes to their latent grid
            import cv2

            pixels = cv2.resize(pixels, (width, height), interpolation=cv2.INTER_LANCZOS4)
        return pixels
