"""The README's curl walkthroughs, run as written against a real server: `backoffice migrate`,
`backoffice demo` (or `backoffice init` for a fresh organization), `backoffice serve`, then the
section's ```sh blocks in one bash shell. Nothing in them is rewritten: each walkthrough sets
`BASE=${BASE:-http://127.0.0.1:8000}`, and the test sets BASE to the server's free port. Every
HTTP status curl sees is checked."""

import os
import re
import shutil
import subprocess  # nosec B404 - runs our own CLI, bash and curl
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hardening.servers import BIN, running, service_env

README = Path(__file__).resolve().parents[1] / "README.md"
CURL = shutil.which("curl")


def section_script(heading: str) -> str:
    """The ```sh blocks of one README section, up to the next heading of its level or above."""
    level = len(heading.split(" ", 1)[0])
    blocks: list[list[str]] = []
    inside = fenced = shell = False
    for line in README.read_text(encoding="utf-8").splitlines():
        if not fenced and re.match(rf"#{{1,{level}}} ", line):
            inside = line == heading
        elif inside and line.startswith("```"):
            fenced = not fenced
            shell = fenced and line == "```sh"
            if shell:
                blocks.append([])
        elif inside and fenced and shell:
            blocks[-1].append(line)
    assert blocks, f"no sh blocks under {heading}"
    return "\n".join("\n".join(block) for block in blocks) + "\n"


