"""Process settings, read once from the environment (prefix BACKOFFICE_)."""

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def normalize_database_url(url: str) -> str:
    """SQLAlchemy 2 refuses `postgres://`; platforms still hand it out. Use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BACKOFFICE_", extra="ignore")

    # BACKOFFICE_DATABASE_URL wins over DATABASE_URL (container platforms set the latter).
    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("BACKOFFICE_DATABASE_URL", "DATABASE_URL"),
    )
    data_dir: Path = REPO_ROOT / "var"
    problem_type_base: str = "https://backoffice.example/problems"
    max_body_bytes: int = 5 * 1024 * 1024
    # Raw uploads (X12 999/277CA/835, result CSVs): a 10,000-claim 835 is well over 5 MiB.
    # The ceiling the request guard applies before routing; each kind has its own limit below.
    max_upload_bytes: int = 100 * 1024 * 1024
    # Per kind, enforced while the body streams in (413, nothing kept). A 150,000-claim 835 is
    # about 46 MiB; a result CSV is at most 5,000 rows of a few short columns.
    max_x12_upload_bytes: int = 100 * 1024 * 1024
    max_csv_upload_bytes: int = 10 * 1024 * 1024
    # Posting an 835: a file up to this size keeps its parsed claims (about 17 times its bytes)
    # from the check to posting; a larger one is read a second time, as a stream. Claims are
    # then posted this many at a time, one page in memory. Lower both where memory is tight.
    remittance_keep_claims_bytes: int = Field(default=4 * 1024 * 1024, ge=0)
    remittance_claims_per_page: int = Field(default=2000, ge=1)
    log_level: str = "INFO"
    # Failed authentications before a key id or a client address is refused (429) for a while.
    login_failures_per_key: int = 10
    login_failures_per_address: int = 100
    login_failure_window_seconds: int = 300
    login_block_seconds: int = 300
    # Webhook and jwks_url calls to loopback/private addresses (a closed lab network; tests).
    allow_private_webhook_addresses: bool = False
    # The outbox delivery worker inside each `backoffice serve` process (issue 23).
    outbox_worker: bool = True
    outbox_poll_seconds: float = 1.0
    # Web pages (/app): a person's session ends after this many idle minutes (issue 26).
    web_idle_minutes: float = 15
    # The session cookie is Secure on HTTPS requests; force it behind a TLS-terminating proxy
    # that forwards plain HTTP.
    web_cookie_secure: bool = False
    # Secrets kept encrypted in the database (admins' two-step secrets; service/secret_box.py):
    # a Fernet key (`backoffice secrets-key` prints one), or several separated by commas while
    # rotating (the first seals, all open). Unset: the key file, by default <data_dir>/secrets.key,
    # created (mode 0600) on first start. Set the key where `migrate` and `serve` do not share a
    # disk (containers); back it up apart from the database.
    secrets_key: SecretStr | None = None
    secrets_key_file: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _normalize(cls, value: str) -> str:
        return normalize_database_url(value.strip())

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'backoffice.sqlite3'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
