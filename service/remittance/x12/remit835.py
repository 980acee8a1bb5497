"""Parse an 835 health care claim payment/advice (005010X221A1): payments, claims, lines, PLB."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from service.remittance.x12 import codes
from service.remittance.x12.advice835 import (
    Adjustment,
    ClaimPayment,
    Payment,
    ProviderAdjustment,
    Remittance835,
    ServicePayment,
)
from service.remittance.x12.common import Party, party, person, procedure
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

_MAX_CAS_TRIPLETS = 6  # CAS02..CAS19
_PLB_PAIRS = range(3, 15, 2)  # PLB03/04 .. PLB13/14


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
