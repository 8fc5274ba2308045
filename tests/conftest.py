"""Shared test set-up: GPU tests are skipped where there is no CUDA device; tiny diffusion models are built once."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.diffusion_fixtures"]


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if gpu_items and not _cuda_available():
        skip = pytest.mark.skip(reason="needs a CUDA GPU; none on this machine")
        for item in gpu_items:
            item.add_marker(skip)
