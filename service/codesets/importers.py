"""Import customer-obtained official code files (never committed) as new code set versions.

Each parser turns one documented file format (codesets/README.md, "Imported sets") into rows;
`import_file` stores them as a version of its own, in one transaction, under the loader lock.
"""

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from service.codesets import loader
from service.codesets.bundle import CodeRow
from service.codesets.models import CodeEntry, CodeSetVersion, MueLimit, NcciPtpEdit
from service.codesets.search import normalize_code
from service.errors import InvalidInput


class ImportFileInvalid(InvalidInput):
    code = "import-file-invalid"


@dataclass(frozen=True)
class PtpRow:
    column1: str
    column2: str
    effective_date: date
    deletion_date: date | None
    modifier_indicator: str


@dataclass(frozen=True)
class MueRow:
    code: str
    max_units: int
    adjudication_indicator: str
    rationale: str


def _text(data: bytes) -> str:
    # CMS files are ASCII or Windows-1252; LOINC is UTF-8.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def _fail(name: str, number: int, message: str) -> ImportFileInvalid:
    return ImportFileInvalid(f"{name}:{number}: {message}")


# --- HCPCS Level II (CMS ANWEB, fixed width) ---------------------------------------------------


def parse_hcpcs(data: bytes, name: str = "hcpcs") -> list[CodeRow]:
    """CMS HCPCS record file: code 1-5, sequence 6-10, record id 11, long description 12-91,
    short description 92-119. Record id 3 starts a procedure, 4 continues its long description;
    7 and 8 are modifiers (the `modifier` set holds those) and are skipped."""
    titles: dict[str, list[str]] = {}
    for number, line in enumerate(_text(data).splitlines(), 1):
        if not line.strip():
            continue
        if len(line) < 12:
            raise _fail(name, number, "a record is at least 12 characters (code, sequence, id)")
        code, record_id, long_part = line[0:5].strip(), line[10], line[11:91].strip()
        if record_id in "78":
            continue
        if record_id not in "34" or not code.isalnum():
            raise _fail(name, number, f"unexpected record id {record_id!r} for {code!r}")
        if record_id == "3":
            titles.setdefault(code, [])
        elif code not in titles:
            raise _fail(name, number, f"continuation of {code} before its first record")
        titles[code].append(long_part)
    if not titles:
        raise ImportFileInvalid(f"{name}: no HCPCS procedure records (record id 3)")
    return [
        CodeRow(code.upper(), True, " ".join(p for p in parts if p))
        for code, parts in titles.items()
    ]


def parse_hcpcs_modifiers(data: bytes, name: str = "modifier") -> list[CodeRow]:
    """The modifiers of the same CMS HCPCS record file: record id 7 starts a modifier (its
    two-character code in columns 1-2), 8 continues its long description; procedures (3, 4)
    are skipped. A clinic with the file loads the full dated list over the bundled subset."""
    titles: dict[str, list[str]] = {}
    for number, line in enumerate(_text(data).splitlines(), 1):
        if not line.strip():
            continue
        if len(line) < 12:
            raise _fail(name, number, "a record is at least 12 characters (code, sequence, id)")
        code, record_id, long_part = line[0:5].strip().upper(), line[10], line[11:91].strip()
        if record_id in "34":
            continue
        if record_id not in "78" or len(code) != 2 or not code.isalnum():
            raise _fail(name, number, f"unexpected record id {record_id!r} for {code!r}")
        if record_id == "7":
            titles.setdefault(code, [])
        elif code not in titles:
            raise _fail(name, number, f"continuation of modifier {code} before its first record")
        titles[code].append(long_part)
    if not titles:
        raise ImportFileInvalid(f"{name}: no HCPCS modifier records (record id 7)")
    return [CodeRow(code, True, " ".join(p for p in parts if p)) for code, parts in titles.items()]


# --- ICD-10-CM (CMS order file, fixed width) ---------------------------------------------------


