"""Labels as printed: a 2 x 1 inch tube label at 300 dpi (PNG) and 203 dpi (ZPL) with MRN,
tests, container and a STAT flag, and nothing printed for a value that is missing."""

import io
import re

from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session

from service.auth.roles import Role
from service.specimens import labels
from tests.factories import Tenant, make_lab_setup, make_order
from tests.specimens.barcodes import decode_modules, modules_from_png


def _labels(
    client: TestClient, tenant: Tenant, db: Session, *fmts: str, **order: str
) -> list[bytes]:
    setup = make_lab_setup(db, tenant)
    order_id = make_order(db, tenant, setup, ["A1C"], **order)
    specimen = client.post(
        "/api/v1/specimens", json={"order_id": order_id}, headers=tenant.headers(Role.FRONT_DESK)
    ).json()
    found = []
    for fmt in fmts:
        response = client.get(
            f"/api/v1/specimens/{specimen['id']}/label?format={fmt}",
            headers=tenant.headers(Role.FRONT_DESK),
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-disposition"] == (
            f'inline; filename="label-{specimen["accession"]}.{fmt}"'
        )
        found.append(response.content)
    return found


def test_the_png_is_a_2_by_1_inch_label_at_300_dpi(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    (png,) = _labels(client, tenant, db, "png", priority="stat")
    image = Image.open(io.BytesIO(png))
    assert image.size == (600, 300)
    assert tuple(round(d) for d in image.info["dpi"]) == (300, 300)
    assert decode_modules(modules_from_png(png)).startswith(tuple("0123456789"))


def test_the_zpl_sets_print_width_and_label_length_for_2_by_1_inch_at_203_dpi(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    zpl = _labels(client, tenant, db, "zpl", priority="stat")[0].decode()
    assert "^PW406" in zpl
    assert "^LL203" in zpl
    assert "^FDSTAT^FS" in zpl
    assert "MRN LAB-0001" in zpl
    assert "^FDA1C^FS" in zpl  # the test on the tube
    assert "Coll" not in zpl
    assert "not collected" not in zpl
    # every field starts inside the label (A0 at 22x18 dots: 38 characters fit the width)
    origins = re.findall(r"\^FO(\d+),(\d+)", zpl)
    assert len(origins) >= 5
    assert all(int(x) < 406 and int(y) < 203 for x, y in origins)


def test_a_routine_uncollected_specimen_has_no_stat_flag_and_no_collection_line(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    zpl, svg = (body.decode() for body in _labels(client, tenant, db, "zpl", "svg"))
    assert "STAT" not in zpl
    assert 'width="2in" height="1in"' in svg
    assert "STAT" not in svg
    assert "Coll" not in svg


def test_missing_values_leave_no_label_words_behind() -> None:
    content = labels.LabelContent(accession="26-000001", patient_name="Rivera, Ana")
    assert content.lines() == ["26-000001", "Rivera, Ana"]
    full = labels.LabelContent(
        accession="26-000001",
        patient_name="Rivera, Ana",
        mrn="M1",
        birth_date="1980-04-02",
        specimen_type="BLD",
        container=None,
        tests=("A1C",),
        collected="2026-03-01 08:00 EST",
    )
    assert full.lines() == [
        "26-000001",
        "Rivera, Ana  MRN M1",
        "DOB 1980-04-02  BLD",
        "A1C",
        "Coll 2026-03-01 08:00 EST",
    ]


def test_a_long_accession_still_fits_the_label_and_scans() -> None:
    accession = "26-000001-A12-B3-S04"
    png, _ = labels.render(labels.LabelContent(accession=accession, patient_name="X"), "png")
    image = Image.open(io.BytesIO(png))
    assert image.size == (600, 300)
    assert decode_modules(modules_from_png(png)) == accession
