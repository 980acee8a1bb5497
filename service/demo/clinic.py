"""`backoffice demo`: a realistic organization named `demo` to try every capability at once.

Idempotent: every record is found by its natural key (NPI, payer id, MRN, name) before it is
created, so a second run adds nothing (it only issues a fresh admin key, revoking the old one,
and fresh one-time passwords for the web pages' demo people who have not chosen their own).
"""

import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from service import crud
from service.auth import logic as auth_logic
from service.auth import repository as auth_repository
from service.auth.logic import Principal
from service.auth.models import ApiKey, AppUser
from service.auth.roles import Role
from service.claims import logic as claim_logic
from service.claims.models import Claim
from service.codesets import importers
from service.codesets import logic as codeset_logic
from service.coding import logic as coding
from service.coding.models import Encounter
from service.coding.schemas import CodingIn, EncounterCreate, ServiceLineIn
from service.demo import lab_catalog as labtest_demo
from service.demo import people as demo_people
from service.demo import westside as westside_demo
from service.directory import logic as directory
from service.directory.models import Facility, FeeSchedule, Payer, Provider, TradingPartner
from service.directory.schemas import (
    FacilityCreate,
    FeeScheduleCreate,
    PayerCreate,
    ProviderCreate,
    TradingPartnerCreate,
)
from service.errors import DomainError
from service.identifiers import npi_check_digit
from service.patients.coverage_schemas import CoverageCreate
from service.patients.coverages import COVERAGES
from service.patients.logic import PATIENTS
from service.patients.models import Coverage, Patient
from service.patients.schemas import PatientCreate
from service.settings import REPO_ROOT

ORG = "demo"
CITY = {"city": "Springfield", "state": "IL"}


def _npi(first_nine: str) -> str:
    return first_nine + npi_check_digit(first_nine)


@dataclass
class DemoResult:
    organization_id: str
    admin_key: str
    created: dict[str, int]
    sign_ins: list[demo_people.SignIn]


class _Seeder:
    def __init__(self, session: Session, actor: Principal) -> None:
        self.session, self.actor = session, actor
        self.created: dict[str, int] = {}

    def one(self, resource: crud.Resource[Any, Any], where: Any, data: BaseModel) -> Any:
        model = resource.model
        found = self.session.exec(
            select(model).where(model.organization_id == self.actor.organization_id, where)
        ).first()
        if found is not None:
            return found
        self.created[resource.name] = self.created.get(resource.name, 0) + 1
        return crud.create(self.session, self.actor, resource, data)


def _admin(session: Session) -> tuple[Principal, str]:
    org = auth_repository.get_organization_by_name(session, ORG)
    if org is None:
        org, admin, key = auth_logic.create_organization(
            session, name=ORG, time_zone="America/Chicago"
        )
        return Principal(admin.id, org.id, frozenset({Role.ADMIN}), "demo"), key
    admin = session.exec(
        select(AppUser).where(AppUser.organization_id == org.id, AppUser.name == "admin")
    ).one()
    now = datetime.now(UTC)
    for old in session.exec(select(ApiKey).where(ApiKey.user_id == admin.id)).all():
        if old.revoked_at is None:
            old.revoked_at = now
            session.add(old)
    _, key = auth_logic.issue_api_key(session, org.id, admin.id, "demo (re-run)")
    return Principal(admin.id, org.id, frozenset({Role.ADMIN}), "demo"), key


def _fixture_codes(session: Session) -> None:
    """The CPT and CDT fixtures (neutral labels) unless the real lists are loaded."""
    for system in ("cpt", "cdt"):
        if codeset_logic.list_versions(session, system):
            continue
        importers.import_file(
            session,
            system,
            REPO_ROOT / "codesets" / "fixtures" / f"{system}-fixture.csv",
            version="fixture",
            effective_from=date(2020, 1, 1),
        )


