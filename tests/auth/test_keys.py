"""API key format and checking (pure)."""

from service.auth import keys


def test_an_issued_key_splits_back_into_its_id_and_a_secret_matching_the_stored_hash() -> None:
    issued = keys.issue_key()
    parts = keys.split_key(issued.plaintext)
    assert parts is not None
    key_id, secret = parts
    assert key_id == issued.key_id
    assert keys.secret_matches(secret, issued.secret_hash)
    assert secret not in issued.secret_hash


def test_a_wrong_secret_does_not_match() -> None:
    issued = keys.issue_key()
    assert not keys.secret_matches("guess", issued.secret_hash)


def test_strings_that_are_not_keys_do_not_split() -> None:
    for text in ["", "bo_", "bo_short_x", "xx_0123456789abcdef_secret", "bo_0123456789abcdef_"]:
        assert keys.split_key(text) is None
