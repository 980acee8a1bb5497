"""Turns stored claims into the 837 writer's input values, loading references in bulk.

Claims are read a page at a time as plain rows (selected columns, no ORM objects to build,
track and let go of), with their lines, encounters, patients and coverages fetched in one query
each, so a 100,000-claim batch costs a few queries per 500 claims and memory stays flat. The
payers, providers and facilities they name are few: a Directory reads each once per batch and
builds (and so validates) its writer value once.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col

from service.claims import driver_rows, json_columns, other_payers, secondary
from service.claims.models import Claim, ClaimLine
from service.claims.x12 import model as x12
from service.coding.dental_edits import x12_oral_area
from service.coding.models import Encounter
from service.directory.models import Facility, Payer, Provider
from service.labtests.models import LabTest
from service.patients.models import Coverage, Patient
from service.sql_lists import one_of

PAGE = 500


# The columns the writer and the scrubber read, a tuple type per table; the field names are the
# models' attribute names, and a row is selected by those names.
class ClaimRow(NamedTuple):
    id: str
    organization_id: str
    encounter_id: str
    coverage_id: str
    patient_id: str
    payer_id: str
    claim_type: str
    payer_responsibility: str
    patient_control_number: str
    frequency: str
    payer_claim_number: str | None
    status: str
    date_of_service: date
    place_of_service: str
    diagnoses: list[str]
    coding_version: int


class LineRow(NamedTuple):
    claim_id: str
    service_line_id: str | None
    line_control_number: str
    code_system: str
    code: str
    modifiers: list[str]
    units: Decimal
    charge: Decimal
    service_date: date
    pointers: list[int]
    tooth: str | None
    surfaces: str | None
    oral_area: str | None
    prosthesis: str | None
    ndc: str | None
    ndc_unit: str | None
    ndc_quantity: Decimal | None
    note: str | None
    anesthesia_minutes: int | None
    rendering_provider_id: str | None
    ordering_provider_id: str | None
    ndc_link_number: str | None
    duplicate_acknowledged: bool


class EncounterRow(NamedTuple):
    id: str
    billing_provider_id: str
    rendering_provider_id: str | None
    referring_provider_id: str | None
    facility_id: str | None
    prior_authorization: str | None
    referral_number: str | None
    coding_version: int
    coverage_ids: list[str]
    claim_note: str | None
    onset_date: date | None
    accident_date: date | None
    related_causes: list[str]
    accident_state: str | None
    attachments: list[dict[str, Any]]


class PatientRow(NamedTuple):
    id: str
    family_name: str
    given_name: str | None
    middle_name: str | None
    suffix: str | None
    birth_date: date
    sex: str
    address: dict[str, Any] | None


class CoverageRow(NamedTuple):
    id: str
    payer_id: str
    member_id: str
    group_number: str | None
    priority: str
    relationship: str
    own_member_id: bool
    subscriber: dict[str, Any] | None
    start_date: date
    end_date: date | None
    deleted_at: datetime | None

    @property
    def patient_is_subscriber(self) -> bool:
        """Self, or a dependant whose card carries their own member id (TR3 1.4.3)."""
        return self.relationship == "18" or self.own_member_id

    def in_force(self, on: date) -> bool:
        return (
            self.deleted_at is None
            and self.start_date <= on
            and (self.end_date is None or self.end_date >= on)
        )


class PayerRow(NamedTuple):
    id: str
    name: str
    edi_payer_id: str
    claim_filing_indicator: str
    address: dict[str, Any] | None
    timely_filing_days: int


class ProviderRow(NamedTuple):
    id: str
    npi: str
    kind: str
    organization_name: str | None
    family_name: str | None
    given_name: str | None
    middle_name: str | None
    suffix: str | None
    taxonomy: str | None
    tax_id: str | None
    address: dict[str, Any] | None


class FacilityRow(NamedTuple):
    id: str
    name: str
    npi: str | None
    address: dict[str, Any]
    clia_number: str | None


# Dental taxonomies (NUCC 122x dentists, 124Q hygienists, 125x/126x dental providers).
_DENTAL_TAXONOMY_PREFIXES = ("122", "124Q", "125", "126")


def is_dental_taxonomy(taxonomy: str | None) -> bool:
    return bool(taxonomy) and str(taxonomy).startswith(_DENTAL_TAXONOMY_PREFIXES)


R = TypeVar("R", bound=NamedTuple)
K = TypeVar("K")
V = TypeVar("V")


def _rows(
    session: Session,
    row: type[R],
    model: type[SQLModel],
    ids: Iterable[str | None],
    *,
    key: str = "id",
    order_by: Sequence[str] = (),
) -> list[R]:
    """The rows whose `key` is one of ids, as `row` tuples: a table-level query (no ORM entities)
    with the ids as one parameter on PostgreSQL (500 placeholders are a long statement to
    convert per page). Pending ORM changes are flushed first, as an ORM query would."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return []
    if session.autoflush:
        session.flush()
    columns = sa.inspect(model).columns
    where = one_of(session, columns[key], wanted)
    order = [columns[name] for name in order_by]
    plain = [columns[name] for name in row._fields]
    if driver_rows.usable(session, plain):
        query = sa.select(*plain).where(where).order_by(*order)
        return driver_rows.fetch(session, query, row._make)
    postgres = session.get_bind().dialect.name == "postgresql"
    json_at = [i for i, name in enumerate(row._fields) if isinstance(columns[name].type, sa.JSON)]
    selected = [
        json_columns.as_text(columns[name], postgres) if i in json_at else columns[name]
        for i, name in enumerate(row._fields)
    ]
    found = session.execute(sa.select(*selected).where(where).order_by(*order)).all()
    return [row._make(values) for values in json_columns.decoded(found, json_at)]


