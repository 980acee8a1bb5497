"""Liveness and readiness probes (no key needed: they reveal nothing about tenants)."""

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service import migrate
from service.api import tags

router = APIRouter(tags=[tags.HEALTH])


@router.get("/healthz", summary="Check that the service is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Check that the database is reachable and migrated",
    responses={503: {"description": "database unreachable or not migrated"}},
)
def readyz(request: Request) -> Any:
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        current = migrate.current_revision(engine)
    except sa.exc.SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    head = request.app.state.migration_head
    if current != head:
        body = {
            "status": "unavailable",
            "database": "not migrated",
            "current": current,
            "head": head,
        }
        return JSONResponse(body, status_code=503)
    return {"status": "ok", "database": "ok", "revision": current}
