"""Encounter edits benchmark: `check_encounter` on 10,000 encounters x (3 diagnoses + 3 lines)
beside a same-run floor, `validate_codes` on the same codes (what the edits must do at least).

    PYTHONPATH=. .venv/bin/python bench/bench_coding_edits.py

Before issue 17's edits (same machine, loaded): 27.20 s vs a floor of 6.87 s, ratio 3.96x;
after them 1.29x and 2.03x (two runs under other load); with the code-first / use-additional
notes and the FY2027 Excludes1 remark, 2.09x (21.63 s vs 10.33 s, loaded). The target: at most
twice the ratio before.

SQLite in a temporary directory, every bundled set plus the CPT fixture list (HCPCS, NCCI and
MUE not loaded: their edits answer with a warning). The ratio is the edits' own cost.
"""

import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from service import migrate
from service.codesets import importers, logic
from service.codesets.loader import load_bundled
from service.coding import edits
from service.db import make_engine, session_factory_for, session_scope

REPO = Path(__file__).resolve().parents[1]
ON = date(2026, 10, 15)
ENCOUNTERS = 10_000


@dataclass(frozen=True)
class Visit:
    kind: str
    diagnoses: list[str]
    date_of_service: date
    place_of_service: str = "11"
    patient_birth_date: date | None = None
    patient_sex: str | None = None


@dataclass(frozen=True)
class Line:
    code_system: str
    code: str
    modifiers: list[str]
    units: Decimal
    pointers: list[int]
    service_date: date
    tooth: str | None = None
    surfaces: str | None = None
    oral_area: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.sqlite3")
        migrate.upgrade(engine)
        factory = session_factory_for(engine)
        with session_scope(factory) as session:
            load_bundled(session)
            importers.import_file(
                session,
                "cpt",
                REPO / "codesets" / "fixtures" / "cpt-fixture.csv",
                version="fixture",
                effective_from=date(2020, 1, 1),
            )
        with factory() as session:
            version = logic.version_in_force(session, logic.ICD10CM, ON).version
            index = logic.index_for(session, version)
            rng = random.Random(17)
            # Adult-range, non-maternity, non-external-cause codes from common chapters, so that
            # the encounters are clean ones (the usual case) rather than a list of errors.
            billable = [
                r.code
                for r in index.rows()
                if r.billable and r.code[0] in "EIJKMNR" and not r.code.startswith("N4")
            ]
            cpt = [
                r.code
                for r in logic.index_for(
                    session, logic.version_in_force(session, "cpt", ON).version
                ).rows()
            ]
            cpt = [c for c in cpt if not c.startswith("99")]
            visits = []
            for _ in range(ENCOUNTERS):
                dx = rng.sample(billable, 3)
                lines = [
                    Line("CPT", code, [], Decimal(1), [k + 1], ON)
                    for k, code in enumerate(rng.sample(cpt, 3))
                ]
                visits.append((Visit("medical", dx, ON), lines))
            checks = [
                [logic.CodeCheck(logic.ICD10CM, c) for c in v.diagnoses]
                + [logic.CodeCheck("cpt", ln.code) for ln in lines]
                for v, lines in visits
            ]
            # Warm both paths (index builds) before timing.
            logic.validate_codes(session, checks[0], ON)
            edits.check_encounter(session, *visits[0])
            start = time.perf_counter()
            for batch in checks:
                logic.validate_codes(session, batch, ON)
            floor = time.perf_counter() - start
            start = time.perf_counter()
            errors = 0
            for visit, lines in visits:
                errors += any(
                    f.severity == "error" for f in edits.check_encounter(session, visit, lines)
                )
            took = time.perf_counter() - start
        engine.dispose()
    print("| measure | value | floor | ratio |")
    print("|---|---|---|---|")
    print(
        f"| check_encounter, {ENCOUNTERS:,} encounters x (3 dx + 3 lines) | {took:.2f} s "
        f"({took / ENCOUNTERS * 1e3:.3f} ms each, {errors} with errors) | {floor:.2f} s "
        f"(validate_codes, same codes) | {took / floor:.2f}x |"
    )


if __name__ == "__main__":
    main()
