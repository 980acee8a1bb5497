"""Ledger entries the rest of the service causes, written in the same transaction as the work:
charges when an encounter turns billed, insurance entries when an 835 posts, and the transfer
back to insurance when a secondary claim is sent.

Per 835 claim posting (CLP) matched to one of our claims:
- CLP04 paid -> insurance_payment (insurance side down);
- CAS PR -> transfer (insurance down, patient up): the patient's share;
- CAS CO 45 / CO 253 -> insurance_adjustment (contractual);
- any other CAS on a denied or partially paid claim -> no entry: the denied amount stays owed
  by the payer until the denial is worked (remittance/denials.py: a write-off is an entry);
  on any other claim -> insurance_adjustment;
- OA 23 on a secondary claim -> no entry: the primary's adjudication, counted already.
A reversal (CLP02 22) reverses, entry by entry, the entries of the posting it undoes. A PLB
recoupment naming a claim (not L6 interest) raises the insurance side again. These are the
rules remittance/reports.py uses for aging, so the two agree (tests/ledger/test_reports.py).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service import bulk
from service.claims.models import Claim
from service.coding.models import Encounter, ServiceLine
from service.ids import new_id
from service.ledger.models import LedgerEntry
from service.sql_lists import one_of

PAGE = 500
WORKABLE = frozenset({"denied", "partially_paid"})
CONTRACTUAL = frozenset({("CO", "45"), ("CO", "253")})
INTEREST = frozenset({"L6"})
ZERO = Decimal("0.00")


def _pages(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[i : i + PAGE] for i in range(0, len(values), PAGE)]


def _row(
    organization_id: str, actor_id: str, at: datetime, day: date, **values: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": new_id(),
        "organization_id": organization_id,
        "actor": actor_id,
        "at": at,
        "entry_date": day,
        "insurance_amount": ZERO,
        "patient_amount": ZERO,
        "encounter_id": None,
        "claim_id": None,
        "claim_line_id": None,
        "payer_id": None,
        "method": None,
        "reference": None,
        "reason": None,
        "note": None,
        "claim_posting_id": None,
        "remittance_payment_id": None,
        "reverses_entry_id": None,
    }
    row.update(values)
    return row


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    # Not the ORM's bulk path: every row has every column, None included (the ORM left None
    # values out, and rows whose None columns differ could not share one executemany: an
    # 835's entries went in one row per statement); the driver's executemany (service/bulk.py).
    bulk.insert_rows(session, LedgerEntry.__table__, rows)  # type: ignore[attr-defined]


def sync_charges(
    session: Session,
    organization_id: str,
    actor_id: str,
    encounter_ids: Sequence[str],
    *,
    at: datetime,
    day: date,
) -> None:
    """Charges follow the encounter: a billed encounter is charged its lines' total, one sent
    back to ready (its batch cancelled) nothing. Only the difference is posted, so a re-coded
    encounter billed again is charged what its coding changed, never twice."""
    for page in _pages(sorted(set(encounter_ids))):
        # The three columns used, not the Encounter entities (thousands per batch).
        encounters = {
            e.id: e
            for e in session.execute(
                sa.select(col(Encounter.id), col(Encounter.status), col(Encounter.patient_id))
                .where(
                    col(Encounter.organization_id) == organization_id,
                    one_of(session, Encounter.id, page),
                )
                .order_by(col(Encounter.id))
            )
        }
        totals: dict[str, Decimal] = {
            e: Decimal(t)
            for e, t in session.execute(
                sa.select(col(ServiceLine.encounter_id), sa.func.sum(ServiceLine.charge))
                .where(one_of(session, ServiceLine.encounter_id, page))
                .group_by(col(ServiceLine.encounter_id))
            )
        }
        charged: dict[str, Decimal] = {
            e: Decimal(t)
            for e, t in session.execute(
                sa.select(col(LedgerEntry.encounter_id), sa.func.sum(LedgerEntry.insurance_amount))
                .where(
                    col(LedgerEntry.organization_id) == organization_id,
                    one_of(session, LedgerEntry.encounter_id, page),
                    col(LedgerEntry.kind) == "charge",
                )
                .group_by(col(LedgerEntry.encounter_id))
            )
        }
        primaries: dict[str, tuple[str, str]] = {}
        for claim_id, encounter_id, payer_id in session.execute(
            sa.select(col(Claim.id), col(Claim.encounter_id), col(Claim.payer_id))
            .where(
                one_of(session, Claim.encounter_id, page), col(Claim.payer_responsibility) == "P"
            )
            .order_by(col(Claim.created_at), col(Claim.id))
        ):
            primaries[encounter_id] = (claim_id, payer_id)  # the latest wins
        rows = []
        for encounter in encounters.values():
            target = totals.get(encounter.id, ZERO) if encounter.status == "billed" else ZERO
            delta = target - charged.get(encounter.id, ZERO)
            if delta == 0:
                continue
            claim_id, payer_id = primaries.get(encounter.id, (None, None))
            rows.append(
                _row(
                    organization_id,
                    actor_id,
                    at,
                    day,
                    kind="charge",
                    patient_id=encounter.patient_id,
                    encounter_id=encounter.id,
                    claim_id=claim_id,
                    payer_id=payer_id,
                    insurance_amount=delta,
                    note=None if encounter.status == "billed" else "batch cancelled",
                )
            )
        _insert(session, rows)


def transfer_to_secondaries(
    session: Session,
    organization_id: str,
    actor_id: str,
    claim_ids: Sequence[str],
    *,
    at: datetime,
    day: date,
) -> None:
    """A secondary (or tertiary) claim sent answers for the patient's share of the primary's
    835 (coordination of benefits): that share moves back to insurance, once per claim."""
    claims = [
        c
        for page in _pages(sorted(set(claim_ids)))
        for c in session.exec(
            select(Claim).where(
                Claim.organization_id == organization_id,
                one_of(session, Claim.id, page),
                Claim.payer_responsibility != "P",
            )
        )
    ]
    rows = []
    for claim in claims:
        moved = session.exec(
            select(LedgerEntry.id).where(
                LedgerEntry.claim_id == claim.id,
                LedgerEntry.kind == "transfer",
                col(LedgerEntry.claim_posting_id).is_(None),
            )
        ).first()
        if moved is not None:
            continue
        primary_ids = select(Claim.id).where(
            Claim.encounter_id == claim.encounter_id, Claim.payer_responsibility == "P"
        )
        share = session.execute(
            sa.select(sa.func.sum(LedgerEntry.patient_amount)).where(
                col(LedgerEntry.claim_id).in_(primary_ids),
                col(LedgerEntry.kind).in_(("transfer", "reversal")),
                col(LedgerEntry.claim_posting_id).is_not(None),
            )
        ).scalar()
        share = Decimal(share or ZERO)
        if share <= 0:
            continue
        rows.append(
            _row(
                organization_id,
                actor_id,
                at,
                day,
                kind="transfer",
                patient_id=claim.patient_id,
                encounter_id=claim.encounter_id,
                claim_id=claim.id,
                payer_id=claim.payer_id,
                insurance_amount=share,
                patient_amount=-share,
                note="secondary claim sent: the primary's patient share",
            )
        )
    _insert(session, rows)


@dataclass(frozen=True, slots=True)
class _ClaimRef:
    """What an 835's entries take from their claim."""

    id: str
    patient_id: str
    encounter_id: str
    payer_id: str
    payer_responsibility: str


