"""Schema-driven property tests: schemathesis generates requests for every operation of the API's own OpenAPI
document, sends them to the real server on 127.0.0.1, and checks no 5xx and no response outside the schema
(status code, content type, body schema)."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from api_support import api_env, publish_watched_accounts, running_api
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

# Excluded: positive_data_acceptance expects every schema-valid request to succeed, but whether a string is a
# video URL, or an id names a tracked video, is not something a JSON schema can say: those are 422/404 by design.
# Every other check runs: no 5xx, documented status codes, content types, headers and body schemas.


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with (
        api_env(
            tmp_path_factory.mktemp("schema"), VIEWTRAIL_API_RATE_PER_MIN="1000000", VIEWTRAIL_LOCK_TIMEOUT_S="30"
        ) as data,
        running_api() as api,
    ):
        publish_watched_accounts(data)  # accounts and creators with built marts, for their reads
        api.test_key = api.key("admin", "schemathesis")
        with api.client(api.test_key) as c:  # something to find: ids schemathesis may hit, labels, a history
            c.post(
                "/v1/videos/bulk",
                json={"urls": ["https://youtu.be/dQw4w9WgXcQ", "x:1790000000000000000"], "labels": ["launch"]},
            )
        yield api


def operations(url: str):
    document = schemathesis.openapi.from_url(f"{url}/v1/openapi.json")
    for result in document.get_all_operations():
        yield result.ok()


def test_every_operation_answers_within_its_schema(server):
    """For each operation: generated cases (valid and not) never get a 5xx or a response the schema does not
    allow. One hypothesis run per operation, so a failure names its operation."""
    checked = []
    for operation in operations(server.url):

        @settings(
            max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
        )
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(
                base_url=server.url,
                headers={"Authorization": f"Bearer {server.test_key}"},
                excluded_checks=[positive_data_acceptance],
            )

        run()
        checked.append(operation.label)
    assert len(checked) >= 21, checked


def test_the_document_is_openapi_3_1_with_problem_responses(server):
    document = httpx.get(f"{server.url}/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if int(code) >= 400}
            assert errors, (method, path)
            for response in errors.values():
                assert list(response["content"]) == ["application/problem+json"], (method, path)
