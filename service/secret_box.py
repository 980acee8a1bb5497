"""Secrets the service keeps in its database encrypted (issue 26: the admins' two-step secrets),
with Fernet from `cryptography` (AES-128-CBC and HMAC-SHA256: tampering is detected) under a key
that is not in the database, so a copy or backup of the database alone does not give them away.

The key comes from BACKOFFICE_SECRETS_KEY, or when that is unset from a key file (default
`<data dir>/secrets.key`), which the first start creates (mode 0600). Several keys, separated by
commas (or one per line in the file), rotate: the first seals, every one opens, and a secret is
sealed again under the first when it is next used. A malformed key stops the start; a key that
does not open what is stored is reported at start and refused at sign-in (never skipped). No
message here ever holds a key."""

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from service.settings import Settings

log = logging.getLogger(__name__)

ENV_NAME = "BACKOFFICE_SECRETS_KEY"
KEY_FILE_NAME = "secrets.key"
MAKE_ONE = "`backoffice secrets-key` prints a new one"


class SecretsKeyError(RuntimeError):
    """The configured key cannot be used: the service does not start."""


class SecretUnreadable(Exception):
    """A stored secret the key does not open (sealed under another key, or altered)."""


@dataclass(frozen=True)
class SecretBox:
    """Seals and opens short secrets; `source` says where the key came from (for messages)."""

    source: str
    _fernet: MultiFernet = field(repr=False)

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, UnicodeError):
            raise SecretUnreadable(
                f"The secrets key from {self.source} does not open a stored secret."
            ) from None

    def reseal(self, sealed: str) -> str:
        """The secret under the first key (rotation); SecretUnreadable as `open`."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(
                f"The secrets key from {self.source} does not open a stored secret."
            ) from None


def new_key() -> str:
    return Fernet.generate_key().decode()


def box_of(text: str, source: str) -> SecretBox:
    keys = [k for k in re.split(r"[,\s]+", text.strip()) if k]
    if not keys:
        raise SecretsKeyError(f"{source} holds no key ({MAKE_ONE}).")
    fernets = []
    for number, key in enumerate(keys, 1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):  # the key itself is never part of the message
            raise SecretsKeyError(
                f"{source}: key {number} of {len(keys)} is not a Fernet key (32 bytes in "
                f"url-safe base64, 44 characters; {MAKE_ONE})."
            ) from None
    return SecretBox(source, MultiFernet(fernets))


def key_file(settings: Settings) -> Path:
    return settings.secrets_key_file or settings.data_dir / KEY_FILE_NAME


def _create_key_file(path: Path) -> None:
    """A new key, readable by the service's user only. Written aside and linked into place, so
    that processes starting together agree on one key and none reads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(new_key() + "\n")
        os.link(aside, path)
        log.warning(
            "created the secrets key file %s (mode 0600): back it up apart from the database; "
            "without it the admins' two-step sign-in cannot be checked",
            path,
        )
    except FileExistsError:  # another process made it first: use theirs
        pass
    finally:
        aside.unlink(missing_ok=True)


def load(settings: Settings) -> SecretBox:
    """The box for the configured key: BACKOFFICE_SECRETS_KEY, else the key file (made on
    first start). SecretsKeyError when that key cannot be used."""
    if settings.secrets_key is not None:
        return box_of(settings.secrets_key.get_secret_value(), ENV_NAME)
    path = key_file(settings)
    if not path.exists():
        _create_key_file(path)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeError) as error:
        raise SecretsKeyError(
            f"cannot read the secrets key file {path} ({type(error).__name__})."
        ) from None
    if path.stat().st_mode & 0o077:
        log.warning("the secrets key file %s is readable by other users: chmod 600 it", path)
    return box_of(text, f"the key file {path}")
