"""Builds the five REST routes of a tenant-owned record from its `Resource` description:
POST (with Idempotency-Key), GET list (cursor paging + filters), GET one, PATCH (JSON merge
patch + If-Match), DELETE (soft)."""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from service import crud
from service.api import fast_reads, fast_writes
from service.api.deps import (
    AuditedReadRoleGuard,
    IfMatch,
    PageParams,
    Paging,
    RoleGuard,
    merge_patch_body,
    set_etag,
)
from service.api.idempotency import IdempotencyDep
from service.api.problems import problem_responses
from service.auth.logic import Principal
from service.db import AuditedReadSessionDep, SessionDep, run_audited_read
from service.paging import CREATED, SortKey, parse_sort

# How a business key reads in a summary ("Read a provider by its NPI").
KEY_WORDS = {"mrn": "MRN", "npi": "NPI", "payer-id": "EDI payer id"}

Filter = Callable[[SelectOfScalar[Any], Any], SelectOfScalar[Any]]
JSON = "application/json"


def read_model_for(
    resource: crud.Resource[Any, Any], read_model: type[BaseModel]
) -> Callable[[Any], Any]:
    def to_read(row: Any) -> Any:
        meta = {
            "id": row.id,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "version": row.version,
        }
        return read_model.model_validate(crud.document(resource, row) | meta)

    return to_read


