"""A remittance file kept between its dry run and its posting, so that the clerk who checked
what it would post posts it with one button instead of choosing the file again.

The bytes are kept on the server's disk under the organization and their SHA-256; the page
carries only the digest. Posting reads the bytes back and hashes them again: a digest that
names nothing of the organization's, or bytes changed since, is refused, so a form can post
only what its own organization dry-ran. Posting removes the file; one left over (a dry run
never posted) is removed after a day by the next dry run. Everything the API checks (the
duplicate-file rule included) still happens at posting: this is only a hand-over."""

import hashlib
import os
import re
import time
from pathlib import Path

from service import uploads
from service.errors import InvalidInput
from service.uploads import UploadedFile

KEPT_SECONDS = 24 * 3600
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_ORG = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


class StagedFileGone(InvalidInput):
    code = "staged-file-gone"


def _path(root: Path, organization_id: str, digest: str) -> Path:
    if not _DIGEST.match(digest) or not _ORG.match(organization_id):
        raise StagedFileGone("The dry run's file is not known here: choose the file again.")
    return root / organization_id / digest


def stage(root: Path, organization_id: str, upload: UploadedFile) -> str:
    """Keeps the upload's bytes (readable by this service's user only); returns its digest."""
    path = _path(root, organization_id, upload.sha256)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _prune(path.parent)
    partial = path.with_suffix(f".{os.getpid()}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        for piece in upload.chunks():
            out.write(piece)
    partial.replace(path)  # atomic: a concurrent post reads the whole file or none
    return upload.sha256


def open_staged(root: Path, organization_id: str, digest: str) -> UploadedFile:
    """The staged bytes as an upload, checked against their digest."""
    path = _path(root, organization_id, digest)
    try:
        spool = path.open("rb")  # closed with the upload
    except FileNotFoundError:
        raise StagedFileGone(
            "The dry run's file is no longer kept (posted already, or over a day old): "
            "choose the file again."
        ) from None
    hashed, size = hashlib.sha256(), 0
    while piece := spool.read(uploads.READ_BYTES):
        hashed.update(piece)
        size += len(piece)
    if hashed.hexdigest() != digest:
        spool.close()
        raise StagedFileGone("The dry run's file changed since: choose the file again.")
    return UploadedFile(spool, size, digest)


def discard(root: Path, organization_id: str, digest: str) -> None:
    _path(root, organization_id, digest).unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    cutoff = time.time() - KEPT_SECONDS
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:
            continue  # another process pruned it first
