"""Every claim and batch verb against every status: the move it makes, or a 409 that names the
current and the allowed statuses. The expected outcomes are written out here, from DESIGN.md,
rather than read from claims.states, so that a wrong table fails."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.auth.logic import Principal
from service.auth.roles import Role
from service.claims import logic, states, verbs
from service.claims.models import Claim, ClaimBatch
from service.claims.states import BatchStatus, ClaimStatus, ClaimVerb, IllegalBatchTransition
from service.directory.models import TradingPartner
from service.errors import Conflict
from tests.claims.conftest import Demo

AT = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 28)
C = ClaimStatus
B = BatchStatus


def _claim_in(db: Session, status: ClaimStatus) -> Claim:
    claim = db.exec(
        select(Claim).where(Claim.claim_type == "professional").order_by(col(Claim.id))
    ).first()
    assert claim is not None
    db.execute(sa.update(Claim).where(col(Claim.id) == claim.id).values(status=status.value))
    db.flush()
    db.refresh(claim)
    return claim


def _actor(demo: Demo) -> Principal:
    return Principal("clerk", demo.organization_id, frozenset({Role.ADMIN}), "test")


def _status(db: Session, claim_id: str) -> str:
    db.expire_all()
    claim = db.get(Claim, claim_id)
    assert claim is not None
    return claim.status


# verb name -> (call on one claim, the statuses it moves from, the status it moves to)
ClaimCall = Callable[[Session, Demo, str], object]
STRICT_VERBS: dict[str, tuple[ClaimCall, frozenset[ClaimStatus], ClaimStatus]] = {
    "batch": (
        lambda db, demo, claim_id: verbs.batch_claims(db, [claim_id]),
        frozenset({C.READY}),
        C.BATCHED,
    ),
    "accept (277CA A1/A2)": (
        lambda db, demo, claim_id: verbs.accept_claims(db, [claim_id]),
        frozenset({C.BATCHED, C.SUBMITTED}),
        C.ACCEPTED,
    ),
    "reject (999 or 277CA)": (
        lambda db, demo, claim_id: verbs.reject_claims(db, [claim_id]),
        frozenset({C.BATCHED, C.SUBMITTED, C.ACCEPTED}),
        C.REJECTED,
    ),
    "correct": (
        lambda db, demo, claim_id: logic.correct_claim(db, _actor(demo), claim_id, today=TODAY),
        frozenset({C.REJECTED}),
        C.READY,  # corrected to draft, then scrubbed clean: ready
    ),
    "submit": (
        lambda db, demo, claim_id: verbs.move_claims(db, [claim_id], ClaimVerb.SUBMIT),
        frozenset({C.BATCHED}),
        C.SUBMITTED,
    ),
    "return to ready (batch cancelled)": (
        lambda db, demo, claim_id: verbs.move_claims(db, [claim_id], ClaimVerb.UNBATCH),
        frozenset({C.BATCHED}),
        C.READY,
    ),
    "forward (the primary payer crossed it over)": (
        lambda db, demo, claim_id: verbs.move_claims(db, [claim_id], ClaimVerb.FORWARD),
        frozenset({C.DRAFT, C.READY}),
        C.FORWARDED,
    ),
    "release": (
        lambda db, demo, claim_id: logic.release_claim(db, _actor(demo), claim_id, today=TODAY),
        frozenset({C.FORWARDED}),
        C.READY,  # released to draft, then scrubbed clean: ready
    ),
}


@pytest.mark.parametrize("status", list(ClaimStatus))
@pytest.mark.parametrize("verb", list(STRICT_VERBS))
def test_a_claim_verb_moves_only_the_statuses_it_is_for(
    demo_org: Demo, db: Session, verb: str, status: ClaimStatus
) -> None:
    call, sources, target = STRICT_VERBS[verb]
    claim = _claim_in(db, status)

    if status in sources:
        call(db, demo_org, claim.id)
        assert _status(db, claim.id) == target
    else:
        with pytest.raises(Conflict) as refused:
            call(db, demo_org, claim.id)
        assert f"is {status.value}" in refused.value.detail
        assert "Allowed next:" in refused.value.detail
        assert _status(db, claim.id) == status


def _payment(claim: Claim, paid: Decimal, source: str, code: str = "1") -> verbs.Adjudicated:
    return verbs.Adjudicated(
        claim_id=claim.id,
        source_id=source,
        status_code=code,
        charge=Decimal(claim.total_charge),
        paid=paid,
        payer_claim_number="PCN1",
        payment_date=TODAY,
    )


# An 835 is posted whatever the claim's status; only a claim with the payer moves.
WITH_PAYER = frozenset({C.BATCHED, C.SUBMITTED, C.ACCEPTED, C.PAID, C.PARTIALLY_PAID, C.DENIED})


@pytest.mark.parametrize("status", list(ClaimStatus))
@pytest.mark.parametrize(
    ("outcome", "code", "paid_share"),
    [(C.PAID, "1", Decimal(1)), (C.PARTIALLY_PAID, "1", Decimal("0.5")), (C.DENIED, "4", 0)],
)
def test_an_835_moves_only_a_claim_the_payer_holds(
    demo_org: Demo,
    db: Session,
    status: ClaimStatus,
    outcome: ClaimStatus,
    code: str,
    paid_share: Decimal,
) -> None:
    claim = _claim_in(db, status)
    paid = (Decimal(claim.total_charge) * paid_share).quantize(Decimal("0.01"))

    [moved] = verbs.record_adjudications(
        db, demo_org.organization_id, [_payment(claim, paid, "P1", code)], at=AT
    )

    expected = outcome if status in WITH_PAYER else status
    assert _status(db, claim.id) == expected
    assert (moved.previous, moved.after) == (status.value, expected.value)
    assert moved.moved == (expected != status)


@pytest.mark.parametrize("status", [C.BATCHED, C.SUBMITTED, C.ACCEPTED, C.PARTIALLY_PAID])
def test_a_reversal_restores_the_status_before_the_payment_it_undoes(
    demo_org: Demo, db: Session, status: ClaimStatus
) -> None:
    claim = _claim_in(db, status)
    org = demo_org.organization_id
    verbs.record_adjudications(db, org, [_payment(claim, Decimal(claim.total_charge), "P1")], at=AT)
    assert _status(db, claim.id) == C.PAID

    verbs.record_adjudications(db, org, [verbs.Reversed(claim.id, "R1", undoes="P1")], at=AT)

    assert _status(db, claim.id) == status


# --- batches ---


def _batch_in(db: Session, demo: Demo, status: BatchStatus) -> ClaimBatch:
    partner = db.exec(
        select(TradingPartner).where(TradingPartner.organization_id == demo.organization_id)
    ).one()
    batch = ClaimBatch(
        organization_id=demo.organization_id,
        trading_partner_id=partner.id,
        claim_type="professional",
        usage_indicator="T",
        status=status.value,
        sender_id=partner.isa_sender_id,
        interchange_control_number=990001,
        first_st_control_number=1,
        transaction_set_count=1,
        claim_count=0,
        line_count=0,
        total_charge=Decimal(0),
        size_bytes=0,
        sha256="0" * 64,
        filename="test.x12",
        created_by="clerk",
    )
    db.add(batch)
    db.flush()
    return batch


BatchVerb = Callable[[Session, Demo, ClaimBatch], object]
BATCH_VERBS: dict[str, tuple[BatchVerb, frozenset[BatchStatus], BatchStatus]] = {
    "submit": (
        lambda db, demo, b: verbs.submit_batch(db, _actor(demo), b.id, at=AT),
        frozenset({B.GENERATED, B.DOWNLOADED}),
        B.SUBMITTED,
    ),
    "cancel": (
        lambda db, demo, b: verbs.cancel_batch(db, _actor(demo), b.id, at=AT),
        frozenset({B.GENERATED, B.DOWNLOADED}),
        B.CANCELLED,
    ),
    "acknowledge (999 AK9 A)": (
        lambda db, demo, b: verbs.acknowledge_batch(db, b, B.ACKNOWLEDGED, at=AT),
        frozenset({B.SUBMITTED}),
        B.ACKNOWLEDGED,
    ),
    "partially accept (999 AK9 P)": (
        lambda db, demo, b: verbs.acknowledge_batch(db, b, B.PARTIALLY_ACCEPTED, at=AT),
        frozenset({B.SUBMITTED}),
        B.PARTIALLY_ACCEPTED,
    ),
    "reject (999 AK9 R)": (
        lambda db, demo, b: verbs.acknowledge_batch(db, b, B.REJECTED, at=AT),
        frozenset({B.SUBMITTED}),
        B.REJECTED,
    ),
}


@pytest.mark.parametrize("status", list(BatchStatus))
@pytest.mark.parametrize("verb", list(BATCH_VERBS))
def test_a_batch_verb_moves_only_the_statuses_it_is_for(
    demo_org: Demo, db: Session, verb: str, status: BatchStatus
) -> None:
    call, sources, target = BATCH_VERBS[verb]
    batch = _batch_in(db, demo_org, status)

    if status in sources:
        call(db, demo_org, batch)
        assert batch.status == target
    else:
        with pytest.raises(IllegalBatchTransition) as refused:
            call(db, demo_org, batch)
        assert f"is {status.value}" in refused.value.detail
        assert batch.status == status


@pytest.mark.parametrize("status", list(BatchStatus))
def test_a_download_moves_a_generated_batch_and_leaves_the_others(
    demo_org: Demo, db: Session, status: BatchStatus
) -> None:
    batch = _batch_in(db, demo_org, status)

    verbs.record_download(db, _actor(demo_org), batch)

    assert batch.status == (B.DOWNLOADED if status is B.GENERATED else status)


def _decision(code: str, charge: str, paid: str, **more: str) -> states.Decision:
    return states.Decision(
        code,
        Decimal(charge),
        Decimal(paid),
        Decimal(more.get("patient", "0")),
        Decimal(more.get("written_off", "0")),
        Decimal(more.get("prior", "0")),
    )


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        ([_decision("1", "100", "100")], "paid"),
        ([_decision("1", "100", "60", patient="20", written_off="20")], "partially_paid"),
        ([_decision("4", "100", "0")], "denied"),
        # CO 16 with nothing paid and nothing the patient's: a denial whatever CLP02 says.
        ([_decision("1", "100", "0")], "denied"),
        # All to the deductible: the payer's part is done.
        ([_decision("1", "100", "0", patient="60", written_off="40")], "paid"),
        # A secondary payer with nothing left after the primary (OA 23).
        ([_decision("2", "100", "0", prior="100")], "paid"),
        # A split claim: $80 on one CLP, the other line denied on another.
        (
            [_decision("1", "100", "80", written_off="20"), _decision("1", "40", "0")],
            "partially_paid",
        ),
        ([_decision("1", "100", "100"), _decision("1", "40", "40")], "paid"),
        ([_decision("4", "100", "0"), _decision("4", "40", "0")], "denied"),
    ],
)
def test_the_active_clps_of_a_claim_make_its_status_together(
    decisions: list[states.Decision], expected: str
) -> None:
    assert states.adjudicated_status(decisions) == expected


def test_forwarded_is_left_only_by_release() -> None:
    assert states.claim_allows("draft", states.ClaimVerb.FORWARD)
    assert states.claim_allows("ready", states.ClaimVerb.FORWARD)
    assert not states.claim_allows("batched", states.ClaimVerb.FORWARD)
    assert [v for v in states.ClaimVerb if states.claim_allows("forwarded", v)] == [
        states.ClaimVerb.RELEASE
    ]
    assert states.check_claim("c1", "forwarded", states.ClaimVerb.RELEASE) == "draft"
