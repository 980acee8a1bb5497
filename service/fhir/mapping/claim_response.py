"""FHIR ClaimResponse (read and search) <- 835 postings: what the payer decided about one of our
claims, as an EHR or a patient portal reads it. One ClaimResponse per posted CLP that matched a
claim (`request` = the Claim); a posting a later reversal undid reads as `cancelled`, the
reversal itself is not shown. outcome `complete`, disposition = CLP02 in words, identifier =
the payer's claim number (CLP07), total submitted (CLP03) / benefit (CLP04) / patient
responsibility (CLP05), payment (BPR/TRN: date, amount, trace number), claim-level and line-level
adjustments as adjudications whose category is the CAS group and reason the CARC, remark codes
(RARC) as adjudications of their own. A line the payer reported that matches none of ours is an
`addItem` with its procedure code.
"""

from datetime import datetime
from typing import Any, ClassVar

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service.auth.logic import Principal
from service.claims.models import Claim, ClaimLine
from service.fhir.mapping.base import Criterion, SearchParam, id_param, split_token
from service.fhir.mapping.claim import READERS, TYPES
from service.fhir.mapping.common import (
    PRODUCT_SYSTEMS,
    QueryType,
    concept,
    instant,
    money,
    session_of,
)
from service.fhir.mapping.coverage import reference_filter
from service.remittance.adjudication import (
    AdjustmentValue,
    ClaimAdjudication,
    LineAdjudicationValue,
    posting_adjudication,
)
from service.remittance.models import ClaimPosting, RemittancePayment

CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/ex-paymenttype"
CAS_GROUP_SYSTEM = "https://x12.org/codes/claim-adjustment-group-codes"
CARC_SYSTEM = "https://x12.org/codes/claim-adjustment-reason-codes"
RARC_SYSTEM = "https://x12.org/codes/remittance-advice-remark-codes"
PAYER_CLAIM_NUMBER_SYSTEM = "urn:backoffice:payer-claim-number"
TRACE_NUMBER_SYSTEM = "urn:backoffice:x12:trn02"
OWN_ADJUDICATION = "urn:backoffice:fhir:adjudication"


