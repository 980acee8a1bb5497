"""The /fhir router, generated from mapping.REGISTRY: metadata, transaction/batch, and for each
type create (conditional), read, update (If-Match), search."""

from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from service.api.deps import RoleGuard
from service.auth.logic import Principal
from service.auth.roles import ALL_ROLES
from service.db import SessionDep
from service.fhir import interactions, transactions
from service.fhir.http import (
    FhirResponse,
    FhirRoute,
    base_url,
    check_format,
    read_json,
    written_response,
)
from service.fhir.mapping import REGISTRY
from service.fhir.mapping.base import FhirType

router = APIRouter(prefix="/fhir", tags=["fhir"], route_class=FhirRoute)

_FHIR: dict[str, Any] = {"content": {"application/fhir+json": {}}}


def _outcomes(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the OperationOutcome errors a route answers (FhirRoute renders them)."""
    return {s: {"description": "OperationOutcome", **_FHIR} for s in statuses}


# 401 no key, 403 role, 406 `_format`, 400 invalid FHIR or search, 415 not JSON, 422 rules.
_READ_ERRORS = _outcomes(400, 401, 403, 404, 406)
_WRITE_ERRORS = _outcomes(400, 401, 403, 404, 406, 409, 412, 415, 422)


@router.get("/metadata", summary="CapabilityStatement", responses={200: _FHIR, **_outcomes(406)})
def metadata(request: Request) -> Response:
    check_format(request)
    return FhirResponse(interactions.capability_statement(base_url(request), request.app.version))


# Each entry is checked against its own type's roles; the route lets every role in.
BundleUser = Annotated[Principal, Depends(RoleGuard(ALL_ROLES))]


@router.post("", summary="Transaction or batch Bundle", responses={200: _FHIR, **_WRITE_ERRORS})
async def bundle(request: Request, session: SessionDep, user: BundleUser) -> Response:
    check_format(request)
    body = await read_json(request)
    ctx = interactions.Context(session, user, base_url(request))
    # The database work is blocking: off the event loop, like the REST routes' (sync) handlers.
    return FhirResponse(await run_in_threadpool(transactions.process, ctx, body))


def _add_type_routes(mapping: FhirType) -> None:
    type_name = mapping.type_name
    Reader = Annotated[Principal, Depends(RoleGuard(mapping.readers))]
    Writer = Annotated[Principal, Depends(RoleGuard(mapping.writers))]

    def search(request: Request, session: SessionDep, user: Reader) -> Response:
        check_format(request)
        ctx = interactions.Context(session, user, base_url(request))
        pairs = list(request.query_params.multi_items())
        return FhirResponse(interactions.search(ctx, type_name, pairs, self_url=str(request.url)))

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
        return written_response(written, ctx.base_url)

    def read(record_id: str, request: Request, session: SessionDep, user: Reader) -> Response:
        check_format(request)
        ctx = interactions.Context(session, user, base_url(request))
        return written_response(interactions.read(ctx, type_name, record_id), ctx.base_url)

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
        return written_response(written, ctx.base_url)

    common: dict[str, Any] = {"tags": ["fhir"], "responses": {200: _FHIR, **_READ_ERRORS}}
    writes: dict[str, Any] = {"tags": ["fhir"], "responses": {200: _FHIR, **_WRITE_ERRORS}}
    offered = mapping.interactions  # only what the CapabilityStatement lists gets a route
    if "search-type" in offered:
        router.add_api_route(
            f"/{type_name}", search, methods=["GET"], summary=f"Search {type_name}",
            name=f"fhir_search_{type_name}", **common,
        )  # fmt: skip
    if "create" in offered:
        router.add_api_route(
            f"/{type_name}", create, methods=["POST"], summary=f"Create {type_name}",
            status_code=201, name=f"fhir_create_{type_name}", **writes,
        )  # fmt: skip
    if "read" in offered:
        router.add_api_route(
            f"/{type_name}/{{record_id}}", read, methods=["GET"], summary=f"Read {type_name}",
            name=f"fhir_read_{type_name}", **common,
        )  # fmt: skip
    if "update" in offered:
        router.add_api_route(
            f"/{type_name}/{{record_id}}", update, methods=["PUT"], summary=f"Update {type_name}",
            name=f"fhir_update_{type_name}", **writes,
        )  # fmt: skip


for _mapping in REGISTRY.values():
    _add_type_routes(_mapping)
