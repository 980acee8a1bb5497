"""How much of the OpenAPI document teaches: operations with a written summary or a
description, fields with a description, request bodies with an example, tags with a
description (issue 25). `.venv/bin/python -m tests.openapi_coverage [openapi.json]` prints the
counts; tests/api/test_openapi_docs.py asserts the rules they measure."""

import json
import re
import sys
from collections.abc import Iterator
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def generated_summary(method: str, path: str, operation: dict[str, Any]) -> str:
    """FastAPI's fallback summary: the operation id's function name, title-cased."""
    name = str(operation.get("operationId", ""))
    suffix = re.sub(r"\W", "_", path) + "_" + method
    name = name.removesuffix(suffix)
    return name.replace("_", " ").title()


def has_written_summary(method: str, path: str, operation: dict[str, Any]) -> bool:
    summary = operation.get("summary", "")
    return len(summary.split()) >= 2 and summary != generated_summary(method, path, operation)


def fields(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        for field, prop in schema.get("properties", {}).items():
            yield name, field, prop


def request_bodies(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for method, path, operation in operations(document):
        body = operation.get("requestBody")
        if body is not None:
            yield method, path, body


def body_has_example(document: dict[str, Any], body: dict[str, Any]) -> bool:
    for media in body.get("content", {}).values():
        if media.get("example") is not None or media.get("examples"):
            return True
        schema = media.get("schema", {})
        ref = schema.get("$ref")
        if ref:
            schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        if schema.get("examples") or schema.get("example") is not None:
            return True
    return False


def counts(document: dict[str, Any]) -> dict[str, tuple[int, int]]:
    ops = list(operations(document))
    props = list(fields(document))
    bodies = list(request_bodies(document))
    tags = document.get("tags", [])
    return {
        "operations with a written summary": (
            sum(has_written_summary(m, p, o) for m, p, o in ops),
            len(ops),
        ),
        "operations with a description": (
            sum(bool(o.get("description")) for _, _, o in ops),
            len(ops),
        ),
        "operations with exactly one tag": (
            sum(len(o.get("tags", [])) == 1 for _, _, o in ops),
            len(ops),
        ),
        "fields with a description": (
            sum(bool(p.get("description")) for _, _, p in props),
            len(props),
        ),
        "request bodies with an example": (
            sum(body_has_example(document, b) for _, _, b in bodies),
            len(bodies),
        ),
        "tags with a description": (sum(bool(t.get("description")) for t in tags), len(tags)),
    }


def main() -> None:
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as file:
            document = json.load(file)
    else:
        from service.main import create_app

        document = create_app().openapi()
    for label, (have, total) in counts(document).items():
        print(f"{label}: {have} of {total}")  # noqa: T201


if __name__ == "__main__":
    main()
