"""Parse a 277CA claim acknowledgement (005010X214) into per-claim and per-line statuses."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from service.remittance.x12 import codes
from service.remittance.x12.common import (
    Party,
    Person,
    Procedure,
    StatusCode,
    party,
    person,
    procedure,
    status_code,
)
from service.remittance.x12.detect import Kind, expect
from service.x12.tokens import (
    Envelope,
    Problem,
    Segment,
    X12ParseError,
    date_or_period,
    decimal,
    optional_date,
    optional_decimal,
    parse_interchange,
    required,
)

Outcome = Literal["accepted", "rejected", "other"]


@dataclass(frozen=True, slots=True)
class Status:
    """One STC: STC01 plus STC10/STC11 codes, effective date, action, amount, message."""

    codes: tuple[StatusCode, ...]
    date: date | None  # STC02 status information effective date
    action: str  # STC03: WQ accept, U reject ("" on lines when not sent)
    amount: Decimal | None  # STC04 total claim charge (claim and provider level)
    message: str  # STC12 free-form message

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(c.category for c in self.codes)


@dataclass(slots=True)
class LineAck:
    """Loop 2220D: one service line's status (REF*FJ = the REF*6R we sent in 2400)."""

    procedure: Procedure  # SVC01
    charge: Decimal  # SVC02
    revenue_code: str  # SVC04
    units: Decimal | None  # SVC07
    statuses: list[Status] = field(default_factory=list)
    line_item_control_number: str = ""  # REF*FJ
    service_date_from: date | None = None  # DTP*472
    service_date_to: date | None = None


@dataclass(slots=True)
class ClaimAck:
    """Loop 2200D: one claim's status; TRN02 is the CLM01 we sent."""

    patient_control_number: str  # TRN02
    payer: Party  # 2100A
    billing_provider: Party | None  # 2100C
    patient: Person  # 2100D NM1*QC
    statuses: list[Status] = field(default_factory=list)
    payer_claim_control_number: str = ""  # REF*1K
    clearinghouse_trace_number: str = ""  # REF*D9
    bill_type: str = ""  # REF*BLT (institutional)
    service_date_from: date | None = None  # DTP*472
    service_date_to: date | None = None
    lines: list[LineAck] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        """rejected when any STC says A3/A6/A7/A8, accepted on A1/A2, else other."""
        categories = {c for s in self.statuses for c in s.categories}
        if categories & codes.REJECTED_CATEGORIES:
            return "rejected"
        if categories & codes.ACCEPTED_CATEGORIES:
            return "accepted"
        return "other"


@dataclass(slots=True)
class ProviderAck:
    """Loops 2000C/2100C/2200C: a billing provider with its batch-level status and totals."""

    provider: Party
    trace_number: str = ""  # 2200C TRN02
    statuses: list[Status] = field(default_factory=list)
    accepted_quantity: int | None = None  # QTY*QA
    rejected_quantity: int | None = None  # QTY*QC
    accepted_amount: Decimal | None = None  # AMT*YU
    rejected_amount: Decimal | None = None  # AMT*YY


@dataclass(slots=True)
class SourceAck:
    """Loops 2000A/2000B: the information source (payer or clearinghouse) and receiver."""

    payer: Party  # 2100A NM1*PR (or AY clearinghouse)
    trace_number: str = ""  # 2200A TRN02
    received: date | None = None  # DTP*050
    processed: date | None = None  # DTP*009
    receiver: Party | None = None  # 2100B NM1*41
    receiver_trace_number: str = ""  # 2200B TRN02
    receiver_statuses: list[Status] = field(default_factory=list)
    accepted_quantity: int | None = None  # QTY*90
    rejected_quantity: int | None = None  # QTY*AA
    accepted_amount: Decimal | None = None  # AMT*YU
    rejected_amount: Decimal | None = None  # AMT*YY


@dataclass(frozen=True, slots=True)
class Ack277CA:
    """A 277CA file: sources (payers), billing providers and every claim with its lines."""

    envelope: Envelope
    sources: list[SourceAck]
    providers: list[ProviderAck]
    claims: list[ClaimAck]


def parse_277ca(text: str | Iterable[str]) -> Ack277CA:
    """Read a 277CA; malformed files raise X12ParseError with the segment and element."""
    interchange = parse_interchange(text)
    groups = expect(interchange, Kind.ACK_277CA)
    result = Ack277CA(interchange.envelope, [], [], [])
    problems: list[Problem] = []
    for group in groups:
        for transaction_set in group.transaction_sets:
            _Reader(result, problems).read(transaction_set.body, transaction_set.trailer)
    if problems:
        raise X12ParseError(*problems)
    return result