def _identifier(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    numbers = [
        v for s, v in map(split_token, c.values) if s in (None, "", PAYER_CLAIM_NUMBER_SYSTEM)
    ]
    return query.where(col(ClaimPosting.payer_claim_number).in_(numbers))


def _adjustment(adjustment: AdjustmentValue) -> dict[str, Any]:
    return {
        "category": concept(CAS_GROUP_SYSTEM, adjustment.group, adjustment.group_words),
        "reason": concept(CARC_SYSTEM, adjustment.reason),
        "amount": money(adjustment.amount),
    }


def _line_adjudications(line: LineAdjudicationValue) -> list[dict[str, Any]]:
    return [
        {"category": concept(ADJUDICATION, "submitted"), "amount": money(line.charge)},
        {"category": concept(ADJUDICATION, "benefit"), "amount": money(line.paid)},
        *(_adjustment(a) for a in line.adjustments),
        *({"category": concept(RARC_SYSTEM, code)} for code in line.remark_codes),
    ]


class ClaimResponseType(QueryType):
    type_name = "ClaimResponse"
    model = ClaimPosting
    audit_name = "claim_posting"
    readers = READERS
    documentation = "Payer adjudications of our claims, from posted 835 remittances (read-only)."
    search_params: ClassVar[dict[str, SearchParam]] = {
        "_id": id_param(ClaimPosting),
        "identifier": SearchParam(
            "identifier",
            "token",
            f"The payer's claim number (CLP07, {PAYER_CLAIM_NUMBER_SYSTEM}).",
            _identifier,
        ),
        "request": SearchParam(
            "request",
            "reference",
            "The claim adjudicated: Claim/<id>.",
            reference_filter(ClaimPosting.claim_id, "Claim"),
        ),
        "patient": SearchParam(
            "patient",
            "reference",
            "The patient: Patient/<id>.",
            reference_filter(Claim.patient_id, "Patient"),
        ),
    }

    def base_query(self, actor: Principal) -> SelectOfScalar[Any]:
        # Matched postings only (an unmatched one belongs to no claim of ours), reversals hidden.
        return (
            select(ClaimPosting)
            .join(Claim, col(Claim.id) == col(ClaimPosting.claim_id))
            .where(
                col(ClaimPosting.organization_id) == actor.organization_id,
                col(Claim.organization_id) == actor.organization_id,
                col(ClaimPosting.reverses).is_(None),
                col(ClaimPosting.status_code) != "22",
            )
        )

    def updated_column(self) -> Any:
        # The posting's time; a reversal (version 2) is not seen by `_lastUpdated` polling.
        return ClaimPosting.posted_at

    # A posting never changes but for the reversal that undoes it: version 2, dated then.
    def version(self, row: Any) -> int:
        return 2 if row.reversed_by else 1

    def last_updated(self, row: Any) -> datetime:
        reversal = session_of(row).get(ClaimPosting, row.reversed_by) if row.reversed_by else None
        return reversal.posted_at if reversal else row.posted_at

    def patient_of(self, row: Any) -> str | None:
        claim = session_of(row).get(Claim, row.claim_id)
        return claim.patient_id if claim else None

    def render(self, row: Any) -> dict[str, Any]:
        session = session_of(row)
        claim = session.get(Claim, row.claim_id)
        payment = session.get(RemittancePayment, row.payment_id)
        if claim is None or payment is None:  # the base query joins the claim; payments stay
            raise LookupError(f"posting {row.id} without its claim or payment")
        decided = posting_adjudication(session, row, payment)
        body: dict[str, Any] = {
            "identifier": [{"system": PAYER_CLAIM_NUMBER_SYSTEM, "value": row.payer_claim_number}],
            "status": "cancelled" if row.reversed_by else "active",
            "type": concept(CLAIM_TYPE, TYPES[claim.claim_type]),
            "use": "claim",
            "patient": {"reference": f"Patient/{claim.patient_id}"},
            "created": instant(row.posted_at),
            "insurer": {
                "reference": f"Organization/{claim.payer_id}",
                "display": decided.payer_name,
            },
            "request": {"reference": f"Claim/{claim.id}"},
            "outcome": "complete",
            "disposition": decided.status_words,
        }
        items, added = self._items(session, claim.id, decided)
        if items:
            body["item"] = items
        if added:
            body["addItem"] = added
        if decided.adjustments:
            body["adjudication"] = [_adjustment(a) for a in decided.adjustments]
        body["total"] = [
            {"category": concept(ADJUDICATION, "submitted"), "amount": money(decided.charge)},
            {"category": concept(ADJUDICATION, "benefit"), "amount": money(decided.paid)},
            {
                "category": concept(OWN_ADJUDICATION, "patient-responsibility"),
                "amount": money(decided.patient_responsibility),
            },
        ]
        body["payment"] = self._payment(decided)
        return body

    @staticmethod
    def _items(
        session: Session, claim_id: str, decided: ClaimAdjudication
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        positions = dict(
            session.exec(
                select(ClaimLine.id, ClaimLine.position).where(ClaimLine.claim_id == claim_id)
            ).all()
        )
        items: list[dict[str, Any]] = []
        added: list[dict[str, Any]] = []
        for line in decided.lines:
            adjudication = _line_adjudications(line)
            if line.claim_line_id in positions:
                items.append(
                    {"itemSequence": positions[line.claim_line_id], "adjudication": adjudication}
                )
            else:  # reported by the payer, matched to none of our lines
                system = PRODUCT_SYSTEMS["HCPCS" if line.procedure_code[:1].isalpha() else "CPT"]
                add: dict[str, Any] = {"productOrService": concept(system, line.procedure_code)}
                if line.service_date:
                    add["servicedDate"] = line.service_date.isoformat()
                added.append({**add, "net": money(line.charge), "adjudication": adjudication})
        items.sort(key=lambda item: item["itemSequence"])
        return items, added

    @staticmethod
    def _payment(decided: ClaimAdjudication) -> dict[str, Any]:
        payment: dict[str, Any] = {
            "type": concept(PAYMENT_TYPE, "complete"),
            "amount": money(decided.paid),
            "identifier": {"system": TRACE_NUMBER_SYSTEM, "value": decided.trace_number},
        }
        if decided.payment_date:
            payment["date"] = decided.payment_date.isoformat()
        return payment


__all__ = ["ClaimResponseType"]
