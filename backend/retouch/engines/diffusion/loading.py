"""Helpers for loading diffusers pipelines quietly and offline-aware."""

from __future__ import annotations

import os


def dtype_keyword() -> str:
    """diffusers renamed `torch_dtype` to `dtype` (0.36+); use whichever this version takes without warning."""
    from diffusers.utils import deprecation_utils

    return "dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype"


def quiet_loading() -> None:
    """No progress bars or per-weight chatter from diffusers/transformers in a server's log."""
    import diffusers
    import transformers

    diffusers.utils.logging.disable_progress_bar()
    diffusers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
