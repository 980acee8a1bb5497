"""A worklist as a file: the CSV for the bench and the instrument, and its download name."""

import csv
import io

import sqlalchemy as sa
from sqlmodel import Session, col

from service import org_clock
from service.audit import logic as audit
from service.auth.logic import Principal
from service.labtests import logic as labtest_logic
from service.spreadsheet import csv_text
from service.worklists import layout as rules
from service.worklists import repository
from service.worklists.logic import read_worklist
from service.worklists.models import Worklist

# A bench printout as much as an instrument file: who is in each position (name and birth date,
# the two identifiers a tech checks against the tube), the test, and a control's material in
# its own column, never in the accession column where it could pass for a specimen.
EXPORT_COLUMNS = (
    "position",
    "kind",
    "accession",
    "patient_name",
    "birth_date",
    "test_code",
    "loinc",
    "priority",
    "control_material",
)


def export_csv(session: Session, actor: Principal, worklist_id: str) -> tuple[Worklist, str]:
    """The run for the instrument: one row per position, reserved ones as control/blank rows."""
    worklist, items = read_worklist(session, actor, worklist_id)
    patients = repository.patients_of(session, worklist.id)
    by_position: dict[str, list[str]] = {}
    for v in items:
        name, born = patients[v.item.specimen_id]
        by_position[v.item.position] = [
            v.item.position,
            "patient",
            v.accession,
            name,
            born.isoformat(),
            v.test_code,
            v.loinc or "",
            v.priority,
            "",
        ]
    for r in worklist.reserved:
        material = r.get("material") or ""
        by_position[r["position"]] = [r["position"], r["kind"], "", "", "", "", "", "", material]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for position in rules.positions(worklist.layout, worklist.capacity):
        if position in by_position:  # typed text (a name, a material) never runs as a formula
            writer.writerow([csv_text(cell) for cell in by_position[position]])
    audit.record(
        session,
        actor,
        action="export",
        resource_type="worklist",
        resource_id=worklist.id,
        detail=f"{len(items)} items",
    )
    return worklist, out.getvalue()


def export_filename(session: Session, actor: Principal, worklist: Worklist) -> str:
    """`worklist-HEM-2026-12-06-1.csv`: the test code (or the bench, for a worklist of several
    tests), the local day it was built, and its number among that bench's worklists of the day,
    so a bench's downloads sort in run order and never overwrite each other."""
    tests = labtest_logic.get_lab_tests(session, actor.organization_id, worklist.test_ids)
    codes = sorted({t.code for t in tests.values()})
    label = codes[0] if len(codes) == 1 else worklist.bench
    label = "".join(c if c.isalnum() else "-" for c in label.upper()).strip("-") or "RUN"
    day = org_clock.local_date(session, actor.organization_id, worklist.created_at)
    start = org_clock.start_of_day(session, actor.organization_id, day)
    earlier = sa.or_(
        col(Worklist.created_at) < worklist.created_at,
        sa.and_(col(Worklist.created_at) == worklist.created_at, col(Worklist.id) <= worklist.id),
    )
    number = session.scalar(
        sa.select(sa.func.count())
        .select_from(Worklist)
        .where(
            col(Worklist.organization_id) == actor.organization_id,
            col(Worklist.bench) == worklist.bench,
            col(Worklist.created_at) >= start,
            earlier,
        )
    )
    return f"worklist-{label}-{day.isoformat()}-{number or 1}.csv"
