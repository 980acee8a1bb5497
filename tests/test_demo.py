"""`backoffice demo`: a realistic organization, seeded once however often it runs."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from service.auth import people
from service.auth.logic import Principal
from service.auth.models import AppUser
from service.auth.roles import Role
from service.claims import batches as claim_batches
from service.claims.models import Claim
from service.cli import app
from service.coding.models import Encounter
from service.db import make_engine, session_factory_for
from service.directory.models import Payer, TradingPartner
from service.main import create_app
from service.patients.models import Coverage, Patient
from service.settings import Settings, get_settings
from tests.web.signin import NEW_PASSWORD


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


def _biller_line(output: str) -> str:
    [line] = [x for x in output.splitlines() if x.startswith("  billing clerk: ")]
    return line


def _choose_password_and_batch_acme(database_url: str) -> int:
    """The biller chose a password (as at the first sign-in) and batched Acme's professional
    claims only; how many ready claims are left in no batch."""
    engine = make_engine(database_url)
    factory = session_factory_for(engine)
    with Session(engine) as session:
        biller = session.exec(select(AppUser).where(AppUser.username == "demo-biller")).one()
        biller.password_hash = people.hash_password(NEW_PASSWORD)
        biller.password_must_change = False
        session.add(biller)
        session.commit()  # the batch numbers come from a transaction of their own
        admin = session.exec(select(AppUser).where(AppUser.name == "admin")).one()
        actor = Principal(admin.id, admin.organization_id, frozenset({Role.ADMIN}), "test")
        partner = session.exec(select(TradingPartner)).one()
        acme = session.exec(select(Payer).where(Payer.edi_payer_id == "ACME01")).one()
        ids = session.exec(
            select(Claim.id).where(
                Claim.payer_id == acme.id,
                Claim.claim_type == "professional",
                Claim.status == "ready",
            )
        ).all()
        claim_batches.build_claim_batch(
            session,
            actor,
            claim_batches.BatchRequest(partner.id, "professional", list(ids)),
            numbers_factory=factory,
            at=datetime.now(UTC),
            today=date(2026, 11, 28),
        )
        session.commit()
        left = len(session.exec(select(Claim.id).where(Claim.status == "ready")).all())
    engine.dispose()
    return left


def test_a_rerun_keeps_a_chosen_password_and_remittances_answer_the_batches_there_are(
    database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    assert runner.invoke(app, ["demo"]).exit_code == 0
    left = _choose_password_and_batch_acme(database_url)
    assert left > 0  # Acme's dental claims and Medicare's

    kept = runner.invoke(app, ["demo", "--remittances", "--folder", str(tmp_path)])
    assert kept.exit_code == 0, kept.output
    assert "demo-biller / keeps the password they chose" in _biller_line(kept.stdout)
    admin = next(x for x in kept.stdout.splitlines() if x.startswith("  admin: "))
    assert "keeps" not in admin  # never signed in: a fresh one-time password
    wrote = [x.split(" wrote ")[1] for x in kept.stdout.splitlines() if " wrote " in x]
    # Only the clerk's batch is answered: its 999, then Acme's 277CA and 835, in that order.
    assert [Path(w).name.split("-")[0] for w in wrote] == ["999", "277ca", "835"]
    assert f"{left} ready claim(s) in no batch yet" in kept.stdout

    reset = runner.invoke(app, ["demo", "--reset-passwords"])
    assert reset.exit_code == 0, reset.output
    assert "keeps" not in _biller_line(reset.stdout)