def _by_id(
    session: Session, row: type[R], model: type[SQLModel], ids: Iterable[str | None]
) -> dict[str, R]:
    return {r[0]: r for r in _rows(session, row, model, ids)}  # id is their first column


def _cached(cache: dict[K, V], key: K, build: Callable[[], V]) -> V:
    """Failures are not cached: every claim that refers to a bad row raises again."""
    value = cache.get(key)
    if value is None:
        value = cache[key] = build()
    return value


def claim_row(claim: Claim) -> ClaimRow:
    """A claim as it stands in the session, changes not yet flushed included."""
    return ClaimRow._make(getattr(claim, name) for name in ClaimRow._fields)


def read_claims(session: Session, claim_ids: Sequence[str]) -> list[ClaimRow]:
    """In the order given (KeyError for an id that is not a claim)."""
    found = _by_id(session, ClaimRow, Claim, claim_ids)
    return [found[i] for i in claim_ids]


def _person(
    family: str, given: str | None, middle: str | None = None, suffix: str | None = None
) -> x12.PersonName:
    return x12.PersonName(
        family=family, given=given or "", middle=middle or "", suffix=suffix or ""
    )


def _provider_name(provider: ProviderRow) -> x12.Name:
    if provider.kind == "organization":
        return provider.organization_name or ""
    return _person(
        provider.family_name or "", provider.given_name or "", provider.middle_name, provider.suffix
    )


