"""The current request's id, for log lines and audit events (set by the HTTP middleware), and
what the layers answering before routing read of a request (service/api/fast_reads.py)."""

from contextvars import ContextVar
from typing import Any

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


def header(scope: Any, wanted: bytes) -> str | None:
    """A header of an ASGI HTTP scope (`wanted` in lower case), as Starlette's Headers reads it."""
    for name, value in scope["headers"]:
        if name == wanted:
            text: str = value.decode("latin-1")
            return text
    return None


def authorization(scope: Any) -> str | None:
    return header(scope, b"authorization")
