"""The current request's id, for log lines and audit events (set by the HTTP middleware)."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
