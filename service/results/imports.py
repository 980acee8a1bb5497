"""Results from an instrument's CSV file: matched by accession and test code, all rows or none
(every unmatched or malformed row reported with its line number)."""

import csv
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.auth.logic import Principal
from service.errors import Conflict, FieldError, InvalidInput, NotFound
from service.labtests import logic as labtest_logic
from service.results import flags
from service.results.logic import (
    ImportRejected,
    Target,
    patient_facts,
    resolve_target,
    write_result,
)
from service.results.models import Result
from service.specimens import repository as specimen_repository
from service.uploads import UploadedFile
from service.worklists import logic as worklist_logic
from service.worklists import repository as worklist_repository
from service.worklists.models import Worklist

IMPORT_COLUMNS = ("accession", "test_code", "component_code", "value", "unit")
MAX_ROWS = 5000


# Limits of an instrument file: far above what instruments write, far below what ties up a
# worker (issue 14: a 131,073-character field was a 500, a 1M-column header took seconds).
MAX_HEADER_COLUMNS = 50
MAX_HEADER_CHARS = 2000
MAX_FIELD_CHARS = 1000
# A physical line: every column of a row at its longest (quoted newlines split a row further).
MAX_LINE_CHARS = MAX_HEADER_COLUMNS * (MAX_FIELD_CHARS + 3)


def _read_header(reader: "csv.DictReader[str]") -> list[str]:
    try:
        names = reader.fieldnames or []
    except csv.Error as error:
        raise ImportRejected(
            f"Line 1 (the header) is not valid CSV: {error}.",
            errors=[FieldError("/rows/1", str(error))],
        ) from None
    if len(names) > MAX_HEADER_COLUMNS:
        raise ImportRejected(
            f"The header has {len(names)} columns; at most {MAX_HEADER_COLUMNS} are read.",
            errors=[FieldError("/rows/1", f"more than {MAX_HEADER_COLUMNS} columns")],
        )
    for index, name in enumerate(names, 1):
        if len(name) > MAX_HEADER_CHARS // 10:
            raise ImportRejected(
                f"Header column {index} is longer than {MAX_HEADER_CHARS // 10} characters.",
                errors=[FieldError(f"/rows/1/{index}", "column name too long")],
            )
    return [h.strip() for h in names]


def _rows(reader: "csv.DictReader[str]") -> Iterator[dict[str | Any, str | Any]]:
    """The data rows; a line the csv module cannot read (an oversized field, a stray quote)
    is a 422 naming it, not a 500."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            line = reader.line_num + 1  # the count of lines read before the one that failed
            raise ImportRejected(
                f"Line {line} is not valid CSV ({error}); nothing was imported.",
                errors=[FieldError(f"/rows/{line}", str(error))],
            ) from None
        yield row


@dataclass(frozen=True)
class _Row:
    line: int
    target: Target
    value: str


def import_csv(
    session: Session,
    actor: Principal,
    upload: UploadedFile,
    *,
    worklist_id: str | None,
    at: datetime,
) -> list[Result]:
    """Results from an instrument file, matched by accession + test code. Every unmatched or
    malformed row is reported (with its line number) and then nothing is imported."""
    worklist = (
        worklist_logic.worklist_for_import(session, actor, worklist_id) if worklist_id else None
    )
    # Read as a stream of lines: the file is never one string. A line longer than a row can
    # be (the header of a million columns) is refused before the csv module splits it.
    lines = upload.text_lines("CSV", max_chars=MAX_LINE_CHARS)
    first = next(lines, "").lstrip("\ufeff")
    if len(first.rstrip("\r\n")) > MAX_HEADER_CHARS:
        raise ImportRejected(
            f"The header line is longer than {MAX_HEADER_CHARS} characters.",
            errors=[FieldError("/rows/1", f"longer than {MAX_HEADER_CHARS} characters")],
        )
    reader = csv.DictReader(itertools.chain((first,), lines))
    header = _read_header(reader)
    missing = [c for c in ("accession", "test_code", "value") if c not in header]
    if missing:
        raise ImportRejected(
            f"The CSV header lacks {', '.join(missing)}; columns: {', '.join(IMPORT_COLUMNS)}."
        )
    errors: list[FieldError] = []
    rows: list[_Row] = []
    seen: set[tuple[str, str]] = set()
    for raw in _rows(reader):
        line = reader.line_num
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append(FieldError(f"/rows/{line}", f"more than {MAX_ROWS} rows"))
            break
        record = {k.strip(): (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
        if None in raw:
            errors.append(FieldError(f"/rows/{line}", "more fields than the header has"))
            continue
        long = [k for k, v in record.items() if len(v) > MAX_FIELD_CHARS]
        if long:
            errors.append(
                FieldError(f"/rows/{line}/{long[0]}", f"longer than {MAX_FIELD_CHARS} characters")
            )
            continue
        try:
            parsed = _match(session, actor, record, worklist)
        except (InvalidInput, Conflict, NotFound) as error:
            errors.append(FieldError(f"/rows/{line}", error.detail))
            continue
        key = (parsed.specimen_test.id, parsed.component.code)
        if key in seen:
            errors.append(FieldError(f"/rows/{line}", "the same result appears twice in the file"))
            continue
        seen.add(key)
        try:
            sex, age = patient_facts(session, parsed.specimen, at)
            flags.flag(parsed.component, record.get("value", ""), sex, age)
        except flags.BadValue as error:
            errors.append(FieldError(f"/rows/{line}", f"{parsed.component.code}: {error}"))
            continue
        rows.append(_Row(line, parsed, record.get("value", "")))
    if errors:
        raise ImportRejected(
            f"{len(errors)} row(s) could not be matched or read; nothing was imported.",
            errors=errors,
        )
    if not rows:
        raise ImportRejected("The file has no result rows.")
    worklist_ref = worklist.id if worklist else None
    return [
        write_result(session, actor, r.target, r.value, at=at, worklist_id=worklist_ref)
        for r in rows
    ]


def _match(
    session: Session, actor: Principal, record: dict[str, str], worklist: Worklist | None
) -> Target:
    accession, code = record.get("accession", ""), record.get("test_code", "")
    if not accession or not code:
        raise InvalidInput("accession and test_code are required")
    specimen = specimen_repository.get_by_accession(session, actor.organization_id, accession)
    if specimen is None:
        raise NotFound(f"no specimen {accession}")
    test = labtest_logic.get_by_code(session, actor.organization_id, code)
    if test is None:
        raise NotFound(f"no test {code}")
    components = labtest_logic.components_of(test)
    component_code = record.get("component_code") or (
        components[0].code if len(components) == 1 else ""
    )
    if not component_code:
        raise InvalidInput(f"test {code} has several components: component_code is required")
    target = resolve_target(
        session, actor, specimen, test, component_code, record.get("unit") or None
    )
    if worklist is not None:
        item = worklist_repository.active_item_for(session, target.specimen_test.id)
        if item is None or item.worklist_id != worklist.id:
            raise NotFound(f"{accession} {code} is not on worklist {worklist.id}")
    return target
