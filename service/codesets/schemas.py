"""Request and response models of the code API (codes shown in their usual, dotted form)."""

import datetime as dt

from pydantic import BaseModel, Field

from service.codesets import logic
from service.codesets.bundle import CodeRow
from service.codesets.search import display_code
from service.schemas_common import IsoDate

MAX_VALIDATE = 500


class CodeItem(BaseModel):
    code: str
    title: str
    billable: bool


class CodeRef(BaseModel):
    code: str
    title: str


class CodeSearchRead(BaseModel):
    system: str
    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    warnings: list[str]
    items: list[CodeItem]


class Excludes1Read(BaseModel):
    code: str = Field(
        description="A code (it and every code below it) or a range, e.g. B38.0-B38.2"
    )
    at: str = Field(description="The code whose Excludes1 note cites it (this code or an ancestor)")


class SeventhCharacterRead(BaseModel):
    character: str
    meaning: str
    at: str = Field(description="The code that defines the rule (this code or an ancestor)")


class CodeNotes(BaseModel):
    excludes1: list[Excludes1Read]
    seventh_characters: list[SeventhCharacterRead]


class CodeRead(BaseModel):
    system: str
    code: str
    title: str
    billable: bool
    needs_seventh_character: bool
    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    parent: CodeRef | None
    children: list[CodeRef]
    notes: CodeNotes
    warnings: list[str]


class CodeToValidate(BaseModel):
    system: str = Field(min_length=1, max_length=40, examples=["icd10cm"])
    code: str = Field(max_length=40, examples=["E11.621"])


class CodeValidateRequest(BaseModel):
    date: IsoDate | None = Field(
        default=None, description="Date of service; default today in the organization's zone"
    )
    codes: list[CodeToValidate] = Field(min_length=1, max_length=MAX_VALIDATE)


class CodeVerdictRead(BaseModel):
    system: str
    code: str
    valid: bool
    reason: str = Field(
        description="ok, unknown-code, not-billable, needs-seventh-character, system-not-loaded, "
        "unknown-system, date-before-code-set"
    )
    detail: str
    title: str | None
    version: str | None
    billable_codes: list[CodeRef] = Field(
        description="For a header: the first billable codes below it"
    )


class CodeValidateRead(BaseModel):
    date: dt.date
    warnings: list[str]
    items: list[CodeVerdictRead]


def _ref(row: CodeRow, system: str) -> CodeRef:
    return CodeRef(code=display_code(row.code, system), title=row.title)


def _range(cited: str, system: str) -> str:
    """ "E08-E13/42" reads "E08-E13 with .42", as the tabular writes it."""
    cited, _, qualifier = cited.partition("/")
    shown = "-".join(display_code(part, system) for part in cited.split("-"))
    if qualifier:
        shown += " with " + "-".join(f".{part}" for part in qualifier.split("-"))
    return shown


def search_read(result: logic.SearchResult) -> CodeSearchRead:
    return CodeSearchRead(
        system=result.system,
        version=result.version.version,
        effective_from=result.version.effective_from,
        effective_to=result.version.effective_to,
        warnings=list(result.warnings),
        items=[
            CodeItem(code=display_code(r.code, result.system), title=r.title, billable=r.billable)
            for r in result.rows
        ],
    )


def code_read(found: logic.CodeLookup) -> CodeRead:
    assert found.row is not None  # get_code raised CodeNotFound otherwise
    system = found.system
    return CodeRead(
        system=system,
        code=found.display,
        title=found.row.title,
        billable=found.row.billable,
        needs_seventh_character=found.needs_seventh_character,
        version=found.version.version,
        effective_from=found.version.effective_from,
        effective_to=found.version.effective_to,
        parent=_ref(found.parent, system) if found.parent else None,
        children=[_ref(child, system) for child in found.children],
        notes=CodeNotes(
            excludes1=[
                Excludes1Read(code=_range(n.cited, system), at=display_code(n.at, system))
                for n in found.excludes1
            ],
            seventh_characters=[
                SeventhCharacterRead(
                    character=r.character, meaning=r.meaning, at=display_code(r.at, system)
                )
                for r in found.seventh
            ],
        ),
        warnings=list(found.warnings),
    )


def validate_read(on: dt.date, verdicts: list[logic.CodeVerdict]) -> CodeValidateRead:
    warnings: dict[str, None] = {}
    for verdict in verdicts:
        warnings.update(dict.fromkeys(verdict.warnings))
    return CodeValidateRead(
        date=on,
        warnings=list(warnings),
        items=[
            CodeVerdictRead(
                system=v.system,
                code=v.code,
                valid=v.valid,
                reason=v.reason,
                detail=v.detail,
                title=v.title,
                version=v.version.version if v.version else None,
                billable_codes=[_ref(row, v.system) for row in v.suggestions],
            )
            for v in verdicts
        ],
    )