def _claim_refs(session: Session, claim_ids: Sequence[str]) -> dict[str, _ClaimRef]:
    # Five columns, no ORM objects: an 835 page reads thousands of claims.
    found: dict[str, _ClaimRef] = {}
    for page in _pages(sorted(set(claim_ids))):
        for row in session.execute(
            sa.select(
                col(Claim.id),
                col(Claim.patient_id),
                col(Claim.encounter_id),
                col(Claim.payer_id),
                col(Claim.payer_responsibility),
            ).where(col(Claim.id).in_(page))
        ):
            found[row[0]] = _ClaimRef(*row)
    return found


def _money(values: dict[str, Any], key: str) -> Decimal:
    value = values[key]  # a Decimal as posting.py builds its rows; else exactly as written
    return value if value.__class__ is Decimal else Decimal(str(value))


def post_remittance(
    session: Session,
    organization_id: str,
    actor_id: str,
    postings: Sequence[dict[str, Any]],
    adjustments: Sequence[dict[str, Any]],
    *,
    at: datetime,
    day: date,
) -> None:
    """The entries of one page of 835 claim postings (rows as posting.py inserts them, with
    the claim's status after each)."""
    matched = [p for p in postings if p["claim_id"] is not None]
    if not matched:
        return
    claims = _claim_refs(session, [p["claim_id"] for p in matched])
    cas: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in adjustments:
        cas[a["claim_posting_id"]].append(a)
    made: dict[str, list[dict[str, Any]]] = {}  # posting id -> its entries (this page)
    rows: list[dict[str, Any]] = []
    for posting in matched:
        claim = claims[posting["claim_id"]]
        common = {
            "patient_id": claim.patient_id,
            "encounter_id": claim.encounter_id,
            "claim_id": claim.id,
            "payer_id": claim.payer_id,
            "claim_posting_id": posting["id"],
            "remittance_payment_id": posting["payment_id"],
        }
        if posting["reverses"] is not None:
            undone = made.get(posting["reverses"])
            if undone is None:
                undone = [
                    e.model_dump()
                    for e in session.exec(
                        select(LedgerEntry).where(
                            LedgerEntry.claim_posting_id == posting["reverses"],
                            col(LedgerEntry.kind) != "reversal",
                        )
                    )
                ]
            for entry in undone:
                rows.append(
                    _row(
                        organization_id,
                        actor_id,
                        at,
                        day,
                        kind="reversal",
                        **common,
                        insurance_amount=-entry["insurance_amount"],
                        patient_amount=-entry["patient_amount"],
                        reason=entry["reason"],
                        note=f"835 reversal of {entry['kind']}",
                        reverses_entry_id=entry["id"],
                    )
                )
            continue
        entries = _posting_entries(posting, claim, cas[posting["id"]])
        made[posting["id"]] = [
            _row(organization_id, actor_id, at, day, **common, **values) for values in entries
        ]
        rows += made[posting["id"]]
    _insert(session, rows)


