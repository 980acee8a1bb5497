"""REST routes for specimens under /api/v1/specimens, and the turnaround report."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlmodel import Session

from service import display_names, org_clock
from service.api import tags
from service.api.deps import Paging, RoleGuard, set_etag
from service.api.idempotency import IdempotencyDep
from service.api.problems import problem_responses
from service.auth.logic import Principal
from service.db import SessionDep
from service.labtests.roles import SPECIMEN_READERS, SPECIMEN_WRITERS
from service.schemas_common import DateOrInstant
from service.specimens import custody as specimen_custody
from service.specimens import logic, repository, turnaround
from service.specimens import preparation as specimen_preparation
from service.specimens.models import Specimen
from service.specimens.schemas import (
    ChildCreate,
    Collection,
    Disposal,
    Lineage,
    Move,
    Receipt,
    Rejection,
    SpecimenCreate,
    SpecimenEventPage,
    SpecimenEventRead,
    SpecimenFilters,
    SpecimenPage,
    SpecimenRead,
    SpecimenTestRead,
    SpecimenTurnaround,
    StepCreate,
    StepResult,
    TurnaroundReport,
)

router = APIRouter(prefix="/api/v1/specimens", tags=[tags.SPECIMENS])
reports = APIRouter(prefix="/api/v1/reports", tags=[tags.SPECIMENS])

Reader = Annotated[Principal, Depends(RoleGuard(SPECIMEN_READERS))]
Writer = Annotated[Principal, Depends(RoleGuard(SPECIMEN_WRITERS))]
# 400: malformed JSON body; 415: a body that is not JSON (RequestGuards).
ACTION = problem_responses(400, 401, 403, 404, 409, 412, 415, 422)


def to_read(session: Session, specimen: Specimen) -> SpecimenRead:
    read = SpecimenRead.model_validate(specimen)
    read.tests = [
        SpecimenTestRead.model_validate(t) for t in repository.tests_of(session, [specimen.id])
    ]
    return read


def _answer(session: Session, specimen: Specimen, response: Response) -> SpecimenRead:
    set_etag(response, specimen.version)
    return to_read(session, specimen)


def _now() -> datetime:
    return datetime.now(UTC)


def _location(body: dict[str, Any]) -> str:
    return f"{router.prefix}/{body['id']}"


@router.post(
    "",
    summary="Accession a specimen for a lab order",
    status_code=201,
    response_model=SpecimenRead,
    responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
)
def accession(
    data: SpecimenCreate,
    session: SessionDep,
    user: Writer,
    response: Response,
    idempotency: IdempotencyDep,
) -> SpecimenRead | Response:
    """Accession a specimen: a new accession number (YY-NNNNNN), status `ordered` or `collected`."""
    if replay := idempotency.replay_or_claim(session, user.organization_id, _location):
        return replay
    specimen = logic.accession_specimen(session, user, data, at=_now())
    read = _answer(session, specimen, response)
    idempotency.remember(session, 201, read)
    response.headers["Location"] = _location({"id": specimen.id})
    return read


@router.get("", summary="List specimens", responses=problem_responses(401, 403, 422))
def list_specimens(
    session: SessionDep, user: Reader, paging: Paging, filters: Annotated[SpecimenFilters, Query()]
) -> SpecimenPage:
    """Newest first by default; `sort`: created_at, accession (`-` descending). Filters: status,
    test (id or code), collection days, patient, order, accession."""
    page = logic.list_specimens(
        session,
        user,
        filters,
        limit=paging.limit,
        cursor=paging.cursor,
        sort=paging.sort,
    )
    names = display_names.patients(session, (s.patient_id for s in page.items))
    items = []
    for specimen in page.items:
        read = to_read(session, specimen)
        if name := names.get(specimen.patient_id):
            read.patient_name, read.patient_mrn = name.name, name.mrn
        items.append(read)
    return SpecimenPage(items=items, next_cursor=page.next_cursor)


@router.get(
    "/by-accession/{accession}",
    summary="Read a specimen by its accession number",
    responses=problem_responses(401, 403, 404, 422),
)
def read_by_accession(
    accession: Annotated[str, Path(min_length=1, max_length=24)],
    session: SessionDep,
    user: Reader,
    response: Response,
) -> SpecimenRead:
    """The specimen whose label carries `accession` (a barcode scan); `/{id}` stays id-only."""
    return _answer(session, logic.get_specimen_by_accession(session, user, accession), response)


@router.get("/{specimen_id}", summary="Read a specimen", responses=problem_responses(401, 403, 404))
def read(specimen_id: str, session: SessionDep, user: Reader, response: Response) -> SpecimenRead:
    return _answer(session, logic.get_specimen(session, user, specimen_id), response)


@router.post(
    "/{specimen_id}/collection", summary="Record a specimen's collection", responses=ACTION
)
def collect(
    specimen_id: str, data: Collection, session: SessionDep, user: Writer, response: Response
) -> SpecimenRead:
    specimen = logic.collect_specimen(session, user, specimen_id, data, at=_now())
    return _answer(session, specimen, response)


@router.post("/{specimen_id}/receipt", summary="Receive a specimen in the lab", responses=ACTION)
def receive(
    specimen_id: str, data: Receipt, session: SessionDep, user: Writer, response: Response
) -> SpecimenRead:
    specimen = specimen_custody.receive_specimen(session, user, specimen_id, data, at=_now())
    return _answer(session, specimen, response)


@router.post(
    "/{specimen_id}/steps",
    summary="Record a preparation step on a specimen",
    status_code=201,
    response_model=StepResult,
    responses=ACTION,
)
def record_step(
    specimen_id: str,
    data: StepCreate,
    session: SessionDep,
    user: Writer,
    idempotency: IdempotencyDep,
) -> StepResult | Response:
    """A preparation step, checked against the protocol of the specimen's tests."""
    if replay := idempotency.replay_or_claim(session, user.organization_id):
        return replay
    specimen, deviations = specimen_preparation.record_step(
        session, user, specimen_id, data, at=_now()
    )
    result = StepResult(
        specimen=to_read(session, specimen), deviation=bool(deviations), deviations=deviations
    )
    idempotency.remember(session, 201, result)
    return result


