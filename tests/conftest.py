"""Shared test set-up: pictures made in code (a photograph, a texture, a mask), tiny diffusion models built
once per session, and GPU tests skipped where there is no CUDA device."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from tests.support import bricks

# tiny diffusion pipelines of every family and spandrel models, built once per session
pytest_plugins = ["tests.diffusion_fixtures", "tests.spandrel_fixtures", "tests.sam_fixtures", "tests.model_files"]


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """skimage's astronaut at 128x128: a real photograph with faces, edges and flat areas."""
    return cv2.resize(data.astronaut(), (128, 128), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def texture() -> np.ndarray:
    """A 128x128 stochastic texture (bricks from skimage, coloured): detail everywhere, no flat area."""
    return bricks(128)


@pytest.fixture
def centre_mask() -> np.ndarray:
    """A 128x128 mask with a 32x32 square hole in the middle."""
    mask = np.zeros((128, 128), np.uint8)
    mask[48:80, 48:80] = 255
    return mask


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
