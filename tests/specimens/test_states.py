"""The specimen status machine: every state x every target, against DESIGN.md written out."""

import pytest

from service.errors import Conflict
from service.specimens.states import TRANSITIONS, SpecimenStatus, check_transition

S = SpecimenStatus

# DESIGN.md, spelled out independently of the module under test.
EXPECTED = {
    ("ordered", "collected"),
    ("collected", "received"),
    ("received", "in_preparation"),
    ("received", "ready"),  # no required preparation step
    ("in_preparation", "ready"),
    ("ready", "in_analysis"),
    ("in_analysis", "resulted"),
    ("resulted", "verified"),
    ("verified", "stored"),
    ("stored", "disposed"),
    ("collected", "rejected"),
    ("received", "rejected"),
    ("in_preparation", "rejected"),
    ("ready", "rejected"),
}
PAIRS = [(a, b) for a in S for b in S]


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_each_transition_is_allowed_exactly_when_design_md_allows_it(
    current: SpecimenStatus, target: SpecimenStatus
) -> None:
    if (current.value, target.value) in EXPECTED:
        assert check_transition("26-000001", current, target) is target
    else:
        with pytest.raises(Conflict) as raised:
            check_transition("26-000001", current, target)
        assert current.value in raised.value.detail
        for allowed in TRANSITIONS[current]:
            assert allowed.value in raised.value.detail


def test_the_table_has_every_status_and_final_states_lead_nowhere() -> None:
    assert set(TRANSITIONS) == set(S)
    assert TRANSITIONS[S.DISPOSED] == frozenset()
    assert TRANSITIONS[S.REJECTED] == frozenset()


def test_a_refusal_names_the_current_state_and_the_allowed_next_states() -> None:
    with pytest.raises(Conflict) as raised:
        check_transition("26-000123", "received", "verified")
    assert raised.value.status == 409
    assert raised.value.detail == (
        "Specimen 26-000123 is received; it cannot become verified. "
        "Allowed next: in_preparation, ready, rejected."
    )
