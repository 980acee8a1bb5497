"""Lab benchmark: accessioning throughput and worklist build time for 5,000 ready specimens,
each beside the floor of writing/reading the same rows with plain SQL in the same run.

    .venv/bin/python bench/bench_lab.py [--postgres postgresql://user:pw@host/db]

Prints a Markdown table. With --postgres a scratch database is created next to the given one
and dropped afterwards.
"""

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service import crud, migrate
from service.auth import logic as auth_logic
from service.auth.logic import Principal
from service.auth.roles import Role
from service.db import SessionFactory, make_engine, session_factory_for
from service.demo import lab_catalog as demo
from service.directory import logic as directory_logic
from service.directory.schemas import ProviderCreate
from service.ids import new_id
from service.orders import logic as order_logic
from service.orders.schemas import LabOrderCreate
from service.patients import logic as patient_logic
from service.patients.schemas import PatientCreate
from service.specimens import logic as specimen_logic
from service.specimens.schemas import SpecimenCreate
from service.worklists import logic as worklist_logic
from service.worklists import repository as worklist_repository
from service.worklists.schemas import WorklistBuild, WorklistTemplateCreate

ACCESSIONS = 2_000
BATCH = 100  # specimens per transaction when accessioning
READY = 5_000
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class World:
    """An organization with a patient, a provider, the demo catalog and one order."""

    def __init__(self, session: Session) -> None:
        org, admin, _ = auth_logic.create_organization(session, name=f"Bench {uuid.uuid4().hex}")
        self.actor = Principal(admin.id, org.id, frozenset({Role.ADMIN}), "bench")
        patient = patient_logic.register_patient(session, self.actor, PatientCreate(
            mrn="B-1", family_name="Bench", given_name="Pat", birth_date="1970-01-01",
            sex="F"))  # fmt: skip
        doctor = crud.create(session, self.actor, directory_logic.PROVIDERS, ProviderCreate(
            npi="1234567893", kind="individual", family_name="Okafor",
            given_name="Grace"))  # fmt: skip
        tests = {t.code: t for t in demo.seed_catalog(session, self.actor)}
        self.a1c = tests["A1C"]
        self.patient_id = patient.id
        self.order = order_logic.place_order(session, self.actor, LabOrderCreate(
            patient_id=patient.id, ordering_provider_id=doctor.id,
            test_ids=[self.a1c.id]))  # fmt: skip
        session.commit()


def _db_time(engine: Engine, at: datetime) -> datetime:
    """An instant as the service's UTCDateTime column stores it (naive UTC on SQLite)."""
    return at if engine.dialect.name == "postgresql" else at.replace(tzinfo=None)


