"""Patient money at the desk and in the back office: payments, credit, refunds, write-offs,
adjustments, transfers and reversals, each an append-only ledger entry, audited.

Balances are sums of entries (repository.py), never stored. A payment applied to an encounter
pays at most what the patient owes on it; the rest becomes unapplied credit on the account
(an entry with no encounter), shown as `credit`, never a silent negative balance. A refund
gives back credit only. Write-offs and adjustments take a reason from a fixed list and cannot
take more than the side (insurance or patient) still owes on the encounter. Entries from
billing and 835s are written by hooks.py in the transaction of the work that causes them.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from service import crud, org_clock
from service.audit import logic as audit
from service.auth.logic import Principal
from service.coding import logic as coding
from service.coding.models import Encounter
from service.errors import Conflict, InvalidInput, NotFound
from service.ledger import repository
from service.ledger.models import LedgerEntry
from service.patients.logic import PATIENTS
from service.patients.models import Patient

REASONS = (
    "contractual",
    "small_balance",
    "courtesy",
    "bad_debt",
    "charity",
    "timely_filing",
    "denial",
    "prompt_pay",
    "billing_error",
    "other",
)
METHODS = ("cash", "check", "card", "other")
SIDES = ("insurance", "patient")
# Entries a person made: only these are reversed by hand. Charges follow the coding, insurance
# entries follow 835s (a CLP02 22 reverses them), credit applications are a pair.
REVERSIBLE = frozenset({"patient_payment", "refund", "adjustment", "write_off"})
ZERO = Decimal("0.00")


class LedgerEntryNotFound(NotFound):
    code = "ledger-entry-not-found"


class AmountOverBalance(InvalidInput):
    code = "amount-over-balance"


class RefundOverCredit(InvalidInput):
    code = "refund-over-credit"


class EntryNotReversible(Conflict):
    code = "entry-not-reversible"


class EntryAlreadyReversed(Conflict):
    code = "entry-already-reversed"


def _patient(session: Session, actor: Principal, patient_id: str) -> Patient:
    """The patient, locked: two payments on one account are applied one after the other."""
    return crud.get(session, actor, PATIENTS, patient_id, audit_read=False, lock=True)


def _encounter(
    session: Session, actor: Principal, patient: Patient, encounter_id: str
) -> Encounter:
    encounter = crud.get(session, actor, coding.ENCOUNTERS, encounter_id, audit_read=False)
    if encounter.patient_id != patient.id:
        raise InvalidInput(f"Encounter {encounter.id} is not this patient's.")
    return encounter


def _entry(
    actor_id: str, organization_id: str, patient_id: str, kind: str, at: datetime, **values: Any
) -> LedgerEntry:
    return LedgerEntry(
        organization_id=organization_id,
        patient_id=patient_id,
        kind=kind,
        actor=actor_id,
        at=at,
        **values,
    )


def _record(session: Session, actor: Principal, entries: list[LedgerEntry]) -> list[LedgerEntry]:
    for entry in entries:
        session.add(entry)
    session.flush()
    for entry in entries:
        audit.record(
            session,
            actor,
            action="create",
            resource_type="ledger_entry",
            resource_id=entry.id,
            patient_id=entry.patient_id,
            detail=f"{entry.kind} {entry.insurance_amount + entry.patient_amount}",
        )
    return entries


def _day(session: Session, actor: Principal, at: datetime) -> Any:
    return org_clock.local_date(session, actor.organization_id, at)


def take_payment(
    session: Session,
    actor: Principal,
    *,
    patient_id: str,
    amount: Decimal,
    method: str,
    reference: str | None,
    encounter_id: str | None,
    note: str | None,
    at: datetime,
) -> list[LedgerEntry]:
    """A patient payment (a copay at check-in, a check in the mail, a card): applied to the
    encounter up to what the patient owes on it, the rest (or all of it, with no encounter)
    kept as unapplied credit."""
    patient = _patient(session, actor, patient_id)
    applied = ZERO
    if encounter_id is not None:
        encounter = _encounter(session, actor, patient, encounter_id)
        owed = repository.encounter_balance(session, actor.organization_id, encounter.id)[1]
        applied = max(min(amount, owed), ZERO)
    common = {
        "method": method,
        "reference": reference,
        "note": note,
        "entry_date": _day(session, actor, at),
    }
    entries = []
    if applied > 0:
        entries.append(
            _entry(
                actor.user_id,
                actor.organization_id,
                patient.id,
                "patient_payment",
                at,
                encounter_id=encounter_id,
                patient_amount=-applied,
                **common,
            )
        )
    if amount - applied > 0:
        entries.append(
            _entry(
                actor.user_id,
                actor.organization_id,
                patient.id,
                "patient_payment",
                at,
                patient_amount=-(amount - applied),
                **common,
            )
        )
    return _record(session, actor, entries)


def apply_credit(
    session: Session,
    actor: Principal,
    *,
    patient_id: str,
    encounter_id: str,
    amount: Decimal | None,
    at: datetime,
) -> list[LedgerEntry]:
    """Moves unapplied credit onto an encounter the patient owes on (by default as much as
    both allow): a pair of entries, the credit up and the encounter down by the same amount."""
    patient = _patient(session, actor, patient_id)
    encounter = _encounter(session, actor, patient, encounter_id)
    credit = repository.credit(session, actor.organization_id, patient.id)
    owed = repository.encounter_balance(session, actor.organization_id, encounter.id)[1]
    most = min(credit, owed)
    if amount is None:
        amount = most
    if amount <= 0 or amount > most:
        raise AmountOverBalance(
            f"Credit {credit} and the patient's balance {owed} on encounter {encounter.id} "
            f"allow at most {max(most, ZERO)} to be applied."
        )
    day = _day(session, actor, at)
    return _record(
        session,
        actor,
        [
            _entry(
                actor.user_id,
                actor.organization_id,
                patient.id,
                "credit_applied",
                at,
                patient_amount=amount,
                entry_date=day,
            ),
            _entry(
                actor.user_id,
                actor.organization_id,
                patient.id,
                "credit_applied",
                at,
                encounter_id=encounter.id,
                patient_amount=-amount,
                entry_date=day,
            ),
        ],
    )


def refund(
    session: Session,
    actor: Principal,
    *,
    patient_id: str,
    amount: Decimal,
    method: str,
    reference: str | None,
    note: str | None,
    at: datetime,
) -> LedgerEntry:
    """Money given back to the patient: from unapplied credit only (an account that owes
    nothing back cannot be refunded into a debt)."""
    patient = _patient(session, actor, patient_id)
    credit = repository.credit(session, actor.organization_id, patient.id)
    if amount > credit:
        raise RefundOverCredit(f"The patient's unapplied credit is {credit}; {amount} is more.")
    entry = _entry(
        actor.user_id,
        actor.organization_id,
        patient.id,
        "refund",
        at,
        patient_amount=amount,
        method=method,
        reference=reference,
        note=note,
        entry_date=_day(session, actor, at),
    )
    return _record(session, actor, [entry])[0]


def reduce_balance(
    session: Session,
    actor: Principal,
    kind: str,
    *,
    patient_id: str,
    encounter_id: str,
    amount: Decimal,
    reason: str,
    side: str,
    note: str | None,
    at: datetime,
    claim_id: str | None = None,
    payer_id: str | None = None,
) -> LedgerEntry:
    """A write-off or an adjustment of what one side (insurance or patient) owes on an
    encounter, with a reason from REASONS; never more than that side owes."""
    if kind not in ("write_off", "adjustment"):
        raise InvalidInput(f"{kind} is not a write-off or an adjustment.")
    if reason not in REASONS:
        raise InvalidInput(f"Reason {reason!r} is not one of {', '.join(REASONS)}.")
    patient = _patient(session, actor, patient_id)
    encounter = _encounter(session, actor, patient, encounter_id)
    insurance, own = repository.encounter_balance(session, actor.organization_id, encounter.id)
    owed = insurance if side == "insurance" else own
    if amount > owed:
        raise AmountOverBalance(
            f"The {side} balance of encounter {encounter.id} is {owed}; {amount} is more."
        )
    if side == "insurance" and payer_id is None:
        payer_id = repository.encounter_payer(session, actor.organization_id, encounter.id)
    amounts = {f"{side}_amount": -amount}
    entry = _entry(
        actor.user_id,
        actor.organization_id,
        patient.id,
        kind,
        at,
        encounter_id=encounter.id,
        claim_id=claim_id,
        reason=reason,
        note=note,
        payer_id=payer_id if side == "insurance" else None,
        entry_date=_day(session, actor, at),
        **amounts,
    )
    return _record(session, actor, [entry])[0]


def transfer(
    session: Session,
    actor: Principal,
    *,
    encounter_id: str,
    amount: Decimal,
    to: str,
    note: str | None,
    at: datetime,
) -> LedgerEntry:
    """Moves responsibility between insurance and the patient on one encounter (a payer that
    will not pay: bill the patient; a patient balance a new coverage will answer for)."""
    encounter = crud.get(session, actor, coding.ENCOUNTERS, encounter_id, audit_read=False)
    _patient(session, actor, encounter.patient_id)
    insurance, own = repository.encounter_balance(session, actor.organization_id, encounter.id)
    source = insurance if to == "patient" else own
    if amount > source:
        side = "insurance" if to == "patient" else "patient"
        raise AmountOverBalance(
            f"The {side} balance of encounter {encounter.id} is {source}; {amount} is more."
        )
    sign = Decimal(1) if to == "patient" else Decimal(-1)
    entry = _entry(
        actor.user_id,
        actor.organization_id,
        encounter.patient_id,
        "transfer",
        at,
        encounter_id=encounter.id,
        insurance_amount=-sign * amount,
        patient_amount=sign * amount,
        note=note,
        payer_id=repository.encounter_payer(session, actor.organization_id, encounter.id),
        entry_date=_day(session, actor, at),
    )
    return _record(session, actor, [entry])[0]


def get_entry(session: Session, actor: Principal, entry_id: str) -> LedgerEntry:
    """The entry; 404 for none or another organization's."""
    entry = session.get(LedgerEntry, entry_id)
    if entry is None or entry.organization_id != actor.organization_id:
        raise LedgerEntryNotFound(f"No ledger entry {entry_id}.")
    return entry


