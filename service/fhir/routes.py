"""The /fhir router, generated from mapping.REGISTRY: metadata, transaction/batch (with
Idempotency-Key), and for each type create (conditional), read, vread, history, update
(If-Match; conditional), search (GET or POST _search)."""

from functools import partial
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Header, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from service.api import tags
from service.api.deps import AuditedReadRoleGuard, RoleGuard
from service.api.idempotency import IdempotencyDep
from service.auth.logic import Principal
from service.auth.roles import ALL_ROLES
from service.db import AuditedReadSessionDep, SessionDep, run_audited_read
from service.errors import InvalidInput
from service.fhir import fast_routes, interactions, subsetting, transactions
from service.fhir.http import (
    FHIR_JSON,
    FhirResponse,
    FhirRoute,
    UnsupportedMediaType,
    base_url,
    check_format,
    prefer,
    read_json,
    written_response,
)
from service.fhir.mapping import REGISTRY
from service.fhir.mapping.base import FhirType

router = APIRouter(prefix="/fhir", tags=[tags.FHIR], route_class=FhirRoute)

_FHIR: dict[str, Any] = {"content": {"application/fhir+json": {}}}


class UpdateNeedsCriteria(InvalidInput):
    code = "update-needs-criteria"
    status = 400


def _outcomes(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the OperationOutcome errors a route answers (FhirRoute renders them)."""
    return {s: {"description": "OperationOutcome", **_FHIR} for s in statuses}


# 401 no key, 403 role, 406 `_format`, 400 invalid FHIR or search, 415 not JSON, 422 rules.
_READ_ERRORS = _outcomes(400, 401, 403, 404, 406)
_WRITE_ERRORS = _outcomes(400, 401, 403, 404, 406, 409, 412, 415, 422)


@router.get(
    "/metadata",
    summary="Read the FHIR CapabilityStatement",
    responses={200: _FHIR, **_outcomes(406)},
)
def metadata(request: Request) -> Response:
    check_format(request)
    return FhirResponse(interactions.capability_statement(base_url(request), request.app.version))


# Each entry is checked against its own type's roles; the route lets every role in.
BundleUser = Annotated[Principal, Depends(RoleGuard(ALL_ROLES))]


@router.post("", summary="Transaction or batch Bundle", responses={200: _FHIR, **_WRITE_ERRORS})
async def bundle(
    request: Request, session: SessionDep, user: BundleUser, idempotency: IdempotencyDep
) -> Response:
    check_format(request)
    body = await read_json(request)
    ctx = interactions.Context(session, user, base_url(request))

    def work() -> Response:
        # A retry with the same Idempotency-Key (and body) answers the first answer; one that
        # arrives while the first still runs waits for it (as on REST).
        replay = idempotency.replay_or_claim(session, user.organization_id)
        if replay is not None:
            replay.headers["content-type"] = FHIR_JSON
            return replay
        result = transactions.process(ctx, body)
        idempotency.remember(session, 200, result)
        return FhirResponse(result)

    # The database work is blocking: off the event loop, like the REST routes' (sync) handlers.
    return await run_in_threadpool(work)


async def _search_pairs(request: Request) -> list[tuple[str, str]]:
    """GET: the query string; POST _search: the form body and the query string (FHIR 3.1.0.8)."""
    pairs = list(request.query_params.multi_items())
    if request.method == "POST":
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        raw = await request.body()
        if raw and media != "application/x-www-form-urlencoded":
            raise UnsupportedMediaType(
                "POST _search takes the parameters as application/x-www-form-urlencoded."
            )
        pairs += parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return pairs


def _add_type_routes(mapping: FhirType) -> None:
    type_name = mapping.type_name
    # Reads write nothing but their audit rows: no write lock while they read (service/db.py).
    Reader = Annotated[Principal, Depends(AuditedReadRoleGuard(mapping.readers))]
    Writer = Annotated[Principal, Depends(RoleGuard(mapping.writers))]

    async def search(request: Request, session: AuditedReadSessionDep, user: Reader) -> Response:
        check_format(request)
        ctx = interactions.Context(session, user, base_url(request))
        pairs = await _search_pairs(request)
        lenient = prefer(request, "handling") == "lenient"
        return FhirResponse(
            await run_audited_read(
                request,
                session,
                lambda _: interactions.search(ctx, type_name, pairs, lenient=lenient),
            )
        )

    async def create(
        request: Request,
        session: SessionDep,
        user: Writer,
        if_none_exist: Annotated[str | None, Header()] = None,
    ) -> Response:
        check_format(request)
        body = await read_json(request)
        ctx = interactions.Context(session, user, base_url(request))
        # fhirpy's get_or_create sends the criteria as the query string instead of the header.
        criteria = [(k, v) for k, v in request.query_params.multi_items() if k != "_format"]
        if if_none_exist is None and criteria:
            if_none_exist = urlencode(criteria)
        written = await run_in_threadpool(
            partial(interactions.create, ctx, type_name, body, if_none_exist=if_none_exist)
        )
        return written_response(written, ctx.base_url, prefer(request, "return"))

    def read_work(session: Session, record_id: str, request: Request, user: Principal) -> Response:
        check_format(request)
        shape = subsetting.parse(list(request.query_params.multi_items()), search=False)
        ctx = interactions.Context(session, user, base_url(request))
        written = interactions.read(ctx, type_name, record_id)
        body = subsetting.apply(written.resource, shape)
        return written_response(written, ctx.base_url, body=body)

    async def read(
        record_id: str, request: Request, session: AuditedReadSessionDep, user: Reader
    ) -> Response:
        # One worker thread for the read, its response body and its audit rows (service/db.py).
        return await run_audited_read(request, session, read_work, record_id, request, user)

    def vread(
        record_id: str,
        version_id: str,
        request: Request,
        session: AuditedReadSessionDep,
        user: Reader,
    ) -> Response:
        check_format(request)
        ctx = interactions.Context(session, user, base_url(request))
        resource = interactions.vread(ctx, type_name, record_id, version_id)
        return FhirResponse(
            resource,
            headers={
                "ETag": f'W/"{resource["meta"]["versionId"]}"',
                "Last-Modified": resource["meta"]["lastUpdated"],
            },
        )

    def history(
        record_id: str, request: Request, session: AuditedReadSessionDep, user: Reader
    ) -> Response:
        check_format(request)
        ctx = interactions.Context(session, user, base_url(request))
        return FhirResponse(interactions.instance_history(ctx, type_name, record_id))

    async def conditional_update(request: Request, session: SessionDep, user: Writer) -> Response:
        check_format(request)
        query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "_format"])
        if not query:
            raise UpdateNeedsCriteria(
                f"PUT /fhir/{type_name} needs search criteria (a conditional update), or PUT "
                f"/fhir/{type_name}/<id>."
            )
        body = await read_json(request)
        ctx = interactions.Context(session, user, base_url(request))
        written = await run_in_threadpool(
            partial(interactions.conditional_update, ctx, type_name, query, body)
        )
        return written_response(written, ctx.base_url, prefer(request, "return"))

    async def update(
        record_id: str,
        request: Request,
        session: SessionDep,
        user: Writer,
        if_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        check_format(request)
        body = await read_json(request)
        ctx = interactions.Context(session, user, base_url(request))
        written = await run_in_threadpool(
            partial(
                interactions.update,
                ctx,
                type_name,
                record_id,
                body,
                expected_version=interactions.parse_etag(if_match),
            )
        )
        return written_response(written, ctx.base_url, prefer(request, "return"))

    common: dict[str, Any] = {"responses": {200: _FHIR, **_READ_ERRORS}}
    writes: dict[str, Any] = {"responses": {200: _FHIR, **_WRITE_ERRORS}}
    a_type = f"{'an' if type_name[0] in 'AEIOU' else 'a'} {type_name}"
    offered = mapping.interactions  # only what the CapabilityStatement lists gets a route
    if "search-type" in offered:
        router.add_api_route(
            f"/{type_name}",
            search,
            methods=["GET"],
            summary=f"Search {type_name} resources",
            name=f"fhir_search_{type_name}",
            **common,
        )
        router.add_api_route(
            f"/{type_name}/_search",
            search,
            methods=["POST"],
            summary=f"Search {type_name} resources (form body)",
            name=f"fhir_post_search_{type_name}",
            **common,
        )
    if "vread" in offered:
        router.add_api_route(
            f"/{type_name}/{{record_id}}/_history/{{version_id}}",
            vread,
            methods=["GET"],
            summary=f"Read one version of {a_type}",
            name=f"fhir_vread_{type_name}",
            **common,
        )
    if "history-instance" in offered:
        router.add_api_route(
            f"/{type_name}/{{record_id}}/_history",
            history,
            methods=["GET"],
            summary=f"List the versions of {a_type}",
            name=f"fhir_history_{type_name}",
            **common,
        )
    if "create" in offered:
        router.add_api_route(
            f"/{type_name}",
            create,
            methods=["POST"],
            summary=f"Create {a_type}",
            status_code=201,
            name=f"fhir_create_{type_name}",
            **writes,
        )
    if "read" in offered:
        router.add_api_route(
            f"/{type_name}/{{record_id}}",
            read,
            methods=["GET"],
            summary=f"Read {a_type}",
            name=f"fhir_read_{type_name}",
            **common,
        )
        fast_routes.register(mapping)  # the plain read answered before routing (issue 20)
    if "update" in offered:
        router.add_api_route(
            f"/{type_name}",
            conditional_update,
            methods=["PUT"],
            summary=f"Create or update {a_type} found by search",
            name=f"fhir_cupdate_{type_name}",
            **writes,
        )
        router.add_api_route(
            f"/{type_name}/{{record_id}}",
            update,
            methods=["PUT"],
            summary=f"Update {a_type}",
            name=f"fhir_update_{type_name}",
            **writes,
        )


for _mapping in REGISTRY.values():
    _add_type_routes(_mapping)
