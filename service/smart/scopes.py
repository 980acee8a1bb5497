"""SMART v2 system scopes (`system/DiagnosticReport.rs`, `system/*.cruds`; v1 `.read`/`.write`
accepted) and what a request needs of them.

Scopes narrow a client, they never widen it: every request is still checked against the roles
of the client's integration user. Access tokens are for the FHIR API only."""

from dataclasses import dataclass

from service.errors import InvalidInput, PermissionDenied

PERMISSIONS = "cruds"  # SMART v2: create, read, update, delete, search, in this order
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}


class ScopeInvalid(InvalidInput):
    code = "scope-invalid"


class ScopeTooNarrow(PermissionDenied):
    code = "scope-too-narrow"


@dataclass(frozen=True)
class Scope:
    resource_type: str  # "*" for every type
    permissions: frozenset[str]

    def covers(self, other: "Scope") -> bool:
        return self.resource_type in ("*", other.resource_type) and (
            other.permissions <= self.permissions
        )

    def __str__(self) -> str:
        letters = "".join(p for p in PERMISSIONS if p in self.permissions)
        return f"system/{self.resource_type}.{letters}"


def parse(text: str) -> Scope:
    """`system/Observation.rs` -> Scope; anything else (patient/, user/, launch) is refused:
    a backend service has no user and no patient context."""
    context, _, rest = text.partition("/")
    resource_type, _, letters = rest.partition(".")
    if context != "system" or not resource_type or not letters:
        raise ScopeInvalid(f"{text!r} is not a system scope like system/DiagnosticReport.rs.")
    if not (resource_type == "*" or (resource_type.isalpha() and resource_type.isascii())):
        raise ScopeInvalid(f"{text!r} names no resource type.")
    letters = _V1.get(letters, letters)
    in_order = "".join(p for p in PERMISSIONS if p in letters)
    if not letters or in_order != letters:
        raise ScopeInvalid(f"{text!r}: permissions are some of c, r, u, d, s, in that order.")
    return Scope(resource_type, frozenset(letters))


def parse_all(text: str) -> list[Scope]:
    return [parse(item) for item in text.split()]


def grant(requested: str, allowed: str) -> list[Scope]:
    """The requested scopes the registration allows (RFC 6749 §3.3: the server may grant
    fewer than asked; the answer's `scope` says which)."""
    registered = parse_all(allowed)
    return [s for s in parse_all(requested) if any(r.covers(s) for r in registered)]


def needed(method: str, path: str) -> Scope | None:
    """The scope a FHIR request needs; None for a path outside /fhir (refused to tokens).

    A transaction or batch Bundle may touch any type: it needs `system/*.cruds` less delete."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] != "fhir":
        return None
    if len(parts) == 1:
        return Scope("*", frozenset("crus"))
    resource_type, rest = parts[1], parts[2:]
    method = method.upper()
    if method in ("GET", "HEAD"):
        letter = "s" if not rest else "r"  # read, vread and history are reads
    elif method == "POST":
        letter = "s" if rest[:1] == ["_search"] else "c"
    elif method in ("PUT", "PATCH"):
        letter = "u"
    else:
        letter = "d"
    return Scope(resource_type, frozenset(letter))


def refuse_outside(granted: frozenset[str] | None, method: str, path: str) -> None:
    """403 unless one granted scope covers the request. `None`: an API key, not scoped."""
    if granted is None:
        return
    need = needed(method, path)
    if need is None:
        raise ScopeTooNarrow("SMART access tokens are for the FHIR API (/fhir); use an API key.")
    if not any(parse(g).covers(need) for g in granted):
        raise ScopeTooNarrow(
            f"The token's scopes ({' '.join(sorted(granted))}) do not allow this; it needs {need}."
        )
