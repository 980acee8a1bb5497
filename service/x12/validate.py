"""Validate an X12 file with pyx12 (plus the 837D map and an NPI check digit scan)."""

from __future__ import annotations

import atexit
import io
import logging
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import pyx12
import pyx12.errors
import pyx12.params
import pyx12.x12n_document

from service.identifiers import npi_is_valid

# pyx12 ships no 837D map: ../shared/x12/pyx12-maps holds one (from pyx12 pull request #86).
DENTAL_MAP_FILE = "837D.5010.X224.A2.xml"
_DENTAL_MAP_ENTRY = f'<map vriic="005010X224A2" fic="HC" abbr="837D">{DENTAL_MAP_FILE}</map>'
DEFAULT_MAP_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "x12" / "pyx12-maps"

_lock = threading.RLock()  # pyx12 logs through one shared logger; validate one file at a time
_map_folders: dict[Path, Path] = {}


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """ok is pyx12's verdict with no error logged and no NPI failing its check digit."""

    ok: bool
    errors: list[str] = field(default_factory=list)
    ack: str = ""  # the 999 pyx12 wrote for the file ("" if it could not)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def validate_x12(source: str | Path, map_dir: str | Path | None = None) -> ValidationResult:
    """Validate X12 text (a str starting with ISA) or a file (a Path or a str path).

    map_dir is the folder holding the 837D map; without it (or when it is missing) only
    the maps pyx12 ships are used, so an 837D file fails with "Map not found".
    """
    if isinstance(source, str) and source.lstrip().startswith("ISA"):
        return _validate_stream(io.StringIO(source.lstrip()), map_dir)
    # pyx12 reads ASCII; anything else is replaced so that it reports a bad character.
    with open(source, encoding="ascii", errors="replace", newline="") as stream:
        return _validate_stream(stream, map_dir)


PYX12_999_WRITER_FAILURE = "Failed to create 999 response"


def _validate_stream(stream: TextIO, map_dir: str | Path | None) -> ValidationResult:
    map_path = _map_folder(Path(map_dir) if map_dir is not None else DEFAULT_MAP_DIR)
    ack = io.StringIO()
    collect = _Collect()
    logger = logging.getLogger("pyx12")
    with _lock:
        # pyx12's messages quote element values (names, member ids): keep them out of the
        # application's logs, and skip its debug logging, which is slow.
        saved_level, saved_propagate = logger.level, logger.propagate
        logger.setLevel(logging.ERROR)
        logger.propagate = False
        logger.addHandler(collect)
        try:
            valid = pyx12.x12n_document.x12n_document(
                pyx12.params.params(),
                stream,
                ack,
                None,
                map_path=str(map_path) if map_path is not None else None,
            )
        except pyx12.errors.EngineError as error:  # e.g. no map for GS08
            valid = False
            collect.messages.append(f"pyx12: {error}")
        finally:
            logger.removeHandler(collect)
            logger.setLevel(saved_level)
            logger.propagate = saved_propagate
    # pyx12 cannot write its own 999 for an 835 (its writer wants ST03, which the 835 guide
    # does not use) and logs that; it says nothing about the file being checked.
    errors = [m for m in collect.messages if not m.startswith(PYX12_999_WRITER_FAILURE)]
    stream.seek(0)
    errors += _npi_errors(stream)
    return ValidationResult(ok=valid and not errors, errors=errors, ack=ack.getvalue())


def _map_folder(map_dir: Path) -> Path | None:
    """A copy of pyx12's map folder with the 837D map added, built once per process."""
    dental_map = map_dir / DENTAL_MAP_FILE
    if not dental_map.is_file():
        return None
    key = dental_map.resolve()
    with _lock:
        folder = _map_folders.get(key)
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="pyx12-maps-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            target = folder / "map"
            shutil.copytree(
                Path(pyx12.__file__).parent / "map",
                target,
                ignore=shutil.ignore_patterns("__pycache__", "*.py"),
            )
            shutil.copyfile(dental_map, target / DENTAL_MAP_FILE)
            maps_xml = target / "maps.xml"
            content = maps_xml.read_text(encoding="utf-8")
            version_tag = '<version icvn="00501">'
            if _DENTAL_MAP_ENTRY not in content:
                content = content.replace(version_tag, f"{version_tag}\n    {_DENTAL_MAP_ENTRY}", 1)
            maps_xml.write_text(content, encoding="utf-8")
            folder = _map_folders[key] = target
        return folder


def _npi_errors(stream: TextIO) -> list[str]:
    """pyx12 does not check NPI check digits (Luhn with prefix 80840); payers reject them."""
    errors = []
    for number, elements in enumerate(_segments(stream), start=1):
        is_npi = elements[0] == "NM1" and len(elements) > 9 and elements[8] == "XX"
        if is_npi and not npi_is_valid(elements[9]):
            errors.append(
                f"Segment {number} (NM1*{elements[1]}): NPI {elements[9]} fails its check digit"
            )
    return errors


def _segments(stream: TextIO) -> Iterator[list[str]]:
    """Split an X12 stream into segments using the delimiters declared by its ISA."""
    isa = stream.read(106)
    if len(isa) < 106 or not isa.startswith("ISA"):
        return
    element, terminator = isa[3], isa[105]
    buffer = isa
    while True:
        *complete, buffer = buffer.split(terminator)
        for segment in complete:
            segment = segment.strip("\r\n")
            if segment:
                yield segment.split(element)
        chunk = stream.read(65536)
        if not chunk:
            break
        buffer += chunk
    if buffer.strip():
        yield buffer.strip().split(element)
