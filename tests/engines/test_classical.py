"""The OpenCV engines: plausible fills, the same pixels as the library, progress and cancellation hooks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from retouch.engines import ENGINES, Hooks
from retouch.engines.classical import NavierStokes, Telea
from retouch.errors import Cancelled, InputError
from retouch.pipeline import fill
from retouch.recipe import FillParams
from retouch.registry import get_engine

OPENCV = [("telea", cv2.INPAINT_TELEA), ("navier-stokes", cv2.INPAINT_NS)]


def test_engine_table_lists_the_three_classical_engines():
    assert {"patchmatch", "telea", "navier-stokes"} <= set(ENGINES)
    for name in ("patchmatch", "telea", "navier-stokes"):
        engine = get_engine(name)
        assert engine.name == name
        assert engine.capabilities()["needs_weights"] is False
        assert engine.capabilities()["takes_prompt"] is False
        assert engine.description
        assert engine.version()


def test_unknown_engine_names_the_ones_there_are():
    with pytest.raises(
        InputError, match=r"engine 'sdxl-magic' is unknown; available: .*navier-stokes.*patchmatch.*telea"
    ):
        get_engine("sdxl-magic")


@pytest.mark.parametrize(("name", "flag"), OPENCV)
def test_a_hole_in_a_flat_colour_gets_that_colour(name, flag):
    picture = np.full((64, 64, 3), (180, 60, 20), np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[20:44, 16:40] = 255
    picture[mask > 0] = (0, 255, 0)  # what was there before must not leak into the fill
    out = get_engine(name).fill(picture, mask, FillParams(engine=name), 0, Hooks())
    assert np.abs(out[mask > 0].astype(int) - (180, 60, 20)).max() <= 4


@pytest.mark.parametrize(("name", "flag"), OPENCV)
def test_the_engine_gives_the_librarys_pixels_through_the_pipeline(name, flag, astronaut, centre_mask):
    params = FillParams(engine=name, feather=0, seed=1)
    result = fill(astronaut, centre_mask, params)
    reference = cv2.inpaint(astronaut, centre_mask, 5, flag)
    hole = centre_mask > 0
    np.testing.assert_array_equal(result.pixels[hole], reference[hole])
    np.testing.assert_array_equal(result.pixels[~hole], astronaut[~hole])


@pytest.mark.parametrize("engine_class", [Telea, NavierStokes])
def test_hooks_report_progress(engine_class, astronaut, centre_mask):
    steps = []
    hooks = Hooks(on_step=lambda step, total, preview, stage: steps.append((step, total)))
    engine_class().fill(astronaut, centre_mask, FillParams(), 0, hooks)
    assert steps == [(1, 1)]


@pytest.mark.parametrize("engine_class", [Telea, NavierStokes])
def test_cancelled_before_it_starts(engine_class, astronaut, centre_mask):
    steps = []
    hooks = Hooks(on_step=lambda *a: steps.append(a), is_cancelled=lambda: True)
    with pytest.raises(Cancelled):
        engine_class().fill(astronaut, centre_mask, FillParams(), 0, hooks)
    assert steps == []
