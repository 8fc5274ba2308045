"""Shared pictures, made in code so the suite needs no files: a photograph, a texture and a mask."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from tests.support import bricks


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