class Directory:
    """The payers, providers and facilities of one batch, each read once; a missing one raises
    KeyError. Their writer values are built (and validated) once, and the writer then compares
    one object with itself when it checks whether the next claim opens a new 2000A loop."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.payers: dict[str, PayerRow] = {}
        self.providers: dict[str, ProviderRow] = {}
        self.facilities: dict[str, FacilityRow] = {}
        self._billing_addresses: dict[str, x12.Address] = {}
        self._billing_providers: dict[str, x12.BillingProvider] = {}
        self._payer_values: dict[str, x12.Payer] = {}
        self._provider_values: dict[str, x12.Provider] = {}
        self._facility_values: dict[tuple[str, str], x12.ServiceFacility] = {}
        self._lab_codes: dict[str, frozenset[str]] = {}

    def lab_codes(self, organization_id: str) -> frozenset[str]:
        """The billing codes of the organization's lab test catalog, read once."""
        found = self._lab_codes.get(organization_id)
        if found is None:
            found = self._lab_codes[organization_id] = frozenset(
                self._session.execute(
                    sa.select(col(LabTest.billing_code)).where(
                        col(LabTest.organization_id) == organization_id
                    )
                ).scalars()
            )
        return found

    def load(
        self,
        claims: Sequence[ClaimRow],
        encounters: Iterable[EncounterRow],
        lines: Iterable[LineRow] = (),
        payer_ids: Iterable[str] = (),
    ) -> None:
        """Reads the rows this page names that earlier pages did not."""
        encounters = list(encounters)
        provider_ids = [
            p
            for e in encounters
            for p in (e.billing_provider_id, e.rendering_provider_id, e.referring_provider_id)
        ]
        provider_ids += [
            p for ln in lines for p in (ln.rendering_provider_id, ln.ordering_provider_id)
        ]
        payers: list[str | None] = [c.payer_id for c in claims]
        self._add(self.payers, PayerRow, Payer, payers + list(payer_ids))
        self._add(self.providers, ProviderRow, Provider, provider_ids)
        self._add(self.facilities, FacilityRow, Facility, [e.facility_id for e in encounters])

    def _add(
        self, cache: dict[str, R], row: type[R], model: type[SQLModel], ids: list[str | None]
    ) -> None:
        cache.update(_by_id(self._session, row, model, [i for i in ids if i not in cache]))

    def billing_address(self, provider_id: str) -> x12.Address:
        return _cached(
            self._billing_addresses, provider_id, lambda: self._billing_address(provider_id)
        )

    def _billing_address(self, provider_id: str) -> x12.Address:
        billing = self.providers[provider_id]
        address = x12.address_from(billing.address)
        if address is None or not billing.tax_id:
            raise x12.X12InputError("The billing provider needs a street address and a tax id.")
        return address

    def billing_provider(
        self, provider_id: str, *, dental_rendering_id: str | None = None
    ) -> x12.BillingProvider:
        """On an 837D, PRV*BI carries a dental taxonomy: the billing provider's own when it is
        one, else the rendering dentist's, else none (PRV*BI is situational)."""
        taxonomy = self.providers[provider_id].taxonomy
        if dental_rendering_id is not None and not is_dental_taxonomy(taxonomy):
            rendering = self.providers.get(dental_rendering_id)
            taxonomy = rendering.taxonomy if rendering is not None else None
            taxonomy = taxonomy if is_dental_taxonomy(taxonomy) else None

        def build() -> x12.BillingProvider:
            billing = self.providers[provider_id]
            return x12.BillingProvider(
                npi=billing.npi,
                name=_provider_name(billing),
                tax_id=billing.tax_id or "",
                address=self.billing_address(provider_id),
                taxonomy=taxonomy,
            )

        key = (
            provider_id
            if taxonomy == self.providers[provider_id].taxonomy
            else (f"{provider_id}:{taxonomy}")
        )
        return _cached(self._billing_providers, key, build)

    def payer(self, payer_id: str) -> x12.Payer:
        def build() -> x12.Payer:
            payer = self.payers[payer_id]
            return x12.Payer(
                name=payer.name,
                payer_id=payer.edi_payer_id,
                address=x12.address_from(payer.address),
            )

        return _cached(self._payer_values, payer_id, build)

    def provider(self, provider_id: str) -> x12.Provider:
        """2310A referring / 2310B rendering / 2420A line rendering / 2420E ordering."""

        def build() -> x12.Provider:
            provider = self.providers[provider_id]
            return x12.Provider(provider.npi, _provider_name(provider), provider.taxonomy)

        return _cached(self._provider_values, provider_id, build)

    def service_facility(self, facility_id: str, billing_id: str) -> x12.ServiceFacility:
        """2310C; a facility without an address of its own is at the billing provider's."""

        def build() -> x12.ServiceFacility:
            facility = self.facilities[facility_id]
            address = x12.address_from(facility.address) or self.billing_address(billing_id)
            return x12.ServiceFacility(facility.name, address, facility.npi)

        return _cached(self._facility_values, (facility_id, billing_id), build)


