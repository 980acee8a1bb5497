"""`backoffice demo`: a realistic organization, seeded once however often it runs."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from service.cli import app
from service.coding.models import Encounter
from service.db import make_engine
from service.main import create_app
from service.patients.models import Coverage, Patient
from service.settings import Settings, get_settings


@pytest.fixture
def database_url(empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("BACKOFFICE_DATABASE_URL", empty_database_url)
    get_settings.cache_clear()
    yield empty_database_url
    get_settings.cache_clear()


def _counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    with Session(engine) as session:
        counts = tuple(
            session.exec(select(func.count()).select_from(model)).one()
            for model in (Patient, Coverage, Encounter)
        )
    engine.dispose()
    return counts  # type: ignore[return-value]


def test_demo_seeds_once_and_its_key_lists_patients_with_coverages(database_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    seeded = _counts(database_url)
    assert seeded == (6, 7, 8)  # Omar Haddad (D-1006) and his visit too

    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0, second.output
    assert _counts(database_url) == seeded
    key = second.stdout.strip().splitlines()[-1]
    old_key = first.stdout.strip().splitlines()[-1]

    engine = make_engine(database_url)
    with TestClient(create_app(Settings(database_url=database_url), engine=engine)) as client:
        headers = {"Authorization": f"Bearer {key}"}
        patients = client.get("/api/v1/patients", headers=headers).json()["items"]
        assert {p["family_name"] for p in patients} == {"Rivera", "Whitfield", "O'Connor", "Haddad"}
        coverages = client.get("/api/v1/coverages", headers=headers).json()["items"]
        assert {c["relationship"] for c in coverages} == {"18", "19"}
        assert {c["priority"] for c in coverages} == {"primary", "secondary"}
        ready = client.get("/api/v1/encounters?status=ready", headers=headers).json()["items"]
        assert {e["kind"] for e in ready} == {"medical", "dental"}
        assert len(ready) == 8
        catalog = client.get("/api/v1/lab-tests", headers=headers).json()["items"]
        assert len(catalog) == 6
        claims = client.get("/api/v1/claims?status=ready", headers=headers).json()["items"]
        assert {c["claim_type"] for c in claims} == {"professional", "dental"}
        held = client.get("/api/v1/claims?status=draft", headers=headers).json()["items"]
        assert len(held) == 1  # Omar Haddad's, the scrubber's finding for a clerk to fix
        found = client.get(f"/api/v1/claims/{held[0]['id']}", headers=headers).json()
        errors = {f["code"] for f in found["findings"] if f["severity"] == "error"}
        assert errors == {"billing-provider-address"}
        old = client.get("/api/v1/patients", headers={"Authorization": f"Bearer {old_key}"})
        assert old.status_code == 401  # a re-run revokes the earlier demo key
    engine.dispose()
