"""FHIR Practitioner <-> providers of kind `individual` (identifier = NPI, name, NUCC taxonomy
as qualification, address, phone)."""

from typing import Any, ClassVar

from sqlmodel import Session, col
from sqlmodel.sql.expression import SelectOfScalar

from service.auth.logic import Principal
from service.auth.roles import ALL_ROLES, Role
from service.directory.logic import PROVIDERS
from service.directory.models import Provider
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
    NPI_SYSTEM,
    NUCC_TAXONOMY,
    identifier_of,
    incoming_address,
    incoming_name,
    incoming_phone,
    render_address,
    render_name,
    render_phone,
)
from service.fhir.outcomes import invalid
from service.identifiers import npi_is_valid

# DESIGN.md roles: the directory is written by admin, biller and integration; everyone reads it.
DIRECTORY_WRITERS = frozenset({Role.ADMIN, Role.BILLER, Role.INTEGRATION})


def npi_filter(query: SelectOfScalar[Any], c: Criterion) -> SelectOfScalar[Any]:
    npis = [code for system, code in map(split_token, c.values) if system in (None, NPI_SYSTEM)]
    return query.where(col(Provider.npi).in_(npis))


def incoming_npi(resource: dict[str, Any], root: str, fields: dict[str, str]) -> str | None:
    index, identifier = identifier_of(resource, NPI_SYSTEM)
    if identifier is None:
        return None
    fields["/npi"] = f"{root}.identifier[{index}].value"
    if not npi_is_valid(str(identifier["value"])):
        raise invalid(fields["/npi"], "must be a 10-digit NPI with a valid check digit")
    return str(identifier["value"])


def npi_identifier(npi: str) -> dict[str, Any]:
    return {"use": "official", "system": NPI_SYSTEM, "value": npi}


def _taxonomy(resource: dict[str, Any], fields: dict[str, str]) -> str | None:
    for q_index, qualification in enumerate(resource.get("qualification") or []):
        for c_index, coding in enumerate((qualification.get("code") or {}).get("coding") or []):
            if coding.get("system") == NUCC_TAXONOMY and coding.get("code"):
                fields["/taxonomy"] = (
                    f"Practitioner.qualification[{q_index}].code.coding[{c_index}].code"
                )
                return str(coding["code"])
    return None


class PractitionerType(TableMapping):
    type_name = "Practitioner"
    resource = PROVIDERS
    readers = ALL_ROLES
    writers = DIRECTORY_WRITERS
    search_params: ClassVar[dict[str, SearchParam]] = {
        "_id": id_param(Provider),
        "identifier": SearchParam(
            "identifier", "token", f"The NPI: `{NPI_SYSTEM}|<npi>`.", npi_filter
        ),
        "name": SearchParam(
            "name",
            "string",
            "Start of the family or given name, any case.",
            string_filter(Provider.family_name, Provider.given_name),
            ("exact",),
        ),
        "family": SearchParam(
            "family",
            "string",
            "Start of the family name, any case.",
            string_filter(Provider.family_name),
            ("exact",),
        ),
    }

    def scope(self, query: SelectOfScalar[Any]) -> SelectOfScalar[Any]:
        return query.where(Provider.kind == "individual")

    def owns(self, row: Any) -> bool:
        return bool(row.kind == "individual")

    def incoming(
        self, session: Session, actor: Principal, resource: dict[str, Any], refs: Refs, row: Any
    ) -> Mapped:
        fields: dict[str, str] = {"/": "Practitioner.name"}
        npi = incoming_npi(resource, "Practitioner", fields)
        if npi is None:
            raise invalid("Practitioner.identifier", f"needs the NPI (system {NPI_SYSTEM})")
        document: dict[str, Any] = {
            "npi": npi,
            "kind": "individual",
            **incoming_name(resource, "Practitioner", fields),
            "taxonomy": _taxonomy(resource, fields),
            "address": incoming_address(resource, "Practitioner", fields),
            "phone": incoming_phone(resource, "Practitioner", fields),
        }
        return Mapped(document, fields)

    def render(self, row: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "identifier": [npi_identifier(row.npi)],
            "active": True,
            "name": render_name(row.family_name, row.given_name, row.middle_name, row.suffix),
        }
        if row.phone:
            body["telecom"] = render_phone(row.phone, "work")
        if row.address:
            body["address"] = [a | {"use": "work"} for a in render_address(row.address)]
        if row.taxonomy:
            body["qualification"] = [
                {"code": {"coding": [{"system": NUCC_TAXONOMY, "code": row.taxonomy}]}}
            ]
        return body
