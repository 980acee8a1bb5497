"""pyx12 as the independent judge of the files the service writes."""

from pathlib import Path

import pytest

from service.settings import REPO_ROOT
from service.x12.validate import validate_x12

SHARED_MAPS = REPO_ROOT.parent / "shared" / "x12" / "pyx12-maps"


def assert_valid_837(text: str, *, dental: bool = False) -> None:
    if dental and not SHARED_MAPS.is_dir():
        pytest.skip("../shared/x12/pyx12-maps is absent: no 837D map for pyx12 here")
    result = validate_x12(text, SHARED_MAPS if dental else None)
    assert result.ok, result.errors
    assert result.errors == []


def segments(text: str) -> list[list[str]]:
    return [s.split("*") for s in text.strip().split("~") if s.strip()]


__all__ = ["Path", "assert_valid_837", "segments"]
