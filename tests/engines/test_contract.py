"""The engine contract, checked on every engine the registry holds: the built-in ones and one tiny random
model of every diffusion family, loaded through the catalog as a user's models are."""

from __future__ import annotations

import numpy as np
import pytest

from retouch.engines import ENGINES
from retouch.errors import Cancelled
from retouch.imaging.io import Picture
from retouch.pipeline import fill
from retouch.recipe import FillParams
from retouch.registry import build_registry
from retouch.workflows.base import Engines
from tests.diffusion_fixtures import TINY_MODELS

NAMES = [*ENGINES, *TINY_MODELS]
CAPABILITIES = {
    "name",
    "description",
    "needs_weights",
    "takes_prompt",
    "parameters",
    "needs_context",
    "native_size",
    "grid",
}


@pytest.fixture(scope="module")
def registry(tiny_catalog) -> Engines:
    return build_registry(tiny_catalog)


def params(name: str, **changes) -> FillParams:
    settings = {"engine": name, "steps": 2, "feather": 0, "seed": 5, "scale": {"mode": "none"}, **changes}
    return FillParams.model_validate(settings)


def scene() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:40, 20:44] = 255
    return pixels, mask


def test_the_registry_holds_every_engine(registry):
    assert set(NAMES) <= set(registry)


@pytest.mark.parametrize("name", NAMES)
def test_capabilities_describe_the_engine_without_loading_it(registry, name):
    engine = registry[name]()
    caps = engine.capabilities()
    assert CAPABILITIES <= set(caps) and caps["name"] == name
    assert set(caps["parameters"]) <= {"steps", "guidance", "strength", "scheduler", "negative_prompt"}
    assert caps["needs_weights"] == bool(caps["parameters"])  # a model uses model settings; the rest use none
    assert engine.size_bytes() == 0  # nothing is loaded yet
    engine.check(params(name))  # the defaults are always acceptable


@pytest.mark.parametrize("name", NAMES)
def test_fill_keeps_size_and_outside_pixels_and_reports_progress(registry, loaded_engines, name):
    engine = loaded_engines(name) if name in TINY_MODELS else registry[name]()
    pixels, mask = scene()
    steps: list[tuple[int, int]] = []
    hooks_result = fill(
        Picture(pixels),
        mask,
        params(name),
        engine=engine,
        hooks=_hooks(lambda step, total, preview, stage: steps.append((step, total))),
    )
    assert hooks_result.pixels.shape == pixels.shape and hooks_result.pixels.dtype == np.uint8
    assert np.array_equal(hooks_result.pixels[mask == 0], pixels[mask == 0])
    assert not np.array_equal(hooks_result.pixels[mask > 0], pixels[mask > 0])  # the hole was filled
    assert steps and steps[-1][0] == steps[-1][1]  # progress ends at its total
    assert [s for s, _ in steps] == sorted(s for s, _ in steps)
    if engine.needs_weights:
        assert engine.size_bytes() > 0


@pytest.mark.parametrize("name", NAMES)
def test_cancel_stops_the_fill_at_the_first_step(registry, loaded_engines, name):
    engine = loaded_engines(name) if name in TINY_MODELS else registry[name]()
    pixels, mask = scene()
    steps: list[int] = []
    hooks = _hooks(lambda step, total, preview, stage: steps.append(step), cancelled=lambda: bool(steps))
    with pytest.raises(Cancelled):
        fill(Picture(pixels), mask, params(name, steps=4), engine=engine, hooks=hooks)
    assert len(steps) <= 1


def _hooks(on_step, cancelled=lambda: False):
    from retouch.engines import Hooks

    return Hooks(on_step=on_step, is_cancelled=cancelled)
