from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from crm_core.errors import ConfigError
from crm_core.settings import DEFAULT_DB_URL, Settings, load_settings


def test_defaults_are_sqlite_file() -> None:
    s = load_settings(env={})
    assert s.database_url == DEFAULT_DB_URL == "sqlite:///./crm.db"
    assert s.is_sqlite and s.default_locale == "zh_CN" and s.default_timezone == "Asia/Shanghai"


def test_env_overrides_file(tmp_path: Path) -> None:
    cfg = tmp_path / "crm.toml"
    cfg.write_text('[crm]\nport = 9000\ndefault_locale = "en"\nstrict_plugins = true\n')
    s = load_settings(str(cfg), env={"CRM_PORT": "9100",
                                     "CRM_DATABASE_URL": "postgresql+psycopg://u@h/db"})
    assert s.port == 9100 and s.default_locale == "en" and s.strict_plugins is True
    assert not s.is_sqlite


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CRM_PORT": "eighty"}, "CRM_PORT: expected an integer"),
        ({"CRM_STRICT_PLUGINS": "maybe"}, "expected true/false"),
        ({"CRM_DATABASE_URL": "mysql://x"}, "CRM_DATABASE_URL must be"),
    ],
)
def test_bad_values_are_clear(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)


def test_unknown_key_in_file(tmp_path: Path) -> None:
    cfg = tmp_path / "crm.toml"
    cfg.write_text("[crm]\ndatabse_url = 'x'\n")
    with pytest.raises(ConfigError, match="unknown setting 'databse_url'"):
        load_settings(str(cfg), env={})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(str(tmp_path / "nope.toml"), env={})


def test_secrets_created_once_private_and_never_printed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "secrets.json"
    s = Settings(secrets_file=str(path))
    with pytest.raises(ConfigError, match="crm init"):
        s.load_secrets()
    created = s.load_secrets(create=True)
    assert path.stat().st_mode & 0o777 == 0o600
    again = Settings(secrets_file=str(path)).load_secrets()
    assert again.field_key == created.field_key and again.session_key == created.session_key
    key_text = json.loads(path.read_text())["field_key"]
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("crm").info("settings %r secrets %r %s", s.with_secrets(again), again, again)
    assert created.session_key not in caplog.text and key_text not in caplog.text
    assert "hidden" in repr(again)


def test_corrupt_secrets_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="unreadable"):
        Settings(secrets_file=str(path)).load_secrets()
