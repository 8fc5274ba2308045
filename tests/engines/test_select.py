"""Segment-anything selectors (SAM and SAM 2, tiny random models built from transformers' config classes and
loaded through the same code users run): full-size masks, the same mask for the same clicks, one embedding
per picture however many clicks."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.catalog import add_model
from retouch.engines.select import SamSelector
from retouch.imaging.select import Prompt, SelectPoint
from retouch.registry import build_registry
from tests.select_scenes import cat_on
from tests.tiny_sam import save_tiny_sam, save_tiny_sam2


@pytest.fixture(scope="module", params=["sam", "sam2"])
def registered(request, tmp_path_factory):
    """A catalog with one tiny model of the kind, added as `retouch models add` adds it."""
    root = tmp_path_factory.mktemp(request.param)
    (save_tiny_sam if request.param == "sam" else save_tiny_sam2)(root / "model")
    catalog = root / "catalog.yaml"
    assert add_model(catalog, str(root / "model"), "tiny").family == "sam"
    return build_registry(catalog).selectors["tiny"]()


def test_masks_are_the_pictures_size_and_repeat_and_the_embedding_is_computed_once(registered):
    selector: SamSelector = registered
    picture, _, box = cat_on("coffee")  # 600x400: not SAM's square
    prompts = [
        Prompt(points=(SelectPoint(150, 170),)),
        Prompt(points=(SelectPoint(150, 170), SelectPoint(30, 30, positive=False))),
        Prompt(box=box),
        Prompt(box=box, previous=np.where(np.arange(600)[None, :] < 300, 255, 0).astype(np.uint8).repeat(400, 0)),
    ]
    first = [selector.select(picture, prompt, key="coffee") for prompt in prompts]
    again = [selector.select(picture, prompt, key="coffee") for prompt in prompts[1:3]]
    assert selector.embeddings_computed == 1
    for a in first:
        assert a.mask.shape == (400, 600) and a.mask.dtype == np.uint8 and set(np.unique(a.mask)) <= {0, 255}
        assert isinstance(a.score, float)
    for a, b in zip(first[1:3], again, strict=True):  # the same clicks, the same mask
        assert np.array_equal(a.mask, b.mask) and a.score == b.score
    selector.select(picture[:, ::-1].copy(), prompts[0])  # another picture: a second embedding
    assert selector.embeddings_computed == 2
