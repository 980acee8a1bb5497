"""Uploads in /docs (issue 24): every operation that takes a file offers a file picker for the
form (`file` field) and for the raw body alike. Sending them is tested where each capability
lives (tests/results, tests/remittance)."""

from typing import Any

from fastapi import FastAPI

FILE_TYPES = {"text/csv", "text/plain", "application/edi-x12", "multipart/form-data"}


def _uploads(app: FastAPI) -> dict[str, dict[str, Any]]:
    found = {}
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if FILE_TYPES & set(content):
                found[f"{method.upper()} {path}"] = content
    return found


def test_every_upload_offers_a_file_picker_for_the_form_and_the_raw_body(app: FastAPI) -> None:
    uploads = _uploads(app)
    assert {"POST /api/v1/remittance-files", "POST /api/v1/result-imports"} <= set(uploads)
    for operation, content in uploads.items():
        form = content.get("multipart/form-data", {}).get("schema", {})
        assert form.get("properties", {}).get("file") == {"type": "string", "format": "binary"}, (
            operation
        )
        assert form.get("required") == ["file"], operation
        for media_type, body in content.items():
            if media_type != "multipart/form-data":
                assert body["schema"] == {"type": "string", "format": "binary"}, operation