def _timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def bench_accessioning(engine: Engine) -> tuple[float, float]:
    factory = session_factory_for(engine)
    with factory() as session:
        world = World(session)

    def through_logic() -> None:
        for _ in range(ACCESSIONS // BATCH):
            with factory() as session:
                for _ in range(BATCH):
                    specimen_logic.accession_specimen(
                        session, world.actor, SpecimenCreate(order_id=world.order.id),
                        at=datetime.now(UTC),
                    )  # fmt: skip
                session.commit()

    def floor() -> None:
        # The same rows, in plain SQL: counter bump, specimen, specimen_test, event, audit.
        ts = _db_time(engine, datetime.now(UTC))
        for _ in range(ACCESSIONS // BATCH):
            with engine.begin() as c:
                for _ in range(BATCH):
                    n = c.execute(sa.text(
                        "UPDATE accession_counter SET last_number = last_number + 1 "
                        "WHERE organization_id = :o AND year = 2099 RETURNING last_number"),
                        {"o": world.actor.organization_id}).scalar()  # fmt: skip
                    if n is None:
                        c.execute(sa.text("INSERT INTO accession_counter VALUES (:o, 2099, 1)"),
                                  {"o": world.actor.organization_id})  # fmt: skip
                        n = 1
                    sid = new_id()
                    c.execute(sa.text(
                        "INSERT INTO specimen (id, organization_id, created_at, updated_at, "
                        "version, accession, order_id, patient_id, kind, specimen_type, "
                        "container, status, priority, warnings, label_prints) VALUES (:id, :o, "
                        ":t, :t, 1, :acc, :ord, :p, 'primary', 'BLD', 'EDTA', 'ordered', "
                        "'routine', '[]', 0)"),
                        {"id": sid, "o": world.actor.organization_id, "t": ts,
                         "acc": f"99-{n:06d}", "ord": world.order.id,
                         "p": world.patient_id})  # fmt: skip
                    c.execute(sa.text(
                        "INSERT INTO specimen_test (id, organization_id, specimen_id, "
                        "lab_test_id, status) VALUES (:id, :o, :s, :t, 'pending')"),
                        {"id": new_id(), "o": world.actor.organization_id, "s": sid,
                         "t": world.a1c.id})  # fmt: skip
                    c.execute(sa.text(
                        "INSERT INTO specimen_event (id, organization_id, specimen_id, event, at,"
                        " user_id, deviation, details) VALUES (:id, :o, :s, 'accessioned', :t, "
                        ":u, false, :d)"),
                        {"id": new_id(), "o": world.actor.organization_id, "s": sid, "t": ts,
                         "u": world.actor.user_id,
                         "d": f'{{"order_id": "{world.order.id}"}}'})  # fmt: skip
                    c.execute(sa.text(
                        "INSERT INTO audit_event (id, organization_id, user_id, role, action, "
                        "resource_type, resource_id, patient_id, outcome, at, client_address, "
                        "request_id, detail) VALUES (:id, :o, :u, 'admin', 'create', "
                        "'specimen', :s, :p, 'success', :t, '', '', '')"),
                        {"id": new_id(), "o": world.actor.organization_id, "u": world.actor.user_id,
                         "s": sid, "p": world.patient_id, "t": ts})  # fmt: skip

    return ACCESSIONS / _timed(through_logic), ACCESSIONS / _timed(floor)


def _ready_specimens(engine: Engine, world: World) -> None:
    """5,000 ready A1C specimens, inserted directly (setup, not measured)."""
    with engine.begin() as c:
        naive = engine.dialect.name != "postgresql"
        specimens, tests = [], []
        for i in range(READY):
            at = T0 + timedelta(seconds=i)
            sid = new_id()
            specimens.append({
                "id": sid, "organization_id": world.actor.organization_id,
                "created_at": at.replace(tzinfo=None) if naive else at,
                "updated_at": at.replace(tzinfo=None) if naive else at, "version": 1,
                "accession": f"98-{i:06d}", "order_id": world.order.id,
                "patient_id": world.patient_id, "kind": "primary", "specimen_type": "BLD",
                "status": "ready", "priority": "stat" if i % 50 == 0 else "routine",
                "collected_at": at.replace(tzinfo=None) if naive else at,
                "warnings": "[]", "label_prints": 0})  # fmt: skip
            tests.append(
                {
                    "id": new_id(),
                    "organization_id": world.actor.organization_id,
                    "specimen_id": sid,
                    "lab_test_id": world.a1c.id,
                    "status": "pending",
                }
            )
        c.execute(sa.text(
            "INSERT INTO specimen (id, organization_id, created_at, updated_at, version, "
            "accession, order_id, patient_id, kind, specimen_type, status, priority, "
            "collected_at, warnings, label_prints) VALUES (:id, :organization_id, :created_at, "
            ":updated_at, :version, :accession, :order_id, :patient_id, :kind, :specimen_type, "
            ":status, :priority, :collected_at, :warnings, :label_prints)"), specimens)  # fmt: skip
        c.execute(sa.text(
            "INSERT INTO specimen_test (id, organization_id, specimen_id, lab_test_id, status) "
            "VALUES (:id, :organization_id, :specimen_id, :lab_test_id, :status)"),
            tests)  # fmt: skip


def bench_worklist(engine: Engine) -> tuple[float, float]:
    factory = session_factory_for(engine)
    with factory() as session:
        world = World(session)
        session.execute(sa.text("UPDATE specimen SET status = 'disposed'"))  # earlier runs' rows
        session.commit()
    _ready_specimens(engine, world)
    with factory() as session:
        template = crud.create(session, world.actor, worklist_logic.TEMPLATES,
            WorklistTemplateCreate(name="A1C", bench="chemistry", test_ids=[world.a1c.id],
                                   layout="rack", capacity=READY))  # fmt: skip
        session.commit()

    def floor(session: Session) -> str:
        # The same query for the waiting rows, then the same rows in plain SQL: the worklist,
        # its items, the status change, two custody events and an audit event per specimen, and
        # the worklist's own audit event.
        o, u = world.actor.organization_id, world.actor.user_id
        rows = worklist_repository.waiting(session, o, [world.a1c.id], READY)
        wid = new_id()
        now = _db_time(engine, datetime.now(UTC))
        session.execute(sa.text(
            "INSERT INTO worklist (id, organization_id, created_at, updated_at, version, "
            "name, bench, test_ids, layout, capacity, reserved, status, built_by) VALUES "
            "(:id, :o, :t, :t, 1, 'f', 'chemistry', '[]', 'rack', :n, '[]', 'open', :u)"),
            {"id": wid, "o": o, "t": now, "n": READY, "u": u})  # fmt: skip
        session.execute(sa.text(
            "INSERT INTO worklist_item (id, organization_id, worklist_id, position, "
            "specimen_test_id, specimen_id, lab_test_id, active_specimen_test_id, added_at) "
            "VALUES (:id, :o, :w, :p, :st, :s, :t, :st, :at)"),
            [{"id": new_id(), "o": o, "w": wid, "p": str(i + 1), "st": r.specimen_test_id,
              "s": r.specimen_id, "t": r.lab_test_id, "at": now}
             for i, r in enumerate(rows)])  # fmt: skip
        session.execute(sa.text(
            "UPDATE specimen SET status = 'in_analysis', version = version + 1, updated_at = :t "
            "WHERE organization_id = :o AND status = 'ready'"), {"o": o, "t": now})  # fmt: skip
        details = {
            "in_analysis": '{"from": "ready"}',
            "worklist_added": f'{{"worklist_id": "{wid}"}}',
        }
        session.execute(sa.text(
            "INSERT INTO specimen_event (id, organization_id, specimen_id, event, at, "
            "user_id, deviation, details) VALUES (:id, :o, :s, :e, :t, :u, false, :d)"),
            [{"id": new_id(), "o": o, "s": r.specimen_id, "e": e, "t": now, "u": u, "d": d}
             for r in rows for e, d in details.items()])  # fmt: skip
        session.execute(sa.text(
            "INSERT INTO audit_event (id, organization_id, user_id, role, action, resource_type, "
            "resource_id, patient_id, outcome, at, client_address, request_id, detail) VALUES "
            "(:id, :o, :u, 'admin', :a, :rt, :r, :p, 'success', :t, '', '', :d)"),
            [{"id": new_id(), "o": o, "u": u, "a": "update", "rt": "specimen", "r": r.specimen_id,
              "p": r.patient_id, "t": now, "d": f"worklist {wid}"} for r in rows]
            + [{"id": new_id(), "o": o, "u": u, "a": "create", "rt": "worklist", "r": wid,
                "p": None, "t": now, "d": f"{len(rows)} specimen-tests"}])  # fmt: skip
        return wid

    def through_logic(session: Session) -> str:
        worklist = worklist_logic.build_worklist(
            session, world.actor, WorklistBuild(template_id=template.id), at=datetime.now(UTC)
        )
        session.flush()  # the request's commit would
        return worklist.id

    floor_s = _timed_build(factory, floor)
    logic_s = _timed_build(factory, through_logic)
    return logic_s, floor_s


def _timed_build(factory: SessionFactory, build: Callable[[Session], str]) -> float:
    """Times one worklist build; checks, untimed, that it placed every ready specimen, then rolls
    back so that the next build finds them waiting again."""
    with factory() as session:
        start = time.perf_counter()
        worklist_id = build(session)
        elapsed = time.perf_counter() - start
        placed = session.execute(
            sa.text("SELECT count(*) FROM worklist_item WHERE worklist_id = :w"), {"w": worklist_id}
        ).scalar_one()
        session.rollback()
    assert placed == READY, placed
    return elapsed


def run(url: str, label: str) -> list[str]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    logic_rate, floor_rate = bench_accessioning(engine)
    logic_s, floor_s = bench_worklist(engine)
    engine.dispose()
    return [
        f"| {label} | accessioning ({ACCESSIONS}, {BATCH}/transaction) | {logic_rate:,.0f} "
        f"specimens/s | {floor_rate:,.0f} specimens/s | {floor_rate / logic_rate:.2f}x |",
        f"| {label} | worklist build ({READY} ready) | {logic_s * 1000:,.0f} ms | "
        f"{floor_s * 1000:,.0f} ms | {logic_s / floor_s:.2f}x |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="a PostgreSQL URL; a scratch database is made beside it")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite")
    if args.postgres:
        name = f"bo_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(args.postgres).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            url = sa.make_url(args.postgres).set(database=name)
            rows += run(url.render_as_string(hide_password=False), "PostgreSQL")
        finally:
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print("| database | measure | service logic | plain SQL floor | ratio (logic/floor) |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
