"""Domain errors: raised by logic, rendered as problem+json (REST) or OperationOutcome (FHIR)."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    pointer: str  # JSON Pointer into the request body, e.g. "/birth_date"
    detail: str


class DomainError(Exception):
    """Base of every failure that the caller can act on. `code` is stable: it ends the type URI."""

    code = "domain-error"
    status = 400

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class InvalidInput(DomainError):
    code = "invalid-input"
    status = 422


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


class NotFound(DomainError):
    code = "not-found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class PreconditionFailed(DomainError):
    code = "precondition-failed"
    status = 412


class PreconditionRequired(DomainError):
    code = "precondition-required"
    status = 428


@dataclass
class ErrorList:
    """Collects field errors so a request reports all of them at once."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, pointer: str, detail: str) -> None:
        self.errors.append(FieldError(pointer, detail))

    def raise_if_any(self, detail: str = "The request has invalid fields.") -> None:
        if self.errors:
            raise InvalidInput(detail, errors=self.errors)
