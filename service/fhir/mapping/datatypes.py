"""FHIR data types <-> the service's value fields: Address, HumanName, ContactPoint, gender,
Identifier systems (the URIs documented in README "FHIR for EHR integrators")."""

from typing import Any

# The organization-level MRN system: this service keeps one MRN per patient per organization.
MRN_SYSTEM = "urn:backoffice:mrn"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
EIN_SYSTEM = "urn:oid:2.16.840.1.113883.4.4"  # IRS employer identification number
CLIA_SYSTEM = "urn:oid:2.16.840.1.113883.4.7"
PAYER_ID_SYSTEM = "urn:backoffice:payer-id"  # the EDI payer id the clearinghouse lists
# Identifier systems that are never an MRN, whatever their type says.
NOT_MRN_SYSTEMS = frozenset(
    {NPI_SYSTEM, "http://hl7.org/fhir/sid/us-ssn", "http://hl7.org/fhir/sid/us-mbi"}
)
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"  # identifier type (MR, NPI, TAX…)
ORG_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"
NUCC_TAXONOMY = "http://nucc.org/provider-taxonomy"

# AdministrativeGender <-> the X12 sex codes the service stores (DMG03: M, F, U).
GENDER_TO_SEX = {"male": "M", "female": "F", "unknown": "U", "other": "U"}
SEX_TO_GENDER = {"M": "male", "F": "female", "U": "unknown"}


def has_type(identifier: dict[str, Any], code: str) -> bool:
    codings = (identifier.get("type") or {}).get("coding") or []
    return any(c.get("code") == code for c in codings)


def identifier_of(
    resource: dict[str, Any], system: str
) -> tuple[int, dict[str, Any]] | tuple[None, None]:
    for index, identifier in enumerate(resource.get("identifier") or []):
        if identifier.get("system") == system and identifier.get("value"):
            return index, identifier
    return None, None


def render_address(address: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not address:
        return []
    lines = [address["line1"]] + ([address["line2"]] if address.get("line2") else [])
    return [
        {
            "use": "home",
            "line": lines,
            "city": address["city"],
            "state": address["state"],
            "postalCode": address["postal_code"],
            "country": "US",
        }
    ]


def pick(items: list[dict[str, Any]], preferred_uses: tuple[str, ...]) -> int | None:
    """Index of the first item with a preferred `use` (in order), else the first one not old."""
    for use in preferred_uses:
        for index, item in enumerate(items):
            if item.get("use") == use:
                return index
    for index, item in enumerate(items):
        if item.get("use") != "old":
            return index
    return None


def incoming_address(
    resource: dict[str, Any], root: str, fields: dict[str, str], pointer: str = "/address"
) -> dict[str, Any] | None:
    addresses = resource.get("address")
    if isinstance(addresses, dict):  # Organization.address is a list; Location's is one
        addresses = [addresses]
    index = pick(addresses or [], ("home", "work", "billing"))
    if index is None:
        return None
    address = (addresses or [])[index]
    at = f"{root}.address[{index}]"
    fields.update(
        {
            pointer: at,
            f"{pointer}/line1": f"{at}.line[0]",
            f"{pointer}/line2": f"{at}.line[1]",
            f"{pointer}/city": f"{at}.city",
            f"{pointer}/state": f"{at}.state",
            f"{pointer}/postal_code": f"{at}.postalCode",
        }
    )
    lines = address.get("line") or []
    return {
        "line1": lines[0] if lines else None,
        "line2": ", ".join(lines[1:]) if len(lines) > 1 else None,
        "city": address.get("city"),
        "state": address.get("state"),
        "postal_code": address.get("postalCode"),
    }


def incoming_phone(resource: dict[str, Any], root: str, fields: dict[str, str]) -> str | None:
    telecom = resource.get("telecom") or []
    phones = [
        (i, t) for i, t in enumerate(telecom) if t.get("system") == "phone" and t.get("value")
    ]
    if not phones:
        return None
    index = pick([t for _, t in phones], ("home", "mobile", "work")) or 0
    position, phone = phones[index]
    fields["/phone"] = f"{root}.telecom[{position}].value"
    return str(phone["value"])


def render_phone(phone: str | None, use: str = "home") -> list[dict[str, Any]]:
    return [{"system": "phone", "value": phone, "use": use}] if phone else []


def incoming_name(
    resource: dict[str, Any], root: str, fields: dict[str, str], prefix: str = "/"
) -> dict[str, Any]:
    """HumanName (use official first) -> family/given/middle/suffix."""
    names = resource.get("name") or []
    index = pick(names, ("official", "usual"))
    if index is None:
        fields[f"{prefix}family_name"] = f"{root}.name"
        fields[f"{prefix}given_name"] = f"{root}.name"
        return {"family_name": None, "given_name": None}
    name = names[index]
    at = f"{root}.name[{index}]"
    given = name.get("given") or []
    fields.update(
        {
            f"{prefix}family_name": f"{at}.family",
            f"{prefix}given_name": f"{at}.given[0]",
            f"{prefix}middle_name": f"{at}.given[1]",
            f"{prefix}suffix": f"{at}.suffix[0]",
        }
    )
    return {
        "family_name": name.get("family"),
        "given_name": given[0] if given else None,
        "middle_name": " ".join(given[1:]) if len(given) > 1 else None,
        "suffix": (name.get("suffix") or [None])[0],
    }


def render_name(
    family: str | None, given: str | None, middle: str | None, suffix: str | None
) -> list[dict[str, Any]]:
    name: dict[str, Any] = {"use": "official", "family": family}
    name["given"] = [g for g in (given, middle) if g]
    if suffix:
        name["suffix"] = [suffix]
    return [{k: v for k, v in name.items() if v}]


def extension_value(resource: dict[str, Any], url: str) -> Any:
    for extension in resource.get("extension") or []:
        if extension.get("url") == url:
            for key, value in extension.items():
                if key.startswith("value"):
                    return value
    return None
