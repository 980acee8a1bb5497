"""Turns stored claims into the 837 writer's input values, loading references in bulk.

Claims are read a page at a time with their lines, patients, coverages, payers and providers
fetched in one query each, so a 100,000-claim batch costs a few queries per 500 claims.
"""

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from service.claims.models import Claim, ClaimLine
from service.claims.x12 import model as x12
from service.coding.models import Encounter
from service.directory.models import Facility, Payer, Provider
from service.patients.models import Coverage, Patient
from service.remittance import secondary

PAGE = 500
T = TypeVar("T")


def _by_id(session: Session, model: type[T], ids: Iterable[str | None]) -> dict[str, T]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = session.exec(select(model).where(col(model.id).in_(wanted))).all()  # type: ignore[attr-defined]
    return {row.id: row for row in rows}  # type: ignore[attr-defined]


def _address(raw: dict[str, Any] | None) -> x12.Address | None:
    if not raw:
        return None
    return x12.Address(
        line1=raw["line1"],
        line2=raw.get("line2"),
        city=raw["city"],
        state=raw["state"],
        postal_code=raw["postal_code"],
    )


def _person(
    family: str, given: str, middle: str | None = None, suffix: str | None = None
) -> x12.PersonName:
    return x12.PersonName(family=family, given=given, middle=middle or "", suffix=suffix or "")


def _provider_name(provider: Provider) -> x12.Name:
    if provider.kind == "organization":
        return provider.organization_name or ""
    return _person(
        provider.family_name or "", provider.given_name or "", provider.middle_name, provider.suffix
    )


class Refs:
    """The rows a page of claims refers to."""

    def __init__(self, session: Session, claims: Sequence[Claim]) -> None:
        ids = [c.id for c in claims]
        self.lines: dict[str, list[ClaimLine]] = {i: [] for i in ids}
        if ids:
            for line in session.exec(
                select(ClaimLine)
                .where(col(ClaimLine.claim_id).in_(ids))
                .order_by(col(ClaimLine.claim_id), col(ClaimLine.position))
            ):
                self.lines[line.claim_id].append(line)
        self.encounters = _by_id(session, Encounter, (c.encounter_id for c in claims))
        self.patients = _by_id(session, Patient, (c.patient_id for c in claims))
        self.coverages = _by_id(session, Coverage, (c.coverage_id for c in claims))
        self.payers = _by_id(session, Payer, (c.payer_id for c in claims))
        encounters = self.encounters.values()
        self.providers = _by_id(
            session,
            Provider,
            [
                p
                for e in encounters
                for p in (e.billing_provider_id, e.rendering_provider_id, e.referring_provider_id)
            ],
        )
        self.facilities = _by_id(session, Facility, (e.facility_id for e in encounters))
        # Secondary/tertiary claims carry the primary payer's adjudication (2320/2330, 2430).
        self.prior = secondary.prior_payers(
            session, [c for c in claims if c.payer_responsibility != "P"]
        )


