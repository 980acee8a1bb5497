"""Downloading an 835 again discloses the patients it answered: each of them finds the download
in their accounting of disclosures (/audit-events?patient_id=)."""

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.claims.conftest import Demo
from tests.remittance.helpers import make_batch, paid_in_full, remit_835, upload


def test_a_remittance_file_download_is_audited_under_each_patient_it_answered(
    client: TestClient, demo_org: Demo, db: Session
) -> None:
    batch = make_batch(client, demo_org, db)
    first, second, *_ = batch.claims
    uploaded = upload(client, demo_org, remit_835([paid_in_full(first), paid_in_full(second)]))
    file_id = uploaded["id"]

    response = client.get(f"/api/v1/remittance-files/{file_id}/file", headers=demo_org.headers())
    assert response.status_code == 200
    # named by kind, day received and the sender's ISA06/ISA13
    assert re.fullmatch(
        r'attachment; filename="835-\d{4}-\d{2}-\d{2}-[A-Z0-9]+-\d+\.x12"',
        response.headers["content-disposition"],
    ), response.headers["content-disposition"]

    for claim in (first, second):
        events = client.get(
            f"/api/v1/audit-events?patient_id={claim.patient_id}&action=disclose",
            headers=demo_org.headers(),
        ).json()["items"]
        assert [(e["resource_type"], e["resource_id"]) for e in events] == [("claim", claim.id)]
        assert file_id in events[0]["detail"]
    untouched = batch.claims[2]
    assert client.get(
        f"/api/v1/audit-events?patient_id={untouched.patient_id}&action=disclose",
        headers=demo_org.headers(),
    ).json()["items"] == [] or untouched.patient_id in (first.patient_id, second.patient_id)
