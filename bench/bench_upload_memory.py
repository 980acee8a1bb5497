"""Upload memory benchmark (issue 14, finding 8): the server's resident memory while it takes
a ~50 MB 835 and a ~9 MB result CSV, measured from outside.

`backoffice serve` runs as a subprocess on a temporary SQLite database; its RSS is read from
/proc/PID/status (VmRSS) every 20 ms while the file is POSTed from disk. Printed: the file size,
the RSS at idle (after a warm-up request) and at its peak, peak minus idle, and the upload's
time beside the floor of parsing the same file in this process (read_835 and the balancing,
no database), so a slow machine moves both. Target: peak minus idle under 100 MB.

    .venv/bin/python bench/bench_upload_memory.py [--claims 150000]

The 835's claims match none of ours (seeding 150,000 claims would take longer than the
upload): every CLP is still read twice, balanced and posted (unmatched) with its lines and
adjustments, which is the memory path; the claim status moves are not exercised.
"""

import argparse
import http.client
import os
import socket
import subprocess  # nosec B404 - starts this repository's own server
import sys
import tempfile
import threading
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from service import uploads
from service.demo.x12_835 import (
    AdjustmentInput,
    ClaimPaymentInput,
    LinePaymentInput,
    PayeeInput,
    PayerInput,
    make_835,
)
from service.remittance.x12.balance import claim_errors, transaction_errors
from service.remittance.x12.remit835 import read_835
from service.x12.envelope import Interchange

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_MB = 100


def _835(claims: int) -> str:
    payments = [
        ClaimPaymentInput(
            patient_control_number=f"PCN{i:09d}",
            payer_claim_control_number=f"P{i:012d}",
            patient_last_name="DOE",
            patient_first_name="JANE",
            member_id=f"M{i}",
            lines=tuple(
                LinePaymentInput(
                    procedure_code="99213",
                    charge=Decimal("125.00"),
                    adjustments=(
                        AdjustmentInput("CO", "45", Decimal("25.00")),
                        AdjustmentInput("PR", "2", Decimal("1.00")),
                    ),
                    service_date=date(2026, 11, 2),
                    line_item_control_number=f"L{i}X{k}",
                )
                for k in range(3)
            ),
        )
        for i in range(claims)
    ]
    return make_835(
        Interchange(
            sender_qualifier="ZZ",
            sender_id="BENCHCH",
            receiver_qualifier="ZZ",
            receiver_id="BENCHRCV",
            interchange_control_number=7001,
            group_control_number=7001,
            application_sender_code="BENCHCH",
            application_receiver_code="BENCHRCV",
            created_at=datetime(2026, 12, 1, 8, 0),  # noqa: DTZ001 - a local wall-clock time
        ),
        payer=PayerInput(
            "ACME HEALTH PLAN", "ACME01", "1 MAIN ST", "CHICAGO", "IL", "606010001", "8005551212"
        ),
        payee=PayeeInput("BENCH CLINIC", "1999999992"),
        payment_date=date(2026, 12, 1),
        trace_number="MEMBENCH1",
        claims=payments,
    )


def _csv(rows: int) -> str:
    """A result CSV at the row limit with long values: read whole, then refused (no accession
    matches), which is the most it reads."""
    value = "9" * 1500
    body = "".join(f"ACC{i:08d},GLU,GLU,{value},mg/dL\n" for i in range(rows))
    return "accession,test_code,component_code,value,unit\n" + body


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, _rss_mb(self.pid))
            time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _request(
    port: int, method: str, path: str, key: str, body: Path | None, content_type: str
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": content_type}
    if body is None:
        connection.request(method, path, headers=headers)
    else:
        headers["Content-Length"] = str(body.stat().st_size)
        with body.open("rb") as stream:  # sent from disk, a block at a time
            connection.request(method, path, body=stream, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # nosec B603 - fixed arguments, this repository's CLI
        [str(BIN / "backoffice"), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def _floor_seconds(path: Path) -> float:
    """Parsing and balancing the same file in this process, no database, no HTTP."""
    started = time.perf_counter()
    with uploads.from_bytes(path.read_bytes()) as upload:
        _, items = read_835(upload.text_chunks("file"))
        for _, payment, claim in items:
            assert not (claim_errors(payment, claim) if claim else transaction_errors(payment))
    return time.perf_counter() - started


def measure(
    port: int, pid: int, key: str, path: str, file: Path, content_type: str
) -> dict[str, Any]:
    idle = _rss_mb(pid)
    sampler = Sampler(pid)
    sampler.start()
    started = time.perf_counter()
    status, body = _request(port, "POST", path, key, file, content_type)
    seconds = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    return {"status": status, "body": body[:300], "idle": idle, "peak": sampler.peak,
            "seconds": seconds, "mib": file.stat().st_size / 2**20}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=150_000)
    parser.add_argument("--csv-rows", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "BACKOFFICE_DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
               "BACKOFFICE_DATA_DIR": tmp, "BACKOFFICE_LOG_LEVEL": "WARNING"}  # fmt: skip
        x12 = Path(tmp) / "bench.835"
        x12.write_text(_835(args.claims))
        csv = Path(tmp) / "results.csv"
        csv.write_text(_csv(args.csv_rows))
        _cli(env, "migrate")
        key = _cli(env, "init", "--org", "Upload bench").strip().splitlines()[-1]
        port = _free_port()
        server = subprocess.Popen(  # nosec B603 - fixed arguments, this repository's CLI
            [str(BIN / "backoffice"), "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(600):
                try:
                    if _request(port, "GET", "/healthz", key, None, "")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            # Warm-up: a small upload takes every import and code path the big one takes.
            small = Path(tmp) / "small.835"
            small.write_text(_835(20).replace("MEMBENCH1", "WARMUP1").replace("7001", "7002"))
            _request(port, "POST", "/api/v1/remittance-files", key, small, "text/plain")
            upload_835 = measure(
                port, server.pid, key, "/api/v1/remittance-files", x12, "text/plain"
            )
            upload_csv = measure(port, server.pid, key, "/api/v1/result-imports", csv, "text/csv")
            runs = [("X12 835", x12, upload_835), ("result CSV", csv, upload_csv)]
        finally:
            server.terminate()
            server.wait(timeout=60)
        floor = _floor_seconds(x12)
    print("| upload | peak over idle MB | ceiling MB | ratio | file MiB | HTTP | idle RSS MB | "
          "peak RSS MB | upload s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, _, r in runs:
        over = r["peak"] - r["idle"]
        print(
            f"| {name} | {over:.0f} | {TARGET_MB} | {over / TARGET_MB:.2f} | {r['mib']:.1f} | "
            f"{r['status']} | {r['idle']:.0f} | {r['peak']:.0f} | {r['seconds']:.1f} |"
        )
    x12_run = runs[0][2]
    print()
    print("| upload | upload s | floor: parse + balance in process s | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| X12 835 | {x12_run['seconds']:.1f} | {floor:.1f} | "
          f"{x12_run['seconds'] / floor:.1f}x |")  # fmt: skip
    for name, _, r in runs:
        if r["status"] >= 300 and name == "X12 835":
            print(f"\n835 upload answered {r['status']}: {r['body']!r}", file=sys.stderr)


if __name__ == "__main__":
    main()