def demo_key(database_url: str, data_dir: Path, setup: tuple[str, ...] = ("demo",)) -> str:
    """Migrates, runs `setup` (the demo, or `init --org ...`), returns the key printed last."""
    env = service_env(database_url, data_dir)
    for argv in (["migrate"], list(setup)):
        done = subprocess.run(  # nosec B603 - fixed argv
            [str(BIN / "backoffice"), *argv], env=env, capture_output=True, text=True,
            timeout=300, check=True,
        )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def run_walkthrough(
    script: str, base_url: str, key: str, workdir: Path, env: dict[str, str] | None = None
) -> tuple[str, list[str]]:
    """Runs the script with a `curl` that also reports each response's status on stderr; `env`
    adds the service's own variables for walkthroughs that run `backoffice` themselves."""
    # The address only ever appears as BASE's default: the test changes BASE, not the text.
    assert "127.0.0.1:8000" not in script.replace("${BASE:-http://127.0.0.1:8000}", "")
    assert CURL, "curl is needed to run the README walkthroughs (make test installs it)"
    shim = workdir / "bin" / "curl"
    shim.parent.mkdir()
    report = "%{stderr}HTTP %{http_code} %{method} %{url_effective}\\n"
    shim.write_text(f"#!/bin/sh\nexec {CURL} -w '{report}' \"$@\"\n")
    shim.chmod(0o755)
    env = {
        **(env or os.environ),
        "KEY": key,
        "BASE": base_url,
        "PATH": f"{shim.parent}:{os.environ['PATH']}",
    }
    done = subprocess.run(  # nosec B603 B607 - bash on our own README's commands
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    calls = re.findall(r"^HTTP (\d{3} \S+ \S+)$", done.stderr, flags=re.M)
    assert done.returncode == 0, f"walkthrough failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout, calls


@pytest.fixture
def demo_server(empty_database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    key = demo_key(empty_database_url, data_dir)
    with running(empty_database_url, data_dir) as server:
        yield server.base_url, key


def _failures(calls: list[str]) -> list[str]:
    return [c for c in calls if not c.startswith(("2", "3"))]


def test_lab_walkthrough_runs_as_written(demo_server: tuple[str, str], tmp_path: Path) -> None:
    base_url, key = demo_server
    work = tmp_path / "work"
    work.mkdir()
    out, calls = run_walkthrough(section_script("## Lab walkthrough"), base_url, key, work)

    # The two refusals the walkthrough shows on purpose, and nothing else.
    failures = [re.sub(r"\?.*", "", c.replace(base_url, "")) for c in _failures(calls)]
    assert failures == ["422 POST /api/v1/result-imports", "403 POST /api/v1/results/verification"]
    assert len(calls) > 40
    year = out.split("tube ", 1)[1][:2]
    assert f"tube {year}-000001, jar {year}-000002" in out
    assert "^BCN" in out
    assert f"^FD{year}-000001^FS" in out
    assert (work / "tube-label.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (work / "jar-label.svg").read_text()
    assert f"{year}-000002-B1" in out
    # the instrument CSV / bench printout: the patient's name and birth date beside the tube
    assert re.search(
        rf'^2,patient,{year}-000001,"Rivera, Ana",1980-04-02,CBC,57021-8,routine,\r?$', out, re.M
    )
    assert re.search(r"^1,control,,,,,,,Hem Normal\r?$", out, re.M)  # the material in its column
    assert '"pointer":"/rows/2"' in out  # the bad row, named
    assert "Hemoglobin 11.4 g/dL L" in out
    assert "WBC 7.2 10*3/uL N" in out
    assert "a different user must verify it" in out
    lines = out.splitlines()
    assert lines.count("verified") == 1
    assert lines.count("final") == 2
    custody = [line.split()[1] for line in lines if re.match(r"\d{4}-\d\d-\d\dT", line)]
    assert custody[0] == "accessioned"
    assert custody[-1] == "verified"
    assert custody.count("step") == 6
    assert "received" in custody
    assert '"ready_to_verified_minutes":' in out


def test_fhir_quick_start_runs_as_written(demo_server: tuple[str, str], tmp_path: Path) -> None:
    base_url, key = demo_server
    work = tmp_path / "work"
    work.mkdir()
    heading = "#### Quick start for an EHR integrator (curl, checked against a running server)"
    out, calls = run_walkthrough(section_script(heading), base_url, key, work)

    assert _failures(calls) == []
    assert "4.0.1 ['Patient', 'Coverage'" in out  # the CapabilityStatement, summed up
    assert out.count('"status":"201 Created"') == 3  # the transaction's three entries
    assert '"system":"urn:backoffice:accession"' in out  # the specimen, with its accession
    assert '"resourceType":"Bundle"' in out


def test_claims_walkthrough_runs_as_written(demo_server: tuple[str, str], tmp_path: Path) -> None:
    base_url, key = demo_server
    work = tmp_path / "work"
    work.mkdir()
    (work / ".venv").symlink_to(BIN.parent)  # the block calls .venv/bin/backoffice
    out, calls = run_walkthrough(section_script("### Claims and batches"), base_url, key, work)

    assert _failures(calls) == []
    [downloaded] = list(work.glob("professional-*.x12"))
    assert downloaded.read_text().startswith("ISA*")
    assert "valid" in out.splitlines()  # pyx12, through `backoffice x12 validate`
    assert '"status":"submitted"' in out


def test_connecting_an_ehr_system_runs_as_written(
    demo_server: tuple[str, str], tmp_path: Path
) -> None:
    base_url, key = demo_server
    work = tmp_path / "work"
    work.mkdir()
    (work / ".venv").symlink_to(BIN.parent)  # the EHR's part runs joserfc from the venv
    out, calls = run_walkthrough(
        section_script("### Connecting an EHR system"), base_url, key, work
    )

    assert _failures(calls) == []
    assert f"{base_url}/oauth/token" in out.splitlines()
    assert "Bundle searchset" in out.splitlines()
    assert any(c.startswith("200 POST") and c.endswith("/oauth/token") for c in calls)


def test_patient_money_runs_as_written(demo_server: tuple[str, str], tmp_path: Path) -> None:
    base_url, key = demo_server
    work = tmp_path / "work"
    work.mkdir()
    out, calls = run_walkthrough(section_script("### Patient money"), base_url, key, work)

    failures = [re.sub(r"\?.*", "", c.replace(base_url, "")) for c in _failures(calls)]
    assert failures == ["422 POST /api/v1/write-offs"]  # the one without a reason
    lines = out.splitlines()
    assert lines[:3] == ["25.00", "15.00", "12.50"]  # credit; owed after it; after the write-off
    assert "amount_due,,12.50" in out
    assert (work / "statement.pdf").read_bytes().startswith(b"%PDF")
    assert "True" in lines
    assert any(line.startswith("difference,") and line.endswith(",0.00") for line in lines)


@pytest.fixture
def clinic_server(empty_database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A fresh organization as `make run` makes it: no demo data, the admin key `init` printed."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    key = demo_key(empty_database_url, data_dir, ("init", "--org", "clinic"))
    with running(empty_database_url, data_dir) as server:
        yield server.base_url, key


def _paths(calls: list[str], base_url: str) -> list[str]:
    """The refused calls, ids and query strings left out."""
    return [
        re.sub(r"/[0-9a-f]{32}", "/{id}", re.sub(r"\?.*", "", c.replace(base_url, "")))
        for c in _failures(calls)
    ]


def test_set_up_your_clinic_runs_as_written_on_a_fresh_organization(
    clinic_server: tuple[str, str], tmp_path: Path
) -> None:
    base_url, key = clinic_server
    work = tmp_path / "work"
    work.mkdir()
    (work / ".venv").symlink_to(BIN.parent)  # the block validates the file with pyx12
    out, calls = run_walkthrough(section_script("## Set up your clinic"), base_url, key, work)

    assert _failures(calls) == []
    lines = out.splitlines()
    assert lines[:3] == ["America/Chicago", "Northside Office", "Standard 2026"]
    assert "primary" in lines
    assert "125.00" in lines  # the visit's charge, from the fee schedule
    assert lines.count("ready") == 2  # the encounter, then its claim
    [claim_file] = list(work.glob("professional-*.x12"))
    x12 = claim_file.read_text()
    assert x12.startswith("ISA*")
    assert "NORTHSIDE FAMILY PRACTICE" in x12
    assert lines[-1] == "valid"  # pyx12, through `backoffice x12 validate`


def test_front_desk_walkthrough_runs_as_written(
    demo_server: tuple[str, str], tmp_path: Path
) -> None:
    base_url, key = demo_server
    work = tmp_path / "work"
    work.mkdir()
    out, calls = run_walkthrough(section_script("## Front desk"), base_url, key, work)

    assert _paths(calls, base_url) == ["422 POST /api/v1/patients"]  # the American date
    lines = out.splitlines()
    assert lines[0] == "possible-duplicate"
    assert lines[2] == "/birth_date"
    assert "Anna" in lines
    assert "^XA" in lines  # the ZPL label
    assert lines[-1] == "20.00"  # kept as credit


def test_coder_walkthrough_runs_as_written(demo_server: tuple[str, str], tmp_path: Path) -> None:
    base_url, key = demo_server
    work = tmp_path / "work"
    work.mkdir()
    out, calls = run_walkthrough(section_script("## Coder"), base_url, key, work)

    assert _paths(calls, base_url) == ["409 POST /api/v1/encounters/{id}/status"]
    lines = out.splitlines()
    assert lines[0].endswith(".621")  # diabetes with foot ulcer
    assert lines[1].startswith("Pneumonia")  # the typo found its way
    assert lines[2] == "True"
    assert lines[3:7] == ["icd10cm-use-additional-code", "409", "185.00", "ready"]
    assert '"code":"C78.31","valid":false' in out  # the reference block's validation


def test_remittance_walkthrough_runs_as_written(
    demo_server: tuple[str, str], empty_database_url: str, tmp_path: Path
) -> None:
    base_url, key = demo_server
    work = tmp_path / "work"
    work.mkdir()
    (work / ".venv").symlink_to(BIN.parent)  # the block runs `backoffice demo --remittances`
    env = service_env(empty_database_url, tmp_path / "data")  # the server's database
    out, calls = run_walkthrough(section_script("### Remittances"), base_url, key, work, env)

    assert _failures(calls) == []
    lines = out.splitlines()
    kinds = lines[: lines.index(next(x for x in lines if x.endswith(".x12")))]
    assert kinds == sorted(kinds, key=["999", "277CA", "835"].index)  # acknowledgements first
    assert {"999", "277CA", "835"} == set(kinds)
    assert lines[len(kinds)].startswith("835-")  # FILE_ID: the last 835 uploaded
    assert float(lines[len(kinds) + 1]) > 0  # what the payer paid on a paid claim
    assert (work / "balances.xlsx").read_bytes().startswith(b"PK")
    assert lines[-1].startswith("trace_number,payment_date,")  # the deposits CSV header
    # The key the section set before it ran the demo again was revoked: it used the new one.
    assert all(not c.startswith("401") for c in calls)


def test_auditor_walkthrough_runs_as_written(demo_server: tuple[str, str], tmp_path: Path) -> None:
    base_url, key = demo_server
    work = tmp_path / "work"
    work.mkdir()
    out, calls = run_walkthrough(section_script("## Auditor"), base_url, key, work)

    assert _paths(calls, base_url) == ["403 PATCH /api/v1/patients/{id}"]
    lines = out.splitlines()
    assert lines[0] == "403"
    assert lines[1] == "read patient admin success"
    assert lines[-2] == "update patients auditor denied"  # the auditor's own refusal
    assert lines[-1] == "query"  # reading the trail, on the trail
