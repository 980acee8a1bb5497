"""REST routes: a patient's ledger and balance, payments, credit, refunds, write-offs,
adjustments, transfers and reversals (each an append-only ledger entry)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter
from sqlmodel import Session

from service.api.deps import allow
from service.api.problems import problem_responses
from service.audit import logic as audit
from service.auth.logic import Principal
from service.auth.roles import Role
from service.db import SessionDep
from service.ledger import logic, repository
from service.ledger.models import LedgerEntry
from service.ledger.schemas import (
    BalanceChangeCreate,
    BalanceRead,
    CreditApplicationCreate,
    LedgerEntryRead,
    LedgerRead,
    MovementRead,
    PaymentCreate,
    RefundCreate,
    ReversalCreate,
    TransferCreate,
)

patient_ledger = APIRouter(prefix="/api/v1/patients", tags=["patient money"])
money = APIRouter(prefix="/api/v1", tags=["patient money"])

# DESIGN.md roles: the front desk takes copays and patient payments; billers and admins refund,
# adjust and write off; auditors read.
Reader = Annotated[Principal, allow(Role.ADMIN, Role.BILLER, Role.FRONT_DESK, Role.AUDITOR)]
Desk = Annotated[Principal, allow(Role.ADMIN, Role.BILLER, Role.FRONT_DESK)]
Biller = Annotated[Principal, allow(Role.ADMIN, Role.BILLER)]

WRITE = problem_responses(401, 403, 404, 409, 422)


def _now() -> datetime:
    return datetime.now(UTC)


def _balance(session: Session, user: Principal, patient_id: str) -> BalanceRead:
    return BalanceRead.model_validate(logic.balance(session, user, patient_id))


def _moved(session: Session, user: Principal, entries: list[LedgerEntry]) -> MovementRead:
    return MovementRead(
        entries=[LedgerEntryRead.model_validate(e) for e in entries],
        balance=_balance(session, user, entries[0].patient_id),
    )


@patient_ledger.get("/{patient_id}/ledger", responses=problem_responses(401, 403, 404))
def read_ledger(patient_id: str, session: SessionDep, user: Reader) -> LedgerRead:
    """Every entry of the patient's account, oldest first, and the balances they sum to."""
    found = _balance(session, user, patient_id)
    entries = repository.list_entries(session, user.organization_id, patient_id=patient_id)
    audit.record(
        session,
        user,
        action="read",
        resource_type="patient_ledger",
        resource_id=patient_id,
        patient_id=patient_id,
    )
    return LedgerRead(
        patient_id=patient_id,
        entries=[LedgerEntryRead.model_validate(e) for e in entries],
        balance=found,
    )


@patient_ledger.get("/{patient_id}/balance", responses=problem_responses(401, 403, 404))
def read_balance(patient_id: str, session: SessionDep, user: Reader) -> BalanceRead:
    """What insurance and the patient owe, per encounter, and the patient's unapplied credit."""
    found = _balance(session, user, patient_id)
    audit.record(
        session,
        user,
        action="read",
        resource_type="patient_balance",
        resource_id=patient_id,
        patient_id=patient_id,
    )
    return found


@money.post("/patient-payments", status_code=201, responses=WRITE)
def take_payment(body: PaymentCreate, session: SessionDep, user: Desk) -> MovementRead:
    """A copay or patient payment (cash, check, card). With `encounter_id` it pays what the
    patient owes on that encounter; anything more is kept as unapplied credit, never a
    negative balance."""
    entries = logic.take_payment(session, user, **body.model_dump(), at=_now())
    return _moved(session, user, entries)


@money.post("/credit-applications", status_code=201, responses=WRITE)
def apply_credit(body: CreditApplicationCreate, session: SessionDep, user: Desk) -> MovementRead:
    """Unapplied credit moved onto an encounter the patient owes on."""
    entries = logic.apply_credit(session, user, **body.model_dump(), at=_now())
    return _moved(session, user, entries)


@money.post("/refunds", status_code=201, responses=WRITE)
def refund(body: RefundCreate, session: SessionDep, user: Biller) -> MovementRead:
    """Money given back to the patient, out of unapplied credit (422 beyond it)."""
    entry = logic.refund(session, user, **body.model_dump(), at=_now())
    return _moved(session, user, [entry])


@money.post("/write-offs", status_code=201, responses=WRITE)
def write_off(body: BalanceChangeCreate, session: SessionDep, user: Biller) -> MovementRead:
    """A balance given up (small balance, bad debt, courtesy, ...), with a reason from the
    fixed list, on the insurance or the patient side of an encounter."""
    entry = logic.reduce_balance(session, user, "write_off", **body.model_dump(), at=_now())
    return _moved(session, user, [entry])


@money.post("/adjustments", status_code=201, responses=WRITE)
def adjust(body: BalanceChangeCreate, session: SessionDep, user: Biller) -> MovementRead:
    """A correction of what is owed (contractual, billing error, prompt-pay discount, ...)."""
    entry = logic.reduce_balance(session, user, "adjustment", **body.model_dump(), at=_now())
    return _moved(session, user, [entry])


@money.post("/transfers", status_code=201, responses=WRITE)
def transfer(body: TransferCreate, session: SessionDep, user: Biller) -> MovementRead:
    """Responsibility moved between insurance and the patient on one encounter."""
    entry = logic.transfer(session, user, **body.model_dump(), at=_now())
    return _moved(session, user, [entry])


@money.get("/ledger-entries/{entry_id}", responses=problem_responses(401, 403, 404))
def read_entry(entry_id: str, session: SessionDep, user: Reader) -> LedgerEntryRead:
    entry = session.get(LedgerEntry, entry_id)
    if entry is None or entry.organization_id != user.organization_id:
        raise logic.LedgerEntryNotFound(f"No ledger entry {entry_id}.")
    audit.record(
        session,
        user,
        action="read",
        resource_type="ledger_entry",
        resource_id=entry.id,
        patient_id=entry.patient_id,
    )
    return LedgerEntryRead.model_validate(entry)


@money.post("/ledger-entries/{entry_id}/reversal", status_code=201, responses=WRITE)
def reverse(entry_id: str, body: ReversalCreate, session: SessionDep, user: Biller) -> MovementRead:
    """Undoes a payment, refund, adjustment or write-off with an entry of the negated amounts
    (409 for a charge or an 835 entry, or one reversed already)."""
    entry = logic.reverse_entry(session, user, entry_id, note=body.note, at=_now())
    return _moved(session, user, [entry])


ROUTERS = [patient_ledger, money]
