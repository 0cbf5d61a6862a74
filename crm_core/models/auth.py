"""Web authentication tables: server-side sessions, API tokens, failed logins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from crm_core.db import utcnow


class WebSession(SQLModel, table=True):
    """A browser session. ``id`` is the SHA-256 of the cookie value, so a leaked table can't be
    replayed. ``password_stamp`` is the user's ``password_changed_at`` at login: a session whose
    stamp no longer matches (the password changed) is dead, as is one of a disabled user."""

    __tablename__ = "crm_web_session"
    __table_args__ = (
        Index("ix_crm_web_session_user", "user_id"),
        Index("ix_crm_web_session_expires", "expires_at"),
    )

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="crm_user.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    password_stamp: str = Field(default="", max_length=40)
    reauth_action: str | None = Field(default=None, max_length=120)
    reauth_until: datetime | None = None
    csrf_secret: str = Field(max_length=64)
    ip: str = Field(default="", max_length=45)
    user_agent: str = Field(default="", max_length=120)


class ApiToken(SQLModel, table=True):
    """A bearer token for scripts and integrations; only its SHA-256 is stored."""

    __tablename__ = "crm_api_token"
    __table_args__ = (Index("ix_crm_api_token_user", "user_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="crm_user.id", ondelete="CASCADE")
    name: str = Field(default="", max_length=120)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class LoginFailure(SQLModel, table=True):
    """One failed password check (login or re-authentication), for throttling across processes."""

    __tablename__ = "crm_login_failure"
    __table_args__ = (
        Index("ix_crm_login_failure_login", "login", "at"),
        Index("ix_crm_login_failure_ip", "ip", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=64)
    ip: str = Field(default="", max_length=45)
    at: datetime = Field(default_factory=utcnow)