class Refs:
    """The rows a page of claims refers to."""

    def __init__(
        self, session: Session, claims: Sequence[ClaimRow], directory: Directory | None = None
    ) -> None:
        self.lines: dict[str, list[LineRow]] = {c.id: [] for c in claims}
        for line in _rows(
            session,
            LineRow,
            ClaimLine,
            self.lines,
            key="claim_id",
            order_by=("claim_id", "position"),
        ):
            self.lines[line.claim_id].append(line)
        self.encounters = _by_id(session, EncounterRow, Encounter, (c.encounter_id for c in claims))
        self.patients = _by_id(session, PatientRow, Patient, (c.patient_id for c in claims))
        # Every coverage the encounters list: the claim's own, and the other payers a claim
        # names in 2320/2330 (and the scrubber checks the order of).
        self.coverages = _by_id(
            session,
            CoverageRow,
            Coverage,
            [c.coverage_id for c in claims]
            + [i for e in self.encounters.values() for i in e.coverage_ids],
        )
        self.directory = directory or Directory(session)
        self.directory.load(
            claims,
            self.encounters.values(),
            (line for lines in self.lines.values() for line in lines),
            (c.payer_id for c in self.coverages.values()),
        )
        # Secondary/tertiary claims carry the primary payer's adjudication (2320/2330, 2430).
        self.prior = secondary.prior_payers(session, claims)


def _subscriber(
    claim: ClaimRow, patient: PatientRow, coverage: CoverageRow, payer: PayerRow
) -> x12.Subscriber:
    if coverage.patient_is_subscriber:
        return x12.Subscriber(
            member_id=coverage.member_id,
            name=_person(
                patient.family_name, patient.given_name, patient.middle_name, patient.suffix
            ),
            claim_filing_indicator=payer.claim_filing_indicator,
            payer_responsibility=claim.payer_responsibility,
            group_number=coverage.group_number,
            birth_date=patient.birth_date,
            sex=patient.sex,
            address=x12.address_from(patient.address),
        )
    sub = coverage.subscriber or {}
    return x12.Subscriber(
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
        address=x12.address_from(sub.get("address")),
    )


def _patient_loop(patient: PatientRow, coverage: CoverageRow) -> x12.Patient | None:
    """2000C/2010CA, only when the patient is not the subscriber (a dependant with their own
    member id is the subscriber)."""
    if coverage.patient_is_subscriber:
        return None
    patient_address = x12.address_from(patient.address)
    if patient_address is None:
        raise x12.X12InputError("A patient who is not the subscriber needs an address (2010CA).")
    return x12.Patient(
        relationship=coverage.relationship,
        name=_person(patient.family_name, patient.given_name, patient.middle_name, patient.suffix),
        birth_date=patient.birth_date,
        sex=patient.sex,
        address=patient_address,
    )


def _line_provider(directory: Directory, provider_id: str | None) -> x12.Provider | None:
    return directory.provider(provider_id) if provider_id else None


def _ordering_provider(directory: Directory, provider_id: str | None) -> x12.Provider | None:
    """2420E NM1*DK is a person (NM102 1)."""
    provider = _line_provider(directory, provider_id)
    if provider is not None and not isinstance(provider.name, x12.PersonName):
        raise x12.X12InputError("A line's ordering provider (2420E) must be a person.")
    return provider


def _drug(line: LineRow) -> x12.Drug | None:
    if not line.ndc:
        return None
    return x12.Drug(
        line.ndc, line.ndc_quantity or Decimal(0), line.ndc_unit or "", line.ndc_link_number
    )


