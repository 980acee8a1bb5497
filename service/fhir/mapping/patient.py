"""FHIR Patient <-> patient rows (identifier MR = the MRN, name, birthDate, gender, address,
phone). What the row has no column for is kept as sent (kept.py) and returned: the US Core
extensions (race, ethnicity, birth sex…), the other telecoms (email…), `communication`, and the
given names as the list they were (the row splits them into given and middle name)."""

from typing import Any, ClassVar

from sqlmodel import Session, col
from sqlmodel.sql.expression import SelectOfScalar

from service.auth.logic import Principal
from service.auth.roles import ALL_ROLES, Role
from service.fhir import kept
from service.fhir.mapping.base import (
    Criterion,
    Mapped,
    Refs,
    SearchParam,
    TableMapping,
    id_param,
    split_token,
    string_filter,
)
from service.fhir.mapping.datatypes import (
    GENDER_TO_SEX,
    MRN_SYSTEM,
    NOT_MRN_SYSTEMS,
    SEX_TO_GENDER,
    V2_0203,
    has_type,
    identifier_of,
    incoming_address,
    incoming_name,
    incoming_phone,
    pick,
    render_address,
    render_name,
    render_phone,
)
from service.fhir.mapping.dates import date_filter
from service.fhir.outcomes import invalid
from service.patients.logic import PATIENTS
from service.patients.models import Patient as PatientRow


def _identifier(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    """Any MR-typed identifier is taken as the MRN, so any system but a known non-MRN one
    (NPI, SSN, MBI) matches the MRN."""
    mrns = []
    for value in c.values:
        system, code = split_token(value)
        if system not in NOT_MRN_SYSTEMS:
            if system and not code:
                return query  # `system|`: any identifier of an MRN system, i.e. every patient
            mrns.append(code)
    return query.where(col(PatientRow.mrn).in_(mrns))


def _gender(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    sexes = {GENDER_TO_SEX.get(split_token(v)[1], "?") for v in c.values}
    return query.where(col(PatientRow.sex).in_(sexes))


def mrn_of(resource: dict[str, Any]) -> tuple[int, str] | tuple[None, None]:
    """The MRN: our own system first, then any identifier typed MR (v2-0203)."""
    index, identifier = identifier_of(resource, MRN_SYSTEM)
    if identifier is not None and index is not None:
        return index, str(identifier["value"])
    for position, candidate in enumerate(resource.get("identifier") or []):
        if (
            has_type(candidate, "MR")
            and candidate.get("value")
            and candidate.get("system") not in NOT_MRN_SYSTEMS
        ):
            return position, str(candidate["value"])
    return None, None


US_CORE_EXTENSION = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-"


def _kept_elements(resource: dict[str, Any]) -> dict[str, list[Any]]:
    official = resource.get("name") or []
    index = pick(official, ("official", "usual"))
    return {
        "extension": [
            e
            for e in resource.get("extension") or []
            if str(e.get("url", "")).startswith(US_CORE_EXTENSION)
        ],
        "telecom": [t for t in resource.get("telecom") or [] if t.get("value")],
        "communication": list(resource.get("communication") or []),
        "given": list(official[index].get("given") or []) if index is not None else [],
    }


def _telecom(phone: str | None, sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The row's phone first (as sent, with its use), then the other telecoms kept; a phone
    changed through REST replaces the kept phones."""
    first = next((t for t in sent if t.get("system") == "phone" and t["value"] == phone), None)
    if first is None:
        return render_phone(phone) + [t for t in sent if t.get("system") != "phone"]
    return [first] + [t for t in sent if t is not first]


class PatientType(TableMapping):
    type_name = "Patient"
    resource = PATIENTS
    readers = ALL_ROLES
    writers = frozenset({Role.ADMIN, Role.FRONT_DESK, Role.INTEGRATION})
    keeps_history = True
    interactions = ("read", "vread", "update", "history-instance", "create", "search-type")
    search_params: ClassVar[dict[str, SearchParam]] = {
        "_id": id_param(PatientRow),
        "identifier": SearchParam(
            "identifier",
            "token",
            f"The MRN: `{MRN_SYSTEM}|<mrn>` (any MR-typed system, or none, matches too).",
            _identifier,
        ),
        "name": SearchParam(
            "name",
            "string",
            "Start of the family or given name, any case (`:exact` for an exact match).",
            string_filter(PatientRow.family_name, PatientRow.given_name),
            ("exact",),
        ),
        "family": SearchParam(
            "family",
            "string",
            "Start of the family name, any case (`:exact` for an exact match).",
            string_filter(PatientRow.family_name),
            ("exact",),
        ),
        "given": SearchParam(
            "given",
            "string",
            "Start of the given name, any case.",
            string_filter(PatientRow.given_name),
            ("exact",),
        ),
        "birthdate": SearchParam(
            "birthdate",
            "date",
            "Birth date, YYYY-MM-DD, with an optional prefix eq, ne, lt, le, gt, ge.",
            date_filter(PatientRow.birth_date),
            column=PatientRow.birth_date,
        ),
        "gender": SearchParam("gender", "token", "male, female, unknown or other.", _gender),
    }

    def incoming(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs, row: Any
    ) -> Mapped:
        fields: dict[str, str] = {
            "/birth_date": "Patient.birthDate",
            "/sex": "Patient.gender",
            "/mrn": "Patient.identifier",
        }
        index, mrn = mrn_of(resource)
        if mrn is None:
            raise invalid(
                "Patient.identifier",
                f"needs the MRN: an identifier with system {MRN_SYSTEM} or typed MR ({V2_0203})",
            )
        fields["/mrn"] = f"Patient.identifier[{index}].value"
        gender = resource.get("gender")
        if gender is not None and gender not in GENDER_TO_SEX:
            raise invalid("Patient.gender", "must be male, female, other or unknown")
        document: dict[str, Any] = {
            "mrn": mrn,
            **incoming_name(resource, "Patient", fields),
            "birth_date": resource.get("birthDate"),
            "sex": GENDER_TO_SEX[gender or "unknown"],
            "address": incoming_address(resource, "Patient", fields),
            "phone": incoming_phone(resource, "Patient", fields),
        }
        return Mapped(document, fields)

    def keep(
        self,
        session: Session,
        organization_id: str,
        row: Any,
        resource: dict[str, Any],
        root: str,
        *,
        fresh: bool,
    ) -> None:
        super().keep(session, organization_id, row, resource, root, fresh=fresh)
        kept.keep(
            session, organization_id, "Patient", row.id, _kept_elements(resource), fresh=fresh
        )

    def render(self, row: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "identifier": [
                {
                    "use": "usual",
                    "type": {"coding": [{"system": V2_0203, "code": "MR"}], "text": "MRN"},
                    "system": MRN_SYSTEM,
                    "value": row.mrn,
                }
            ],
            "active": True,
            "name": render_name(row.family_name, row.given_name, row.middle_name, row.suffix),
            "gender": SEX_TO_GENDER.get(row.sex, "unknown"),
            "birthDate": row.birth_date.isoformat(),
        }
        sent = kept.kept(row, "Patient")
        if sent.get("extension"):
            body = {"extension": sent["extension"], **body}
        given = sent.get("given") or []
        if given[:1] == [row.given_name] and " ".join(given[1:]) == (row.middle_name or ""):
            body["name"][0]["given"] = given  # as sent: ["Usa", "Middle", "Third"]
        telecom = _telecom(row.phone, sent.get("telecom") or [])
        if telecom:
            body["telecom"] = telecom
        if row.address:
            body["address"] = render_address(row.address)
        if sent.get("communication"):
            body["communication"] = sent["communication"]
        return body
