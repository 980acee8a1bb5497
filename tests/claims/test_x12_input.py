"""Stored claims to writer values: the batch's directory rows are read and built once."""

import pytest
from sqlmodel import Session, col, select

from service.claims import x12_input
from service.claims.models import Claim
from service.claims.x12.model import X12InputError
from service.coding.models import Encounter
from service.directory.models import Provider
from tests.claims.conftest import Demo


def _professional_claims(db: Session) -> list[x12_input.ClaimRow]:
    """The ready ones, as a batch takes them (the held draft's 5-digit ZIP cannot be written)."""
    ids = db.exec(
        select(Claim.id)
        .where(Claim.claim_type == "professional", Claim.status == "ready")
        .order_by(col(Claim.id))
    ).all()
    return x12_input.read_claims(db, ids)


def test_claims_of_one_billing_provider_share_its_writer_value(demo_org: Demo, db: Session) -> None:
    claims = _professional_claims(db)
    refs = x12_input.Refs(db, claims)

    values = [x12_input.claim_input(claim, refs) for claim in claims]

    billing = {refs.encounters[c.encounter_id].billing_provider_id for c in claims}
    assert len({id(v.billing_provider) for v in values}) == len(billing)


def test_a_billing_provider_that_cannot_be_sent_fails_every_claim_not_only_the_first(
    demo_org: Demo, db: Session
) -> None:
    claims = _professional_claims(db)
    encounter = db.get(Encounter, claims[0].encounter_id)
    assert encounter is not None
    billing = db.get(Provider, encounter.billing_provider_id)
    assert billing is not None
    billing.tax_id = None
    db.add(billing)
    db.flush()
    refs = x12_input.Refs(db, claims)
    billed_by_it = [
        c for c in claims if refs.encounters[c.encounter_id].billing_provider_id == billing.id
    ]
    assert len(billed_by_it) > 1

    for claim in billed_by_it:
        with pytest.raises(X12InputError, match="street address and a tax id"):
            x12_input.claim_input(claim, refs)
