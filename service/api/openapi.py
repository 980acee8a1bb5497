"""The OpenAPI document, with what pydantic leaves out of it filled in."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from service.api.examples import REQUEST_EXAMPLES
from service.api.glossary import describe_fields

# What `Decimal` fields accept as text (money "125.00", volumes "1.5"). Pydantic documents the
# string branch of a Decimal as any string, so a client (or a fuzzer) reading the schema could
# send "" or "abc" and meet a 422 the document did not announce.
# (Exponents of at most six digits: pydantic refuses one that overflows a 64-bit integer.)
DECIMAL_TEXT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,6})?$"


def _pattern_decimal_strings(node: Any) -> None:
    if isinstance(node, dict):
        branches = node.get("anyOf")
        if isinstance(branches, list):
            types = [b.get("type") for b in branches if isinstance(b, dict)]
            if "number" in types and "string" in types:
                for branch in branches:
                    if branch.get("type") == "string" and "pattern" not in branch:
                        branch["pattern"] = DECIMAL_TEXT
        for value in node.values():
            _pattern_decimal_strings(value)
    elif isinstance(node, list):
        for value in node:
            _pattern_decimal_strings(value)


def _document_unknown_query_refusal(document: dict[str, Any]) -> None:
    """Every REST GET answers 400 for an unknown query parameter (api/query_params.py)."""
    for path, operations in document.get("paths", {}).items():
        get = operations.get("get") if path.startswith("/api/") else None
        if get is not None and "400" not in get.get("responses", {}):
            get.setdefault("responses", {})["400"] = {
                "description": "bad-request: an unknown query parameter",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }


def _add_request_examples(document: dict[str, Any]) -> None:
    """Each request body gets its worked example (service/api/examples.py) under every media
    type but the multipart form, whose one field is the file itself."""
    for key, example in REQUEST_EXAMPLES.items():
        method, path = key.split(" ", 1)
        operation = document.get("paths", {}).get(path, {}).get(method.lower(), {})
        content = operation.get("requestBody", {}).get("content", {})
        for media_type, media in content.items():
            if media_type != "multipart/form-data":
                # A copy: some media objects are module constants shared by several routes.
                content[media_type] = {**media, "examples": {"demo": example}}


def documented(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """`app.openapi`: FastAPI's document (cached by FastAPI), decimal strings patterned."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            _pattern_decimal_strings(document)
            _document_unknown_query_refusal(document)
            _add_request_examples(document)
            describe_fields(document)
        assert app.openapi_schema is not None
        return app.openapi_schema

    return openapi
