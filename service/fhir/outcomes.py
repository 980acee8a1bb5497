"""OperationOutcome: how every FHIR error is shown (issue.severity, code, diagnostics and the
FHIRPath `expression` of the element at fault)."""

from typing import Any

from service.errors import DomainError, FieldError, InvalidInput, PreconditionFailed

# FHIR IssueType (http://hl7.org/fhir/issue-type) per HTTP status.
_ISSUE_CODES = {
    400: "invalid",
    401: "security",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
    428: "conflict",
    503: "transient",
}


class NotSupported(DomainError):
    """A FHIR feature this server does not offer (listed in the CapabilityStatement)."""

    code = "not-supported"
    status = 400


class UpdateCreateNotSupported(DomainError):
    """PUT to an id that does not exist: update-as-create is off (FHIR 3.1.0.4.2: 405)."""

    code = "update-create-not-supported"
    status = 405


class MultipleMatches(PreconditionFailed):
    """Conditional create: the If-None-Exist criteria match more than one resource."""

    code = "multiple-matches"


class FhirInvalid(InvalidInput):
    """Business rules of the mapping (FHIR 422): pointers hold FHIRPath expressions."""

    code = "invalid-resource"


def invalid(expression: str, detail: str, *, status: int = 422) -> FhirInvalid:
    error = FhirInvalid(f"{expression}: {detail}", errors=[FieldError(expression, detail)])
    error.status = status
    return error


def issue_code(status: int, exc: DomainError | None = None) -> str:
    if isinstance(exc, MultipleMatches):
        return "multiple-matches"
    if isinstance(exc, NotSupported):
        return "not-supported"
    if status == 422 and exc is not None and exc.errors:
        return "invalid"
    if status >= 500:
        return "exception"
    return _ISSUE_CODES.get(status, "processing")


def operation_outcome(
    status: int,
    diagnostics: str,
    errors: list[FieldError] | None = None,
    *,
    code: str | None = None,
) -> dict[str, Any]:
    """One issue per bad element (or one for the whole request)."""
    issue_type = code or issue_code(status)
    severity = "error" if status < 500 else "fatal"
    issues: list[dict[str, Any]] = []
    for error in errors or []:
        issue: dict[str, Any] = {
            "severity": severity,
            "code": issue_type,
            "diagnostics": error.detail,
        }
        # Shared code names fields by JSON Pointer ("/x"); FHIR code by FHIRPath ("Patient.x").
        if error.pointer and not error.pointer.startswith("/"):
            issue["expression"] = [error.pointer]
        issues.append(issue)
    if issues:
        issues[0]["diagnostics"] = f"{diagnostics} {issues[0]['diagnostics']}".strip()
        if len(issues) == 1 and errors and errors[0].detail in diagnostics:
            issues[0]["diagnostics"] = diagnostics
    else:
        issues.append({"severity": severity, "code": issue_type, "diagnostics": diagnostics})
    return {"resourceType": "OperationOutcome", "issue": issues}


def outcome_for(exc: DomainError) -> tuple[int, dict[str, Any]]:
    return exc.status, operation_outcome(
        exc.status, exc.detail, exc.errors, code=issue_code(exc.status, exc)
    )


def informational(diagnostics: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": diagnostics}],
    }
