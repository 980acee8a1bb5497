"""An admin who turned two-step sign-in on before the secrets were sealed (migration
d0b597877bf3) keeps their authenticator app: the upgrade seals the stored secret under the key
the service then uses, and the downgrade opens it again."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient

from service import migrate, secret_box
from service.auth import people
from service.auth.models import AppUser
from service.db import make_engine, session_factory_for
from service.main import create_app
from service.settings import Settings, get_settings
from tests.factories import make_tenant
from tests.web.signin import NEW_PASSWORD, csrf_of, submit_sign_in

SEALING = "d0b597877bf3"
PLAIN = pyotp.random_base32()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`backoffice migrate` and `serve` with the default key settings: the key file in the data
    directory, made by whichever needs it first."""
    directory = tmp_path / "data"
    monkeypatch.delenv("BACKOFFICE_SECRETS_KEY", raising=False)
    monkeypatch.setenv("BACKOFFICE_DATA_DIR", str(directory))
    get_settings.cache_clear()
    yield directory
    get_settings.cache_clear()


def _stored(engine: sa.Engine, user_id: str) -> str:
    with engine.connect() as connection:
        value = connection.execute(
            sa.text("SELECT totp_secret FROM app_user WHERE id = :id"), {"id": user_id}
        ).scalar_one()
    assert isinstance(value, str)
    return value


def test_an_admin_enrolled_before_the_upgrade_still_signs_in(
    empty_database_url: str, data_dir: Path
) -> None:
    before = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_revision(SEALING)
    assert before is not None
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine, str(before.down_revision))
    factory = session_factory_for(engine)
    with factory() as session:
        tenant = make_tenant(session, "Upgraded Clinic")
        admin = session.get(AppUser, tenant.user_ids["admin"])
        assert admin is not None
        admin.username = "enrolled-admin"
        admin.password_hash = people.hash_password(NEW_PASSWORD)
        admin.totp_secret = PLAIN  # as the release before stored it
        admin.totp_enabled_at = datetime.now(UTC)
        session.add(admin)
        session.commit()

    migrate.upgrade(engine)
    sealed = _stored(engine, admin.id)
    assert PLAIN not in sealed
    settings = get_settings()
    assert settings.data_dir == data_dir
    assert secret_box.load(settings).open(sealed) == PLAIN  # the key file the migration made

    app = create_app(Settings(database_url=empty_database_url, data_dir=data_dir), engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        password_step = submit_sign_in(client, "enrolled-admin", NEW_PASSWORD)
        assert password_step.headers["location"] == "/app/sign-in/code"
        form = csrf_of(client.get("/app/sign-in/code").text)
        signed_in = client.post(
            "/app/sign-in/code",
            data={"csrf_token": form, "code": pyotp.TOTP(PLAIN).now()},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == "/app/"
        assert client.get("/app/").status_code == 200

    migrate.downgrade(engine, str(before.down_revision))  # a rollback: the secret as it was
    assert _stored(engine, admin.id) == PLAIN
    engine.dispose()
