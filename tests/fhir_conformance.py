"""Every FHIR response the test suite produces is checked as it arrives: it must parse with
fhir.resources (R4B models) and break no ele-1 ("All FHIR elements must have a @value or
children"): no empty arrays, objects or strings anywhere. Installed on the `client` fixture
(tests/conftest.py) and on the async clients of the concurrency tests."""

import json
from typing import Any

import httpx

from service.fhir import resources

CHECKED = {"responses": 0}
# SMART discovery (/fhir/.well-known/smart-configuration) is plain JSON, not a FHIR resource.
WELL_KNOWN = "/fhir/.well-known/"


def ele1_violations(value: Any, path: str = "$") -> list[str]:
    """JSON paths of empty arrays, objects and strings (and nulls, which FHIR JSON forbids)."""
    found: list[str] = []
    if value is None or value == "" or value == [] or value == {}:
        return [path]
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "div" and isinstance(item, str):
                continue  # narrative XHTML: checked by the model
            found += ele1_violations(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += ele1_violations(item, f"{path}[{index}]")
    elif isinstance(value, str) and value.strip() == "":
        found.append(path)
    return found


def check_body(body: Any) -> None:
    problems = ele1_violations(body)
    assert not problems, f"ele-1: empty elements at {problems[:10]}"
    assert isinstance(body, dict), "not a JSON object"
    assert "resourceType" in body, "not a FHIR resource"
    resources.parse_outgoing(body)


def check_response(response: httpx.Response) -> None:
    """A /fhir answer with a JSON body (a 304 or return=minimal has none)."""
    path = response.request.url.path
    if not (path == "/fhir" or path.startswith("/fhir/")) or path.startswith(WELL_KNOWN):
        return
    response.read()
    if not response.content or "json" not in response.headers.get("content-type", ""):
        return
    check_body(json.loads(response.content))
    CHECKED["responses"] += 1


async def check_response_async(response: httpx.Response) -> None:
    path = response.request.url.path
    if path == "/fhir" or path.startswith("/fhir/"):
        await response.aread()
        check_response(response)