def add_crud_routes(
    router: APIRouter,
    resource: crud.Resource[Any, Any],
    *,
    read_model: type[BaseModel],
    page_model: type[BaseModel],
    patch_model: type[BaseModel],
    filter_model: type[BaseModel],
    apply_filters: Filter,
    readers: frozenset[str],
    writers: frozenset[str],
    natural_key: tuple[str, str] | None = None,
    sort_keys: Mapping[str, SortKey] | None = None,
    default_sort: str = "-created_at",
    on_created: Callable[[Session, Principal, Any, Any], None] | None = None,
) -> Callable[[Any], Any]:
    """Registers the routes on `router`; returns the row -> read model function.

    `natural_key=("mrn", "mrn")` adds `GET /by-mrn/{mrn}`: the record by its business key
    (path word, column); `/{id}` stays id-only. The list sorts by `created_at` and `sort_keys`,
    `default_sort` when the caller names none (newest first unless said otherwise).
    `on_created(session, user, row, body)` may add to a create's answer (warnings)."""
    keys = {"created_at": CREATED, **(sort_keys or {})}
    # Reads write nothing but their audit rows: no write lock while they read.
    Reader = Annotated[Principal, Depends(AuditedReadRoleGuard(readers))]
    Writer = Annotated[Principal, Depends(RoleGuard(writers))]
    to_read = read_model_for(resource, read_model)
    label = resource.name.replace("_", " ")
    # "facility" -> "facilities", "payer" -> "payers": the list summary names the plural.
    plural = f"{label[:-1]}ies" if label.endswith("y") and label[-2] not in "aeiou" else f"{label}s"

    def create(
        data: Any,
        session: SessionDep,
        user: Writer,
        response: Response,
        idempotency: IdempotencyDep,
    ) -> Any:
        if replay := idempotency.replay_or_claim(
            session, user.organization_id, lambda body: f"{router.prefix}/{body['id']}"
        ):
            return replay
        row = crud.create(session, user, resource, data)
        body = to_read(row)
        if on_created is not None:
            on_created(session, user, row, body)
        idempotency.remember(session, 201, body)
        response.headers["Location"] = f"{router.prefix}/{row.id}"
        set_etag(response, row.version)
        return body

    def list_work(session: Session, user: Principal, paging: PageParams, filters: Any) -> Any:
        query = apply_filters(crud.base_query(resource, user), filters)
        sort = parse_sort(paging.sort, keys, default_sort)
        page = crud.list_page(
            session, user, resource, query, limit=paging.limit, cursor=paging.cursor, sort=sort
        )
        return page_model(items=[to_read(r) for r in page.items], next_cursor=page.next_cursor)

    async def list_records(
        request: Request, session: AuditedReadSessionDep, user: Reader, paging: Paging, filters: Any
    ) -> Any:
        return await run_audited_read(request, session, list_work, user, paging, filters)

    def render(row: Any) -> Response:
        # Serialized in the worker thread and sent as is: FastAPI would validate the model a
        # second time on the event loop. `row` may be a Core row (service/api/fast_reads.py).
        response = Response(to_read(row).model_dump_json(by_alias=True), media_type=JSON)
        set_etag(response, row.version)
        return response

    def read_work(session: Session, user: Principal, record_id: str) -> Response:
        return render(crud.get(session, user, resource, record_id))

    async def read(
        request: Request, record_id: str, session: AuditedReadSessionDep, user: Reader
    ) -> Any:
        return await run_audited_read(request, session, read_work, user, record_id)

    def read_by_key_work(session: Session, user: Principal, value: str) -> Response:
        assert natural_key is not None
        return render(crud.get_by_key(session, user, resource, natural_key[1], value))

    async def read_by_key(
        request: Request,
        value: str,  # annotated below: the path parameter is named after the key
        session: AuditedReadSessionDep,
        user: Reader,
    ) -> Any:
        return await run_audited_read(request, session, read_by_key_work, user, value)

    def update(
        record_id: str,
        patch: Annotated[dict[str, Any], Body()],
        session: SessionDep,
        user: Writer,
        expected_version: IfMatch,
        response: Response,
    ) -> Any:
        row = crud.update(
            session, user, resource, record_id, patch, expected_version=expected_version
        )
        set_etag(response, row.version)
        return to_read(row)

    def delete(
        record_id: str, session: SessionDep, user: Writer, expected_version: IfMatch
    ) -> Response:
        crud.delete(
            session,
            user,
            resource,
            record_id,
            at=datetime.now(UTC),
            expected_version=expected_version,
        )
        return Response(status_code=204)

    # FastAPI reads the types from the annotations; these depend on the resource.
    create.__annotations__.update({"data": resource.create_schema, "return": read_model})
    list_records.__annotations__.update(
        {"filters": Annotated[filter_model, Query()], "return": page_model}
    )
    read.__annotations__["return"] = read_model
    update.__annotations__["return"] = read_model

    router.add_api_route(
        "",
        create,
        methods=["POST"],
        status_code=201,
        summary=f"Create a {label}",
        responses=problem_responses(400, 401, 403, 409, 415, 422),
        name=f"create_{resource.name}",
    )
    router.add_api_route(
        "",
        list_records,
        methods=["GET"],
        summary=f"List {plural}",
        description=f"Sort keys: {', '.join(keys)} (`-` for descending); default `{default_sort}`.",
        responses=problem_responses(401, 403, 422),
        name=f"list_{resource.name}s",
    )
    if natural_key is not None:
        param = natural_key[0].replace("-", "_")
        read_by_key.__annotations__.update(
            {
                "value": Annotated[str, Path(alias=param, min_length=1, max_length=80)],
                "return": read_model,
            }
        )
        router.add_api_route(
            f"/by-{natural_key[0]}/{{{param}}}",
            read_by_key,
            methods=["GET"],
            summary=f"Read a {label} by its {KEY_WORDS.get(natural_key[0], natural_key[0])}",
            responses=problem_responses(401, 403, 404, 409, 422),
            name=f"read_{resource.name}_by_{natural_key[0].replace('-', '_')}",
        )
    router.add_api_route(
        "/{record_id}",
        read,
        methods=["GET"],
        summary=f"Read a {label}",
        responses=problem_responses(401, 403, 404),
        name=f"read_{resource.name}",
    )
    fast_reads.register(
        fast_reads.FastRead(
            prefix=router.prefix,
            route_name=f"read_{resource.name}",
            table=resource.model.__table__,
            readers=readers,
            audit_type=resource.name if resource.phi else None,
            patient_id=resource.patient_id,
            render=lambda row, _query: render(row),
        )
    )
    router.add_api_route(
        "/{record_id}",
        update,
        methods=["PATCH"],
        summary=f"Update a {label} (merge patch)",
        responses=problem_responses(400, 401, 403, 404, 409, 412, 415, 422),
        openapi_extra=merge_patch_body(patch_model),
        name=f"update_{resource.name}",
    )

    def update_work(
        session: Session,
        user: Principal,
        record_id: str,
        patch: dict[str, Any],
        version: int | None,
    ) -> Response:
        return render(
            crud.update(session, user, resource, record_id, patch, expected_version=version)
        )

    fast_writes.register(
        fast_writes.FastPatch(router.prefix, f"update_{resource.name}", writers, update_work)
    )
    router.add_api_route(
        "/{record_id}",
        delete,
        methods=["DELETE"],
        status_code=204,
        summary=f"Delete a {label}",
        responses=problem_responses(401, 403, 404, 412, 422),
        name=f"delete_{resource.name}",
    )
    return to_read


def no_filters(query: SelectOfScalar[Any], filters: Any) -> SelectOfScalar[Any]:
    return query


class NoFilters(BaseModel):
    pass
