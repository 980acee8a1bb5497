"""A denial work item as a biller reads it (patient and payer names, CARC/RARC text, age, the
claims routes that act on it), shared by the REST routes and the billing desk's page."""

from datetime import UTC, datetime

from sqlmodel import Session

from service import org_clock
from service.auth.logic import Principal
from service.directory import repository as directory
from service.patients import repository as patient_repository
from service.remittance import denials
from service.remittance.models import DenialItem
from service.remittance.schemas import DenialGroupCode, DenialWorkItemRead
from service.remittance.x12 import codes


def work_items(
    session: Session, user: Principal, items: list[DenialItem]
) -> list[DenialWorkItemRead]:
    """Items with the words a biller reads: names, CARC/RARC text, age, the claims routes."""
    today = org_clock.local_date(session, user.organization_id, datetime.now(UTC))
    patients = patient_repository.patients_by_id(
        session, user.organization_id, (i.patient_id for i in items)
    )
    payers = directory.payer_names(session, user.organization_id, (i.payer_id for i in items))
    texts: dict[tuple[str, str], str | None] = {}

    def text(system: str, code: str) -> DenialGroupCode:
        if (system, code) not in texts:
            texts[system, code] = denials.code_text(session, system, code, today)
        return DenialGroupCode(code=code, text=texts[system, code])

    out = []
    for item in items:
        patient = patients.get(item.patient_id)
        name = " ".join(filter(None, (patient.given_name, patient.family_name))) if patient else ""
        claim = f"/api/v1/claims/{item.claim_id}"
        out.append(
            DenialWorkItemRead.model_validate(
                {
                    **item.model_dump(),
                    "patient_name": name,
                    "payer_name": payers.get(item.payer_id, ""),
                    "group_words": codes.words(codes.ADJUSTMENT_GROUPS, item.group_code),
                    "reason": text("carc", item.reason),
                    "remark_codes": [text("rarc", r) for r in item.remark_codes],
                    "age_days": (today - item.denied_date).days,
                    "suggested_action": denials.suggested_action(item.group_code, item.reason),
                    "links": {
                        "replacement": f"POST {claim}/replacement",
                        "void": f"POST {claim}/void",
                        "adjudication": f"GET {claim}/adjudication",
                        "write_off": f"POST /api/v1/denials/items/{item.id}/write-off",
                        "appeal": f"POST /api/v1/denials/items/{item.id}/appeal",
                    },
                }
            )
        )
    return out
