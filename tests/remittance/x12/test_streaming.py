"""Reading an X12 file in pieces (issue 14, finding 8): the same segments, problems and claims
whatever the cut, a runaway segment refused, and an 835 read one claim at a time."""

from __future__ import annotations

import pytest

from service import uploads
from service.errors import InvalidInput
from service.remittance.x12.remit835 import parse_835, read_835
from service.x12.tokens import MAX_SEGMENT_CHARS, X12ParseError, read_segments
from tests.remittance.x12.helpers import paid_claim, sample_835


def _cut(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _ids(pieces: list[str]) -> list[tuple[int, tuple[str, ...]]]:
    _, isa, segments = read_segments(pieces)
    return [(isa.number, isa.elements)] + [(s.number, s.elements) for s in segments]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 105, 106, 107, 500])
def test_segments_are_the_same_whatever_the_pieces(size: int) -> None:
    text = sample_835(claims=[paid_claim(1), paid_claim(2)]).replace("~", "~\r\n")
    assert _ids(_cut(text, size)) == _ids([text])


@pytest.mark.parametrize("size", [1, 5, 64])
def test_a_problem_names_the_same_segment_whatever_the_pieces(size: int) -> None:
    text = sample_835().replace("~CLP*", "~~CLP*", 1)
    with pytest.raises(X12ParseError) as whole:
        parse_835(text)
    with pytest.raises(X12ParseError) as cut:
        parse_835(_cut(text, size))
    assert str(cut.value) == str(whole.value)
    assert "empty segment" in str(cut.value)


def test_a_segment_with_no_terminator_in_sight_is_refused_not_buffered() -> None:
    text = sample_835()
    head, _, _ = text.partition("BPR")
    runaway = head + "BPR*" + "1" * (MAX_SEGMENT_CHARS + 10)
    with pytest.raises(X12ParseError) as caught:
        list(read_segments(_cut(runaway, 4096))[2])
    assert caught.value.segment_id == "BPR"
    assert "longer than" in caught.value.message


def test_an_835_hands_out_each_claim_once_read_and_the_payment_after_its_se() -> None:
    text = sample_835(claims=[paid_claim(1), paid_claim(2), paid_claim(3)])
    _, items = read_835(_cut(text, 50))
    seen = [(index, claim.patient_control_number if claim else None) for index, _, claim in items]
    whole = parse_835(text)
    numbers = [c.patient_control_number for c in whole.claims]
    assert seen == [(0, n) for n in numbers] + [(0, None)]
    payment = whole.payments[0]
    assert payment.claim_count == 3
    assert payment.claims_paid == sum(c.paid for c in whole.claims)


def test_utf8_cut_between_two_chunks_is_read_and_a_bad_byte_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with uploads.from_bytes("é".encode() * 10) as upload:
        assert "".join(upload.text_chunks("file")) == "é" * 10
        monkeypatch.setattr(uploads, "READ_BYTES", 3)  # every other character cut in two
        assert "".join(upload.text_chunks("file")) == "é" * 10
    with uploads.from_bytes(b"abcdef\xffgh") as bad, pytest.raises(InvalidInput, match="byte 6"):
        "".join(bad.text_chunks("file"))
