"""What an 835 health care claim payment/advice says (005010X221A1): payments, claims, lines,
PLB adjustments, as remit835.py reads them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from service.remittance.x12 import codes
from service.remittance.x12.common import Party, Person, Procedure
from service.x12.tokens import Envelope, Problem

CROSSOVER_STATUSES = frozenset({"19", "20", "21"})
CROSSOVER_REMARKS = frozenset({"MA18", "N89"})


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS triplet: group (CAS01), CARC reason, amount (positive reduces the payment)."""

    group: str  # CAS01: CO, OA, PI, PR
    reason: str  # CARC
    amount: Decimal
    quantity: Decimal | None = None

    @property
    def group_words(self) -> str:
        return codes.words(codes.ADJUSTMENT_GROUPS, self.group)


@dataclass(slots=True)
class ServicePayment:
    """Loop 2110: one adjudicated service line (REF*6R = the REF*6R we sent in 2400)."""

    procedure: Procedure  # SVC01 as adjudicated
    charge: Decimal  # SVC02
    paid: Decimal  # SVC03
    revenue_code: str = ""  # SVC04
    units: Decimal | None = None  # SVC05 paid units (1 when not sent)
    original_procedure: Procedure | None = None  # SVC06 when the code was changed or bundled
    original_units: Decimal | None = None  # SVC07
    service_date_from: date | None = None  # DTM*472, or DTM*150
    service_date_to: date | None = None  # DTM*472, or DTM*151
    adjustments: list[Adjustment] = field(default_factory=list)  # line CAS
    line_item_control_number: str = ""  # REF*6R
    references: list[tuple[str, str]] = field(default_factory=list)  # other REF: (REF01, REF02)
    amounts: dict[str, Decimal] = field(default_factory=dict)  # AMT: B6 allowed, KH ...
    remark_codes: list[str] = field(default_factory=list)  # LQ*HE (RARC)
    segment_number: int = 0  # SVC, for messages

    @property
    def allowed(self) -> Decimal | None:
        return self.amounts.get("B6")


@dataclass(slots=True)
class ClaimPayment:
    """Loop 2100: one claim as adjudicated; CLP01 is the CLM01 we sent."""

    patient_control_number: str  # CLP01
    status_code: str  # CLP02
    charge: Decimal  # CLP03
    paid: Decimal  # CLP04
    patient_responsibility: Decimal | None  # CLP05
    filing_indicator: str  # CLP06
    payer_claim_control_number: str  # CLP07
    facility_type: str = ""  # CLP08 (place of service for professional claims)
    frequency: str = ""  # CLP09
    header_number: int | None = None  # LX01 of the 2000 loop the claim is in
    adjustments: list[Adjustment] = field(default_factory=list)  # claim-level CAS
    patient: Person | None = None  # NM1*QC
    insured: Person | None = None  # NM1*IL
    corrected_insured: Person | None = None  # NM1*74
    rendering_provider: Party | None = None  # NM1*82
    crossover_carrier: Party | None = None  # NM1*TT
    corrected_priority_payer: Party | None = None  # NM1*PR
    statement_from: date | None = None  # DTM*232
    statement_to: date | None = None  # DTM*233
    received: date | None = None  # DTM*050
    coverage_expiration: date | None = None  # DTM*036
    references: list[tuple[str, str]] = field(default_factory=list)  # REF*EA, F8, 1L ...
    amounts: dict[str, Decimal] = field(default_factory=dict)  # AMT*AU, DY, F5 ...
    # Claim-level RARCs: MOA03-07 (outpatient) and MIA05, MIA20-23 (inpatient), e.g. MA18
    # "claim forwarded to the supplemental payer".
    remark_codes: list[str] = field(default_factory=list)
    lines: list[ServicePayment] = field(default_factory=list)
    segment_number: int = 0  # CLP, for messages

    @property
    def status_words(self) -> str:
        return codes.words(codes.CLAIM_PAYMENT_STATUS, self.status_code)

    @property
    def is_reversal(self) -> bool:
        return self.status_code == "22"

    @property
    def is_denied(self) -> bool:
        return self.status_code == "4"

    @property
    def is_crossover(self) -> bool:
        """The payer forwarded the claim to the next payer itself: CLP02 19, 20 or 21
        (processed as primary/secondary/tertiary, forwarded to an additional payer) or the
        remark MA18 / N89 (claim information forwarded to the supplemental payer)."""
        return self.status_code in CROSSOVER_STATUSES or bool(
            CROSSOVER_REMARKS.intersection(self.remark_codes)
        )

    def reference(self, qualifier: str) -> str | None:
        return next((value for q, value in self.references if q == qualifier), None)


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB reason/amount pair; a positive amount reduces the payment."""

    provider_id: str  # PLB01
    fiscal_period_end: date | None  # PLB02
    reason: str  # PLB03-1 (and 05-1, 07-1 ...), e.g. L6 interest, WO overpayment recovery
    reference: str  # PLB03-2
    amount: Decimal  # PLB04 (06, 08 ...)

    @property
    def reason_words(self) -> str:
        return codes.words(codes.PROVIDER_ADJUSTMENT_REASONS, self.reason)


@dataclass(slots=True)
class Payment:
    """One 835 transaction set (ST/SE): a payment or advice from one payer to one payee."""

    control_number: str  # ST02
    handling_code: str  # BPR01
    paid_amount: Decimal  # BPR02
    credit_debit: str  # BPR03 C credit / D debit
    payment_method: str  # BPR04 ACH, CHK, NON ...
    payment_format: str  # BPR05 CCP, CTX
    payment_date: date | None  # BPR16 check issue or EFT effective date
    trace_number: str = ""  # TRN02 check or EFT trace number
    trace_originator: str = ""  # TRN03 payer identifier ("1" + tax id)
    production_date: date | None = None  # DTM*405
    payer: Party | None = None  # 1000A N1*PR
    payer_references: list[tuple[str, str]] = field(default_factory=list)  # REF*2U, EO, HI, NF
    payee: Party | None = None  # 1000B N1*PE (N103 XX: NPI)
    payee_references: list[tuple[str, str]] = field(default_factory=list)  # REF*TJ, PQ ...
    claims: list[ClaimPayment] = field(default_factory=list)  # empty when read by read_835
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    claim_count: int = 0  # CLPs read, kept or not
    claims_paid: Decimal = Decimal(0)  # sum of CLP04, for the transaction balance

    @property
    def handling_words(self) -> str:
        return codes.words(codes.HANDLING_CODES, self.handling_code)

    @property
    def payer_id(self) -> str:
        """REF*2U payer identification, else N104, else TRN03."""
        for qualifier, value in self.payer_references:
            if qualifier == "2U":
                return value
        return (self.payer.id if self.payer else "") or self.trace_originator


@dataclass(frozen=True, slots=True)
class Remittance835:
    """An 835 file: one Payment per transaction set. `warnings`: non-financial defects (a
    missing PER*BL or patient name, a bad date, an unknown optional qualifier) that do not stop
    posting; the money was read and is checked by check_balance all the same."""

    envelope: Envelope
    payments: list[Payment]
    warnings: tuple[Problem, ...] = ()

    @property
    def claims(self) -> Iterator[ClaimPayment]:
        for payment in self.payments:
            yield from payment.claims