def claim_input(claim: Claim, refs: Refs) -> x12.ClaimInput:
    """Raises X12InputError (or KeyError for a missing reference) when a value cannot be sent."""
    encounter = refs.encounters[claim.encounter_id]
    patient = refs.patients[claim.patient_id]
    coverage = refs.coverages[claim.coverage_id]
    payer = refs.payers[claim.payer_id]
    billing = refs.providers[encounter.billing_provider_id]
    billing_address = _address(billing.address)
    if billing_address is None or not billing.tax_id:
        raise x12.X12InputError("The billing provider needs a street address and a tax id.")
    subscriber_is_patient = coverage.relationship == "18"
    if subscriber_is_patient:
        subscriber = x12.Subscriber(
            member_id=coverage.member_id,
            name=_person(
                patient.family_name, patient.given_name, patient.middle_name, patient.suffix
            ),
            claim_filing_indicator=payer.claim_filing_indicator,
            payer_responsibility=claim.payer_responsibility,
            group_number=coverage.group_number,
            birth_date=patient.birth_date,
            sex=patient.sex,
            address=_address(patient.address),
        )
        patient_loop = None
    else:
        sub = coverage.subscriber or {}
        subscriber = x12.Subscriber(
            member_id=coverage.member_id,
            name=_person(
                sub.get("family_name", ""),
                sub.get("given_name", ""),
                sub.get("middle_name"),
                sub.get("suffix"),
            ),
            claim_filing_indicator=payer.claim_filing_indicator,
            payer_responsibility=claim.payer_responsibility,
            group_number=coverage.group_number,
            birth_date=date.fromisoformat(sub["birth_date"]) if sub.get("birth_date") else None,
            sex=sub.get("sex"),
            address=_address(sub.get("address")),
        )
        patient_address = _address(patient.address)
        if patient_address is None:
            raise x12.X12InputError(
                "A patient who is not the subscriber needs an address (2010CA)."
            )
        patient_loop = x12.Patient(
            relationship=coverage.relationship,
            name=_person(
                patient.family_name, patient.given_name, patient.middle_name, patient.suffix
            ),
            birth_date=patient.birth_date,
            sex=patient.sex,
            address=patient_address,
        )
    rendering = refs.providers.get(encounter.rendering_provider_id or "")
    referring = refs.providers.get(encounter.referring_provider_id or "")
    facility = refs.facilities.get(encounter.facility_id or "")
    dental = claim.claim_type == "dental"
    prior = refs.prior.get(claim.id)
    lines = tuple(
        x12.ServiceLine(
            procedure_code=line.code,
            charge=line.charge,
            service_date=line.service_date,
            line_control_number=line.line_control_number,
            units=line.units,
            modifiers=tuple(line.modifiers),
            diagnosis_pointers=tuple(line.pointers),
            oral_cavity_areas=(line.oral_area,) if dental and line.oral_area else (),
            prosthesis=line.prosthesis if dental else None,
            teeth=(x12.Tooth(line.tooth, tuple(line.surfaces or "")),)
            if dental and line.tooth
            else (),
            adjudications=prior.lines.get(line.service_line_id or "", ()) if prior else (),
        )
        for line in refs.lines[claim.id]
    )
    lab_codes = any(
        line.code_system in ("CPT", "HCPCS") and line.code[:1] == "8"
        for line in refs.lines[claim.id]
    )
    return x12.ClaimInput(
        patient_control_number=claim.patient_control_number,
        billing_provider=x12.BillingProvider(
            npi=billing.npi,
            name=_provider_name(billing),
            tax_id=billing.tax_id,
            address=billing_address,
            taxonomy=billing.taxonomy,
        ),
        subscriber=subscriber,
        payer=x12.Payer(
            name=payer.name, payer_id=payer.edi_payer_id, address=_address(payer.address)
        ),
        place_of_service=claim.place_of_service,
        diagnoses=tuple(claim.diagnoses),
        lines=lines,
        patient=patient_loop,
        frequency=claim.frequency,  # type: ignore[arg-type]
        payer_claim_number=claim.payer_claim_number,
        prior_authorization=encounter.prior_authorization,
        referral_number=encounter.referral_number,
        # REF*X4: the lab's CLIA number on claims with laboratory services (80000-89999).
        clia_number=facility.clia_number if facility and lab_codes and not dental else None,
        referring_provider=x12.Provider(
            referring.npi, _provider_name(referring), referring.taxonomy
        )
        if referring
        else None,
        rendering_provider=x12.Provider(
            rendering.npi, _provider_name(rendering), rendering.taxonomy
        )
        if rendering and rendering.id != billing.id
        else None,
        other_payers=prior.other_payers if prior else (),
        service_facility=(
            x12.ServiceFacility(
                facility.name, _address(facility.address) or billing_address, facility.npi
            )
            if facility
            else None
        ),
    )


def iter_claim_inputs(session: Session, claim_ids: Sequence[str]) -> Iterator[x12.ClaimInput]:
    """In the order given, a page of claims and references at a time; each page is let go of
    (expunged) once written, so memory stays flat however many claims the batch has."""
    for start in range(0, len(claim_ids), PAGE):
        wanted = claim_ids[start : start + PAGE]
        found = _by_id(session, Claim, wanted)
        page = [found[i] for i in wanted]
        refs = Refs(session, page)
        for claim in page:
            yield claim_input(claim, refs)
        for obj in [
            *page,
            *(ln for lines in refs.lines.values() for ln in lines),
            *refs.encounters.values(),
            *refs.patients.values(),
            *refs.coverages.values(),
        ]:
            session.expunge(obj)
