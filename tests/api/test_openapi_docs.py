"""The OpenAPI document teaches (issue 25): a summary that says what each operation does, tags
in workflow order with descriptions, one tag per operation, a worked example on every request
body that its schema accepts, and no example or description left over for a route that moved."""

from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from service.api import tags
from service.api.examples import REQUEST_EXAMPLES
from service.api.glossary import BY_SCHEMA
from tests import openapi_coverage

WORKFLOW = [
    "organization and users",
    "clinic directory",
    "patients and coverages",
    "lab tests and orders",
    "specimens",
    "worklists",
    "results",
    "encounters and coding",
    "code sets",
    "claims and batches",
    "remittance and denials",
    "patient money",
    "FHIR R4",
    "SMART backend clients",
    "notifications",
    "audit",
    "health",
]


# The `client` fixture is per test (a fresh database): each test fetches the document.
@pytest.fixture
def doc(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_every_operation_has_a_summary_that_is_not_its_function_name(
    doc: dict[str, Any],
) -> None:
    bare = [
        f"{method.upper()} {path}: {operation.get('summary')!r}"
        for method, path, operation in openapi_coverage.operations(doc)
        if not openapi_coverage.has_written_summary(method, path, operation)
    ]
    assert bare == []


def test_generated_record_routes_read_as_english(doc: dict[str, Any]) -> None:
    summaries = {o["summary"] for _, _, o in openapi_coverage.operations(doc)}
    assert "List facilities" in summaries
    assert "Read a patient by its MRN" in summaries
    assert "Read a provider by its NPI" in summaries
    assert "List the versions of an Encounter" in summaries
    assert not [s for s in summaries if s.endswith("itys") or " a E" in s]


def test_tags_come_in_workflow_order_each_with_a_description(doc: dict[str, Any]) -> None:
    assert [t["name"] for t in doc["tags"]] == WORKFLOW
    assert [t["name"] for t in doc["tags"] if len(t.get("description", "")) < 40] == []


def test_each_operation_sits_under_exactly_one_declared_tag(doc: dict[str, Any]) -> None:
    declared = {t["name"] for t in tags.OPENAPI_TAGS}
    wrong = [
        f"{method.upper()} {path}: {operation.get('tags')}"
        for method, path, operation in openapi_coverage.operations(doc)
        if len(operation.get("tags", [])) != 1 or operation["tags"][0] not in declared
    ]
    assert wrong == []
    used = {o["tags"][0] for _, _, o in openapi_coverage.operations(doc)}
    assert used == declared  # no tag without operations


def test_every_request_body_has_an_example(doc: dict[str, Any]) -> None:
    missing = [
        f"{method.upper()} {path}"
        for method, path, body in openapi_coverage.request_bodies(doc)
        if not openapi_coverage.body_has_example(doc, body)
    ]
    assert missing == []


def test_every_example_is_accepted_by_its_schema(doc: dict[str, Any]) -> None:
    checked = 0
    for _, _, body in openapi_coverage.request_bodies(doc):
        for media_type, media in body["content"].items():
            for example in media.get("examples", {}).values():
                schema = {**media["schema"], "components": doc["components"]}
                errors = [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(
                    example["value"]
                )]  # fmt: skip
                assert errors == [], (media_type, example["summary"])
                checked += 1
    assert checked >= len(REQUEST_EXAMPLES)


def test_examples_with_generated_ids_say_where_to_look_them_up() -> None:
    for key, example in REQUEST_EXAMPLES.items():
        if "<id of" in repr(example["value"]):
            assert "GET /api/v1/patients/by-mrn/D-1001" in example["description"], key


def test_no_example_or_field_description_names_a_route_or_field_that_is_gone(
    doc: dict[str, Any],
) -> None:
    bodies = {f"{m.upper()} {p}" for m, p, _ in openapi_coverage.request_bodies(doc)}
    assert sorted(set(REQUEST_EXAMPLES) - bodies) == []
    schemas = doc["components"]["schemas"]
    fields = {
        f"{name.removesuffix('-Input').removesuffix('-Output')}.{field}"
        for name, schema in schemas.items()
        for field in schema.get("properties", {})
    }
    assert sorted(set(BY_SCHEMA) - fields) == []


def test_the_counter_reports_what_the_document_teaches(doc: dict[str, Any]) -> None:
    counts = openapi_coverage.counts(doc)
    operations = counts["operations with a written summary"]
    assert operations[0] == operations[1] > 200
    assert (
        counts["request bodies with an example"][0] == counts["request bodies with an example"][1]
    )
    described, fields = counts["fields with a description"]
    assert described > fields // 2  # 76 of 1,154 before issue 25
