"""admin two-step secrets sealed at rest: app_user.totp_secret widened to 255 characters and each stored secret sealed under the secrets key (service/secret_box.py)

Revision ID: d0b597877bf3
Revises: 3b9d4f1a7e52
Create Date: 2026-12-07 03:30:00.000000

Enrolled admins keep their authenticator apps: their secrets are sealed, not replaced. The key
is the one the service will use (BACKOFFICE_SECRETS_KEY, or the key file, created here when the
database holds a secret and the file is missing), so `backoffice migrate` must see the same key
settings as `backoffice serve`. The downgrade opens them again (it needs the same key).
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op
from service import secret_box
from service.settings import get_settings


revision: str = 'd0b597877bf3'
down_revision: str | None = '4c1e7a9d2b63'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _each_secret(change: Callable[[secret_box.SecretBox, str], str]) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text('SELECT id, totp_secret FROM app_user WHERE totp_secret IS NOT NULL')
    ).all()
    if not rows:
        return  # no key needed (a new database, or nobody enrolled)
    box = secret_box.load(get_settings())
    for user_id, value in rows:
        bind.execute(
            sa.text('UPDATE app_user SET totp_secret = :value WHERE id = :id'),
            {'value': change(box, value), 'id': user_id},
        )


def _secret_length(old: int, new: int) -> None:
    """On SQLite `app_user` cannot be rebuilt (the rows that reference it), and a length is not
    enforced there anyway, so the stored definition is edited in place (sqlite.org's procedure,
    as in 2026-12-06_remittances_that_post_right.py): no row is rewritten."""
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.alter_column(
            'app_user',
            'totp_secret',
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=old),
            type_=sqlmodel.sql.sqltypes.AutoString(length=new),
            existing_nullable=True,
        )
        return
    version = bind.execute(sa.text('PRAGMA schema_version')).scalar_one()
    bind.execute(sa.text('PRAGMA writable_schema = ON'))
    changed = bind.execute(
        sa.text(
            "UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
            "WHERE type = 'table' AND name = 'app_user' AND instr(sql, :old) > 0"
        ),
        {'old': f'totp_secret VARCHAR({old})', 'new': f'totp_secret VARCHAR({new})'},
    ).rowcount
    bind.execute(sa.text(f'PRAGMA schema_version = {int(version) + 1}'))
    bind.execute(sa.text('PRAGMA writable_schema = OFF'))
    assert changed == 1, "app_user's totp_secret column was not where expected"


def upgrade() -> None:
    _secret_length(64, 255)
    _each_secret(lambda box, plain: box.seal(plain))


def downgrade() -> None:
    _each_secret(lambda box, sealed: box.open(sealed))
    _secret_length(255, 64)
