"""A job kind is registered once: its request, the API's unions and the kind list follow from `WORKFLOWS`."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from retouch.recipe import Strict
from retouch.server.schemas import JOB_ADAPTER, JOB_KINDS, JobPublic, _request_of
from retouch.workflows import WORKFLOWS, MaskInput

ID = "i" * 22


class TintParams(Strict):
    amount: float = Field(0.5, ge=0, le=1, description="How much.")


def test_a_kind_s_request_is_built_from_its_workflow_module():
    """What a new kind's module declares is what its API request is: named, described, bounded, strict."""
    tint = SimpleNamespace(
        kind="tint", summary="Tint a picture.", Params=TintParams, mask_input=MaskInput(True, "Where to tint.")
    )
    request = _request_of(tint)
    schema = request.model_json_schema()
    assert request.__name__ == "TintJob" and schema["description"] == "Tint a picture."
    assert set(schema["required"]) == {"kind", "image", "mask"}
    assert schema["properties"]["mask"]["description"] == "Where to tint."
    assert schema["properties"]["amount"]["maximum"] == 1
    job = request(kind="tint", image=ID, mask=ID, amount=0.2)
    assert job.mask_id() == ID and job.priority == 0
    with pytest.raises(ValidationError, match="amount"):
        request(kind="tint", image=ID, mask=ID, amount=2)
    with pytest.raises(ValidationError, match="colour"):
        request(kind="tint", image=ID, mask=ID, colour="red")  # a misspelled or unknown field is refused


def test_every_registered_workflow_is_a_kind_of_the_api_and_a_fill_is_the_default():
    assert list(JOB_KINDS) == list(WORKFLOWS)
    assert all(JOB_KINDS[kind].__name__ == f"{kind.capitalize()}Job" for kind in WORKFLOWS)
    assert JOB_ADAPTER.validate_python({"image": ID, "mask": ID}).kind == "fill"
    assert JOB_ADAPTER.validate_python({"kind": "upscale", "image": ID}).mask_id() is None
    for kind in ("tint", {"a": 1}, ["fill"]):  # an object or a list is refused as a bad kind too, not a crash
        with pytest.raises(ValidationError, match="kind must be one of fill, upscale, faces, seams"):
            JOB_ADAPTER.validate_python({"kind": kind, "image": ID})
    assert all(kind in JobPublic.model_fields["kind"].description for kind in WORKFLOWS)
    TypeAdapter(JobPublic)  # the answer's schema builds
