"""Scope grammar and what a FHIR request needs of it (no database)."""

import pytest

from service.smart import scopes


def test_v1_and_v2_scopes_read_the_same() -> None:
    assert scopes.parse("system/Observation.read") == scopes.parse("system/Observation.rs")
    assert str(scopes.parse("system/*.*")) == "system/*.cruds"


@pytest.mark.parametrize(
    "text", ["patient/*.rs", "user/Observation.read", "system/*.sr", "system/Obs.x", "launch"]
)
def test_other_scopes_are_refused(text: str) -> None:
    with pytest.raises(scopes.ScopeInvalid):
        scopes.parse(text)


def test_only_registered_scopes_are_granted() -> None:
    granted = scopes.grant("system/Patient.rs system/Claim.cruds", "system/Patient.rs")

    assert [str(s) for s in granted] == ["system/Patient.rs"]


@pytest.mark.parametrize(
    ("method", "path", "needs"),
    [
        ("GET", "/fhir/Patient", "system/Patient.s"),
        ("POST", "/fhir/Patient/_search", "system/Patient.s"),
        ("GET", "/fhir/Patient/abc", "system/Patient.r"),
        ("GET", "/fhir/Patient/abc/_history/2", "system/Patient.r"),
        ("POST", "/fhir/Patient", "system/Patient.c"),
        ("PUT", "/fhir/Patient/abc", "system/Patient.u"),
        ("POST", "/fhir", "system/*.crus"),
    ],
)
def test_each_interaction_needs_its_permission(method: str, path: str, needs: str) -> None:
    assert str(scopes.needed(method, path)) == needs


def test_a_token_is_refused_outside_fhir_and_an_api_key_is_not_scoped() -> None:
    with pytest.raises(scopes.ScopeTooNarrow):
        scopes.refuse_outside(frozenset({"system/*.cruds"}), "GET", "/api/v1/patients")
    scopes.refuse_outside(None, "GET", "/api/v1/patients")
