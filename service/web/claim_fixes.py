"""Fixing what a claim's scrubber finding names, from the billing desk (issue 26): the field a
finding points at, when it is a field of the claim's provider or coverage, as a form; then the
claim is scrubbed again. The change goes through the same directory and coverage updates as
PATCH /api/v1/providers/{id} and /api/v1/coverages/{id} (their validation, version bump and
audit), under the same writer roles."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session

from service import crud
from service.auth.logic import Principal
from service.auth.roles import Role
from service.claims import logic as claim_logic
from service.claims.models import Claim
from service.claims.states import ClaimStatus
from service.coding.models import Encounter
from service.directory import logic as directory
from service.directory.models import Provider
from service.errors import InvalidInput, PermissionDenied
from service.patients.coverages import COVERAGES
from service.patients.models import Coverage

# The writer roles of the API routes these forms stand for (directory and patients routes).
PROVIDER_WRITERS = frozenset({Role.ADMIN, Role.BILLER, Role.INTEGRATION})
COVERAGE_WRITERS = frozenset({Role.ADMIN, Role.FRONT_DESK, Role.INTEGRATION})
# Scrubbing a claim again: claims' writers (admin and biller).
CLAIM_WRITERS = frozenset({Role.ADMIN, Role.BILLER})

_COVERAGE_FINDINGS = frozenset({"subscriber-missing", "coverage-ended", "coverage-not-started"})
_PROVIDER_ROLES = ("billing", "rendering", "referring")


@dataclass(frozen=True)
class FixField:
    name: str
    label: str
    value: str
    kind: str = "text"  # the input's type
    required: bool = True


@dataclass(frozen=True)
class Fix:
    key: str  # which form: "billing_provider/address", "coverage"
    title: str
    fields: list[FixField]
    allowed: bool
    who_may: str  # shown when the signed-in role may not make this change
    messages: list[str] = field(default_factory=list)  # the findings it answers


def _provider_of(session: Session, claim: Claim, role: str) -> Provider | None:
    encounter = session.get(Encounter, claim.encounter_id)
    provider_id = getattr(encounter, f"{role}_provider_id", None) if encounter else None
    provider = session.get(Provider, provider_id) if provider_id else None
    if provider is None or provider.organization_id != claim.organization_id:
        return None
    return provider


def _provider_name(provider: Provider) -> str:
    return provider.organization_name or ", ".join(
        n for n in (provider.family_name, provider.given_name) if n
    )


def _key_of(finding: dict[str, Any]) -> str | None:
    pointer = str(finding.get("field", "")).strip("/")
    if finding.get("code") in _COVERAGE_FINDINGS:
        return "coverage"
    role, _, attribute = pointer.partition("_provider/")
    if role in _PROVIDER_ROLES and attribute in ("address", "tax_id", "npi"):
        return f"{role}_provider/{attribute}"
    return None


def _provider_fields(provider: Provider, attribute: str) -> list[FixField]:
    if attribute == "address":
        address = provider.address or {}
        return [
            FixField("line1", "Street address", address.get("line1", "")),
            FixField(
                "line2", "Address line 2 (optional)", address.get("line2") or "", "text", False
            ),
            FixField("city", "City", address.get("city", "")),
            FixField("state", "State (2 letters)", address.get("state", "")),
            FixField("postal_code", "ZIP code (9 digits)", address.get("postal_code", "")),
        ]
    if attribute == "tax_id":
        return [FixField("tax_id", "Tax id (EIN, 9 digits)", provider.tax_id or "")]
    return [FixField("npi", "NPI (10 digits)", provider.npi)]


def _fix_for(session: Session, actor: Principal, claim: Claim, key: str) -> Fix | None:
    if key == "coverage":
        coverage = session.get(Coverage, claim.coverage_id)
        if coverage is None:
            return None
        return Fix(
            key,
            "Coverage",
            [
                FixField("member_id", "Member id", coverage.member_id or ""),
                FixField("start_date", "Coverage starts", coverage.start_date.isoformat(), "date"),
                FixField(
                    "end_date",
                    "Coverage ends (empty: open-ended)",
                    coverage.end_date.isoformat() if coverage.end_date else "",
                    "date",
                    False,
                ),
            ],
            bool(actor.roles & COVERAGE_WRITERS),
            "The front desk (or an admin) fixes coverages.",
        )
    role, _, attribute = key.partition("_provider/")
    provider = _provider_of(session, claim, role)
    if provider is None:
        return None
    return Fix(
        key,
        f"{role.capitalize()} provider: {_provider_name(provider)}",
        _provider_fields(provider, attribute),
        bool(actor.roles & PROVIDER_WRITERS),
        "A biller or an admin fixes providers.",
    )


def fixes_for(session: Session, actor: Principal, claim: Claim) -> list[Fix]:
    """One form per fixable field the claim's findings name (several findings on the same
    field share it), in the findings' order."""
    found: dict[str, Fix] = {}
    for finding in claim.findings:
        key = _key_of(finding)
        if key is None:
            continue
        if key not in found:
            fix = _fix_for(session, actor, claim, key)
            if fix is None:
                continue
            found[key] = fix
        found[key].messages.append(str(finding.get("message", "")))
    return list(found.values())


def _patch(fix: Fix, values: dict[str, str]) -> dict[str, Any]:
    given = {f.name: values.get(f.name, "").strip() for f in fix.fields}
    missing = [f.label for f in fix.fields if f.required and not given[f.name]]
    if missing:
        raise InvalidInput("Fill in: " + ", ".join(missing) + ".")
    if fix.key.endswith("/address"):
        address = {**given, "line2": given["line2"] or None, "state": given["state"].upper()}
        return {"address": address}
    if fix.key == "coverage":
        return {**given, "end_date": given["end_date"] or None}
    return given


def apply_fix(
    session: Session,
    actor: Principal,
    claim: Claim,
    key: str,
    values: dict[str, str],
    *,
    today: date,
) -> Claim:
    """Saves the form's fields on the provider or coverage the finding names, then scrubs the
    claim again. Raises before writing anything when the form or the role is refused."""
    fix = next((f for f in fixes_for(session, actor, claim) if f.key == key), None)
    if fix is None:
        raise InvalidInput("No finding of this claim names that field any more: reload.")
    if not fix.allowed:
        raise PermissionDenied(fix.who_may)
    patch = _patch(fix, values)
    if key == "coverage":
        crud.update(session, actor, COVERAGES, claim.coverage_id, patch, expected_version=None)
    else:
        provider = _provider_of(session, claim, key.partition("_provider/")[0])
        assert provider is not None  # fixes_for found it
        crud.update(session, actor, directory.PROVIDERS, provider.id, patch, expected_version=None)
    return scrub_again(session, actor, claim, today=today)


def scrub_again(session: Session, actor: Principal, claim: Claim, *, today: date) -> Claim:
    """The claim's rescrub: a draft or ready claim is scrubbed (ready when clean); a rejected
    one is corrected, which scrubs it back towards ready (POST .../correction)."""
    if claim.status == ClaimStatus.REJECTED:
        return claim_logic.correct_claim(session, actor, claim.id, today=today)
    return claim_logic.scrub_claim(session, actor, claim, today=today)