_PARENT_LEVEL = {"20": None, "21": "20", "19": "21", "PT": "19"}
_LEVEL_LOOP = {"20": "2000A", "21": "2000B", "19": "2000C", "PT": "2000D"}


class _Reader:
    """Walks one ST/SE: HL levels 20 -> 21 -> 19 -> PT, then 2200D claims and 2220D lines."""

    def __init__(self, result: Ack277CA, problems: list[Problem]) -> None:
        self.result = result
        self.problems = problems
        self.levels: dict[str, str] = {}  # HL01 -> HL03
        self.level = ""
        self.named = False  # the level's NM1 was read
        self.source: SourceAck | None = None
        self.provider: ProviderAck | None = None
        self.patient: Person | None = None
        self.claim: ClaimAck | None = None
        self.line: LineAck | None = None
        self.traced = False  # the level's TRN (2200x) was read

    def read(self, body: list[Segment], se: Segment) -> None:
        if not body or body[0].id != "BHT":
            raise (body[0] if body else se).error(None, "a 277CA starts with BHT")
        handlers: dict[str, Callable[[Segment], None]] = {
            "HL": self._hl,
            "NM1": self._nm1,
            "TRN": self._trn,
            "STC": self._stc,
            "REF": self._ref,
            "DTP": self._dtp,
            "SVC": self._svc,
            "QTY": self._qty,
            "AMT": self._amt,
        }
        for segment in body[1:]:
            handler = handlers.get(segment.id)
            if handler is None:
                raise segment.error(None, f"{segment.id} is not a 277CA segment")
            handler(segment)
        if not self.levels:
            raise se.error(None, "the 277CA has no HL levels")

    def _hl(self, segment: Segment) -> None:
        number = required(segment, 1, "HL01 (hierarchical id)")
        parent = segment.get(2)
        level = required(segment, 3, "HL03 (hierarchical level code)")
        if level not in _PARENT_LEVEL:
            raise segment.error(3, f'HL03 "{level}" is not a 277CA level (20, 21, 19 or PT)')
        if number in self.levels:
            raise segment.error(1, f"HL01 {number} repeats an earlier HL")
        expected_parent = _PARENT_LEVEL[level]
        if expected_parent is None:
            if parent:
                raise segment.error(2, "an information source HL (20) has no parent")
        elif self.levels.get(parent) != expected_parent:
            raise segment.error(
                2,
                f"HL02 {parent or '(none)'} must point to a level {expected_parent} HL "
                f"(loop {_LEVEL_LOOP[expected_parent]})",
            )
        self.levels[number] = level
        self.level, self.named, self.traced = level, False, False
        self.claim = self.line = None

    def _nm1(self, segment: Segment) -> None:
        if not self.level or self.named:
            raise segment.error(None, "NM1 is not expected here (one NM1 follows each HL)")
        self.named = True
        if self.level == "20":  # 2100A
            self.source = SourceAck(party(segment, "Payer"))
            self.result.sources.append(self.source)
        elif self.level == "21":  # 2100B
            assert self.source is not None  # HL parents are checked
            self.source.receiver = party(segment, "Information receiver")
        elif self.level == "19":  # 2100C
            self.provider = ProviderAck(party(segment, "Billing provider"))
            self.result.providers.append(self.provider)
        else:  # 2100D
            if segment.get(1) != "QC":
                raise segment.error(1, "the patient level NM1 must be NM1*QC")
            self.patient = person(segment)

    def _trn(self, segment: Segment) -> None:
        if not self.named:
            raise segment.error(None, "TRN before the level's NM1")
        trace = required(segment, 2, "TRN02 (trace number)")
        if self.level == "PT":  # 2200D: a new claim
            assert self.source is not None
            assert self.patient is not None
            self.claim = ClaimAck(trace, self.source.payer, self._provider_party(), self.patient)
            self.result.claims.append(self.claim)
            self.line = None
        elif self.traced:
            raise segment.error(None, "a second TRN at this level")
        elif self.level == "20":
            assert self.source is not None
            self.source.trace_number = trace
        elif self.level == "21":
            assert self.source is not None
            self.source.receiver_trace_number = trace
        else:
            assert self.provider is not None
            self.provider.trace_number = trace
        self.traced = True

    def _provider_party(self) -> Party | None:
        return self.provider.provider if self.provider is not None else None

    def _stc(self, segment: Segment) -> None:
        if not self.traced:
            raise segment.error(None, "STC before the TRN of its loop")
        status = Status(
            codes=tuple(
                status_code(segment, position, f"STC{position:02d}")
                for position in (1, 10, 11)
                if position == 1 or segment.get(position)
            ),
            date=optional_date(segment, 2, "STC02 (status effective date)", self.problems),
            action=segment.get(3),
            amount=optional_decimal(segment, 4, "STC04 (total claim charge)"),
            message=segment.get(12),
        )
        if self.line is not None:
            self.line.statuses.append(status)
        elif self.claim is not None:
            self.claim.statuses.append(status)
        elif self.level == "21" and self.source is not None:
            self.source.receiver_statuses.append(status)
        elif self.level == "19" and self.provider is not None:
            self.provider.statuses.append(status)
        else:
            raise segment.error(None, "STC is not expected at this level")

    def _ref(self, segment: Segment) -> None:
        qualifier = required(segment, 1, "REF01 (reference qualifier)")
        value = required(segment, 2, "REF02 (reference)")
        if self.line is not None:
            if qualifier == "FJ":  # 2220D line item control number (our 2400 REF*6R)
                self.line.line_item_control_number = value
        elif self.claim is not None:
            if qualifier == "1K":  # payer claim control number
                self.claim.payer_claim_control_number = value
            elif qualifier == "D9":  # clearinghouse trace number
                self.claim.clearinghouse_trace_number = value
            elif qualifier == "BLT":
                self.claim.bill_type = value
        elif self.level != "19":  # 2200C provider secondary id is the only other REF
            raise segment.error(None, "REF is not expected here")

    def _dtp(self, segment: Segment) -> None:
        qualifier = required(segment, 1, "DTP01 (date qualifier)")
        if self.level == "20" and self.source is not None and qualifier in ("050", "009"):
            value = optional_date(segment, 3, f"DTP*{qualifier} date", self.problems)
            if qualifier == "050":
                self.source.received = value
            else:
                self.source.processed = value
            return
        if qualifier != "472" or self.claim is None:
            raise segment.error(1, f"DTP*{qualifier} is not expected here")
        start, end = date_or_period(segment, "DTP*472 service date", self.problems)
        target: LineAck | ClaimAck = self.line if self.line is not None else self.claim
        target.service_date_from, target.service_date_to = start, end

    def _svc(self, segment: Segment) -> None:
        if self.claim is None:
            raise segment.error(None, "SVC (loop 2220D) outside a claim (2200D)")
        units = segment.get(7)
        self.line = LineAck(
            procedure=procedure(segment, 1, "SVC01 (procedure)"),
            charge=decimal(segment, 2, "SVC02 (line charge)"),
            revenue_code=segment.get(4),
            units=decimal(segment, 7, "SVC07 (units)") if units else None,
        )
        self.claim.lines.append(self.line)

    def _qty(self, segment: Segment) -> None:
        qualifier = segment.get(1)
        count = decimal(segment, 2, "QTY02 (quantity)")
        target = self.provider if self.level == "19" else self.source
        if target is None or self.level not in ("19", "21"):
            raise segment.error(None, "QTY is not expected here")
        if qualifier in ("90", "QA"):
            target.accepted_quantity = int(count)
        elif qualifier in ("AA", "QC"):
            target.rejected_quantity = int(count)
        else:
            raise segment.error(1, f'QTY01 "{qualifier}" is not a 277CA quantity qualifier')

    def _amt(self, segment: Segment) -> None:
        qualifier = segment.get(1)
        value = decimal(segment, 2, "AMT02 (amount)")
        target = self.provider if self.level == "19" else self.source
        if target is None or self.level not in ("19", "21"):
            raise segment.error(None, "AMT is not expected here")
        if qualifier == "YU":
            target.accepted_amount = value
        elif qualifier == "YY":
            target.rejected_amount = value
        else:
            raise segment.error(1, f'AMT01 "{qualifier}" is not a 277CA amount qualifier')


__all__ = [
    "Ack277CA",
    "ClaimAck",
    "LineAck",
    "Outcome",
    "ProviderAck",
    "SourceAck",
    "Status",
    "parse_277ca",
]
