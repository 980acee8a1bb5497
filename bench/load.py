"""Load test: N concurrent clients (httpx AsyncClient) against `backoffice serve --workers 2` on
loopback, a fixed time per scenario, beside the ceiling of the same clients against a bare
FastAPI hello-world route served the same way in the same run.

    .venv/bin/python bench/load.py [--postgres postgresql://user:pw@host/db]
                                   [--duration 20] [--clients 8]

The mix (one scenario each): code search typeahead, patient reads, specimen custody events
(location moves), worklist builds (build, then completion releases the specimens again),
result verification (verify, then correct: the corrected value waits for the next turn), claim
batch creation (create, then cancel returns the claims; one clerk at a time, as two clerks
batching the same claims would make the second answer 409 by design). Every request must
answer 2xx: errors are counted and shown.

Loopback only, bounded: each scenario stops after --duration seconds, the servers are stopped
at the end. With --postgres a scratch database is created next to the given one and dropped.
"""

import argparse
import asyncio
import itertools
import os
import signal
import socket
import subprocess  # nosec B404 - starts this repository's own service
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from fastapi import FastAPI  # noqa: TID251 - the ceiling is a bare HTTP app
from sqlmodel import select

from service.auth import logic as auth_logic
from service.auth.logic import Principal
from service.auth.roles import Role
from service.auth.schemas import UserCreate
from service.db import make_engine, session_factory_for
from service.demo import lab_catalog as lab_demo
from service.demo import synthetic_claims as synthetic
from service.directory.models import Provider, TradingPartner
from service.labtests.models import LabTest
from service.orders import logic as order_logic
from service.orders.schemas import LabOrderCreate
from service.patients.models import Patient
from service.specimens import custody as specimen_custody
from service.specimens import logic as specimen_logic
from service.specimens.schemas import Receipt, SpecimenCreate

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
SPECIMENS = 400  # ready specimens for events and worklist builds
RESULTS = 200  # results entered during setup; verified, corrected, verified again under load
READY_CLAIMS = 200

hello = FastAPI()


@hello.get("/hello")
def hello_world() -> dict[str, str]:
    """The ceiling: routing and JSON, no database, no authentication."""
    return {"hello": "world"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")}
    env.update(BACKOFFICE_DATABASE_URL=url, BACKOFFICE_DATA_DIR=str(data_dir),
               BACKOFFICE_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))  # fmt: skip
    return env


@contextmanager
def _serving(argv: list[str], env: dict[str, str], ready_url: str) -> Iterator[None]:
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,  # nosec B603
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv[0]} did not start")
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and its worker processes
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


@dataclass
class World:
    admin: dict[str, str]
    lab: dict[str, str]
    biller: dict[str, str]
    patient_ids: list[str]
    specimen_ids: list[str]
    template_id: str
    result_ids: list[str]
    partner_id: str


