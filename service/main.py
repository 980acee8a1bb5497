"""create_app(): routers, exception handlers, middleware."""

import contextlib
import logging
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from service import migrate, secret_box, uploads
from service.api import fast_reads, fast_writes, openapi, ops, problems, query_params, tags
from service.api.middleware import RequestGuards, RequestIdFilter
from service.audit import routes as audit_routes
from service.audit.logic import ReadAuditWriter, SessionAuditWriter
from service.auth import routes as auth_routes
from service.auth import throttle, totp
from service.claims import routes as claim_routes
from service.codesets import routes as codeset_routes
from service.codesets.warming import VersionCache
from service.coding import routes as coding_routes
from service.db import SessionFactory, WriteTurns, engine_for, session_factory_for
from service.directory import routes as directory_routes
from service.fhir import http as fhir_http
from service.fhir import routes as fhir_routes
from service.labtests import routes as labtest_routes
from service.ledger import routes as ledger_routes
from service.orders import routes as order_routes
from service.outbox import routes as outbox_routes
from service.outbox.worker import DeliveryWorker
from service.patients import routes as patient_routes
from service.remittance import files as remittance_files
from service.remittance import routes as remittance_routes
from service.results import routes as result_routes
from service.settings import Settings, get_settings
from service.smart import routes as smart_routes
from service.specimens import routes as specimen_routes
from service.web import routes as web_routes
from service.worklists import routes as worklist_routes

# Starlette tries routes in order: the code search (typeahead, the most frequent call) first.
ROUTERS = [
    ops.router,
    codeset_routes.router,
    auth_routes.router,
    audit_routes.router,
    patient_routes.router,
    patient_routes.coverages,
    *directory_routes.ROUTERS,
    coding_routes.router,
    *claim_routes.ROUTERS,
    *remittance_routes.ROUTERS,
    *ledger_routes.ROUTERS,
    fhir_routes.router,
    labtest_routes.router,
    order_routes.router,
    specimen_routes.router,
    specimen_routes.reports,
    *worklist_routes.ROUTERS,
    *result_routes.ROUTERS,
    smart_routes.router,
    smart_routes.public,
    outbox_routes.router,
    outbox_routes.fhir_router,
]


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root = logging.getLogger("service")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = True


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: SessionFactory | None = None,
    warm_code_indexes: bool = False,
) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or engine_for(settings)
    app = FastAPIOffline(
        # The served app builds the code search indexes before its first request (issue 21).
        lifespan=codeset_routes.warm_code_indexes if warm_code_indexes else None,
        title="Back office service",
        version="0.1.0",
        description=(
            "Specimens, worklists, coding and X12 claims for medical and dental clinics. "
            "Authenticate with `Authorization: Bearer <api key>`."
        ),
        openapi_tags=tags.OPENAPI_TAGS,  # the /docs groups in workflow order
    )
    app.state.engine = engine
    app.state.session_factory = session_factory or session_factory_for(engine)
    app.state.write_turns = WriteTurns()  # SQLite's write lock in arrival order (service/db.py)
    # Denials and failures are audited in a transaction of their own, after the rollback.
    app.state.audit_writer = SessionAuditWriter(app.state.session_factory)
    # Reads of patient data commit their audit rows after the read, in batches (service/db.py).
    app.state.read_audit = ReadAuditWriter(app.state.session_factory)
    app.state.login_failures = throttle.FailedLoginCounter(
        app.state.session_factory,
        throttle.Limits(
            per_key=settings.login_failures_per_key,
            per_address=settings.login_failures_per_address,
            window=timedelta(seconds=settings.login_failure_window_seconds),
            block=timedelta(seconds=settings.login_block_seconds),
        ),
    )
    ceiling = settings.max_upload_bytes  # the request guard's limit holds for every kind
    app.state.upload_limits = uploads.Limits(
        x12=min(settings.max_x12_upload_bytes, ceiling),
        csv=min(settings.max_csv_upload_bytes, ceiling),
    )
    app.state.remittance_holding = remittance_files.Holding(
        settings.remittance_keep_claims_bytes, settings.remittance_claims_per_page
    )
    app.state.code_versions = VersionCache()
    app.state.secret_box = secret_box.load(settings)  # SecretsKeyError: the start stops here
    app.state.migration_head = migrate.head_revision()
    problems.install(app)
    fhir_http.install(app)  # routing errors under /fhir as OperationOutcome
    for router in ROUTERS:
        # FHIR searches answer unknown parameters themselves (Subscription: service/outbox).
        if router in (fhir_routes.router, outbox_routes.fhir_router):
            app.include_router(router)
        else:
            app.include_router(router, dependencies=[Depends(query_params.refuse_unknown_query)])
    # Innermost middleware (added first): the typeahead answered from memory, inside the guards.
    codeset_routes.install_fast_path(app)
    # GET and PATCH of one record by id, before routing (issue 20); listing the routes in
    # the router's order builds every route's dependencies: once.
    routes = fast_reads.routes_in_order(app.router.routes)
    fast_reads.install(app, routes)
    fast_writes.install(app, routes)
    web_routes.install(app, settings)  # the /app pages, outside the OpenAPI schema
    app.openapi = openapi.documented(app)  # type: ignore[method-assign]
    app.add_middleware(
        RequestGuards,
        max_body_bytes=settings.max_body_bytes,
        # CSV results upload as text/csv; 999/277CA/835 files as text/plain or application/edi-x12.
        raw_body_paths=("/api/v1/result-imports", "/api/v1/remittance-files"),
        max_upload_bytes=settings.max_upload_bytes,
    )
    return app


def build_route_handlers(app: FastAPI) -> None:
    """FastAPI builds the request handlers of an included router (dependency trees, response
    fields) on that router's first request: 0.5 to 1.7 s of a core per router here, paid by the
    first clients of each (seconds of p99 at the start of a benchmark). Built before serving.
    The methods are FastAPI's own (not public API): without them this does nothing."""
    pending: list[Any] = list(app.router.routes)
    while pending:
        route = pending.pop()
        candidates = getattr(route, "effective_candidates", None)
        if callable(candidates):
            pending += [c for c in candidates() if hasattr(c, "effective_candidates")]
        low_priority = getattr(route, "effective_low_priority_routes", None)
        if callable(low_priority):
            low_priority()
    sa.orm.configure_mappers()  # otherwise on the first query, as lazily


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory service.main:app_factory`."""
    settings = get_settings()
    configure_logging(settings.log_level)
    app = create_app(settings, warm_code_indexes=True)
    build_route_handlers(app)
    with contextlib.suppress(SQLAlchemyError), app.state.session_factory() as session:
        totp.report_unopened(session, app.state.secret_box)  # a lost key, told now
    if settings.outbox_worker:  # webhooks and FHIR notifications are sent from every replica
        app.state.delivery_worker = DeliveryWorker(
            app.state.session_factory,
            poll_seconds=settings.outbox_poll_seconds,
            allow_private=settings.allow_private_webhook_addresses,
        ).start()
    return app
