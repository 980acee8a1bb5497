"""Streaming X12 5010 837P (005010X222A1) and 837D (005010X224A2) writer."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain

from service.claims.x12.model import (
    Address,
    Adjustment,
    BillingProvider,
    ClaimInput,
    Header,
    Kind,
    Name,
    Patient,
    Payer,
    PersonName,
    Provider,
    ServiceFacility,
    ServiceLine,
    Subscriber,
    X12InputError,
)
from service.x12.envelope import close_interchange, close_set, open_interchange
from service.x12.segments import (
    Composite,
    SegmentWriter,
    Sink,
    amount,
    ccyymmdd,
    clean,
    hhmm,
    join_composite,
    join_segment,
    quantity,
    text,
)

# GS08 = ST03: the implementation guide of each claim type.
VERSIONS: dict[str, str] = {"P": "005010X222A1", "D": "005010X224A2"}
MAX_CLAIMS_PER_ST = 5000  # the 837 guides suggest at most 5,000 CLM per ST
_MAX_CLAIMS_PER_PARENT = 100  # loop 2300 repeats at most 100 times under one 2000B/2000C
_MAX_CAS_TRIPLETS = 6  # CAS02..CAS19
_MAX_CAS_SEGMENTS = 5
_MAX_BLOCKS = 1024  # rendered payer/provider/facility blocks kept by one writer


class _Writer(SegmentWriter):
    """The segment writer of one 837, with what repeats from claim to claim kept: formatted
    dates and amounts, and the segments of the payers, providers and facilities (the input
    builds each of those once per batch, so the same object comes back claim after claim)."""

    def __init__(self, out: Sink, *, newlines: bool) -> None:
        super().__init__(out, newlines=newlines)
        self.date = functools.lru_cache(maxsize=4096)(ccyymmdd)
        self.amount = functools.lru_cache(maxsize=4096)(amount)
        self.quantity = functools.lru_cache(maxsize=1024)(quantity)
        self._blocks: dict[tuple[int, str], tuple[object, tuple[str, ...]]] = {}
        self._pending: list[str] = []

    def raw(self, segment: str) -> None:
        """Counted now, handed to the sink by flush(): a claim's few dozen segments reach it as
        one string (a call into the sink per segment was a tenth of the writer's time)."""
        self._pending.append(segment + self._suffix if self._suffix else segment)
        self.count += 1
        self.total += 1

    def flush(self) -> None:
        if self._pending:
            self._write("".join(self._pending))
            self._pending.clear()

    def block(self, value: object, tag: str, render: Callable[[], tuple[str, ...]]) -> None:
        """The segments render() gives for value, rendered once while value is alive (the
        entry holds it, so its id cannot be reused while it is cached)."""
        key = (id(value), tag)
        found = self._blocks.get(key)
        if found is None or found[0] is not value:
            if len(self._blocks) >= _MAX_BLOCKS:
                self._blocks.clear()
            found = self._blocks[key] = (value, render())
        for segment in found[1]:
            self.raw(segment)


@dataclass(frozen=True, slots=True)
class TransactionSetSummary:
    """One ST/SE: its control number (ST02 = SE02), claims and segment count (SE01)."""

    control_number: str
    claim_count: int
    segment_count: int
    total_charge: Decimal


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What was written: claims are in transaction sets in input order, claim_count each."""

    interchange_control_number: str  # ISA13 = IEA02
    group_control_number: str  # GS06 = GE02
    claim_count: int
    line_count: int
    total_charge: Decimal
    segment_count: int  # ISA through IEA
    transaction_sets: tuple[TransactionSetSummary, ...]

    @property
    def st_control_numbers(self) -> tuple[str, ...]:
        return tuple(ts.control_number for ts in self.transaction_sets)


class _OpenSet:
    """State of the transaction set being written: HL numbering restarts in each ST."""

    def __init__(self, control_number: str) -> None:
        self.control_number = control_number
        self.claim_count = 0
        self.total_charge = Decimal(0)
        self.hl_count = 0
        self.provider: BillingProvider | None = None
        self.provider_hl = 0
        self.subscriber_key: tuple[Subscriber, Payer, bool] | None = None
        self.subscriber_hl = 0
        self.patient: Patient | None = None
        self.claims_in_parent = 0

    def next_hl(self) -> int:
        self.hl_count += 1
        return self.hl_count


def write_837(
    header: Header,
    claims: Iterable[ClaimInput],
    out: Sink,
    *,
    kind: Kind,
    first_st_control: int,
    max_claims_per_st: int = MAX_CLAIMS_PER_ST,
    newlines: bool = False,
) -> BatchSummary:
    """Write one interchange (ISA/GS, ST/SE per max_claims_per_st claims, GE/IEA).

    first_st_control is the ST02 of the first transaction set; the next ones count up from
    it (the caller keeps control numbers unique per sender). Claims must arrive sorted by
    billing provider, then subscriber/payer: a change opens a new 2000A or 2000B loop.
    Segments are written as the claims are read, so memory stays flat however long the
    batch. An invalid claim raises X12InputError mid-stream: discard what was written so
    far (the caller's transaction).
    """
    if kind not in VERSIONS:
        raise X12InputError("kind must be P (837P) or D (837D).")
    if not 1 <= max_claims_per_st <= MAX_CLAIMS_PER_ST:
        raise X12InputError(f"max_claims_per_st must be 1 to {MAX_CLAIMS_PER_ST}.")
    if not first_st_control >= 1:
        raise X12InputError("ST02 control numbers start at 1.")
    iterator = iter(claims)
    first = next(iterator, None)
    if first is None:
        raise X12InputError("A claim batch needs at least one claim.")

    version = VERSIONS[kind]
    interchange = header.interchange
    writer = _Writer(out, newlines=newlines)
    open_interchange(writer, interchange, "HC", version)  # HC: health care claim group
    done: list[TransactionSetSummary] = []
    current: _OpenSet | None = None
    st_number = first_st_control
    line_count = 0
    total = Decimal(0)
    for claim in chain((first,), iterator):
        claim.check_kind(kind)
        if current is None or current.claim_count >= max_claims_per_st:
            if current is not None:
                done.append(_close_set(writer, current))
            current = _open_set(writer, header, version, st_number)
            st_number += 1
        _write_claim(writer, current, claim, kind)
        writer.flush()
        line_count += len(claim.lines)
        total += claim.total_charge
    assert current is not None  # there was a first claim
    done.append(_close_set(writer, current))
    close_interchange(writer, interchange, len(done))
    writer.flush()
    return BatchSummary(
        interchange_control_number=f"{interchange.interchange_control_number:09d}",
        group_control_number=str(interchange.group_control_number),
        claim_count=sum(ts.claim_count for ts in done),
        line_count=line_count,
        total_charge=total,
        segment_count=writer.total,
        transaction_sets=tuple(done),
    )


def _open_set(writer: _Writer, header: Header, version: str, number: int) -> _OpenSet:
    if number > 999_999_999:
        raise X12InputError("ST02 control numbers end at 999999999.")
    control = f"{number:04d}"  # ST02 is 4 to 9 characters
    interchange = header.interchange
    writer.reset()
    writer.segment("ST", "837", control, version)
    # BHT: 0019 hierarchy, 00 original, BHT03 our reference, CH chargeable.
    reference = interchange.batch_reference or f"{interchange.interchange_control_number:09d}"
    writer.segment(
        "BHT",
        "0019",
        "00",
        f"{text(reference, 40)}-{control}",  # BHT03 is at most 50
        ccyymmdd(interchange.created_at),
        hhmm(interchange.created_at),
        "CH",
    )
    # 1000A submitter: NM1*41 (NM108 46) and PER*IC with at least one number.
    submitter = header.submitter
    writer.raw(_nm1("41", submitter.name, "46", submitter.submitter_id, suffix=False))
    contacts: list[str] = []
    if submitter.phone:
        contacts += ["TE", submitter.phone]
    if submitter.email:
        contacts += ["EM", text(submitter.email, 256)]
    writer.segment("PER", "IC", text(submitter.contact_name, 60), *contacts)
    # 1000B receiver.
    writer.raw(_nm1("40", header.receiver.name, "46", header.receiver.receiver_id))
    return _OpenSet(control)


def _close_set(writer: _Writer, current: _OpenSet) -> TransactionSetSummary:
    close_set(writer, current.control_number)
    return TransactionSetSummary(
        control_number=current.control_number,
        claim_count=current.claim_count,
        segment_count=writer.count,
        total_charge=current.total_charge,
    )


def _write_claim(writer: _Writer, current: _OpenSet, claim: ClaimInput, kind: Kind) -> None:
    if claim.billing_provider != current.provider:
        current.provider = claim.billing_provider
        current.provider_hl = current.next_hl()
        current.subscriber_key = None
        _write_billing_provider(writer, current.provider_hl, claim.billing_provider)
    # A 2000B holds either claims (the subscriber is the patient) or 2000C children.
    subscriber_key = (claim.subscriber, claim.payer, claim.patient is None)
    parent_full = current.claims_in_parent >= _MAX_CLAIMS_PER_PARENT
    if subscriber_key != current.subscriber_key or (claim.patient is None and parent_full):
        current.subscriber_key = subscriber_key
        current.subscriber_hl = current.next_hl()
        current.patient = None
        current.claims_in_parent = 0
        _write_subscriber(writer, current.subscriber_hl, current.provider_hl, claim)
    if claim.patient is not None and (claim.patient != current.patient or parent_full):
        current.patient = claim.patient
        current.claims_in_parent = 0
        _write_patient(writer, current.next_hl(), current.subscriber_hl, claim.patient)
    current.claims_in_parent += 1
    current.claim_count += 1
    current.total_charge += claim.total_charge
    _write_2300(writer, claim, kind)


def _write_billing_provider(writer: _Writer, hl: int, provider: BillingProvider) -> None:
    # 2000A: HL*n**20*1 (always has subscriber children), PRV*BI*PXC taxonomy.
    writer.segment("HL", str(hl), "", "20", "1")
    if provider.taxonomy:
        writer.segment("PRV", "BI", "PXC", provider.taxonomy)
    # 2010AA: NM1*85 with XX NPI, street address, REF*EI tax id.
    writer.raw(_nm1("85", provider.name, "XX", provider.npi))
    _address(writer, provider.address)
    writer.segment("REF", "EI", provider.tax_id)
    # 2010AB pay-to address, only when it differs from 2010AA.
    if provider.pay_to_address is not None and provider.pay_to_address != provider.address:
        writer.segment("NM1", "87", "2")
        _address(writer, provider.pay_to_address)


def _write_subscriber(writer: _Writer, hl: int, parent: int, claim: ClaimInput) -> None:
    subscriber = claim.subscriber
    is_patient = claim.patient is None
    clean = writer.clean
    # 2000B: HL04 1 when 2000C patient loops follow; SBR02 18 when the subscriber is the patient.
    writer.raw(join_segment("HL", str(hl), str(parent), "22", "0" if is_patient else "1"))
    writer.raw(
        join_segment(
            "SBR",
            clean(subscriber.payer_responsibility),
            "18" if is_patient else "",
            text(subscriber.group_number, 50),
            text(subscriber.group_name, 60),
            "",
            "",
            "",
            "",
            clean(subscriber.claim_filing_indicator),
        )
    )
    # 2010BA: NM1*IL with MI member id, N3/N4, DMG (required when the subscriber is the patient).
    writer.raw(_nm1("IL", subscriber.name, "MI", subscriber.member_id))
    if subscriber.address is not None:
        _address(writer, subscriber.address)
    if subscriber.birth_date is not None:
        birth_date = writer.date(subscriber.birth_date)
        writer.raw(join_segment("DMG", "D8", birth_date, clean(subscriber.sex or "U")))
    # 2010BB: NM1*PR with PI payer id.
    _payer(writer, claim.payer)


def _write_patient(writer: _Writer, hl: int, parent: int, patient: Patient) -> None:
    # 2000C: HL*n*parent*23*0, PAT01 relationship to the subscriber.
    writer.raw(join_segment("HL", str(hl), str(parent), "23", "0"))
    writer.raw(join_segment("PAT", writer.clean(patient.relationship)))
    # 2010CA: NM1*QC (no id in 5010), N3, N4, DMG.
    writer.raw(_nm1("QC", patient.name))
    _address(writer, patient.address)
    birth_date = writer.date(patient.birth_date)
    writer.raw(join_segment("DMG", "D8", birth_date, writer.clean(patient.sex)))


def _write_2300(writer: _Writer, claim: ClaimInput, kind: Kind) -> None:
    # CLM: CLM05 = place of service : B : frequency; CLM06-09 signature/assignment flags.
    # CLM11 (after CLM10, unused): up to 3 related causes (AA, EM, OA), then the auto
    # accident's state.
    clean = writer.clean
    related: tuple[str, ...] = ()
    if claim.related_causes:
        causes = (*claim.related_causes, "", "", "")[:3]
        related = ("", join_composite(*map(clean, (*causes, claim.accident_state or ""))))
    writer.raw(
        join_segment(
            "CLM",
            clean(claim.patient_control_number),
            writer.amount(claim.total_charge),
            "",
            "",
            join_composite(clean(claim.place_of_service), "B", clean(claim.frequency)),
            "Y" if claim.provider_signature else "N",
            clean(claim.assignment),
            "Y" if claim.benefits_assigned else "N",
            clean(claim.release_of_information),
            *related,
        )
    )
    # 2300 DTP*431 onset of the current illness (837P), DTP*439 accident; PWK attachments.
    if claim.onset_date is not None:
        writer.segment("DTP", "431", "D8", ccyymmdd(claim.onset_date))
    if claim.accident_date is not None:
        writer.segment("DTP", "439", "D8", ccyymmdd(claim.accident_date))
    for attachment in claim.attachments:
        writer.segment(
            "PWK",
            attachment.report_type,
            attachment.transmission,
            "",
            "",
            "AC",
            text(attachment.control_number, 80),
        )
    # 2300 REF, in guide order: 9F referral, G1 prior authorization, F8 payer claim, X4 CLIA.
    for qualifier, value in (
        ("9F", claim.referral_number),
        ("G1", claim.prior_authorization),
        ("F8", claim.payer_claim_number if claim.frequency != "1" else None),
        ("X4", claim.clia_number),
    ):
        if value:
            writer.raw(join_segment("REF", qualifier, text(value, 50)))
    if claim.note:
        writer.raw(join_segment("NTE", "ADD", text(claim.note, 80)))
    # HI: ICD-10-CM without dots, ABK principal then ABF (12 in 837P, 4 in 837D).
    if claim.diagnosis_codes:
        principal, *others = claim.diagnosis_codes
        writer.raw(
            join_segment(
                "HI",
                join_composite("ABK", clean(principal)),
                *(join_composite("ABF", clean(code)) for code in others),
            )
        )
    # 2310A referring (DN), 2310B rendering (82 + PRV*PE), 2310C service facility (77).
    if claim.referring_provider is not None:
        _provider(writer, "DN", claim.referring_provider)
    if claim.rendering_provider is not None:
        _provider(writer, "82", claim.rendering_provider)
    if claim.service_facility is not None:
        facility = claim.service_facility
        writer.block(facility, "77", lambda: _facility_segments(facility))
    for other in claim.other_payers:
        # 2320: the other payer's SBR, claim-level CAS, AMT*D paid, OI.
        writer.segment(
            "SBR",
            other.payer_responsibility,
            other.relationship,
            text(other.group_number, 50),
            "",
            "",
            "",
            "",
            "",
            other.claim_filing_indicator,
        )
        _cas(writer, other.adjustments)
        if other.paid_amount is not None:
            writer.segment("AMT", "D", amount(other.paid_amount))
        writer.segment(
            "OI",
            "",
            "",
            "Y" if claim.benefits_assigned else "N",
            "",
            "",
            claim.release_of_information,
        )
        # 2330A other subscriber, 2330B other payer (+ DTP*573 adjudication date).
        writer.raw(_nm1("IL", other.subscriber.name, "MI", other.subscriber.member_id))
        if other.subscriber.address is not None:
            _address(writer, other.subscriber.address)
        _payer(writer, other.payer)
        if other.adjudication_date is not None:
            writer.segment("DTP", "573", "D8", ccyymmdd(other.adjudication_date))
    for number, line in enumerate(claim.lines, start=1):
        _write_2400(writer, number, line, kind)


def _write_2400(writer: _Writer, number: int, line: ServiceLine, kind: Kind) -> None:
    clean = writer.clean
    writer.raw(join_segment("LX", str(number)))
    pointers = join_composite(*map(str, line.diagnosis_pointers))
    qualifier = "HC" if kind == "P" else "AD"
    procedure = join_composite(qualifier, clean(line.procedure_code), *map(clean, line.modifiers))
    if kind == "P":
        # SV1: HC:code:modifiers, charge, UN/MJ, units, SV105 POS, SV107 pointers.
        writer.raw(
            join_segment(
                "SV1",
                procedure,
                writer.amount(line.charge),
                clean(line.unit_code),
                writer.quantity(line.units),
                clean(line.place_of_service or ""),
                "",
                pointers,
            )
        )
    else:
        # SV3: AD:code, charge, SV303 POS, SV304 oral cavity, SV305 prosthesis, SV306 units,
        # SV311 pointers; then TOO*JP*tooth*surfaces per tooth.
        writer.raw(
            join_segment(
                "SV3",
                procedure,
                writer.amount(line.charge),
                clean(line.place_of_service or ""),
                join_composite(*map(clean, line.oral_cavity_areas)),
                clean(line.prosthesis or ""),
                writer.quantity(line.units),
                "",
                "",
                "",
                "",
                pointers,
            )
        )
        for tooth in line.teeth:
            surfaces = join_composite(*map(clean, tooth.surfaces))
            writer.raw(join_segment("TOO", "JP", clean(tooth.number), surfaces))
    # DTP*472 service date; REF*6R line item control number (835 SVC REF*6R matches it).
    writer.raw(join_segment("DTP", "472", "D8", writer.date(line.service_date)))
    writer.raw(join_segment("REF", "6R", clean(line.line_control_number)))
    if line.note:
        writer.raw(join_segment("NTE", "ADD", text(line.note, 80)))
    if line.drug is not None:
        # 2410: LIN*N4 NDC, CTP04 quantity, CTP05-1 unit.
        writer.segment("LIN", "", "N4", line.drug.ndc)
        writer.segment("CTP", "", "", "", quantity(line.drug.quantity), Composite(line.drug.unit))
        if line.drug.link_number:
            writer.segment("REF", "VY", line.drug.link_number)
    if line.rendering_provider is not None:
        # 2420A rendering provider (NM1*82, PRV*PE), when the line's differs from the claim's.
        _provider(writer, "82", line.rendering_provider)
    if line.ordering_provider is not None:
        # 2420E ordering provider (NM1*DK), a person.
        _provider(writer, "DK", line.ordering_provider)
    for adjudication in line.adjudications:
        # 2430: SVD (SVD01 = 2330B payer id), line CAS, DTP*573 adjudication date.
        writer.segment(
            "SVD",
            adjudication.payer_id,
            amount(adjudication.paid_amount),
            Composite(qualifier, adjudication.procedure_code, *adjudication.modifiers),
            "",
            quantity(adjudication.paid_units),
        )
        _cas(writer, adjudication.adjustments)
        writer.segment("DTP", "573", "D8", ccyymmdd(adjudication.adjudication_date))


def _cas(writer: _Writer, adjustments: tuple[Adjustment, ...]) -> None:
    """CAS: one segment per group code, at most 6 reason/amount/quantity triplets each."""
    groups: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        groups.setdefault(adjustment.group, []).append(adjustment)
    segments: list[list[str]] = []
    for group, items in groups.items():
        for start in range(0, len(items), _MAX_CAS_TRIPLETS):
            elements = [group]
            for item in items[start : start + _MAX_CAS_TRIPLETS]:
                units = quantity(item.quantity) if item.quantity is not None else ""
                elements += [item.reason, amount(item.amount), units]
            segments.append(elements)
    if len(segments) > _MAX_CAS_SEGMENTS:
        raise X12InputError("At most 5 CAS segments per claim or line adjudication.")
    for elements in segments:
        writer.segment("CAS", *elements)


def _payer(writer: _Writer, payer: Payer) -> None:
    # 2010BB / 2330B: NM1*PR*2 with PI payer id, optional N3/N4.
    def render() -> tuple[str, ...]:
        nm1 = _nm1("PR", payer.name, "PI", payer.payer_id)
        return (nm1, *_address_segments(payer.address)) if payer.address else (nm1,)

    writer.block(payer, "PR", render)


def _provider(writer: _Writer, entity: str, provider: Provider) -> None:
    """NM1 with the XX NPI; PRV*PE with the taxonomy for a rendering provider (82)."""

    def render() -> tuple[str, ...]:
        nm1 = _nm1(entity, provider.name, "XX", provider.npi)
        if entity == "82" and provider.taxonomy:
            return (nm1, join_segment("PRV", "PE", "PXC", clean(provider.taxonomy)))
        return (nm1,)

    writer.block(provider, entity, render)


def _facility_segments(facility: ServiceFacility) -> tuple[str, ...]:
    if facility.npi:
        nm1 = _nm1("77", facility.name, "XX", facility.npi)
    else:
        nm1 = _nm1("77", facility.name)
    return (nm1, *_address_segments(facility.address))


def _nm1(
    entity: str,
    name: Name,
    id_qualifier: str = "",
    identifier: str = "",
    *,
    suffix: bool = True,
) -> str:
    """NM1: NM102 1 person / 2 organization, NM103-07 name parts, NM108/09 id."""
    if isinstance(name, PersonName):
        parts = [
            "1",
            text(name.family, 60),
            text(name.given, 35),
            text(name.middle, 25),
            "",  # NM106 prefix is not used in the 837
            text(name.suffix, 10) if suffix else "",
        ]
    else:
        parts = ["2", text(name, 60), "", "", "", ""]
    if id_qualifier:
        parts += [id_qualifier, text(identifier, 80)]
    return join_segment("NM1", entity, *parts)


def _address(writer: _Writer, address: Address) -> None:
    for segment in _address_segments(address):
        writer.raw(segment)


def _address_segments(address: Address) -> tuple[str, str]:
    # N3 street lines (55 each), N4 city, state, ZIP.
    return (
        join_segment("N3", text(address.line1, 55), text(address.line2, 55)),
        join_segment(
            "N4", text(address.city, 30), clean(address.state), clean(address.postal_code)
        ),
    )