def parse_icd10cm_order(data: bytes, name: str = "icd10cm_order") -> list[CodeRow]:
    """CMS icd10cm_order_YYYY.txt: order number 1-5, code 7-13, billable flag 15 (1 or 0),
    short title 17-76, long title 78-. Parents are the nearest code in the file that is a prefix."""
    raw: list[tuple[str, bool, str]] = []
    for number, line in enumerate(_text(data).splitlines(), 1):
        if not line.strip():
            continue
        code, flag = line[6:13].strip(), line[14:15]
        title = line[77:].strip() or line[16:76].strip()
        if not code.isalnum() or flag not in ("0", "1") or not title:
            raise _fail(name, number, "not an ICD-10-CM order-file line")
        raw.append((code.upper(), flag == "1", title))
    if not raw:
        raise ImportFileInvalid(f"{name}: no codes")
    codes = {code for code, _, _ in raw}
    rows = []
    for code, billable, title in raw:
        parent = next((code[:n] for n in range(len(code) - 1, 2, -1) if code[:n] in codes), None)
        rows.append(CodeRow(code, billable, title, parent))
    return rows


# --- CSV sets: CPT, CDT, CARC, RARC, LOINC -----------------------------------------------------


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _text(data)
    # CMS ships the same layouts tab-delimited (.txt) and comma-separated (.csv).
    dialect = "excel-tab" if "\t" in text[:4096] else "excel"
    for number, cells in enumerate(csv.reader(io.StringIO(text), dialect), 1):
        if cells and any(cell.strip() for cell in cells):
            yield number, [cell.strip() for cell in cells]


def parse_code_title_csv(data: bytes, name: str = "codes") -> tuple[list[CodeRow], date | None]:
    """`code,title[,effective_from]` (optional header row starting with `code`). Returns the
    rows and the earliest effective_from given (the version's start when none is told)."""
    rows: list[CodeRow] = []
    earliest: date | None = None
    for number, cells in _csv_rows(data):
        if number == 1 and cells[0].lower() == "code":
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise _fail(name, number, "expected code,title[,effective_from]")
        if len(cells) > 2 and cells[2]:
            try:
                start = date.fromisoformat(cells[2])
            except ValueError:
                raise _fail(
                    name, number, f"effective_from {cells[2]!r} is not YYYY-MM-DD"
                ) from None
            earliest = start if earliest is None else min(earliest, start)
        rows.append(CodeRow(normalize_code(cells[0]), True, cells[1]))
    return rows, earliest


def parse_loinc(data: bytes, name: str = "Loinc.csv") -> list[CodeRow]:
    """Regenstrief Loinc.csv: LOINC_NUM, COMPONENT, LONG_COMMON_NAME, STATUS (and more columns).
    DEPRECATED and DISCOURAGED terms load as not billable (not for new results)."""
    reader = csv.DictReader(io.StringIO(_text(data)))
    needed = {"LOINC_NUM", "COMPONENT", "STATUS"}
    if not needed <= set(reader.fieldnames or ()):
        raise ImportFileInvalid(f"{name}: the header needs {', '.join(sorted(needed))}")
    rows = []
    for number, record in enumerate(reader, 2):
        code = (record.get("LOINC_NUM") or "").strip()
        title = (record.get("LONG_COMMON_NAME") or "").strip() or (record.get("COMPONENT") or "")
        if not code or not title.strip():
            raise _fail(name, number, "LOINC_NUM and a name are required")
        status = (record.get("STATUS") or "").strip().upper()
        rows.append(CodeRow(code.upper(), status in ("ACTIVE", "TRIAL", ""), title.strip()))
    return rows


# --- NCCI PTP and MUE --------------------------------------------------------------------------


def _yyyymmdd(text: str) -> date | None:
    text = text.strip()
    if text in ("", "*"):
        return None
    return datetime.strptime(text, "%Y%m%d").date()  # noqa: DTZ007  (a date, no time zone)


_HCPCS_CODE = re.compile(r"^[A-Z0-9][0-9]{3}[A-Z0-9]$")


def _is_code(cell: str) -> bool:
    """A CPT/HCPCS code: 5 characters, digits in the middle (so "HCPCS" or "CODE1" in a header
    row is not one)."""
    return bool(_HCPCS_CODE.match(cell.upper()))


