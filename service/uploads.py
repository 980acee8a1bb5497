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

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

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

    def __init__(
        self, spool: IO[bytes], size: int, sha256: str, *, filename: str | None = None
    ) -> None:
        self._spool = spool
        self.size = size
        self.sha256 = sha256
        self.filename = filename  # as a form sent it
        # A form's short text fields beside the file (a web page's CSRF token), FORM_FIELD_BYTES
        # each at most; the API ignores them.
        self.form_fields: dict[str, str] = {}

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


MULTIPART = "multipart/form-data"
FORM_FIELD = "file"  # the form field a browser or `curl -F file=@x.835` sends the file in
_FORM_OVERHEAD = 64 * 1024  # boundaries and part headers a form adds around the file
# The OpenAPI request body of a form upload: /docs shows a file picker for it.
FORM_BODY = {
    MULTIPART: {
        "schema": {
            "type": "object",
            "properties": {FORM_FIELD: {"type": "string", "format": "binary"}},
            "required": [FORM_FIELD],
        }
    }
}


# A raw body's OpenAPI schema: a file (format binary) too, so /docs offers a file picker rather
# than a text box prefilled with "string" (issue 24).
RAW_FILE = {"schema": {"type": "string", "format": "binary"}}


def media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


async def receive(
    body: AsyncIterator[bytes], *, content_type: str, limit: int, what: str
) -> UploadedFile:
    """Reads a request body (`request.stream()`) into an UploadedFile: the body itself, or the
    `file` field of a multipart/form-data body (parsed as it streams). 413 once the file passes
    `limit` bytes (nothing is kept), 422 for a NUL byte (refused on both databases alike)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned open
    sink = _Sink(spool, limit, what)
    try:
        fields: dict[str, str] = {}
        if media_type(content_type) == MULTIPART:
            filename = await _receive_form(body, content_type, sink, limit, fields)
        else:
            filename = None
            async for piece in body:
                sink.write(piece)
    except BaseException:
        spool.close()
        raise
    received = UploadedFile(spool, sink.size, sink.digest.hexdigest(), filename=filename)
    received.form_fields = fields
    return received


class _Sink:
    """Counts, checks, hashes and spools the file's bytes as they come."""

    def __init__(self, spool: IO[bytes], limit: int, what: str) -> None:
        self.spool, self.limit, self.what = spool, limit, what
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.limit:
            raise PayloadTooLarge(f"The {self.what} is over the limit of {self.limit} bytes.")
        if b"\x00" in piece:
            raise InvalidInput("Text may not contain NUL characters (\\u0000).")
        self.digest.update(piece)
        self.spool.write(piece)


FORM_FIELD_BYTES = 256  # a text field beside the file: longer ones are cut (not buffered)


async def _receive_form(
    body: AsyncIterator[bytes],
    content_type: str,
    sink: _Sink,
    limit: int,
    fields: dict[str, str],
) -> str | None:
    """The first `file` field of a form into sink, its other fields (the first
    FORM_FIELD_BYTES of each) into `fields`; the file's filename."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidInput("A multipart/form-data body needs a boundary in its Content-Type.")
    part: dict[str, Any] = {}
    found: dict[str, str | None] = {}
    texts: dict[str, bytearray] = {}

    def on_part_begin() -> None:
        part.clear()
        part.update(headers={}, field=b"", value=b"", is_file=False)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part["value"] += data[start:end]

    def on_header_end() -> None:
        part["headers"][part["field"].lower()] = part["value"]
        part["field"], part["value"] = b"", b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(part["headers"].get(b"content-disposition", b""))
        name = disposition.get(b"name", b"")
        if name == FORM_FIELD.encode() and "file" not in found:
            part["is_file"] = True
            filename = disposition.get(b"filename")
            found["file"] = filename.decode("utf-8", "replace") if filename else None
        elif name and b"filename" not in disposition and len(texts) < 20:
            part["text"] = texts.setdefault(name.decode("utf-8", "replace"), bytearray())

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part["is_file"]:
            sink.write(data[start:end])
        elif (text := part.get("text")) is not None:
            text += data[start : min(end, start + FORM_FIELD_BYTES - len(text))]

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    received = 0
    async for chunk in body:
        received += len(chunk)
        if received > limit + _FORM_OVERHEAD:  # other fields count too
            raise PayloadTooLarge(f"The {sink.what} is over the limit of {limit} bytes.")
        try:
            parser.write(chunk)
        except MultipartParseError as error:
            raise InvalidInput(f"The multipart/form-data body is malformed: {error}") from None
    parser.finalize()
    if "file" not in found:
        raise InvalidInput(f'Send the file in the form field "{FORM_FIELD}".')
    fields.update((name, bytes(value).decode("utf-8", "replace")) for name, value in texts.items())
    return found["file"]
