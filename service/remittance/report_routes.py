"""REST routes: bookkeeping reports of remittances (balances, aging, deposits, batches) as JSON,
CSV or XLSX."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from sqlmodel import Session

from service import org_clock
from service.api import tags
from service.api.problems import problem_responses
from service.audit import logic as audit
from service.auth.logic import Principal
from service.db import SessionDep
from service.errors import InvalidInput
from service.remittance import export, reports
from service.remittance.route_roles import Reader, local_today
from service.remittance.schemas import (
    QueryDate,
)

remittance_reports = APIRouter(prefix="/api/v1/remittance-reports", tags=[tags.REMITTANCE])


Format = Literal["json", "csv", "xlsx"]
XLSX = export.XLSX


def _respond(
    session: Session, user: Principal, table: reports.Table, name: str, fmt: Format
) -> Any:
    audit.record(
        session,
        user,
        action="export" if fmt != "json" else "query",
        resource_type="remittance_report",
        detail=f"{name} {fmt} {table.params}",
    )
    if fmt == "json":
        return export.to_json(table)
    body, media, filename = export.download(table, name, fmt, local_today(session, user))
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


_REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **problem_responses(401, 403, 422),
    200: {
        "description": "the report (JSON, or CSV/XLSX with ?format=)",
        "content": {"application/json": {}, "text/csv": {}, XLSX: {}},
    },
}


@remittance_reports.get(
    "/balances", summary="Report balances by payer or patient", responses=_REPORT_RESPONSES
)
def balances_report(
    session: SessionDep,
    user: Reader,
    by: Annotated[Literal["payer", "patient"], Query()] = "payer",
    format: Annotated[Format, Query()] = "json",
) -> Any:
    """Charges, payments, adjustments, patient responsibility and what payers still owe."""
    return _respond(
        session, user, reports.balances(session, user.organization_id, by=by), "balances", format
    )


@remittance_reports.get("/aging", summary="Report claims A/R aging", responses=_REPORT_RESPONSES)
def aging_report(
    session: SessionDep,
    user: Reader,
    by: Annotated[Literal["payer", "patient"], Query()] = "payer",
    as_of: Annotated[
        QueryDate | None, Query(description="default: today in the organization's zone")
    ] = None,
    basis: Annotated[Literal["service", "submission"], Query()] = "service",
    format: Annotated[Format, Query()] = "json",
) -> Any:
    """A/R in buckets 0-30, 31-60, 61-90, 91-120, 120+ days from the date of service (or of
    first submission); by payer what payers owe, by patient what patients owe."""
    day = as_of or local_today(session, user)
    table = reports.aging(
        session,
        user.organization_id,
        by=by,
        as_of=day,
        basis=basis,
        local_date=lambda at: org_clock.local_date(session, user.organization_id, at),
    )
    return _respond(session, user, table, "aging", format)


@remittance_reports.get(
    "/deposits", summary="Report 835 payments by deposit", responses=_REPORT_RESPONSES
)
def deposits_report(
    session: SessionDep,
    user: Reader,
    date_from: QueryDate | None = None,
    date_to: QueryDate | None = None,
    format: Annotated[Format, Query()] = "json",
) -> Any:
    """One row per 835 payment (TRN02 trace number, BPR amount and date): bank reconciliation."""
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("date_from is after date_to.")
    table = reports.deposits(session, user.organization_id, date_from=date_from, date_to=date_to)
    return _respond(session, user, table, "deposits", format)


@remittance_reports.get(
    "/batches", summary="Report claim batch totals", responses=_REPORT_RESPONSES
)
def batches_report(
    session: SessionDep, user: Reader, format: Annotated[Format, Query()] = "json"
) -> Any:
    """Per claim batch: billed, paid, adjusted, patient responsibility, outstanding."""
    return _respond(
        session, user, reports.batch_totals(session, user.organization_id), "batches", format
    )
