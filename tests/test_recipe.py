"""The recipe schema: what the command line, the API and the PNG all accept and write."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from retouch.recipe import BBox, FillParams, Infill, Scale, describe_validation_error


def _message(**fields) -> str:
    with pytest.raises(ValidationError) as caught:
        FillParams(**fields)
    return describe_validation_error(caught.value)


def test_defaults():
    params = FillParams()
    assert (params.engine, params.bbox, params.padding, params.feather, params.seed) == ("patchmatch", None, 32, 4, -1)
    assert params.infill.method == "patchmatch" and params.scale.mode == "auto"


def test_misspelled_field_is_refused_not_ignored():
    message = _message(feathr=3)
    assert message == "feathr: unknown field (check the spelling) (got 3)"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"feather": 300}, "feather: Input should be less than or equal to 256 (got 300)"),
        ({"seed": -2}, "seed: Input should be greater than or equal to -1 (got -2)"),
        ({"strength": 1.7}, "strength: Input should be less than or equal to 1 (got 1.7)"),
        ({"guidance": float("nan")}, "guidance: Input should be a finite number"),
        ({"infill": {"method": "smudge"}}, "infill.method: Input should be"),
        ({"infill": {"color": "red"}}, "infill.color: String should match pattern"),
        ({"scale": {"mode": "manual", "width": 64}}, "scale: scale mode manual needs both width and height"),
        ({"engine": ""}, "engine: String should have at least 1 character"),
    ],
)
def test_bad_values_are_named_with_what_is_allowed(fields, named):
    assert named in _message(**fields)


def test_several_bad_fields_are_all_named():
    message = _message(feather=-1, grow=999)
    assert "feather:" in message and "grow:" in message and "; " in message


def test_bbox_parse():
    assert BBox.parse("1, 2,30,40") == BBox(x=1, y=2, width=30, height=40)
    assert BBox.parse(" AUTO ") == "auto"
    with pytest.raises(ValueError, match=r"bbox must be X,Y,W,H \(four integers\) or auto, got '1,2,3'"):
        BBox.parse("1,2,3")
    with pytest.raises(ValueError, match="got '1.5,2,3,4'"):
        BBox.parse("1.5,2,3,4")
    with pytest.raises(ValidationError, match="width"):
        BBox.parse("0,0,0,10")


def test_scale_parse():
    assert Scale.parse("none").mode == "none"
    assert Scale.parse("Auto").mode == "auto"
    assert Scale.parse("768x512") == Scale(mode="manual", width=768, height=512)
    with pytest.raises(ValueError, match=r"scale must be none, auto or WxH .* got 'huge'"):
        Scale.parse("huge")
    with pytest.raises(ValidationError, match="greater than or equal to 8"):
        Scale.parse("4x4")


def test_infill_colour():
    assert Infill(color="#FF8000").rgb() == (255, 128, 0)


def test_recipe_round_trips_through_json():
    params = FillParams(engine=" telea ", bbox=BBox(x=1, y=2, width=3, height=4), seed=9, scale=Scale.parse("64x32"))
    assert params.engine == "telea"
    again = FillParams.model_validate_json(params.model_dump_json())
    assert again == params
    assert FillParams.model_validate({"bbox": "auto"}).bbox == "auto"
