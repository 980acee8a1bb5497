"""Input values for the 837 writer: frozen dataclasses checked when they are built."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal, NoReturn

from service.identifiers import npi_is_valid
from service.x12.envelope import Interchange as Interchange
from service.x12.envelope import X12InputError as X12InputError
from service.x12.envelope import require as _require
from service.x12.segments import clean

Kind = Literal["P", "D"]  # 837P professional (005010X222A1), 837D dental (005010X224A2)

_DIGITS = re.compile(r"\d+")
_ZIP = re.compile(r"\d{5}(\d{4})?")
_ICD10 = re.compile(r"[A-Z][0-9][0-9A-Z]{1,5}")
_STATE = re.compile(r"[A-Z]{2}")
_TOOTH_SURFACES = frozenset("MODBLIF")
# 837D SV304 oral cavity designation codes (X12 code source 135).
_ORAL_CAVITY = frozenset({"00", "01", "02", "09", "10", "20", "30", "40", "L", "R"})
# 2000C PAT01 / 2320 SBR02 individual relationship codes allowed by X222A1/X224A2.
_PATIENT_RELATIONSHIPS = frozenset({"01", "19", "20", "21", "39", "40", "53", "G8"})
_OTHER_RELATIONSHIPS = frozenset({"01", "18", "19", "20", "21", "39", "40", "53", "G8"})
# SBR01 payer responsibility sequence codes (X12 1138).
_RESPONSIBILITIES = tuple("PSTABCDEFGHU")
# CAS01 claim adjustment group codes in 5010.
_CAS_GROUPS = frozenset({"CO", "CR", "OA", "PI", "PR"})


def _check_npi(npi: str, what: str) -> None:
    _require(npi_is_valid(npi), f"{what} NPI must be 10 digits with a valid check digit.")


def _check_sex(sex: str | None, what: str) -> None:
    _require(sex in (None, "M", "F", "U"), f"{what} sex must be M, F or U.")


def _check_required_text(value: str, what: str) -> None:
    _require(bool(clean(value)), f"{what} is empty once cleaned for X12.")


@dataclass(frozen=True, slots=True)
class Address:
    """N3/N4. Billing provider and pay-to addresses need a street address and a 9-digit ZIP."""

    line1: str
    city: str
    state: str
    postal_code: str
    line2: str | None = None

    def __post_init__(self) -> None:
        _check_required_text(self.line1, "Address line 1")
        _check_required_text(self.city, "Address city")
        _require(bool(_STATE.fullmatch(self.state)), "Address state must be 2 capital letters.")
        _require(
            bool(_ZIP.fullmatch(self.postal_code)),
            "Address postal code must be 5 or 9 digits without a dash.",
        )


def address_from(raw: dict[str, Any] | None) -> Address | None:
    """A stored address (patients, payers, providers, facilities: line1, line2, city, state,
    postal_code) as N3/N4; None when there is none."""
    if not raw:
        return None
    return Address(
        line1=raw["line1"],
        line2=raw.get("line2"),
        city=raw["city"],
        state=raw["state"],
        postal_code=raw["postal_code"],
    )


@dataclass(frozen=True, slots=True)
class PersonName:
    """NM103 family, NM104 given, NM105 middle, NM107 suffix (JR, SR, III)."""

    family: str
    given: str = ""
    middle: str = ""
    suffix: str = ""

    def __post_init__(self) -> None:
        _check_required_text(self.family, "Family name")


# A provider or submitter is a person (NM102 1) or an organization (NM102 2, NM103 only).
Name = PersonName | str


def _check_name(name: Name, what: str) -> None:
    if isinstance(name, str):
        _check_required_text(name, f"{what} organization name")


@dataclass(frozen=True, slots=True)
class Submitter:
    """Loop 1000A: NM1*41 with the id the receiver assigned, PER*IC with a contact number."""

    name: Name
    submitter_id: str
    contact_name: str
    phone: str | None = None  # digits only, area code first
    email: str | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "Submitter")
        _check_required_text(self.submitter_id, "Submitter id")
        _require(bool(self.phone or self.email), "Submitter PER needs a phone or an email.")
        _require(
            self.phone is None or bool(_DIGITS.fullmatch(self.phone)),
            "Submitter phone must be digits only.",
        )


@dataclass(frozen=True, slots=True)
class Receiver:
    """Loop 1000B: NM1*40 with the receiver's (clearinghouse's) id."""

    name: str
    receiver_id: str

    def __post_init__(self) -> None:
        _check_required_text(self.name, "Receiver name")
        _check_required_text(self.receiver_id, "Receiver id")


@dataclass(frozen=True, slots=True)
class Header:
    """Everything that is the same for every claim of a batch."""

    interchange: Interchange
    submitter: Submitter
    receiver: Receiver


@dataclass(frozen=True, slots=True)
class BillingProvider:
    """Loops 2000A/2010AA (PRV*BI, NM1*85, N3, N4, REF*EI) and 2010AB pay-to address."""

    npi: str
    name: Name
    tax_id: str  # EIN, 9 digits, REF*EI
    address: Address  # a street address (no PO box) with a 9-digit ZIP
    taxonomy: str | None = None  # PRV*BI*PXC
    pay_to_address: Address | None = None  # 2010AB, only when it differs

    def __post_init__(self) -> None:
        _check_npi(self.npi, "Billing provider")
        _check_name(self.name, "Billing provider")
        _require(
            len(self.tax_id) == 9 and self.tax_id.isdigit(),
            "Billing provider EIN must be 9 digits.",
        )
        _require(len(self.address.postal_code) == 9, "Billing provider ZIP must have 9 digits.")


@dataclass(frozen=True, slots=True)
class Subscriber:
    """Loops 2000B (SBR) and 2010BA (NM1*IL, N3, N4, DMG)."""

    member_id: str
    name: PersonName
    claim_filing_indicator: str  # SBR09: CI commercial, MB Medicare B, MC Medicaid, BL ...
    payer_responsibility: str = "P"  # SBR01: P primary, S secondary, T tertiary
    group_number: str | None = None  # SBR03
    group_name: str | None = None  # SBR04
    birth_date: date | None = None  # DMG02, required when the subscriber is the patient
    sex: str | None = None  # DMG03
    address: Address | None = None  # required when the subscriber is the patient

    def __post_init__(self) -> None:
        _check_required_text(self.member_id, "Subscriber member id")
        _check_sex(self.sex, "Subscriber")
        _require(
            self.payer_responsibility in _RESPONSIBILITIES,
            "SBR01 payer responsibility must be an X12 1138 code (P, S, T...).",
        )
        _require(len(self.claim_filing_indicator) == 2, "SBR09 is a 2-character code.")


@dataclass(frozen=True, slots=True)
class Payer:
    """Loop 2010BB (NM1*PR with NM108 PI) or 2330B for another payer."""

    name: str
    payer_id: str  # as the clearinghouse lists it
    address: Address | None = None

    def __post_init__(self) -> None:
        _check_required_text(self.name, "Payer name")
        _check_required_text(self.payer_id, "Payer id")


@dataclass(frozen=True, slots=True)
class Patient:
    """Loops 2000C (PAT01) and 2010CA (NM1*QC, N3, N4, DMG): only when not the subscriber."""

    relationship: str  # PAT01: 19 child, 01 spouse, 20 employee, 21 unknown, G8 other...
    name: PersonName
    birth_date: date
    sex: str
    address: Address

    def __post_init__(self) -> None:
        _require(
            self.relationship in _PATIENT_RELATIONSHIPS,
            "PAT01 must be 01, 19, 20, 21, 39, 40, 53 or G8 (18 self means no 2000C).",
        )
        _check_sex(self.sex, "Patient")


@dataclass(frozen=True, slots=True)
class Provider:
    """2310A referring (NM1*DN), 2310B rendering (NM1*82 + PRV*PE)."""

    npi: str
    name: Name
    taxonomy: str | None = None

    def __post_init__(self) -> None:
        _check_npi(self.npi, "Provider")
        _check_name(self.name, "Provider")


@dataclass(frozen=True, slots=True)
class ServiceFacility:
    """2310C service facility location (NM1*77, N3, N4); NPI optional."""

    name: str
    address: Address
    npi: str | None = None

    def __post_init__(self) -> None:
        _check_required_text(self.name, "Service facility name")
        if self.npi is not None:
            _check_npi(self.npi, "Service facility")


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS triplet: group (CO, PR, OA, PI, CR), CARC reason, amount, optional quantity."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None

    def __post_init__(self) -> None:
        _require(self.group in _CAS_GROUPS, "CAS01 must be CO, CR, OA, PI or PR.")
        _check_required_text(self.reason, "CAS reason code")


@dataclass(frozen=True, slots=True)
class OtherSubscriber:
    """Loop 2330A: the subscriber of the other (e.g. primary) coverage."""

    member_id: str
    name: PersonName
    address: Address | None = None

    def __post_init__(self) -> None:
        _check_required_text(self.member_id, "Other subscriber member id")


@dataclass(frozen=True, slots=True)
class OtherPayer:
    """Loop 2320 (SBR, CAS, AMT*D, OI), 2330A and 2330B: another payer's adjudication."""

    payer: Payer  # 2330B NM1*PR; its payer_id is what 2430 SVD01 refers to
    subscriber: OtherSubscriber  # 2330A NM1*IL
    claim_filing_indicator: str  # SBR09
    relationship: str = "18"  # SBR02: patient's relationship to the other subscriber
    payer_responsibility: str = "P"  # SBR01 of the other payer
    group_number: str | None = None  # SBR03
    paid_amount: Decimal | None = None  # AMT*D, what that payer paid on the claim
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    adjudication_date: date | None = None  # 2330B DTP*573, needed without line adjudication

    def __post_init__(self) -> None:
        _require(
            self.relationship in _OTHER_RELATIONSHIPS, "2320 SBR02 must be an individual code."
        )
        _require(
            self.payer_responsibility in _RESPONSIBILITIES,
            "2320 SBR01 must be an X12 1138 code (P, S, T...).",
        )
        _require(len(self.claim_filing_indicator) == 2, "2320 SBR09 is a 2-character code.")