def seed(session: Session, *, reset_passwords: bool = False) -> DemoResult:
    actor, key = _admin(session)
    _fixture_codes(session)
    s = _Seeder(session, actor)
    address = {"line1": "100 Clinic Rd", "postal_code": "627011111", **CITY}

    billing = s.one(
        directory.PROVIDERS,
        Provider.npi == _npi("190000000"),
        ProviderCreate(
            npi=_npi("190000000"),
            kind="organization",
            organization_name="Springfield Family Medicine",
            taxonomy="207Q00000X",
            tax_id="371234567",
            address=address,
            phone="217-555-0100",
        ),
    )
    okafor = s.one(
        directory.PROVIDERS,
        Provider.npi == _npi("190000001"),
        ProviderCreate(
            npi=_npi("190000001"),
            kind="individual",
            family_name="Okafor",
            given_name="Grace",
            taxonomy="207Q00000X",
        ),
    )
    lindqvist = s.one(
        directory.PROVIDERS,
        Provider.npi == _npi("190000002"),
        ProviderCreate(
            npi=_npi("190000002"),
            kind="individual",
            family_name="Lindqvist",
            given_name="Erik",
            taxonomy="1223G0001X",
        ),
    )
    lab = s.one(
        directory.FACILITIES,
        Facility.name == "Springfield Clinic Lab",
        FacilityCreate(
            name="Springfield Clinic Lab",
            npi=_npi("190000003"),
            place_of_service="11",
            clia_number="14D0123456",
            address={
                "line1": "100 Clinic Rd",
                "line2": "Suite B",
                "postal_code": "627011111",
                **CITY,
            },
        ),
    )

    payers = {}
    for edi, name, indicator in [
        ("ACME01", "Acme Health Plan", "CI"),
        ("MCRIL", "Medicare Part B Illinois", "MB"),
        ("MCDIL", "Illinois Medicaid", "MC"),
    ]:
        payers[indicator] = s.one(
            directory.PAYERS,
            Payer.edi_payer_id == edi,
            PayerCreate(
                name=name,
                edi_payer_id=edi,
                claim_filing_indicator=indicator,
                timely_filing_days=365 if indicator != "MC" else 180,
            ),
        )
    s.one(
        directory.FEE_SCHEDULES,
        FeeSchedule.name == "Standard",
        FeeScheduleCreate(
            name="Standard",
            effective_from=date(2026, 1, 1),
            items=[
                {"code_system": "CPT", "code": code, "charge": charge}
                for code, charge in [
                    ("99213", "125.00"),
                    ("99214", "185.00"),
                    ("85025", "32.50"),
                    ("83036", "45.00"),
                    ("80053", "58.00"),
                    ("36415", "12.00"),
                    ("88305", "210.00"),
                ]
            ]
            + [
                {"code_system": "CDT", "code": code, "charge": charge}
                for code, charge in [
                    ("D0120", "55.00"),
                    ("D1110", "95.00"),
                    ("D2391", "165.00"),
                    ("D7140", "210.00"),
                ]
            ],
        ),
    )

    def patient(mrn: str, **fields: Any) -> Patient:
        data = PatientCreate(mrn=mrn, **fields)
        return s.one(PATIENTS, Patient.mrn == mrn, data)  # type: ignore[no-any-return]

    def coverage(p: Patient, payer: Payer, member: str, **fields: Any) -> Coverage:
        data = CoverageCreate(
            patient_id=p.id,
            payer_id=payer.id,
            member_id=member,
            start_date=date(2026, 1, 1),
            **{"priority": "primary", **fields},
        )
        where = (Coverage.patient_id == p.id) & (Coverage.member_id == member)
        return s.one(COVERAGES, where, data)  # type: ignore[no-any-return]

    home = {"line1": "42 Elm St", "postal_code": "62702", **CITY}
    ana = patient(
        "D-1001",
        family_name="Rivera",
        given_name="Ana",
        birth_date=date(1980, 4, 2),
        sex="F",
        address=home,
        phone="217-555-0142",
    )
    sofia = patient(
        "D-1002",
        family_name="Rivera",
        given_name="Sofia",
        birth_date=date(2016, 3, 3),
        sex="F",
        address=home,
    )
    # Sofia's card carries her own member id (she is the subscriber in the 837); Mateo's
    # shares his mother's (he goes in 2000C under her).
    mateo = patient(
        "D-1005",
        family_name="Rivera",
        given_name="Mateo",
        birth_date=date(2019, 7, 14),
        sex="M",
        address=home,
    )
    walter = patient(
        "D-1003",
        family_name="Whitfield",
        given_name="Walter",
        suffix="Jr",
        birth_date=date(1950, 8, 19),
        sex="M",
        address={"line1": "7 Oak Ave", "postal_code": "62703", **CITY},
    )
    siobhan = patient(
        "D-1004",
        family_name="O'Connor",
        given_name="Siobhán",
        birth_date=date(1991, 12, 5),
        sex="F",
        address={"line1": "15 Birch Ln", "postal_code": "62704", **CITY},
    )

    ana_cov = coverage(ana, payers["CI"], "ACM100200300", group_number="GRP-4410")
    ana_as_subscriber = {
        "family_name": "Rivera",
        "given_name": "Ana",
        "birth_date": "1980-04-02",
        "sex": "F",
        "address": home,
    }
    sofia_cov = coverage(
        sofia,
        payers["CI"],
        "ACM100200301",
        group_number="GRP-4410",
        relationship="19",
        own_member_id=True,
        subscriber=ana_as_subscriber,
    )
    mateo_cov = coverage(
        mateo,
        payers["CI"],
        "ACM100200300",
        group_number="GRP-4410",
        relationship="19",
        subscriber=ana_as_subscriber,
    )
    walter_primary = coverage(walter, payers["MB"], "1EG4TE5MK72")
    walter_secondary = coverage(walter, payers["MC"], "IL99887766", priority="secondary")
    siobhan_cov = coverage(siobhan, payers["CI"], "ACM555000111", group_number="GRP-4410")
    westside, omar, omar_cov = westside_demo.seed_westside(
        s, _npi, CITY, patient, coverage, payers["CI"]
    )

    Lines = list[tuple[str, str, list[int]]]
    visits: list[tuple[Patient, list[Coverage], str, list[str], Lines]] = [
        (
            ana,
            [ana_cov],
            "medical",
            ["E11.9", "I10"],
            [("CPT", "99214", [1, 2]), ("CPT", "83036", [1])],
        ),
        (sofia, [sofia_cov], "medical", ["J02.9"], [("CPT", "99213", [1])]),
        (mateo, [mateo_cov], "medical", ["J06.9"], [("CPT", "99213", [1])]),
        (
            walter,
            [walter_primary, walter_secondary],
            "medical",
            ["E11.621", "L97.419"],
            [("CPT", "99214", [1, 2])],
        ),
        (siobhan, [siobhan_cov], "medical", ["R51.9"], [("CPT", "99213", [1])]),
        (ana, [ana_cov], "dental", [], [("CDT", "D0120", []), ("CDT", "D1110", [])]),
        (sofia, [sofia_cov], "dental", ["K02.52"], [("CDT", "D2391", [1])]),
        # Billed by Westside, whose 5-digit ZIP holds the claim as a draft (see westside.py).
        (omar, [omar_cov], "medical", ["I10"], [("CPT", "99213", [1])]),
    ]
    for p, coverages, kind, dx, lines in visits:
        by = westside if p is omar else billing
        _visit(session, s, actor, p, coverages, kind, dx, lines, by, okafor, lindqvist, lab)
    s.one(
        directory.TRADING_PARTNERS,
        TradingPartner.name == "demo",
        TradingPartnerCreate(
            name="demo",
            submitter_name="Springfield Family Medicine",
            submitter_id="SFM0001",
            contact_name="Billing Office",
            contact_phone="2175550100",
            receiver_name="Demo Clearinghouse",
            receiver_id="DEMOCH",
            isa_sender_id="SFMDEMO",
            isa_receiver_id="DEMOCH",
            gs_sender_code="SFMDEMO",
            gs_receiver_code="DEMOCH",
        ),
    )
    _claims(session, s, actor)
    added = labtest_demo.seed_catalog(session, actor)
    if added:
        s.created["lab_test"] = len(added)
    sign_ins, new_users = demo_people.issue_sign_ins(
        session, actor.organization_id, reset=reset_passwords
    )
    if new_users:
        s.created["user"] = new_users
    return DemoResult(actor.organization_id, key, s.created, sign_ins)