def _posting_entries(
    posting: dict[str, Any], claim: _ClaimRef, adjustments: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    paid = _money(posting, "paid")
    patient = contractual = other = ZERO
    for a in adjustments:
        amount = _money(a, "amount")
        key = (a["group_code"], a["reason"])
        if a["group_code"] == "PR":
            patient += amount
        elif key in CONTRACTUAL:
            contractual += amount
        elif key == ("OA", "23") and claim.payer_responsibility != "P":
            continue
        elif posting["status_after"] not in WORKABLE:
            other += amount
    entries: list[dict[str, Any]] = []
    if paid:
        entries.append({"kind": "insurance_payment", "insurance_amount": -paid})
    if contractual:
        entries.append(
            {
                "kind": "insurance_adjustment",
                "insurance_amount": -contractual,
                "reason": "contractual",
            }
        )
    if other:
        entries.append(
            {"kind": "insurance_adjustment", "insurance_amount": -other, "reason": "other"}
        )
    if patient:
        entries.append(
            {
                "kind": "transfer",
                "insurance_amount": -patient,
                "patient_amount": patient,
                "note": "835 patient responsibility",
            }
        )
    return entries


def post_recoupments(
    session: Session,
    organization_id: str,
    actor_id: str,
    payment_id: str,
    plb: Sequence[dict[str, Any]],
    *,
    at: datetime,
    day: date,
) -> None:
    """PLB adjustments naming one of our claims (not interest): the payer takes money back
    (a positive amount) or pays more (negative), on that claim."""
    tied = [p for p in plb if p["claim_id"] is not None and p["reason"] not in INTEREST]
    if not tied:
        return
    claims = _claim_refs(session, [p["claim_id"] for p in tied])
    _insert(
        session,
        [
            _row(
                organization_id,
                actor_id,
                at,
                day,
                kind="insurance_payment",
                patient_id=claims[p["claim_id"]].patient_id,
                encounter_id=claims[p["claim_id"]].encounter_id,
                claim_id=p["claim_id"],
                payer_id=claims[p["claim_id"]].payer_id,
                remittance_payment_id=payment_id,
                insurance_amount=Decimal(str(p["amount"])),
                reference=p["reference"][:50],
                note=f"PLB {p['reason']}",
            )
            for p in tied
        ],
    )