@router.post(
    "/{specimen_id}/rejection",
    summary="Reject a specimen (optionally order a recollection)",
    responses=ACTION,
)
def reject(
    specimen_id: str, data: Rejection, session: SessionDep, user: Writer, response: Response
) -> SpecimenRead:
    """Reject with a reason; `recollect: true` adds a new specimen (`ordered`) on the order,
    named in the `Link` header."""
    specimen, recollection = specimen_custody.reject_specimen(
        session, user, specimen_id, data, at=_now()
    )
    if recollection is not None:
        response.headers["Link"] = f'<{router.prefix}/{recollection.id}>; rel="recollection"'
    return _answer(session, specimen, response)


@router.post(
    "/{specimen_id}/children",
    summary="Take an aliquot, block or slide from a specimen",
    status_code=201,
    response_model=SpecimenRead,
    responses=ACTION,
)
def take_child(
    specimen_id: str,
    data: ChildCreate,
    session: SessionDep,
    user: Writer,
    response: Response,
    idempotency: IdempotencyDep,
) -> SpecimenRead | Response:
    """An aliquot, block or slide (accession suffix -A1, -B1, -S1)."""
    if replay := idempotency.replay_or_claim(session, user.organization_id, _location):
        return replay
    child = specimen_custody.take_child(session, user, specimen_id, data, at=_now())
    response.headers["Location"] = _location({"id": child.id})
    read = _answer(session, child, response)
    idempotency.remember(session, 201, read)
    return read


