"""Real service processes (and a throwaway PostgreSQL) for the fault-injection tests: loopback
only, free ports, every wait bounded."""

import os
import shutil
import signal
import socket
import subprocess  # nosec B404 - starts our own service and PostgreSQL binaries only
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
READY_SECONDS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")}
    env.update(
        BACKOFFICE_DATABASE_URL=database_url,
        BACKOFFICE_DATA_DIR=str(data_dir),
        BACKOFFICE_LOG_LEVEL="WARNING",
    )
    return env


def migrate(database_url: str, data_dir: Path) -> None:
    """`backoffice migrate`: the schema and the bundled code sets, as an operator would."""
    subprocess.run(  # nosec B603 - fixed argv
        [str(BIN / "backoffice"), "migrate"],
        env=service_env(database_url, data_dir),
        check=True,
        capture_output=True,
        timeout=300,
    )


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, open transactions die with the process."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


def start_server(
    database_url: str, data_dir: Path, *, workers: int = 1, env: dict[str, str] | None = None
) -> Server:
    port = free_port()
    process = subprocess.Popen(  # nosec B603 - fixed argv
        [str(BIN / "backoffice"), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env={**service_env(database_url, data_dir), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = Server(process, f"http://127.0.0.1:{port}")
    # Generous: under `nice` on a loaded shared machine the code search warm-up alone took
    # over two minutes (issue 25's walkthrough runs).
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"backoffice serve exited with {process.returncode}")
        try:
            if httpx.get(f"{server.base_url}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise TimeoutError(f"backoffice serve did not become ready in {READY_SECONDS} s")


@contextmanager
def running(database_url: str, data_dir: Path) -> Iterator[Server]:
    server = start_server(database_url, data_dir)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.terminate()
            try:
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


@dataclass
class Postgres:
    """A PostgreSQL server of the test's own, so that it can be stopped and started again."""

    bin: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_pg(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=120)  # nosec B603

    def start(self) -> None:
        self._as_pg(
            str(self.bin / "pg_ctl"), "-D", str(self.data / "data"), "-l",
            str(self.data / "server.log"), "-w", "-o",
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=50", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._as_pg(str(self.bin / "pg_ctl"), "-D", str(self.data / "data"), "-m", "fast", "stop")


@contextmanager
def throwaway_postgres() -> Iterator[Postgres]:
    pg_bin = _pg_bin()
    if pg_bin is None:
        raise RuntimeError("no PostgreSQL binaries (scripts/with-postgres.sh installs them)")
    data = Path(tempfile.mkdtemp(prefix="bo-fault-pg."))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    server = Postgres(pg_bin, data, free_port())
    server._as_pg(str(pg_bin / "initdb"), "-D", str(data / "data"), "-U", "postgres", "-A",
                  "trust", "-E", "UTF8", "--locale=C.UTF-8")  # fmt: skip
    server.start()
    try:
        yield server
    finally:
        with suppress(subprocess.CalledProcessError):  # already stopped
            server._as_pg(str(pg_bin / "pg_ctl"), "-D", str(data / "data"), "-m", "immediate",
                          "stop")  # fmt: skip
        shutil.rmtree(data, ignore_errors=True)
