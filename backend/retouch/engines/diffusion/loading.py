"""Helpers for loading diffusers pipelines quietly and offline-aware."""

from __future__ import annotations

from retouch.catalog.entries import hub_offline

__all__ = ["dtype_keyword", "first_line", "hub_offline", "quiet_loading"]


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


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