@router.post(
    "/{specimen_id}/location", summary="Move a specimen to another location", responses=ACTION
)
def move(
    specimen_id: str, data: Move, session: SessionDep, user: Writer, response: Response
) -> SpecimenRead:
    return _answer(
        session,
        specimen_custody.move_specimen(session, user, specimen_id, data, at=_now()),
        response,
    )


@router.post("/{specimen_id}/storage", summary="Store a specimen", responses=ACTION)
def store(
    specimen_id: str, data: Move, session: SessionDep, user: Writer, response: Response
) -> SpecimenRead:
    return _answer(
        session,
        specimen_custody.store_specimen(session, user, specimen_id, data, at=_now()),
        response,
    )


@router.post("/{specimen_id}/disposal", summary="Dispose of a specimen", responses=ACTION)
def dispose(
    specimen_id: str, data: Disposal, session: SessionDep, user: Writer, response: Response
) -> SpecimenRead:
    specimen = specimen_custody.dispose_specimen(session, user, specimen_id, data, at=_now())
    return _answer(session, specimen, response)


@router.get(
    "/{specimen_id}/events",
    summary="List a specimen's chain of custody",
    responses=problem_responses(401, 403, 404, 422),
)
def events(
    specimen_id: str, session: SessionDep, user: Reader, paging: Paging
) -> SpecimenEventPage:
    """The chain of custody, oldest first."""
    page = logic.list_events(
        session, user, specimen_id, limit=paging.limit, cursor=paging.cursor, sort=paging.sort
    )
    return SpecimenEventPage(
        items=[SpecimenEventRead.model_validate(e) for e in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/{specimen_id}/lineage",
    summary="Read a specimen's parents and children",
    responses=problem_responses(401, 403, 404),
)
def lineage(specimen_id: str, session: SessionDep, user: Reader) -> Lineage:
    view = logic.lineage(session, user, specimen_id)
    return Lineage(
        specimen_id=specimen_id,
        ancestors=[to_read(session, s) for s in view.ancestors],
        descendants=[to_read(session, s) for s in view.descendants],
    )


@router.get(
    "/{specimen_id}/turnaround",
    summary="Read a specimen's turnaround times",
    responses=problem_responses(401, 403, 404),
)
def specimen_turnaround(specimen_id: str, session: SessionDep, user: Reader) -> SpecimenTurnaround:
    return turnaround.for_specimen(logic.get_specimen(session, user, specimen_id))


@router.get(
    "/{specimen_id}/label",
    summary="Print a specimen label (PNG, SVG or ZPL)",
    responses={
        **problem_responses(401, 403, 404, 422),
        200: {"content": {"image/png": {}, "image/svg+xml": {}, "text/plain": {}}},
    },
)
def label(
    specimen_id: str,
    session: SessionDep,
    user: Writer,
    format: Literal["png", "svg", "zpl"] = "png",
) -> Response:
    """The barcode label (Code 128 of the accession). Each print is a counted custody event."""
    body, media_type = logic.print_label(session, user, specimen_id, format, at=_now())
    specimen = logic.load(session, user, specimen_id)
    filename = f"label-{specimen.accession}.{format}"
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@reports.get(
    "/turnaround",
    summary="Report turnaround times by test",
    responses=problem_responses(401, 403, 422),
)
def turnaround_report(
    session: SessionDep,
    user: Reader,
    from_: Annotated[DateOrInstant, Query(alias="from")],
    to: DateOrInstant,
) -> TurnaroundReport:
    """Specimens collected in [from, to), by test and by bench. Each bound is an instant with
    its offset, or a plain date on the organization's clock: `from=2026-12-01` starts at local
    midnight, `to=2026-12-31` includes that whole day."""
    start = (
        from_
        if isinstance(from_, datetime)
        else org_clock.start_of_day(session, user.organization_id, from_)
    )
    end = (
        to
        if isinstance(to, datetime)
        else org_clock.start_of_day(session, user.organization_id, to + timedelta(days=1))
    )
    return turnaround.report(session, user, start, end)