def _is_header(cells: list[str]) -> bool:
    """A CMS header, copyright or notice line: its first cell is words, not a code."""
    first = cells[0]
    return not first[:1].isdigit() and not (len(first) == 5 and first[1:4].isdigit())


def _raise_malformed(name: str, problems: list[str]) -> None:
    """Every malformed row at once (the first 20 shown), so that a clinic fixes the file once."""
    if problems:
        shown = "; ".join(problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise ImportFileInvalid(f"{name}: {len(problems)} malformed rows: {shown}{more}")


def parse_ncci_ptp(data: bytes, name: str = "ncci_ptp") -> list[PtpRow]:
    """CMS NCCI PTP text/CSV: column 1, column 2, prior-to-1996 flag, effective date (YYYYMMDD),
    deletion date (YYYYMMDD or `*`), modifier indicator (0, 1, 9)[, rationale]. Header,
    copyright and notice lines (first cell not a code) are skipped; every other malformed row
    is reported."""
    rows = []
    problems: list[str] = []
    for number, cells in _csv_rows(data):
        if _is_header(cells):
            continue
        if (
            len(cells) < 6
            or not _is_code(cells[0])
            or not _is_code(cells[1])
            or cells[5] not in ("0", "1", "9")
        ):
            problems.append(
                f"{number}: expected column1, column2, flag, effective, deletion, 0/1/9"
            )
            continue
        try:
            effective, deletion = _yyyymmdd(cells[3]), _yyyymmdd(cells[4])
        except ValueError:
            problems.append(f"{number}: dates are YYYYMMDD (deletion `*` when none)")
            continue
        if effective is None:
            problems.append(f"{number}: the effective date is required")
            continue
        rows.append(PtpRow(cells[0].upper(), cells[1].upper(), effective, deletion, cells[5]))
    _raise_malformed(name, problems)
    if not rows:
        raise ImportFileInvalid(f"{name}: no PTP edits")
    return rows


def parse_mue(data: bytes, name: str = "mue") -> list[MueRow]:
    """CMS MUE CSV: HCPCS/CPT code, MUE value, MUE adjudication indicator (`3 Date of Service
    Edit: Clinical` or just `3`)[, rationale]. Header and notice lines (first cell not a code,
    "HCPCS/CPT Code" included) are skipped; every other malformed row is reported."""
    rows = []
    problems: list[str] = []
    for number, cells in _csv_rows(data):
        if _is_header(cells):
            continue
        if (
            len(cells) < 3
            or not _is_code(cells[0])
            or not cells[1].isdigit()
            or cells[2][:1] not in ("1", "2", "3")
        ):
            problems.append(f"{number}: expected code, MUE value, adjudication indicator 1/2/3")
            continue
        rationale = cells[3] if len(cells) > 3 else ""
        rows.append(MueRow(cells[0].upper(), int(cells[1]), cells[2][:1], rationale[:200]))
    _raise_malformed(name, problems)
    if not rows:
        raise ImportFileInvalid(f"{name}: no MUE values")
    return rows


# --- storing -----------------------------------------------------------------------------------

CODE_PARSERS: dict[str, Callable[[bytes, str], list[CodeRow]]] = {
    "hcpcs": parse_hcpcs,
    "modifier": parse_hcpcs_modifiers,
    "icd10cm": parse_icd10cm_order,
    "loinc": parse_loinc,
    "cpt": lambda data, name: parse_code_title_csv(data, name)[0],
    "cdt": lambda data, name: parse_code_title_csv(data, name)[0],
    "carc": lambda data, name: parse_code_title_csv(data, name)[0],
    "rarc": lambda data, name: parse_code_title_csv(data, name)[0],
}
IMPORTABLE = (*CODE_PARSERS, "ncci_ptp", "mue")


def _pairs(seventh: str | None) -> tuple[tuple[str, str], ...]:
    if not seventh:
        return ()
    return tuple(
        (char, meaning) for char, _, meaning in (i.partition("=") for i in seventh.split("|"))
    )


def _carry_icd_notes(session: Session, rows: list[CodeRow]) -> list[CodeRow]:
    """The order file has no tabular notes: keep the newest loaded year's notes for each code."""
    newest = session.exec(
        select(CodeSetVersion)
        .where(CodeSetVersion.system == "icd10cm")
        .order_by(col(CodeSetVersion.effective_from).desc())
    ).first()
    if newest is None:
        return rows
    notes = {
        code: (excludes1, seventh)
        for code, excludes1, seventh in session.exec(
            select(CodeEntry.code, CodeEntry.excludes1, CodeEntry.seventh).where(
                CodeEntry.version_id == newest.id,
                (col(CodeEntry.excludes1).is_not(None)) | (col(CodeEntry.seventh).is_not(None)),
            )
        )
    }
    carried = []
    for row in rows:
        excludes1, seventh = notes.get(row.code, (None, None))
        carried.append(
            CodeRow(
                row.code,
                row.billable,
                row.title,
                row.parent,
                tuple(excludes1.split("|")) if excludes1 else (),
                _pairs(seventh),
            )
        )
    return carried


def import_file(
    session: Session,
    system: str,
    path: Path,
    *,
    version: str,
    effective_from: date | None,
    effective_to: date | None = None,
) -> CodeSetVersion:
    """Stores the file as a new version of `system`; earlier open-ended versions end the day
    before it starts. The caller owns the transaction."""
    if system not in IMPORTABLE:
        raise InvalidInput(f"{system} cannot be imported; importable: {', '.join(IMPORTABLE)}.")
    data = path.read_bytes()
    rows: list[CodeRow] = []
    ptp: list[PtpRow] = []
    mue: list[MueRow] = []
    if system in ("cpt", "cdt", "carc", "rarc"):
        rows, earliest = parse_code_title_csv(data, path.name)
        effective_from = effective_from or earliest
    elif system == "ncci_ptp":
        ptp = parse_ncci_ptp(data, path.name)
    elif system == "mue":
        mue = parse_mue(data, path.name)
    else:
        rows = CODE_PARSERS[system](data, path.name)
    if effective_from is None:
        raise InvalidInput("Give --effective-from (the first date of service of this version).")
    if effective_to is not None and effective_to < effective_from:
        raise InvalidInput("--effective-to is before --effective-from.")
    if len({row.code for row in rows}) != len(rows):
        raise ImportFileInvalid(f"{path.name}: a code appears twice")

    loader.lock(session)
    newest = session.exec(
        select(CodeSetVersion)
        .where(CodeSetVersion.system == system)
        .order_by(col(CodeSetVersion.effective_from).desc())
    ).first()
    if newest is not None and effective_from <= newest.effective_from:
        raise InvalidInput(
            f"{system} {newest.version} starts {newest.effective_from}; a new version must "
            "start after the newest loaded one."
        )
    if system == "icd10cm":
        rows = _carry_icd_notes(session, rows)
    loader.close_previous(session, system, effective_from)
    meta = loader.VersionMeta(
        system=system,
        version=version,
        effective_from=effective_from,
        effective_to=effective_to,
        source=f"{path.name} (imported)",
        sha256=hashlib.sha256(data).hexdigest(),
        origin="imported",
    )
    if rows:
        return loader.add_version(session, meta, rows)
    created = loader.add_version(session, meta, [])
    created.row_count = len(ptp) or len(mue)
    session.add(created)
    table = NcciPtpEdit.__table__ if ptp else MueLimit.__table__  # type: ignore[attr-defined]
    values: Iterable[tuple[object, ...]] = (
        (
            (
                created.id,
                r.column1,
                r.column2,
                r.effective_date,
                r.deletion_date,
                r.modifier_indicator,
            )
            for r in ptp
        )
        if ptp
        else ((created.id, r.code, r.max_units, r.adjudication_indicator, r.rationale) for r in mue)
    )
    columns = (
        (
            "version_id",
            "column1",
            "column2",
            "effective_date",
            "deletion_date",
            "modifier_indicator",
        )
        if ptp
        else ("version_id", "code", "max_units", "adjudication_indicator", "rationale")
    )
    loader.bulk_insert(session, table, columns, values)
    session.flush()
    return created
