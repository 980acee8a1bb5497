"""The current request's id, for log lines and audit events (set by the HTTP middleware), and
what the layers answering before routing read of a request (service/api/fast_reads.py)."""

from contextvars import ContextVar
from typing import Any

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


def authorization(scope: Any) -> str | None:
    """The Authorization header of an ASGI HTTP scope, as Starlette's Headers reads it."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            text: str = value.decode("latin-1")
            return text
    return None
