"""The secrets key (service/secret_box.py): where it comes from, the key file made on first start,
rotation, and refusals that never show a key."""

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from service import secret_box
from service.cli import app as cli
from service.main import create_app
from service.secret_box import SecretsKeyError, SecretUnreadable
from service.settings import Settings

PLAIN = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
A_KEY = "rhDIPSSB0vtGaI69Xs-J9Yt7-fr6qy49tX8UfuCIMvU="  # a well-formed key (tests only)


def _settings(tmp_path: Path, key: str | None = None) -> Settings:
    return Settings(
        database_url="sqlite://",
        data_dir=tmp_path,
        secrets_key=SecretStr(key) if key is not None else None,
    )


def test_the_first_start_makes_a_key_file_only_the_service_reads(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    box = secret_box.load(settings)
    path = tmp_path / "secrets.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed = box.seal(PLAIN)
    assert PLAIN not in sealed
    assert sealed != box.seal(PLAIN)  # a fresh IV each time
    # The next start reads the same key back: what was sealed opens.
    assert secret_box.load(settings).open(sealed) == PLAIN
    assert list(tmp_path.iterdir()) == [path]  # nothing left aside
    assert str(path) in box.source


def test_the_setting_wins_over_the_key_file(tmp_path: Path) -> None:
    from_file = secret_box.load(_settings(tmp_path))
    key = secret_box.new_key()
    from_setting = secret_box.load(_settings(tmp_path, key))
    assert from_setting.source == "BACKOFFICE_SECRETS_KEY"
    with pytest.raises(SecretUnreadable):
        from_setting.open(from_file.seal(PLAIN))
    assert secret_box.box_of(key, "test").open(from_setting.seal(PLAIN)) == PLAIN


def test_a_key_file_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "backoffice.key"
    key = secret_box.new_key()
    path.parent.mkdir()
    path.write_text(key + "\n")
    path.chmod(0o600)
    settings = _settings(tmp_path).model_copy(update={"secrets_key_file": path})
    assert secret_box.box_of(key, "test").open(secret_box.load(settings).seal(PLAIN)) == PLAIN
    assert not (tmp_path / "secrets.key").exists()


@pytest.mark.parametrize("key", ["", "not-a-key", "c2hvcnQ=", A_KEY + ",oops-this-is-no-key"])
def test_a_malformed_key_stops_the_start_without_showing_it(tmp_path: Path, key: str) -> None:
    with pytest.raises(SecretsKeyError) as refused:
        create_app(_settings(tmp_path, key))
    message = str(refused.value)
    assert "BACKOFFICE_SECRETS_KEY" in message
    for part in key.split(","):
        if part:
            assert part not in message


def test_an_empty_key_file_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "secrets.key").write_text("\n")
    with pytest.raises(SecretsKeyError, match="holds no key"):
        secret_box.load(_settings(tmp_path))


def test_rotation_opens_with_every_key_and_reseals_under_the_first() -> None:
    old, new = secret_box.new_key(), secret_box.new_key()
    sealed_old = secret_box.box_of(old, "old").seal(PLAIN)
    both = secret_box.box_of(f"{new}, {old}", "both")
    assert both.open(sealed_old) == PLAIN
    resealed = both.reseal(sealed_old)
    assert secret_box.box_of(new, "new").open(resealed) == PLAIN
    with pytest.raises(SecretUnreadable):
        secret_box.box_of(old, "old").open(resealed)


def test_a_wrong_key_or_an_altered_secret_is_refused_without_a_key_in_sight() -> None:
    key = secret_box.new_key()
    box = secret_box.box_of(key, "the test key")
    sealed = box.seal(PLAIN)
    other = secret_box.box_of(secret_box.new_key(), "another key")
    for refused_by, value in (
        (other, sealed),
        (box, sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")),
        (box, PLAIN),  # a secret stored before sealing, never passed as sealed
    ):
        with pytest.raises(SecretUnreadable) as refused:
            refused_by.open(value)
        assert key not in str(refused.value)
        with pytest.raises(SecretUnreadable):
            refused_by.reseal(value)
    assert key not in repr(box)
    assert key not in repr(_settings(Path("."), key))


def test_backoffice_secrets_key_prints_a_new_key_each_time() -> None:
    runner = CliRunner()
    printed = [runner.invoke(cli, ["secrets-key"]) for _ in range(2)]
    assert [p.exit_code for p in printed] == [0, 0]
    keys = [p.output.strip() for p in printed]
    assert keys[0] != keys[1]
    for key in keys:
        box = secret_box.box_of(key, "printed")
        assert box.open(box.seal(PLAIN)) == PLAIN
