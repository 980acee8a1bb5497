"""API key format, hashing and constant-time checking.

A key is `bo_<key_id>_<secret>`: the key id finds the row, the secret (256 random bits) is stored
only as its SHA-256. A slow password hash adds nothing for secrets of that entropy.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "bo_"


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    secret_hash: str
    plaintext: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key() -> IssuedKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return IssuedKey(key_id, hash_secret(secret), f"{PREFIX}{key_id}_{secret}")


def split_key(plaintext: str) -> tuple[str, str] | None:
    if not plaintext.startswith(PREFIX):
        return None
    key_id, sep, secret = plaintext[len(PREFIX) :].partition("_")
    if not sep or len(key_id) != 16 or not secret:
        return None
    return key_id, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
