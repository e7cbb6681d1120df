"""schemathesis fuzzes the served OpenAPI document: no request may break the API.

Every generated request (valid or not, as several roles) must get an answer that
is not a server error and matches the document: content type and body schema.
(schemathesis's pytest loader `from_fixture` needs a pytest-private attribute
that pytest 9 removed, so the operations' strategies are driven directly.)
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

# Fuzzing once is enough; the engines are compared by the other tests.
pytestmark = [pytest.mark.slow, pytest.mark.only_engine("sqlite")]
ROLES = ("admin", "client", "owner", "reviewer", "li")
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


def test_no_request_breaks_the_api(app, cast):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def answers_properly(case):
            for role in ROLES:
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {cast.tokens[role]}"}, checks=CHECKS
                )

        answers_properly()