def _service_lines(
    claim: ClaimRow,
    lines: list[LineRow],
    prior: secondary.PriorPayers | None,
    directory: Directory,
    claim_rendering_id: str,
) -> tuple[x12.ServiceLine, ...]:
    dental = claim.claim_type == "dental"
    return tuple(
        x12.ServiceLine(
            procedure_code=line.code,
            charge=line.charge,
            service_date=line.service_date,
            line_control_number=line.line_control_number,
            # SV103 MJ / SV104 minutes for anesthesia, else UN units.
            units=Decimal(line.anesthesia_minutes) if line.anesthesia_minutes else line.units,
            unit_code="MJ" if line.anesthesia_minutes else "UN",
            modifiers=tuple(line.modifiers),
            diagnosis_pointers=tuple(line.pointers),
            oral_cavity_areas=(x12_oral_area(line.oral_area),) if dental and line.oral_area else (),
            prosthesis=line.prosthesis if dental else None,
            teeth=(x12.Tooth(line.tooth, tuple(line.surfaces or "")),)
            if dental and line.tooth
            else (),
            adjudications=prior.lines.get(line.service_line_id or "", ()) if prior else (),
            note=line.note,
            drug=_drug(line),
            rendering_provider=_line_provider(directory, line.rendering_provider_id)
            if line.rendering_provider_id != claim_rendering_id
            else None,
            ordering_provider=_ordering_provider(directory, line.ordering_provider_id),
        )
        for line in lines
    )


def is_lab_line(line: LineRow, catalog: frozenset[str]) -> bool:
    """Laboratory services: 80000-89999, a catalog test's billing code, or CLIA-waived (QW)."""
    return line.code_system in ("CPT", "HCPCS") and (
        line.code[:1] == "8" or line.code in catalog or "QW" in line.modifiers
    )


def claim_input(claim: ClaimRow, refs: Refs) -> x12.ClaimInput:
    """Raises X12InputError (or KeyError for a missing reference) when a value cannot be sent;
    the values are built in a fixed order, so a claim with several faults names the same one
    every time."""
    directory = refs.directory
    encounter = refs.encounters[claim.encounter_id]
    patient = refs.patients[claim.patient_id]
    coverage = refs.coverages[claim.coverage_id]
    payer = directory.payers[claim.payer_id]
    billing_id = encounter.billing_provider_id
    directory.billing_address(billing_id)  # its street address and tax id come first
    subscriber = _subscriber(claim, patient, coverage, payer)
    patient_loop = _patient_loop(patient, coverage)
    rendering_id = encounter.rendering_provider_id or ""
    referring_id = encounter.referring_provider_id or ""
    facility = directory.facilities.get(encounter.facility_id or "")
    dental = claim.claim_type == "dental"
    prior = refs.prior.get(claim.id)
    claim_lines = refs.lines[claim.id]
    lines = _service_lines(claim, claim_lines, prior, directory, rendering_id)
    catalog = directory.lab_codes(claim.organization_id)
    lab_codes = any(is_lab_line(line, catalog) for line in claim_lines)
    return x12.ClaimInput(
        patient_control_number=claim.patient_control_number,
        billing_provider=directory.billing_provider(
            billing_id, dental_rendering_id=rendering_id if dental else None
        ),
        subscriber=subscriber,
        payer=directory.payer(claim.payer_id),
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
        referring_provider=directory.provider(referring_id)
        if referring_id in directory.providers
        else None,
        rendering_provider=directory.provider(rendering_id)
        if rendering_id in directory.providers and rendering_id != billing_id
        else None,
        other_payers=prior.other_payers
        if prior
        else other_payers.known_other_payers(claim, encounter, coverage, patient, refs),
        service_facility=directory.service_facility(facility.id, billing_id) if facility else None,
        note=encounter.claim_note,
        onset_date=encounter.onset_date if not dental else None,
        accident_date=encounter.accident_date,
        related_causes=tuple(encounter.related_causes),
        accident_state=encounter.accident_state,
        attachments=tuple(
            x12.Attachment(a["report_type"], a["transmission"], a["control_number"])
            for a in encounter.attachments
        ),
    )


def iter_claim_inputs(session: Session, claim_ids: Sequence[str]) -> Iterator[x12.ClaimInput]:
    """In the order given, a page of claims and references at a time."""
    directory = Directory(session)
    for start in range(0, len(claim_ids), PAGE):
        page = read_claims(session, claim_ids[start : start + PAGE])
        refs = Refs(session, page, directory)
        for claim in page:
            yield claim_input(claim, refs)
