"""Runs every benchmark under bench/ and writes bench/RESULTS.md: one summary table (figure,
value, floor or ceiling, ratio) and then each script's own output.

    .venv/bin/python bench/run_all.py [--postgres URL] [--out bench/RESULTS.md]

`make bench` runs it under scripts/with-postgres.sh, which sets BACKOFFICE_TEST_DATABASE_URL:
that URL is used for the PostgreSQL pass of every script that takes `--postgres`. A script that
fails is reported in the file (its exit code and the end of its error output), not skipped.
"""

import argparse
import os
import re
import subprocess  # nosec B404 - runs this repository's own benchmark scripts
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# The order they run in; any other bench_*.py found is run after these.
ORDER = ["bench_code_search.py", "bench_lab.py", "bench_fhir.py", "bench_claims.py",
         "bench_remittance.py", "bench_upload_memory.py", "bench_http_wrk.py",
         "bench_billing_pages.py", "load.py"]  # fmt: skip
TIMEOUT = 1800  # seconds per script


def scripts() -> list[Path]:
    found = {p.name: p for p in BENCH.glob("bench_*.py")}
    found["load.py"] = BENCH / "load.py"
    ordered = [found.pop(name) for name in ORDER if name in found]
    return ordered + sorted(found.values())


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


SIZES = frozenset({"claims", "bundles"})


def summarize(name: str, output: str) -> list[tuple[str, str, str, str]]:
    """(figure, value, floor or ceiling, ratio) from a script's Markdown tables: the columns
    whose header names a floor/ceiling or a ratio; the first other numeric column is the value."""
    rows: list[tuple[str, str, str, str]] = []
    lines = output.splitlines()
    ceiling = re.search(r"^ceiling: ([\d,.]+) req/s", output, re.MULTILINE)
    for i, line in enumerate(lines):
        if not line.startswith("|") or i + 1 >= len(lines) or not lines[i + 1].startswith("|-"):
            continue
        header = [h.lower() for h in _cells(line)]
        floor_col = next((k for k, h in enumerate(header) if "floor" in h or ("ceiling" in h
                          and "÷" not in h and " / " not in h and "ratio" not in h)),
                         None)  # fmt: skip
        ratio_col = next((k for k, h in enumerate(header) if "ratio" in h or "÷" in h
                          or " / " in h or h.endswith("x")), None)  # fmt: skip
        for row_line in lines[i + 2 :]:
            if not row_line.startswith("|"):
                break
            cells = _cells(row_line)
            # A size column ("claims", "bundles") says what was measured: label, not value.
            numeric = [k for k, c in enumerate(cells) if re.match(r"^[\d,.]+", c)
                       and k not in (floor_col, ratio_col) and header[k] not in SIZES]  # fmt: skip
            label_end = numeric[0] if numeric else 1
            figure = f"{name}: " + " / ".join(
                f"{c} {header[k]}" if header[k] in SIZES else c
                for k, c in enumerate(cells[:label_end])
            )
            value = cells[numeric[0]] if numeric else ""
            if header[numeric[0]] if numeric else "":
                value = f"{value} ({header[numeric[0]]})"
            floor = cells[floor_col] if floor_col is not None and floor_col < len(cells) else ""
            ratio = cells[ratio_col] if ratio_col is not None and ratio_col < len(cells) else ""
            if name == "load.py" and ceiling and "req/s" in header:
                rate = cells[header.index("req/s")].replace(",", "")
                top = ceiling.group(1).replace(",", "")
                value, floor = f"{cells[header.index('req/s')]} req/s", f"{ceiling.group(1)} req/s"
                ratio = f"{float(rate) / float(top):.2f} of ceiling" if float(top) else ""
                figure += f" (p99 {cells[header.index('p99 ms')]} ms, errors {cells[-1]})"
            rows.append((figure, value, floor or "—", ratio or "—"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=os.environ.get("BACKOFFICE_TEST_DATABASE_URL"))
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()
    sections: list[str] = []
    summary: list[tuple[str, str, str, str]] = []
    started = time.monotonic()
    for script in scripts():
        argv = [sys.executable, str(script)]
        if args.postgres and "--postgres" in script.read_text():
            argv += ["--postgres", args.postgres]
        print(f"run_all: {script.name} ...", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        try:
            done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True,  # nosec B603
                                  timeout=TIMEOUT)  # fmt: skip
            output, code, errors = done.stdout, done.returncode, done.stderr
        except subprocess.TimeoutExpired as exc:
            output, code, errors = str(exc.stdout or ""), -1, f"timed out after {TIMEOUT} s"
        took = time.monotonic() - t0
        passes = "SQLite + PostgreSQL" if "--postgres" in argv else "SQLite"
        section = [f"## {script.name}", "", f"{passes}; {took:.0f} s; exit code {code}.", ""]
        section.append(output.strip())
        if code != 0:
            section += ["", "```", errors.strip()[-2000:], "```"]
        sections.append("\n".join(section))
        summary += summarize(script.name, output)
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` (bench/run_all.py) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores, in {time.monotonic() - started:.0f} s. Each figure stands "
        "beside its floor (the same work without the service) or ceiling (a bare FastAPI app), "
        "measured in the same run.",
        "",
        "| figure | value | floor or ceiling | ratio |",
        "|---|---|---|---|",
        *(f"| {f} | {v} | {c} | {r} |" for f, v, c, r in summary),
        "",
        *sections,
        "",
    ]
    args.out.write_text("\n".join(lines))
    print(f"run_all: wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