def reverse_entry(
    session: Session, actor: Principal, entry_id: str, *, note: str, at: datetime
) -> LedgerEntry:
    """A correction: a new entry with the negated amounts, naming the one it undoes (a bounced
    check, a write-off taken in error). Only hand-made entries; each at most once."""
    entry = get_entry(session, actor, entry_id)
    if entry.kind not in REVERSIBLE:
        raise EntryNotReversible(
            f"A {entry.kind} entry is not reversed by hand ({', '.join(sorted(REVERSIBLE))} are)."
        )
    _patient(session, actor, entry.patient_id)
    if repository.reversal_of(session, entry.id) is not None:
        raise EntryAlreadyReversed(f"Ledger entry {entry.id} was reversed already.")
    if entry.kind == "refund" or (entry.kind == "patient_payment" and entry.encounter_id is None):
        # Taking back credit the patient no longer has would leave a hidden debt: say so.
        credit = repository.credit(session, actor.organization_id, entry.patient_id)
        if entry.kind == "patient_payment" and credit < -entry.patient_amount:
            raise AmountOverBalance(
                f"Only {credit} of this payment is still unapplied credit; reverse the "
                "credit applications or refunds that used it first."
            )
    reversal = _entry(
        actor.user_id,
        actor.organization_id,
        entry.patient_id,
        "reversal",
        at,
        encounter_id=entry.encounter_id,
        claim_id=entry.claim_id,
        claim_line_id=entry.claim_line_id,
        payer_id=entry.payer_id,
        insurance_amount=-entry.insurance_amount,
        patient_amount=-entry.patient_amount,
        method=entry.method,
        reference=entry.reference,
        reason=entry.reason,
        note=note,
        reverses_entry_id=entry.id,
        entry_date=_day(session, actor, at),
    )
    return _record(session, actor, [reversal])[0]


def balance(session: Session, actor: Principal, patient_id: str) -> dict[str, Any]:
    """The patient's balances, summed from the ledger: per encounter (insurance and patient
    sides), the unapplied credit, and the total the account owes."""
    patient = crud.get(session, actor, PATIENTS, patient_id, audit_read=False)
    rows = repository.balances_by_encounter(session, actor.organization_id, patient_id=patient.id)
    dates = repository.dates_of_service(session, [e for _, e, _, _ in rows if e is not None])
    encounters: list[dict[str, Any]] = [
        {
            "encounter_id": e,
            "date_of_service": dates.get(e),
            "insurance": i,
            "patient": p,
            "total": i + p,
        }
        for _, e, i, p in rows
        if e is not None
    ]
    credit = -sum((p + i for _, e, i, p in rows if e is None), ZERO)
    insurance = sum((i for _, e, i, _ in rows if e is not None), ZERO)
    own = sum((p for _, e, _, p in rows if e is not None), ZERO)
    return {
        "patient_id": patient.id,
        "insurance": insurance,
        "patient": own,
        "credit": credit,
        "total": insurance + own - credit,
        "encounters": sorted(
            encounters, key=lambda r: (str(r["date_of_service"]), r["encounter_id"])
        ),
    }
