"""Receiving an uploaded file (X12, CSV) without holding it in memory (issue 14, finding 8).

The request body is read chunk by chunk into a spooled temporary file (memory up to one chunk,
then the process's temporary directory, gone when the request ends), hashed and measured as it
arrives, and refused with 413 as soon as it passes the limit of its kind. Parsers then read it
back as a stream of text chunks, and claim files are copied into their database chunk rows
(service/blobs.py) from it: at no point is the whole file one bytes or str object.
"""

import codecs
import hashlib
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import IO, Any

from service.errors import DomainError, FieldError, InvalidInput

READ_BYTES = 256 * 1024  # what a parser reads back at a time
SPOOL_BYTES = 1024 * 1024  # kept in memory below this, on the temporary disk above


@dataclass(frozen=True)
class Limits:
    """Bytes per kind of upload (settings: max_x12_upload_bytes, max_csv_upload_bytes)."""

    x12: int
    csv: int


def limits(app: Any) -> Limits:
    """The limits create_app set from the settings (a test app may set its own)."""
    found: Limits = app.state.upload_limits
    return found


class PayloadTooLarge(DomainError):
    code = "payload-too-large"
    status = 413


class UploadedFile:
    """The received bytes (in a temporary file), their size and SHA-256."""

    def __init__(self, spool: IO[bytes], size: int, sha256: str) -> None:
        self._spool = spool
        self.size = size
        self.sha256 = sha256

    def chunks(self, size: int | None = None) -> Iterator[bytes]:
        self._spool.seek(0)
        while piece := self._spool.read(size or READ_BYTES):
            yield piece

    def text_chunks(self, what: str) -> Iterator[str]:
        """The bytes decoded as UTF-8 piece by piece; a byte that is not UTF-8 is a 422 naming
        its offset (a character cut between two chunks is carried over, not an error)."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset = 0
        for piece in self.chunks():
            try:
                text = decoder.decode(piece)
            except UnicodeDecodeError as error:
                raise InvalidInput(
                    f"The {what} is not text (byte {offset + error.start} is not UTF-8)."
                ) from None
            offset += len(piece)
            if text:
                yield text
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InvalidInput(f"The {what} is not text (it ends inside a character).") from None

    def text_lines(self, what: str, *, max_chars: int) -> Iterator[str]:
        """text_chunks as lines with their endings (what csv.reader reads); a line longer than
        max_chars is a 422 naming it, never buffered further."""
        carry = ""
        number = 0
        for text in self.text_chunks(what):
            lines = (carry + text).split("\n")  # as io.StringIO splits them for csv.reader
            carry = lines.pop()
            for line in lines:
                number += 1
                yield line + "\n"
            if len(carry) > max_chars:
                which = "The header line" if number == 0 else f"Line {number + 1}"
                raise InvalidInput(
                    f"{which} of the {what} is longer than {max_chars} characters.",
                    errors=[FieldError(f"/rows/{number + 1}", f"over {max_chars} characters")],
                )
        if carry:
            yield carry

    def is_blank(self) -> bool:
        """Nothing but whitespace (read a chunk at a time)."""
        return all(not piece.strip() for piece in self.chunks())

    def close(self) -> None:
        self._spool.close()

    def __enter__(self) -> "UploadedFile":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def from_bytes(raw: bytes) -> UploadedFile:
    """An in-process upload (benchmarks, the demo): the same path as a received one."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned open
    spool.write(raw)
    return UploadedFile(spool, len(raw), hashlib.sha256(raw).hexdigest())


async def receive(body: AsyncIterator[bytes], *, limit: int, what: str) -> UploadedFile:
    """Reads a request body (`request.stream()`) into an UploadedFile; 413 once it passes
    `limit` bytes (nothing is kept), 422 for a NUL byte (refused on both databases alike)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned open
    digest = hashlib.sha256()
    size = 0
    try:
        async for piece in body:
            size += len(piece)
            if size > limit:
                raise PayloadTooLarge(f"The {what} is over the limit of {limit} bytes.")
            if b"\x00" in piece:
                raise InvalidInput("Text may not contain NUL characters (\\u0000).")
            digest.update(piece)
            spool.write(piece)
    except BaseException:
        spool.close()
        raise
    return UploadedFile(spool, size, digest.hexdigest())
