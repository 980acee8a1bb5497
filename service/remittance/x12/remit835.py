"""Parse an 835 health care claim payment/advice (005010X221A1): payments, claims, lines, PLB."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from service.remittance.x12 import codes
from service.remittance.x12.common import Party, Person, Procedure, party, person, procedure
from service.remittance.x12.detect import Kind, classify
from service.x12.tokens import (
    Envelope,
    Event,
    Problem,
    Segment,
    decimal,
    optional_date,
    optional_decimal,
    read_interchange,
    required,
    whole_number,
)

CROSSOVER_STATUSES = frozenset({"19", "20", "21"})
CROSSOVER_REMARKS = frozenset({"MA18", "N89"})
_MAX_CAS_TRIPLETS = 6  # CAS02..CAS19
_PLB_PAIRS = range(3, 15, 2)  # PLB03/04 .. PLB13/14


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


def parse_835(text: str | Iterable[str]) -> Remittance835:
    """Read an 835, every claim kept. Malformed files raise X12ParseError.

    Numbers, codes and structure stop the reading at once (the money cannot be trusted);
    invalid dates, missing required segments that carry no money and unknown optional
    qualifiers are collected as the result's warnings, so that real payments still post and
    one upload lists them all. Balancing is check_balance's job.
    """
    warnings: list[Problem] = []
    envelope, items = read_835((text,) if isinstance(text, str) else text, warnings)
    payments: list[Payment] = []
    for _, payment, claim in items:
        if claim is None:
            payments.append(payment)
        else:
            payment.claims.append(claim)
    return Remittance835(envelope, payments, tuple(warnings))


ReadItem = tuple[int, Payment, ClaimPayment | None]


def read_835(
    pieces: Iterable[str], warnings: list[Problem] | None = None
) -> tuple[Envelope, Iterator[ReadItem]]:
    """The envelope, then each claim as soon as its last segment is read, with its payment
    (index in file order, the payment's claims list left empty), then (index, payment, None)
    once the payment's SE is read: an upload of any size streams through with one claim in
    memory. Non-financial defects are appended to `warnings` as the items are read.
    """
    envelope, events = read_interchange(pieces)
    return envelope, _read_items(events, [] if warnings is None else warnings)


def _read_items(
    events: Iterator[tuple[Event, Segment]], problems: list[Problem]
) -> Iterator[ReadItem]:
    gs: Segment | None = None
    reader: _Reader | None = None
    index = -1
    for event, segment in events:
        if event is Event.BODY:
            assert reader is not None
            reader.feed(segment)
            yield from reader.drain(index)
        elif event is Event.ST:
            assert gs is not None
            found = classify(gs, segment)
            if found is not Kind.REMITTANCE_835:
                raise segment.error(1, f"this is a {found} transaction set, expected a 835")
            index += 1
            reader = _Reader(problems, segment)
        elif event is Event.SE:
            assert reader is not None
            payment = reader.end(segment)
            yield from reader.drain(index)
            yield index, payment, None
        elif event is Event.GS:
            gs = segment


def iter_claims(remittance: Remittance835) -> Iterator[tuple[Payment, ClaimPayment]]:
    """Every claim with the payment it belongs to, in file order."""
    for payment in remittance.payments:
        for claim in payment.claims:
            yield payment, claim


_HEADER, _PAYER, _PAYEE, _DETAIL, _FOOTER = range(5)
_CLAIM_DATES = {"232": "statement_from", "233": "statement_to", "050": "received"}
_CLAIM_DATES["036"] = "coverage_expiration"
_CLAIM_PARTIES = {"82": "rendering_provider", "TT": "crossover_carrier"}
_CLAIM_PARTIES["PR"] = "corrected_priority_payer"
_CLAIM_PEOPLE = {"QC": "patient", "IL": "insured", "74": "corrected_insured"}
# Segments of loops 2100/2110 (and TS3/TS2 of 2000) that are read but not kept.
_SKIPPED_CLAIM = frozenset({"PER", "QTY"})
# Where MOA (outpatient) and MIA (inpatient) adjudication carry claim-level remark codes.
_REMARK_POSITIONS = {"MOA": (3, 4, 5, 6, 7), "MIA": (5, 20, 21, 22, 23)}


class _Reader:
    """Walks one ST/SE in order: header, 1000A payer, 1000B payee, 2000/2100/2110, PLB."""

    def __init__(self, problems: list[Problem], st: Segment) -> None:
        self.problems = problems
        self.st = st
        self.state = _HEADER
        self.seen: set[str] = set()  # header and 1000A/1000B segments seen
        self.header_number: int | None = None
        self.payment: Payment | None = None
        self.claim: ClaimPayment | None = None
        self.line: ServicePayment | None = None
        self.closed: list[ClaimPayment] = []  # claims read completely, not yet handed out

    def feed(self, segment: Segment) -> None:
        """The next segment between ST and SE."""
        if self.payment is None:
            if segment.id != "BPR":
                raise segment.error(None, "an 835 starts with BPR")
            self.payment = self._bpr(self.st, segment)
        else:
            self._segment(self.payment, segment)

    def drain(self, index: int) -> Iterator[ReadItem]:
        assert self.payment is not None
        for claim in self.closed:
            yield index, self.payment, claim
        self.closed.clear()

    def end(self, se: Segment) -> Payment:
        payment = self.payment
        if payment is None:
            raise se.error(None, "an 835 starts with BPR")
        self._close_claim()
        if payment.payer is None:
            raise se.error(None, "the 835 has no N1*PR payer (loop 1000A)")
        if payment.payee is None:
            raise se.error(None, "the 835 has no N1*PE payee (loop 1000B)")
        if not payment.trace_number:
            raise se.error(None, "the 835 has no TRN reassociation trace number")
        return payment

    def _bpr(self, st: Segment, bpr: Segment) -> Payment:
        credit_debit = required(bpr, 3, "BPR03 (credit/debit flag)")
        if credit_debit not in ("C", "D"):
            raise bpr.error(3, f'BPR03 "{credit_debit}" is not C (credit) or D (debit)')
        handling = required(bpr, 1, "BPR01 (transaction handling code)")
        if handling not in codes.HANDLING_CODES:
            raise bpr.error(1, f'BPR01 "{handling}" is not a transaction handling code')
        method = required(bpr, 4, "BPR04 (payment method)")
        if method not in codes.PAYMENT_METHODS:
            raise bpr.error(
                4, f'BPR04 "{method}" is not a payment method (ACH, BOP, CHK, FWT, NON)'
            )
        paid = decimal(bpr, 2, "BPR02 (total actual provider payment amount)")
        payment_date = optional_date(
            bpr, 16, "BPR16 (check issue or EFT effective date)", self.problems
        )
        if not bpr.get(16):
            self.problems.append(
                bpr.problem(16, "BPR16 (check issue or EFT effective date) is missing")
            )
        return Payment(
            control_number=st.get(2),
            handling_code=handling,
            paid_amount=paid,
            credit_debit=credit_debit,
            payment_method=method,
            payment_format=bpr.get(5),
            payment_date=payment_date,
        )

    def _segment(self, payment: Payment, segment: Segment) -> None:
        sid = segment.id
        state = self.state
        if state == _DETAIL and self.claim is not None and self._claim_segment(segment):
            return
        if sid == "LX" and state in (_PAYEE, _DETAIL):
            self._close_payee(payment, segment)
            self._close_claim()
            self.state = _DETAIL
            self.header_number = whole_number(segment, 1, "LX01 (assigned number)")
        elif sid in ("TS3", "TS2") and state == _DETAIL and self.claim is None:
            pass  # provider summary (2000): informational
        elif sid == "CLP" and state in (_PAYEE, _DETAIL):
            self._close_payee(payment, segment)
            self._close_claim()
            self.state = _DETAIL
            self.claim = self._clp(segment)
        elif sid == "PLB" and state in (_PAYEE, _DETAIL, _FOOTER):
            self._close_payee(payment, segment)
            self._close_claim()
            self.state = _FOOTER
            payment.provider_adjustments.extend(self._plb(segment))
        elif state == _HEADER:
            self._header(payment, segment)
        elif state == _PAYER:
            self._payer(payment, segment)
        elif state == _PAYEE:
            self._payee(payment, segment)
        elif state == _FOOTER:
            raise segment.error(None, f"{sid} after PLB (only PLB may follow the claims)")
        else:
            raise segment.error(None, f"{sid} is not expected here")

    # --- header, 1000A payer, 1000B payee ---

    def _header(self, payment: Payment, segment: Segment) -> None:
        sid = segment.id
        if sid == "TRN":
            if segment.get(1) != "1":
                raise segment.error(1, "TRN01 must be 1 (current transaction trace numbers)")
            payment.trace_number = required(segment, 2, "TRN02 (check or EFT trace number)")
            payment.trace_originator = required(segment, 3, "TRN03 (payer identifier)")
        elif sid == "DTM" and segment.get(1) == "405":
            payment.production_date = optional_date(
                segment, 2, "DTM*405 (production date)", self.problems
            )
        elif sid in ("CUR", "REF", "DTM"):
            pass  # currency, receiver and version identification: not kept
        elif sid == "N1" and segment.get(1) == "PR":
            if "TRN" not in self.seen:
                raise segment.error(None, "the TRN reassociation trace number must precede N1*PR")
            payment.payer = _n1(segment, "Payer")
            self.state = _PAYER
        else:
            raise segment.error(None, f"{sid} is not expected in the 835 header (before N1*PR)")
        self.seen.add(sid)

    def _payer(self, payment: Payment, segment: Segment) -> None:
        sid = segment.id
        if sid == "REF":
            payment.payer_references.append(_reference(segment))
        elif sid == "PER":
            self.seen.add(f"PER*{segment.get(1)}")
        elif sid in ("N3", "N4"):
            self.seen.add(f"1000A {sid}")
        elif sid == "N1" and segment.get(1) == "PE":
            # 1000A: N3, N4 and PER*BL (payer technical contact) are required.
            for required_segment, what in (
                ("1000A N3", "N3 payer address"),
                ("1000A N4", "N4 payer city, state and ZIP"),
                ("PER*BL", "PER*BL payer technical contact"),
            ):
                if required_segment not in self.seen:
                    self.problems.append(
                        segment.problem(
                            None, f"loop 1000A (payer) has no {what}, which the 835 requires"
                        )
                    )
            payment.payee = _n1(segment, "Payee")
            if not segment.get(3) or not segment.get(4):
                raise segment.error(3, "N103/N104 (payee id qualifier and id) are missing")
            self.state = _PAYEE
        else:
            raise segment.error(None, f"{sid} is not expected in loop 1000A (payer)")

    def _payee(self, payment: Payment, segment: Segment) -> None:
        sid = segment.id
        if sid == "REF":
            payment.payee_references.append(_reference(segment))
        elif sid not in ("N3", "N4", "RDM"):
            raise segment.error(None, f"{sid} is not expected in loop 1000B (payee)")

    def _close_payee(self, payment: Payment, segment: Segment) -> None:
        if payment.payee is None:
            raise segment.error(None, f"{segment.id} before the N1*PE payee (loop 1000B)")

    # --- 2100 claims and 2110 service lines ---

    def _clp(self, segment: Segment) -> ClaimPayment:
        status = required(segment, 2, "CLP02 (claim status code)")
        if status not in codes.CLAIM_PAYMENT_STATUS:
            raise segment.error(2, f'CLP02 "{status}" is not a claim status code')
        return ClaimPayment(
            patient_control_number=required(segment, 1, "CLP01 (patient control number)"),
            status_code=status,
            charge=decimal(segment, 3, "CLP03 (total claim charge)"),
            paid=decimal(segment, 4, "CLP04 (claim payment amount)"),
            patient_responsibility=optional_decimal(segment, 5, "CLP05 (patient responsibility)"),
            filing_indicator=required(segment, 6, "CLP06 (claim filing indicator)"),
            payer_claim_control_number=required(segment, 7, "CLP07 (payer claim control number)"),
            facility_type=segment.get(8),
            frequency=segment.get(9),
            header_number=self.header_number,
            segment_number=segment.number,
        )

    def _claim_segment(self, segment: Segment) -> bool:
        """Segments of the open claim (2100) or line (2110); False when the claim ends."""
        claim = self.claim
        assert claim is not None
        sid = segment.id
        line = self.line
        if sid == "SVC":
            self.line = self._svc(segment)
            claim.lines.append(self.line)
        elif sid == "CAS":
            (line.adjustments if line is not None else claim.adjustments).extend(
                _adjustments(segment)
            )
        elif sid == "REF":
            qualifier, value = _reference(segment)
            if line is not None and qualifier == "6R":
                line.line_item_control_number = value
            else:
                (line.references if line is not None else claim.references).append(
                    (qualifier, value)
                )
        elif sid == "AMT":
            qualifier = required(segment, 1, "AMT01 (amount qualifier)")
            amounts = line.amounts if line is not None else claim.amounts
            amounts[qualifier] = decimal(segment, 2, f"AMT*{qualifier} amount")
        elif sid == "DTM":
            self._dtm(claim, line, segment)
        elif line is not None and sid == "LQ":
            if required(segment, 1, "LQ01 (code list qualifier)") == "HE":
                line.remark_codes.append(required(segment, 2, "LQ02 (remark code)"))
        elif line is None and sid == "NM1":
            self._nm1(claim, segment)
        elif line is None and sid in _REMARK_POSITIONS:
            claim.remark_codes.extend(
                code for code in (segment.get(p) for p in _REMARK_POSITIONS[sid]) if code
            )
        elif sid in _SKIPPED_CLAIM:
            pass
        else:
            return False
        return True

    def _nm1(self, claim: ClaimPayment, segment: Segment) -> None:
        entity = segment.get(1)
        if entity in _CLAIM_PEOPLE:
            setattr(claim, _CLAIM_PEOPLE[entity], person(segment))
        elif entity in _CLAIM_PARTIES:
            setattr(claim, _CLAIM_PARTIES[entity], party(segment, "NM1"))
        elif entity != "GB":  # other subscriber: not kept
            self.problems.append(
                segment.problem(1, f"NM1*{entity} is not a claim name the 835 uses: skipped")
            )

    def _dtm(self, claim: ClaimPayment, line: ServicePayment | None, segment: Segment) -> None:
        qualifier = required(segment, 1, "DTM01 (date qualifier)")
        value = optional_date(segment, 2, f"DTM*{qualifier} date", self.problems)
        if not segment.get(2):
            raise segment.error(2, f"DTM*{qualifier} has no date")
        if line is not None:
            if qualifier == "472":
                line.service_date_from = line.service_date_to = value
            elif qualifier == "150":
                line.service_date_from = value
            elif qualifier == "151":
                line.service_date_to = value
            else:
                self.problems.append(
                    segment.problem(
                        1, f"DTM*{qualifier} is not a service line date (472, 150, 151): skipped"
                    )
                )
        elif qualifier in _CLAIM_DATES:
            setattr(claim, _CLAIM_DATES[qualifier], value)
        else:
            self.problems.append(
                segment.problem(
                    1, f"DTM*{qualifier} is not a claim date (232, 233, 036, 050): skipped"
                )
            )

    def _svc(self, segment: Segment) -> ServicePayment:
        original = segment.get(6)
        return ServicePayment(
            procedure=procedure(segment, 1, "SVC01 (adjudicated procedure)"),
            charge=decimal(segment, 2, "SVC02 (line charge)"),
            paid=decimal(segment, 3, "SVC03 (line payment)"),
            revenue_code=segment.get(4),
            units=optional_decimal(segment, 5, "SVC05 (units paid)"),
            original_procedure=procedure(segment, 6, "SVC06 (submitted procedure)")
            if original
            else None,
            original_units=optional_decimal(segment, 7, "SVC07 (original units)"),
            segment_number=segment.number,
        )

    def _close_claim(self) -> None:
        claim = self.claim
        if claim is not None and self.payment is not None:
            self.payment.claim_count += 1
            self.payment.claims_paid += claim.paid
            self.closed.append(claim)
        if claim is not None and claim.patient is None:
            self.problems.append(
                Problem(
                    claim.segment_number,
                    "CLP",
                    None,
                    f"claim {claim.patient_control_number} has no NM1*QC patient name, "
                    "which the 835 requires",
                )
            )
        self.claim = None
        self.line = None

    def _plb(self, segment: Segment) -> list[ProviderAdjustment]:
        provider_id = required(segment, 1, "PLB01 (provider identifier)")
        fiscal = optional_date(segment, 2, "PLB02 (fiscal period date)", self.problems)
        if not segment.get(2):
            raise segment.error(2, "PLB02 (fiscal period date) is missing")
        found: list[ProviderAdjustment] = []
        for position in _PLB_PAIRS:
            if not segment.get(position):
                if segment.get(position + 1):
                    raise segment.error(
                        position, f"PLB{position:02d} (adjustment reason) is missing for its amount"
                    )
                if position == 3:
                    raise segment.error(3, "PLB03 (adjustment reason) is missing")
                continue
            parts = segment.components(position)
            found.append(
                ProviderAdjustment(
                    provider_id=provider_id,
                    fiscal_period_end=fiscal,
                    reason=parts[0],
                    reference=parts[1] if len(parts) > 1 else "",
                    amount=decimal(
                        segment, position + 1, f"PLB{position + 1:02d} (adjustment amount)"
                    ),
                )
            )
        if len(segment.elements) > 15:
            raise segment.error(15, "PLB has more than 14 elements")
        return found


def _n1(segment: Segment, label: str) -> Party:
    return Party(
        entity=segment.get(1),
        name=required(segment, 2, f"N102 ({label.lower()} name)"),
        first_name="",
        id_qualifier=segment.get(3),
        id=segment.get(4),
    )


def _reference(segment: Segment) -> tuple[str, str]:
    return (
        required(segment, 1, "REF01 (reference qualifier)"),
        required(segment, 2, "REF02 (reference)"),
    )


def _adjustments(segment: Segment) -> list[Adjustment]:
    """CAS01 group then up to 6 triplets: reason (CARC), amount, quantity."""
    group = required(segment, 1, "CAS01 (claim adjustment group code)")
    if group not in codes.ADJUSTMENT_GROUPS:
        raise segment.error(1, f'CAS01 "{group}" is not an adjustment group (CO, OA, PI or PR)')
    if len(segment.elements) > 2 + 3 * _MAX_CAS_TRIPLETS:
        raise segment.error(20, "CAS has more than 6 reason/amount/quantity triplets")
    found: list[Adjustment] = []
    for triplet in range(_MAX_CAS_TRIPLETS):
        position = 2 + 3 * triplet
        reason = segment.get(position)
        if not reason:
            if segment.get(position + 1) or segment.get(position + 2) or triplet == 0:
                raise segment.error(
                    position, f"CAS{position:02d} (adjustment reason code) is missing"
                )
            continue
        found.append(
            Adjustment(
                group=group,
                reason=reason,
                amount=decimal(segment, position + 1, f"CAS{position + 1:02d} (adjustment amount)"),
                quantity=optional_decimal(
                    segment, position + 2, f"CAS{position + 2:02d} (adjustment quantity)"
                ),
            )
        )
    return found


__all__ = [
    "Adjustment",
    "ClaimPayment",
    "Payment",
    "ProviderAdjustment",
    "Remittance835",
    "ServicePayment",
    "iter_claims",
    "parse_835",
    "read_835",
]
