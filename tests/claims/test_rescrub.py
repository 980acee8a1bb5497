"""The batch's re-scrub (a page of claims at a time) agrees with scrubbing each claim alone."""

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from service.auth.logic import Principal
from service.auth.roles import Role
from service.claims import logic
from service.claims.models import Claim
from service.directory.models import Payer
from tests.claims.conftest import Demo

TODAY = date(2026, 11, 28)


def _outcome(db: Session) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    claims = db.exec(select(Claim).order_by(col(Claim.id))).all()
    return {c.id: (c.status, c.findings) for c in claims}


def test_rescrubbing_a_page_gives_each_claim_its_own_scrubs_findings_and_status(
    demo_org: Demo, db: Session
) -> None:
    medicare = db.exec(select(Payer).where(Payer.edi_payer_id == "MCRIL")).one()
    medicare.timely_filing_days = 1  # one claim turns bad: an error finding, back to draft
    db.add(medicare)
    db.commit()
    actor = Principal("scrubber", demo_org.organization_id, frozenset({Role.ADMIN}), "test")
    claims = db.exec(select(Claim).order_by(col(Claim.id))).all()
    for claim in claims:
        logic.scrub_claim(db, actor, claim, today=TODAY)
    one_by_one = _outcome(db)
    db.rollback()

    ready = logic.rescrub_claims(db, [c.id for c in claims], today=TODAY)

    assert _outcome(db) == one_by_one
    assert ready == [c.id for c in claims if one_by_one[c.id][0] == "ready"]
    # Not ready: the Medicare claim past timely filing and Omar Haddad's (held for its ZIP).
    assert len(ready) == len(claims) - 2