@dataclass(frozen=True, slots=True)
class LineAdjudication:
    """Loop 2430: SVD + CAS + DTP*573, how another payer paid one line."""

    payer_id: str  # SVD01 = that payer's 2330B NM109
    paid_amount: Decimal
    procedure_code: str  # SVD03 as adjudicated
    adjudication_date: date
    paid_units: Decimal = Decimal(1)  # SVD05
    modifiers: tuple[str, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()

    def __post_init__(self) -> None:
        _require(len(self.modifiers) <= 4, "SVD03 takes at most 4 modifiers.")


@dataclass(frozen=True, slots=True)
class Tooth:
    """837D TOO*JP: tooth number (1-32, A-T, supernumerary 51-82...) and up to 5 surfaces."""

    number: str
    surfaces: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_required_text(self.number, "Tooth number")
        _require(len(self.surfaces) <= 5, "TOO03 takes at most 5 surfaces.")
        _require(
            all(s in _TOOTH_SURFACES for s in self.surfaces),
            "Tooth surfaces must be M, O, D, B, L, I or F.",
        )


# 2410 CTP05-1 unit or basis for measurement codes.
DRUG_UNITS = frozenset({"F2", "GR", "ME", "ML", "UN"})
# CLM11-1..3 related causes: AA auto accident, EM employment, OA other accident.
RELATED_CAUSES = frozenset({"AA", "EM", "OA"})
# PWK02 attachment transmission codes: AA available on request, BM by mail, EL electronically,
# EM e-mail, FT file transfer, FX fax.
PWK_TRANSMISSIONS = frozenset({"AA", "BM", "EL", "EM", "FT", "FX"})
_NDC = re.compile(r"\d{11}")
_PWK_REPORT = re.compile(r"[0-9A-Z]{2}")


@dataclass(frozen=True, slots=True)
class Drug:
    """Loop 2410: LIN*N4 (11-digit NDC in 5-4-2 form without dashes), CTP quantity/unit, and
    REF*VY, the link sequence (prescription) number, when there is one."""

    ndc: str
    quantity: Decimal
    unit: str
    link_number: str | None = None

    def __post_init__(self) -> None:
        _require(bool(_NDC.fullmatch(self.ndc)), "LIN03 NDC must be 11 digits (5-4-2).")
        _require(self.quantity > 0, "CTP04 drug quantity must be positive.")
        _require(self.unit in DRUG_UNITS, "CTP05 unit must be F2, GR, ME, ML or UN.")
        if self.link_number is not None:
            _require(1 <= len(self.link_number) <= 50, "REF02 (VY) is 1 to 50 characters.")


@dataclass(frozen=True, slots=True)
class Attachment:
    """2300 PWK: report type, transmission code, attachment control number (PWK05 AC)."""

    report_type: str
    transmission: str
    control_number: str

    def __post_init__(self) -> None:
        _require(bool(_PWK_REPORT.fullmatch(self.report_type)), "PWK01 is a 2-character code.")
        _require(self.transmission in PWK_TRANSMISSIONS, "PWK02 must be AA, BM, EL, EM, FT or FX.")
        _require(
            2 <= len(clean(self.control_number)) <= 80, "PWK06 control number is 2 to 80 long."
        )


def _refuse(pcn: str, problem: str) -> NoReturn:
    raise X12InputError(f"Claim {pcn}: {problem}")


def _check_note(note: str | None, what: str) -> None:
    _require(note is None or 0 < len(clean(note)) <= 80, f"{what} NTE is 1 to 80 characters.")


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """Loop 2400: SV1 (837P) or SV3 + TOO (837D), DTP*472 and REF*6R."""

    procedure_code: str  # CPT/HCPCS (837P) or CDT (837D)
    charge: Decimal
    service_date: date
    line_control_number: str  # REF*6R, echoed in 835 SVC REF*6R and 277CA line statuses
    units: Decimal = Decimal(1)
    modifiers: tuple[str, ...] = ()
    diagnosis_pointers: tuple[int, ...] = (1,)  # SV107 / SV311, 1-based into the claim's HI
    unit_code: str = "UN"  # 837P SV103: UN units, MJ minutes (anesthesia)
    place_of_service: str | None = None  # SV105 / SV303, only when it differs from CLM05-1
    # 837D only
    oral_cavity_areas: tuple[str, ...] = ()  # SV304, up to 5
    prosthesis: str | None = None  # SV305: I initial placement, R replacement
    teeth: tuple[Tooth, ...] = ()  # TOO, up to 32
    adjudications: tuple[LineAdjudication, ...] = ()  # 2430 for secondary claims
    note: str | None = None  # 2400 NTE*ADD
    drug: Drug | None = None  # 2410, 837P only
    rendering_provider: Provider | None = None  # 2420A, when it differs from 2310B
    ordering_provider: Provider | None = None  # 2420E, 837P only

    def __post_init__(self) -> None:
        # Plain ifs rather than _require calls: a batch builds tens of thousands of lines.
        _check_required_text(self.procedure_code, "Procedure code")
        if self.note is not None:
            _check_note(self.note, "Line")
        if not self.charge >= 0:
            raise X12InputError("Line charge must not be negative.")
        if not self.units > 0:
            raise X12InputError("Line units must be positive.")
        if len(self.modifiers) > 4:
            raise X12InputError("A line takes at most 4 modifiers.")
        pointers = self.diagnosis_pointers
        if len(pointers) > 4 or len(set(pointers)) != len(pointers):
            raise X12InputError("A line takes at most 4 distinct diagnosis pointers.")
        if not 0 < len(clean(self.line_control_number)) <= 50:
            raise X12InputError("REF*6R is 1 to 50 characters.")
        if self.unit_code not in ("UN", "MJ"):
            raise X12InputError("SV103 must be UN or MJ.")
        if self.oral_cavity_areas:
            _require(len(self.oral_cavity_areas) <= 5, "SV304 takes at most 5 areas.")
            _require(
                all(a in _ORAL_CAVITY for a in self.oral_cavity_areas),
                "Oral cavity areas must be X12 code source 135 values (00, 01, 10, L, R...).",
            )
        if self.prosthesis not in (None, "I", "R"):
            raise X12InputError("SV305 must be I or R.")
        if len(self.teeth) > 32:
            raise X12InputError("A line takes at most 32 TOO segments.")


@dataclass(frozen=True, slots=True)
class ClaimInput:
    """One claim (loop 2300) with the 2000A/2000B/2000C context it is written under."""

    patient_control_number: str  # CLM01, at most 20 characters (echoed in 835 CLP01)
    billing_provider: BillingProvider
    subscriber: Subscriber
    payer: Payer
    place_of_service: str  # CLM05-1
    diagnoses: tuple[str, ...]  # ICD-10-CM, principal first; dots are dropped
    lines: tuple[ServiceLine, ...]
    patient: Patient | None = None  # None: the subscriber is the patient (SBR02 18)
    frequency: Literal["1", "7", "8"] = "1"  # CLM05-3: original, replacement, void
    payer_claim_number: str | None = None  # REF*F8, required for frequency 7 and 8
    provider_signature: bool = True  # CLM06
    assignment: Literal["A", "B", "C"] = "A"  # CLM07 plan participation
    benefits_assigned: bool = True  # CLM08
    release_of_information: Literal["Y", "I"] = "Y"  # CLM09
    prior_authorization: str | None = None  # REF*G1
    referral_number: str | None = None  # REF*9F
    clia_number: str | None = None  # REF*X4, 837P lab services
    referring_provider: Provider | None = None  # 2310A
    rendering_provider: Provider | None = None  # 2310B
    service_facility: ServiceFacility | None = None  # 2310C
    other_payers: tuple[OtherPayer, ...] = ()  # 2320/2330: every other known payer
    note: str | None = None  # 2300 NTE*ADD
    onset_date: date | None = None  # DTP*431, 837P only
    accident_date: date | None = None  # DTP*439, with CLM11 AA or OA
    related_causes: tuple[str, ...] = ()  # CLM11-1..3
    accident_state: str | None = None  # CLM11-4, with AA
    attachments: tuple[Attachment, ...] = ()  # PWK, up to 10
    diagnosis_codes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        # Plain ifs, and the "Claim <CLM01>: " prefix built only for a claim that fails: a batch
        # builds every claim again after the scrubber did.
        pcn = clean(self.patient_control_number)
        _require(0 < len(pcn) <= 20, "CLM01 patient control number is 1 to 20 characters.")
        codes = tuple(code.replace(".", "").strip().upper() for code in self.diagnoses)
        if not all(_ICD10.fullmatch(code) for code in codes):
            _refuse(pcn, "diagnoses must be ICD-10-CM codes.")
        object.__setattr__(self, "diagnosis_codes", codes)
        lines = self.lines
        if not 1 <= len(lines) <= 50:
            _refuse(pcn, "a claim has 1 to 50 service lines.")
        if len({clean(line.line_control_number) for line in lines}) != len(lines):
            _refuse(pcn, "REF*6R line control numbers must be unique within the claim.")
        pointers = [p for line in lines for p in line.diagnosis_pointers]
        if pointers and not (max(pointers) <= len(codes) and min(pointers) >= 1):
            _refuse(pcn, "a diagnosis pointer points past the claim's diagnoses.")
        if self.frequency != "1" and not self.payer_claim_number:
            _refuse(pcn, "frequency 7 and 8 need the payer claim number (REF*F8).")
        if not (len(self.place_of_service) == 2 and self.place_of_service.isdigit()):
            _refuse(pcn, "place of service is 2 digits.")
        if self.patient is None:
            subscriber = self.subscriber
            if (
                subscriber.birth_date is None
                or subscriber.sex is None
                or subscriber.address is None
            ):
                _refuse(pcn, "a subscriber who is the patient needs birth date, sex and address.")
        if len(self.other_payers) > 10:
            _refuse(pcn, "at most 10 other payers (2320).")
        if self.note is not None:
            _check_note(self.note, "Claim")
        causes = self.related_causes
        if causes and not (
            len(causes) <= 3
            and len(set(causes)) == len(causes)
            and all(c in RELATED_CAUSES for c in causes)
        ):
            _refuse(pcn, "CLM11 takes up to 3 distinct related causes (AA, EM, OA).")
        if ("AA" in causes) != bool(self.accident_state):
            _refuse(pcn, "an auto accident (CLM11 AA) names the state it happened in, and only it.")
        if self.accident_date is not None and not {"AA", "OA"} & set(causes):
            _refuse(pcn, "an accident date (DTP*439) goes with CLM11 AA or OA.")
        if len(self.attachments) > 10:
            _refuse(pcn, "at most 10 attachments (PWK).")
        if any(line.adjudications for line in lines):
            payer_ids = {other.payer.payer_id for other in self.other_payers}
            if not all(a.payer_id in payer_ids for line in lines for a in line.adjudications):
                _refuse(pcn, "2430 SVD01 must name an other payer's id (2330B NM109).")

    @property
    def total_charge(self) -> Decimal:
        """CLM02 is the sum of the line charges, so it is derived rather than given."""
        return sum((line.charge for line in self.lines), Decimal(0))

    def check_kind(self, kind: Kind) -> None:
        """Limits that differ between 837P (X222A1) and 837D (X224A2)."""
        where = f"Claim {clean(self.patient_control_number)}"
        if kind == "P":
            _require(1 <= len(self.diagnosis_codes) <= 12, f"{where}: 837P HI takes 1 to 12.")
            _require(
                all(line.diagnosis_pointers for line in self.lines),
                f"{where}: every 837P line needs a diagnosis pointer (SV107).",
            )
            _require(
                all(not (line.teeth or line.oral_cavity_areas) for line in self.lines),
                f"{where}: teeth and oral cavity areas are 837D only.",
            )
        else:
            _require(len(self.diagnosis_codes) <= 4, f"{where}: 837D HI takes at most 4.")
            _require(self.clia_number is None, f"{where}: CLIA (REF*X4) is 837P only.")
            _require(self.onset_date is None, f"{where}: onset (DTP*431) is 837P only.")
            _require(
                all(
                    line.drug is None and line.ordering_provider is None and line.unit_code == "UN"
                    for line in self.lines
                ),
                f"{where}: drugs (2410), ordering providers (2420E) and minutes are 837P only.",
            )