def _claims(session: Session, s: _Seeder, actor: Principal) -> None:
    """A primary claim for every ready encounter, so a batch can be made at once (all but Omar
    Haddad's, which the scrubber holds as a draft)."""
    ready = session.exec(
        select(Encounter)
        .where(Encounter.organization_id == actor.organization_id, Encounter.status == "ready")
        .order_by(col(Encounter.id))  # a stable order: the golden files depend on it
    ).all()
    for encounter in ready:
        if session.exec(select(Claim.id).where(Claim.encounter_id == encounter.id)).first():
            continue
        claim_logic.build_claim(
            session,
            actor,
            encounter.id,
            coverage_id=None,
            today=date.today(),  # noqa: DTZ011
        )
        s.created["claim"] = s.created.get("claim", 0) + 1


def _visit(
    session: Session,
    s: _Seeder,
    actor: Principal,
    p: Patient,
    coverages: list[Coverage],
    kind: str,
    dx: list[str],
    lines: list[tuple[str, str, list[int]]],
    billing: Provider,
    okafor: Provider,
    lindqvist: Provider,
    lab: Facility,
) -> None:
    day = date(2026, 11, 2 if kind == "medical" else 3)
    existing = session.exec(
        select(Encounter).where(
            Encounter.organization_id == actor.organization_id,
            Encounter.patient_id == p.id,
            Encounter.kind == kind,
            Encounter.date_of_service == day,
        )
    ).first()
    if existing is not None:
        return
    encounter = coding.open_encounter(
        session,
        actor,
        EncounterCreate(
            patient_id=p.id,
            date_of_service=day,
            place_of_service="11",
            kind=kind,
            billing_provider_id=billing.id,
            rendering_provider_id=(okafor if kind == "medical" else lindqvist).id,
            facility_id=lab.id if any(code == "83036" for _, code, _ in lines) else None,
            coverage_ids=[c.id for c in coverages],
        ),
    )
    s.created["encounter"] = s.created.get("encounter", 0) + 1
    service_lines = [
        ServiceLineIn(
            code_system=system,
            code=code,
            pointers=pointers,
            tooth="30" if code == "D2391" else None,
            surfaces="O" if code == "D2391" else None,
        )
        for system, code, pointers in lines
    ]
    coding.code_encounter(
        session,
        actor,
        encounter.id,
        CodingIn(diagnoses=dx, service_lines=service_lines),
        expected_version=None,
    )
    # One left coded would show its findings, which is a demo of its own.
    with contextlib.suppress(DomainError):
        coding.change_status(session, actor, encounter.id, "ready", expected_version=None)
