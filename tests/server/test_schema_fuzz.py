"""A bounded schemathesis run over every operation of the real server's OpenAPI schema, with requests that fit
the schema and requests that do not: no answer is a 500, what the schema refuses is refused, and every answer's
status, content type and body are the ones the schema documents. Fixed seed, so a failure
reproduces; `CASES_PER_OPERATION` keeps it to about half a minute on two busy cores.

(Driven through schemathesis' Python API, one hypothesis run per operation: its pytest plugin's lazy
schemas do not run under pytest 9.)"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.server.conftest import LiveServer

CASES_PER_OPERATION = 25
#: "a schema-valid request must be accepted" cannot hold here: the schema says an upload is bytes and a job
#: names an image id, and no schema says "a picture that decodes" or "an id that exists" (those are 422s
#: naming the field, as they should be). Every other check runs, the 500 check first.
NOT_CHECKED = [positive_data_acceptance]


def test_every_operation_answers_as_documented(server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9

    for operation in operations:

        @seed(18)
        @settings(
            max_examples=CASES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            print_blob=True,
        )
        @given(case=st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in GenerationMode)))
        def answers_as_documented(case: schemathesis.Case) -> None:
            case.call_and_validate(excluded_checks=NOT_CHECKED)

        answers_as_documented()
