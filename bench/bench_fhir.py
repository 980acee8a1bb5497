"""FHIR transaction benchmark: 20-entry Bundles (Patients, payer Organizations, Coverages) per
second through the whole HTTP stack (in-process ASGI: middleware, auth, mapping, audit,
commit), against the floor of parsing the same Bundles with fhir.resources alone.

    .venv/bin/python bench/bench_fhir.py [--bundles 100] [--postgres postgresql://…]
"""

import argparse
import asyncio
import copy
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from service import migrate
from service.auth import logic as auth_logic
from service.auth.roles import Role
from service.auth.schemas import UserCreate
from service.db import make_engine, session_factory_for, session_scope
from service.fhir import resources
from service.main import create_app
from service.settings import Settings

TRIPLES = 6  # patient + payer + coverage
EXTRA_PATIENTS = 2  # 6 * 3 + 2 = 20 entries

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "extension": [
        {
            "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
            "extension": [{"url": "text", "valueString": "White"}],
        }
    ],
    "identifier": [
        {
            "type": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                ]
            },
            "system": "urn:oid:1.2.36.146.595.217.0.1",
            "value": "",
        }
    ],
    "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}],
    "telecom": [{"system": "phone", "value": "555-0100", "use": "home"}],
    "gender": "male",
    "birthDate": "1974-12-25",
    "address": [
        {"line": ["534 Erewhon St"], "city": "Springfield", "state": "IL", "postalCode": "62701"}
    ],
}
PAYER: dict[str, Any] = {
    "resourceType": "Organization",
    "identifier": [{"system": "urn:backoffice:payer-id", "value": "60054"}],
    "type": [
        {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "pay"}
            ]
        }
    ],
    "name": "Aetna Better Health",
}


def _coverage(patient: str, payer: str, n: int) -> dict[str, Any]:
    return {
        "resourceType": "Coverage",
        "status": "active",
        "subscriberId": f"AB{n:06d}",
        "beneficiary": {"reference": patient},
        "subscriber": {"reference": patient},
        "relationship": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                    "code": "self",
                }
            ]
        },
        "period": {"start": "2026-01-01"},
        "payor": [{"reference": payer}],
        "class": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                            "code": "group",
                        }
                    ]
                },
                "value": "CB135",
            }
        ],
        "order": 1,
    }


def bundle(number: int) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []

    def add(resource: dict[str, Any], url: str, **request: str) -> str:
        full_url = f"urn:uuid:{uuid.uuid4()}"
        entries.append(
            {
                "fullUrl": full_url,
                "resource": resource,
                "request": {"method": "POST", "url": url, **request},
            }
        )
        return full_url

    for i in range(TRIPLES + EXTRA_PATIENTS):
        patient = copy.deepcopy(PATIENT)
        mrn = f"B{number:05d}P{i:02d}"
        patient["identifier"][0]["value"] = mrn
        patient_url = add(
            patient, "Patient", ifNoneExist=f"identifier=urn:oid:1.2.36.146.595.217.0.1|{mrn}"
        )
        if i < TRIPLES:
            payer_url = add(copy.deepcopy(PAYER), "Organization")
            add(_coverage(patient_url, payer_url, number * 100 + i), "Coverage")
    assert len(entries) == 20
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def parse_floor(bundles: list[bytes]) -> float:
    model = resources.model_class("Bundle")
    started = time.perf_counter()
    for raw in bundles:
        model.model_validate(json.loads(raw))
    return len(bundles) / (time.perf_counter() - started)


async def post_all(engine: Engine, bundles: list[bytes]) -> float:
    factory = session_factory_for(engine)
    with session_scope(factory) as session:
        org, _, _ = auth_logic.create_organization(session, name=f"Bench {uuid.uuid4().hex[:8]}")
        user = auth_logic.create_user(
            session, org.id, UserCreate(name="ehr", kind="integration", roles=[Role.INTEGRATION])
        )
        _, key = auth_logic.issue_api_key(session, org.id, user.id, "bench")
    settings = Settings(database_url="sqlite://", data_dir=Path(tempfile.mkdtemp()))
    app = create_app(settings, engine=engine)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/fhir+json"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        warm = await client.post("/fhir", content=bundles[0], headers=headers)
        assert warm.status_code == 200, warm.text
        started = time.perf_counter()
        for raw in bundles[1:]:
            response = await client.post("/fhir", content=raw, headers=headers)
            assert response.status_code == 200, response.text
        return (len(bundles) - 1) / (time.perf_counter() - started)


def run(label: str, engine: Engine, count: int) -> str:
    migrate.upgrade(engine)
    bundles = [json.dumps(bundle(n)).encode() for n in range(count + 1)]
    floor = parse_floor(bundles)
    http = asyncio.run(post_all(engine, bundles))
    engine.dispose()
    return (
        f"| {label} | {count} | {http:.1f} | {http * 20:.0f} | {floor:.1f} | {floor / http:.1f}x |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundles", type=int, default=100)
    parser.add_argument("--postgres", help="a PostgreSQL URL (an empty database is best)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(
            run("SQLite (file, WAL)", make_engine(f"sqlite:///{tmp}/bench.sqlite3"), args.bundles)
        )
    if args.postgres:
        url = args.postgres.replace("postgresql://", "postgresql+psycopg://", 1)
        rows.append(run("PostgreSQL", make_engine(url), args.bundles))
    print(
        "| database | bundles | bundles/s over HTTP | entries/s "
        "| parse-only bundles/s (floor) | floor / HTTP |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