def _seed(url: str) -> tuple[str, str, list[str], list[str], str]:
    """The demo organization, ready claims, the lab catalog and ready specimens; returns the
    admin key, a lab key, patient ids, specimen ids and the trading partner."""
    engine = make_engine(url)
    factory = session_factory_for(engine)
    with factory() as session:
        organization_id, admin_key = synthetic.seed_ready_claims(session, READY_CLAIMS)
        session.commit()
        principal = auth_logic.authenticate(session, f"Bearer {admin_key}")
        actor = Principal(principal.user_id, organization_id, frozenset({Role.ADMIN}), "bench")
        lab_user = auth_logic.create_user(
            session,
            organization_id,
            UserCreate(name=f"lab {uuid.uuid4().hex[:6]}", roles=[Role.LAB]),
        )
        _, lab_key = auth_logic.issue_api_key(session, organization_id, lab_user.id, "load")
        lab_demo.seed_catalog(session, actor)
        tests = {
            t.code: t
            for t in session.exec(select(LabTest).where(LabTest.organization_id == organization_id))
        }
        patients = session.exec(
            select(Patient.id).where(Patient.organization_id == organization_id).limit(500)
        ).all()
        provider = session.exec(
            select(Provider.id).where(
                Provider.organization_id == organization_id, Provider.kind == "individual"
            )
        ).first()
        partner = session.exec(
            select(TradingPartner.id).where(TradingPartner.organization_id == organization_id)
        ).one()
        assert provider is not None
        a1c = tests["A1C"]
        specimen_ids = []
        for n in range(SPECIMENS + RESULTS):
            if n % 100 == 0:
                order = order_logic.place_order(session, actor, LabOrderCreate(
                    patient_id=patients[n // 100 % len(patients)], ordering_provider_id=provider,
                    test_ids=[a1c.id]))  # fmt: skip
            at = datetime.now(UTC)
            specimen = specimen_logic.accession_specimen(
                session, actor, SpecimenCreate(order_id=order.id, collected_at=at), at=at
            )
            specimen_custody.receive_specimen(session, actor, specimen.id,
                                            Receipt(location="Chem bench"), at=at)  # fmt: skip
            specimen_ids.append(specimen.id)
            if n % 200 == 199:
                session.commit()
        session.commit()
    engine.dispose()
    return admin_key, lab_key, list(patients), specimen_ids, partner


def _prepare(base: str, keys: tuple[str, str], patients: list[str], specimens: list[str],
             partner: str) -> World:  # fmt: skip
    """Through the API: a worklist template, and RESULTS entered results to verify later."""
    admin = {"Authorization": f"Bearer {keys[0]}"}
    lab = {"Authorization": f"Bearer {keys[1]}"}
    with httpx.Client(base_url=base, timeout=120) as client:
        tests = client.get("/api/v1/lab-tests?limit=200", headers=admin).json()["items"]
        a1c = next(t for t in tests if t["code"] == "A1C")
        template = client.post("/api/v1/worklist-templates", headers=lab, json={
            "name": "Load rack", "bench": a1c["bench"], "test_ids": [a1c["id"]],
            "layout": "rack", "capacity": 96}).json()["id"]  # fmt: skip
        result_ids: list[str] = []
        pool = set(specimens[:RESULTS])  # the oldest: a build takes them first
        while len(result_ids) < RESULTS:
            built = client.post("/api/v1/worklists", json={"template_id": template}, headers=lab)
            built.raise_for_status()
            for item in built.json()["items"]:
                if item.get("specimen_id") not in pool:
                    continue
                pool.discard(item["specimen_id"])
                entered = client.post("/api/v1/results", headers=lab, json={
                    "specimen_id": item["specimen_id"], "lab_test_id": a1c["id"],
                    "component_code": a1c["components"][0]["code"], "value": "5.4"})  # fmt: skip
                entered.raise_for_status()
                result_ids.append(entered.json()["id"])
            client.post(f"/api/v1/worklists/{built.json()['id']}/completion",
                        headers=lab).raise_for_status()  # fmt: skip
            if not built.json()["items"]:
                break
    return World(admin, lab, admin, patients, specimens[RESULTS:], template, result_ids,
                 partner)  # fmt: skip


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""


async def _run(base: str, clients: int, duration: float,
               request: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
               serial: bool = False) -> tuple[Tally, float]:  # fmt: skip
    tally = Tally()
    counter = itertools.count()
    lock = asyncio.Lock()
    stop = time.monotonic() + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while time.monotonic() < stop:
            n = next(counter)
            started = time.perf_counter()
            try:
                if serial:
                    async with lock:
                        response = await request(client, n)
                else:
                    response = await request(client, n)
                ok = response.status_code < 300
                detail = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                ok, detail = False, repr(exc)
            tally.latencies.append(time.perf_counter() - started)
            if not ok:
                tally.errors += 1
                tally.first_error = tally.first_error or detail

    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    return tally, time.monotonic() - started


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000 if ordered else 0.0


def scenarios(world: World) -> dict[str, tuple[Callable[..., Awaitable[httpx.Response]], bool]]:
    queries = ["E11", "diab", "I10", "hypert", "J45", "asth", "M54.5", "back pain", "Z00", "R07"]

    async def codes(c: httpx.AsyncClient, n: int) -> httpx.Response:
        return await c.get("/api/v1/codes/icd10cm", params={"q": queries[n % len(queries)]},
                           headers=world.admin)  # fmt: skip

    async def patients(c: httpx.AsyncClient, n: int) -> httpx.Response:
        patient = world.patient_ids[n % len(world.patient_ids)]
        return await c.get(f"/api/v1/patients/{patient}", headers=world.admin)

    async def events(c: httpx.AsyncClient, n: int) -> httpx.Response:
        specimen = world.specimen_ids[n % len(world.specimen_ids)]
        return await c.post(f"/api/v1/specimens/{specimen}/location", headers=world.lab,
                            json={"location": f"Fridge {n % 7}"})  # fmt: skip

    async def worklists(c: httpx.AsyncClient, n: int) -> httpx.Response:
        built = await c.post("/api/v1/worklists", json={"template_id": world.template_id},
                             headers=world.lab)  # fmt: skip
        if built.status_code != 201:
            return built
        return await c.post(f"/api/v1/worklists/{built.json()['id']}/completion",
                            headers=world.lab)  # fmt: skip

    async def verification(c: httpx.AsyncClient, n: int) -> httpx.Response:
        # Verify a result, then correct it (a new value, verified again on a later turn): the
        # pool never runs out. Slots are n modulo the pool, far apart for concurrent clients.
        slot = n % len(world.result_ids)
        verified = await c.post("/api/v1/results/verification", headers=world.admin,
                                json={"result_ids": [world.result_ids[slot]]})  # fmt: skip
        if verified.status_code != 200:
            return verified
        corrected = await c.post(f"/api/v1/results/{world.result_ids[slot]}/correction",
                                 headers=world.lab, json={"value": f"5.{n % 9}",
                                                          "reason": "load test"})  # fmt: skip
        if corrected.status_code == 201:
            world.result_ids[slot] = corrected.json()["id"]
        return corrected

    async def batches(c: httpx.AsyncClient, n: int) -> httpx.Response:
        created = await c.post("/api/v1/claim-batches", headers=world.biller, json={
            "trading_partner_id": world.partner_id, "claim_type": "professional"})  # fmt: skip
        if created.status_code != 201:
            return created
        return await c.post(f"/api/v1/claim-batches/{created.json()['id']}/cancellation",
                            headers=world.biller)  # fmt: skip

    return {
        "code search typeahead": (codes, False),
        "patient read": (patients, False),
        "specimen event (location)": (events, False),
        "worklist build + completion": (worklists, True),
        "result verification + correction": (verification, False),
        f"claim batch ({READY_CLAIMS} claims) + cancel": (batches, True),
    }


def run(label: str, url: str, clients: int, duration: float, rows: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(url, Path(tmp))
        subprocess.run([str(BIN / "backoffice"), "migrate"], env=env, check=True,  # nosec B603
                       capture_output=True, timeout=600)  # fmt: skip
        admin_key, lab_key, patients, specimens, partner = _seed(url)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        argv = [str(BIN / "backoffice"), "serve", "--port", str(port), "--workers", "2"]
        with _serving(argv, env, f"{base}/readyz"):
            world = _prepare(base, (admin_key, lab_key), patients, specimens, partner)
            for name, (request, serial) in scenarios(world).items():
                tally, elapsed = asyncio.run(_run(base, clients, duration, request, serial))
                rows.append(
                    f"| {label} | {name} | {clients if not serial else 1} | "
                    f"{len(tally.latencies) / elapsed:,.0f} | {_pct(tally.latencies, 50):.1f} | "
                    f"{_pct(tally.latencies, 95):.1f} | {_pct(tally.latencies, 99):.1f} | "
                    f"{tally.errors} |"
                )
                if tally.errors:
                    print(f"{label} {name}: first error {tally.first_error}", file=sys.stderr)


def ceiling(clients: int, duration: float, rows: list[str]) -> float:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [str(BIN / "uvicorn"), "bench.load:hello", "--port", str(port), "--workers", "2",
            "--log-level", "warning", "--no-access-log"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    async def hello_request(c: httpx.AsyncClient, n: int) -> httpx.Response:
        return await c.get("/hello")

    with _serving(argv, env, f"{base}/hello"):
        tally, elapsed = asyncio.run(_run(base, clients, duration, hello_request))
    rate = len(tally.latencies) / elapsed
    rows.append(
        f"| ceiling | bare FastAPI hello world | {clients} | {rate:,.0f} | "
        f"{_pct(tally.latencies, 50):.1f} | {_pct(tally.latencies, 95):.1f} | "
        f"{_pct(tally.latencies, 99):.1f} | {tally.errors} |"
    )
    return rate


@contextmanager
def _scratch_postgres(url: str) -> Iterator[str]:
    name = f"bo_load_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="a PostgreSQL URL; a scratch database is made beside it")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per scenario")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    rows: list[str] = []
    rate = ceiling(args.clients, args.duration, rows)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{tmp}/load.sqlite3", args.clients, args.duration, rows)
    if args.postgres:
        with _scratch_postgres(args.postgres) as url:
            run("PostgreSQL", url, args.clients, args.duration, rows)
    print(
        f"Load: {args.duration:.0f} s per scenario, `backoffice serve --workers 2`, loopback, "
        "httpx AsyncClient; ceiling = bare FastAPI hello world, same server settings.\n"
    )
    print("| database | scenario | clients | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print(f"\nceiling: {rate:,.0f} req/s")


if __name__ == "__main__":
    main()
