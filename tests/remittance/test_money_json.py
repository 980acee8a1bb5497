"""Money in JSON is a string with two decimals ("400.00", never "400"): every money field of
the claims, remittance, ledger and coding responses goes through MoneyText, and real responses
after an 835 show it."""

import re
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from pydantic import BaseModel, PlainSerializer
from sqlmodel import Session

from service.claims import schemas as claim_schemas
from service.coding import schemas as coding_schemas
from service.ledger import schemas as ledger_schemas
from service.remittance import schemas as remittance_schemas
from service.schemas_common import MoneyText
from tests.claims.conftest import Demo
from tests.remittance.helpers import make_batch, paid_in_full, partially_paid, remit_835, upload

# Decimals in these responses that are not money: counts of units and drug quantities.
NOT_MONEY = {"units", "quantity", "ndc_quantity"}
# Request bodies and query models: money comes in as the client sends it.
INPUTS = ("Create", "In", "Patch", "Filters", "Update", "Appeal", "WriteOff")
TWO_PLACES = re.compile(r"-?\d+\.\d{2}")


def _decimal_fields(module: Any) -> list[tuple[str, str, Any]]:
    found = []
    for model in vars(module).values():
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        for name, info in model.model_fields.items():
            kinds = {info.annotation, *getattr(info.annotation, "__args__", ())}
            if Decimal in kinds and name not in NOT_MONEY:
                found.append((model.__name__, name, info))
    return found


def test_every_money_field_of_a_response_is_serialised_with_two_decimals() -> None:
    fields = [
        f
        for module in (claim_schemas, remittance_schemas, ledger_schemas, coding_schemas)
        for f in _decimal_fields(module)
        if not f[0].endswith(INPUTS)
    ]
    assert len(fields) >= 20
    plain = [
        (model, name)
        for model, name, info in fields
        if not any(isinstance(m, PlainSerializer) for m in info.metadata)
    ]
    assert plain == []


def test_the_money_type_writes_whole_amounts_with_cents() -> None:
    class Shown(BaseModel):
        amount: MoneyText

    assert Shown(amount=Decimal(400)).model_dump(mode="json") == {"amount": "400.00"}
    assert Shown(amount=Decimal("-12.5")).model_dump(mode="json") == {"amount": "-12.50"}
    assert Shown(amount=Decimal("230.00")).model_dump_json() == '{"amount":"230.00"}'


def _money_values(value: Any, keys: set[str], found: list[Any]) -> list[Any]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "statuses":  # counts of claims per status ("paid": 1), not money
                continue
            if key in keys and not isinstance(inner, dict | list):
                found.append(inner)
            _money_values(inner, keys, found)
    elif isinstance(value, list):
        for inner in value:
            _money_values(inner, keys, found)
    return found


MONEY_KEYS = {
    "charge",
    "total_charge",
    "paid",
    "amount",
    "patient_responsibility",
    "insurance",
    "patient",
    "credit",
    "total",
    "insurance_amount",
    "patient_amount",
    "paid_amount",
    "provider_adjustments",
}


def test_claim_remittance_and_ledger_responses_show_two_decimals(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    first, second, *_ = batch.claims
    posted = upload(client, demo_org, remit_835([paid_in_full(first), partially_paid(second)]))
    headers = demo_org.headers()
    bodies = [
        posted,  # the posting summary: paid, each payment's paid_amount
        client.get(f"/api/v1/claims/{first.id}", headers=headers).json(),
        client.get(f"/api/v1/claims/{second.id}/adjudication", headers=headers).json(),
        client.get(f"/api/v1/claim-batches/{batch.id}", headers=headers).json(),
    ]
    patient_id = first.patient_id
    bodies.append(client.get(f"/api/v1/patients/{patient_id}/ledger", headers=headers).json())
    claim = bodies[1]
    assert claim["diagnoses"]  # X12's form, no dot; people read the dotted one beside it
    assert claim["diagnoses_display"] == [
        f"{c[:3]}.{c[3:]}" if len(c) > 3 else c for c in claim["diagnoses"]
    ]
    assert any("." in c for c in claim["diagnoses_display"])
    values = _money_values(bodies, MONEY_KEYS, [])
    assert len(values) >= 5, bodies
    assert all(isinstance(v, str) and TWO_PLACES.fullmatch(v) for v in values), values
