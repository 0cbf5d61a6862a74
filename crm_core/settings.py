"""Settings: ``CRM_*`` environment variables over an optional TOML file over defaults.

Secrets (session key, field-encryption key) live in a separate file outside the database
(``CRM_SECRETS_FILE``, default ``.crm-secrets.json`` next to the config) created by ``crm init``.
They are never part of ``repr()`` or logs.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from crm_core.errors import ConfigError

DEFAULT_DB_URL = "sqlite:///./crm.db"


@dataclass(frozen=True)
class Secrets:
    session_key: str = field(repr=False)
    field_key: bytes = field(repr=False)  # 32 bytes: AES-256-GCM key + HMAC key derivation

    def __repr__(self) -> str:  # never leak into logs
        return "Secrets(<hidden>)"

    @classmethod
    def generate(cls) -> Secrets:
        return cls(session_key=secrets.token_urlsafe(48), field_key=secrets.token_bytes(32))

    def to_json(self) -> str:
        return json.dumps(
            {
                "session_key": self.session_key,
                "field_key": base64.b64encode(self.field_key).decode(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Secrets:
        try:
            data = json.loads(text)
            key = base64.b64decode(data["field_key"])
        except (ValueError, KeyError) as exc:
            raise ConfigError(f"secrets file is unreadable: {exc.__class__.__name__}") from None
        if len(key) != 32:
            raise ConfigError("secrets file: field_key must be 32 bytes")
        return cls(session_key=data["session_key"], field_key=key)


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DB_URL
    secrets_file: str = ".crm-secrets.json"
    default_locale: str = "zh_CN"
    default_timezone: str = "Asia/Shanghai"
    default_currency: str = "CNY"
    strict_plugins: bool = False  # raise instead of marking a broken plugin failed
    autoload_plugins: bool = True  # discover plugins through the ``crm.plugins`` entry points
    plugin_refresh_seconds: float = 2.0  # how often a process re-reads enabled plugins
    scheduler_enabled: bool = True
    trace_hooks: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    instance_dir: str = "instance"
    # outgoing email (crm_core.mail); no host = email switched off
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = ""
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = False
    smtp_ssl: bool = False  # implicit TLS (usually port 465); excludes smtp_starttls
    smtp_timeout: float = 10.0
    mail_base_url: str = ""  # the site's address, for links in emails (https://crm.example.com)
    _secrets: Secrets | None = field(default=None, repr=False, compare=False)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    # -- secrets -------------------------------------------------------------------------
    def load_secrets(self, create: bool = False) -> Secrets:
        if self._secrets is not None:
            return self._secrets
        path = Path(self.secrets_file)
        if not path.exists():
            if not create:
                raise ConfigError(
                    f"secrets file {path} not found: run `crm init` first "
                    "(or set CRM_SECRETS_FILE)"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            s = Secrets.generate()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(s.to_json())
            return s
        return Secrets.from_json(path.read_text())

    def with_secrets(self, s: Secrets) -> Settings:
        return replace(self, _secrets=s)


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, raw: Any, target: Any) -> Any:
    if target is bool or target == "bool":
        if isinstance(raw, bool):
            return raw
        s = str(raw).strip().lower()
        if s in _BOOL_TRUE:
            return True
        if s in _BOOL_FALSE:
            return False
        raise ConfigError(f"setting {name}: expected true/false, got {raw!r}")
    if target in (int, "int"):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"setting {name}: expected an integer, got {raw!r}") from None
    if target in (float, "float"):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"setting {name}: expected a number, got {raw!r}") from None
    return str(raw)


def load_settings(config_file: str | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build settings: defaults < config file (``CRM_CONFIG`` or ./crm.toml) < ``CRM_*`` env."""
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    known = {f.name: f for f in fields(Settings) if not f.name.startswith("_")}
    path = config_file or env.get("CRM_CONFIG") or ("crm.toml" if Path("crm.toml").exists() else None)
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from None
        section = data.get("crm", data)
        for key, raw in section.items():
            if key not in known:
                raise ConfigError(f"config file {path}: unknown setting {key!r}")
            values[key] = _coerce(key, raw, known[key].type)
    for key, f in known.items():
        env_key = "CRM_" + key.upper()
        if env_key in env:
            values[key] = _coerce(env_key, env[env_key], f.type)
    s = Settings(**values)
    if not (s.database_url.startswith("sqlite") or s.database_url.startswith("postgresql")):
        raise ConfigError(
            f"CRM_DATABASE_URL must be sqlite:/// or postgresql+psycopg://, got "
            f"{s.database_url.split('://')[0]}://…"
        )
    return s
