"""A client's public keys: the inline JWK Set, or the one at its jwks_url, fetched with httpx
and kept for a few minutes (public data, so a per-process cache is safe)."""

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from service.errors import InvalidInput

ALGORITHMS = ("RS384", "ES384")  # SMART Backend Services: the server supports both
CACHE_SECONDS = 300
FETCH_TIMEOUT = 5.0
MAX_JWKS_BYTES = 100_000

Fetch = Callable[[str], dict[str, Any]]


class JwksInvalid(InvalidInput):
    code = "jwks-invalid"


def import_public(data: dict[str, Any]) -> KeySet:
    """A JWK Set of public RSA or EC keys; a private key is refused (it was meant to stay home)."""
    keys = data.get("keys")
    if not isinstance(keys, list) or not keys:
        raise JwksInvalid('A JWK Set is {"keys": [...]} with at least one key.')
    for key in keys:
        if not isinstance(key, dict) or key.get("kty") not in ("RSA", "EC"):
            raise JwksInvalid("Every key must be an RSA or EC JWK.")
        if "d" in key:
            raise JwksInvalid("The JWK Set holds a private key; register the public keys only.")
    try:
        return KeySet.import_key_set(data)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as exc:
        raise JwksInvalid(f"The JWK Set cannot be read: {exc}.") from exc


def fetch_with_httpx(url: str) -> dict[str, Any]:
    with httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=False) as client:
        response = client.get(url, headers={"Accept": "application/json"})
    response.raise_for_status()
    if len(response.content) > MAX_JWKS_BYTES:
        raise ValueError("JWK Set too large")
    data = json.loads(response.content)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


class RemoteKeySets:
    """jwks_url -> (fetched at, key set), refreshed after CACHE_SECONDS or on an unknown kid."""

    def __init__(self, fetch: Fetch = fetch_with_httpx) -> None:
        self.fetch = fetch
        self._cache: dict[str, tuple[float, KeySet]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, *, refresh: bool = False) -> KeySet:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None and not refresh and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        key_set = import_public(self.fetch(url))
        with self._lock:
            self._cache[url] = (now, key_set)
        return key_set
