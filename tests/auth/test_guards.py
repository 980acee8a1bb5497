"""Role guards and the sessions they authenticate on: one session per request, and the
read-only one (routes that write no audit row) cannot write."""

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from service.api.deps import CallerGuard
from service.auth.models import Organization
from service.db import SessionFactory, get_read_session, get_session
from service.main import ROUTERS


def _calls(dependant: Dependant) -> set[object]:
    found: set[object] = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _guard(dependant: Dependant) -> object:
    return next((c for c in _calls(dependant) if isinstance(c, CallerGuard)), None)


def _routes() -> list[APIRoute]:
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def test_no_route_opens_both_a_read_only_and_a_writing_session() -> None:
    """`allow(..., read_only=True)` goes with ReadSessionDep, `allow(...)` with SessionDep."""
    both = [
        route.path
        for route in _routes()
        if {get_session, get_read_session} <= _calls(route.dependant)
    ]
    assert both == []


def test_code_routes_use_the_read_only_session() -> None:
    code_routes = [r for r in _routes() if r.path.startswith("/api/v1/codes")]
    assert len(code_routes) == 3
    # The typeahead checks its caller in one read-only statement (CallerGuard), no session.
    typeahead = [r for r in code_routes if isinstance(_guard(r.dependant), CallerGuard)]
    assert [r.path for r in typeahead] == ["/api/v1/codes/{system}"]
    others = [r for r in code_routes if r not in typeahead]
    assert all(get_read_session in _calls(r.dependant) for r in others)


def test_a_read_only_session_refuses_to_write(session_factory: SessionFactory) -> None:
    with session_factory() as session:
        session.info["read_only"] = True
        session.add(Organization(name="Written by mistake"))
        with pytest.raises(RuntimeError, match="read-only"):
            session.flush()
        session.rollback()
