"""Authentication: browser sessions, API tokens, login throttling and re-authentication.

Sessions live in ``crm_web_session``; the cookie holds a random token and the table its SHA-256.
A session is checked against its user on every use (:func:`session_actor`): a disabled user or a
changed password (``password_changed_at`` no longer equals the stamp taken at login) kills it at
once, in every process, whichever way the change was made (web, CLI, another worker). That is why
no event listener is needed to revoke sessions.

API tokens are shown once (:func:`create_token`) and stored hashed; a token acts as its user with
that user's *current* roles, and stops working when the user is disabled, the token is revoked
or it expires.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import rowcount, utcnow
from crm_core.errors import CRMError, NotFound, PermissionDenied, ValidationError
from crm_core.models import ApiToken, LoginFailure, User, WebSession
from crm_core.passwords import verify_password
from crm_core.permissions.actor import Actor, actor_of, load_actor
from crm_core.permissions.cache import access_cache, epoch_column
from crm_core.services.base import bump, record

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from crm_core.kernel import Kernel

SESSION_LIFETIME = timedelta(days=7)  # absolute
SESSION_IDLE = timedelta(hours=12)  # without a request
SEEN_EVERY = timedelta(minutes=1)  # last_seen_at / last_used_at are written at most this often
REAUTH_FOR = timedelta(minutes=5)
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_LOGIN = 5
MAX_FAILURES_PER_IP = 20  # offices share an address behind NAT
TOKEN_PREFIX = "mcrm_"
LOCALES = ("zh_CN", "en")
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"


class TooManyAttempts(CRMError):
    """Too many failed password checks for this login or address; ``retry_after`` seconds."""

    type = "too-many-attempts"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts; try again in {retry_after} seconds",
                         retry_after=retry_after)
        self.retry_after = retry_after


class LoginFailed(CRMError):
    type = "login-failed"
    status = 400


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _stamp(user: User) -> str:
    return user.password_changed_at.isoformat() if user.password_changed_at else ""


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- throttling ---------------------------------------------------------------------------
def throttle_wait(kernel: Kernel, login: str, ip: str, now: datetime | None = None) -> int:
    """Seconds to wait before ``login`` (or anyone from ``ip``) may try a password again."""
    now = now or utcnow()
    since = now - THROTTLE_WINDOW
    login = (login or "").strip().lower()[:64]
    with kernel.new_session() as s:
        waits = [0]
        for column, value, limit in ((col(LoginFailure.login), login, MAX_FAILURES_PER_LOGIN),
                                     (col(LoginFailure.ip), ip, MAX_FAILURES_PER_IP)):
            if not value:
                continue
            times = list(s.scalars(select(col(LoginFailure.at))
                                   .where(column == value, col(LoginFailure.at) > since)
                                   .order_by(col(LoginFailure.at).desc()).limit(limit)))
            if len(times) >= limit:  # the window frees up when the oldest counted failure ages out
                waits.append(int((_as_utc(times[-1]) + THROTTLE_WINDOW - now).total_seconds()) + 1)
        return max(waits)


def record_failure(kernel: Kernel, login: str, ip: str) -> None:
    now = utcnow()
    with kernel.new_session(write=True) as s, s.begin():
        s.add(LoginFailure(login=(login or "").strip().lower()[:64], ip=ip[:45], at=now))
        s.execute(delete(LoginFailure).where(col(LoginFailure.at) < now - timedelta(days=1)))


def clear_failures(kernel: Kernel, login: str) -> None:
    with kernel.new_session(write=True) as s, s.begin():
        s.execute(delete(LoginFailure).where(col(LoginFailure.login) == login.strip().lower()[:64]))


def check_password(kernel: Kernel, login: str, password: str, ip: str = "") -> User | None:
    """The active user whose password this is, or ``None`` (and the failure is counted).

    :raises TooManyAttempts: when the login or the address is throttled (nothing is checked).
    """
    wait = throttle_wait(kernel, login, ip)
    if wait:
        raise TooManyAttempts(wait)
    with kernel.new_session() as s:
        user = s.scalar(select(User).where(col(User.login) == (login or "").strip().lower()))
        ok = verify_password(user.password_hash if user else _DUMMY_HASH, password or "")
    if user is None or not ok or not user.is_active:
        record_failure(kernel, login, ip)
        return None
    return user


# --- sessions -----------------------------------------------------------------------------
@dataclass(frozen=True)
class NewSession:
    token: str  # the cookie value: shown to the browser only
    session: WebSession
    actor: Actor


def log_in(
    kernel: Kernel, login: str, password: str, *, ip: str = "", user_agent: str = "",
    replace: str | None = None,
) -> NewSession:
    """Check the password and open a new session (the one named by ``replace`` is dropped).

    :raises TooManyAttempts: throttled; :raises LoginFailed: wrong login or password.
    """
    user = check_password(kernel, login, password, ip)
    if user is None:
        raise LoginFailed("wrong login or password")
    clear_failures(kernel, user.login)
    return open_session(kernel, user, ip=ip, user_agent=user_agent, replace=replace)


def open_session(kernel: Kernel, user: User, *, ip: str = "", user_agent: str = "",
                 replace: str | None = None) -> NewSession:
    """A fresh session for ``user`` (also after they changed their own password)."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = WebSession(
        id=hash_token(token), user_id=user.id, created_at=now, last_seen_at=now,
        expires_at=now + SESSION_LIFETIME, password_stamp=_stamp(user),
        csrf_secret=secrets.token_hex(32), ip=ip[:45], user_agent=user_agent[:120],
    )
    with kernel.new_session(write=True) as s, s.begin():
        if replace:
            s.execute(delete(WebSession).where(col(WebSession.id) == hash_token(replace)))
        s.execute(delete(WebSession).where(col(WebSession.expires_at) < now))
        s.add(row)
        fresh = s.get(User, user.id)
        assert fresh is not None
        actor = load_actor(s, fresh)
    return NewSession(token, row, actor)


def session_actor(kernel: Kernel, token: str) -> tuple[WebSession, Actor] | None:
    """The live session of this cookie value and its user's actor, or ``None``.

    A session past its lifetime or idle limit, of a disabled user, or from before the user's
    last password change is deleted on sight.
    """
    if not token or len(token) > 100:
        return None
    sid = hash_token(token)
    now = utcnow()
    with kernel.new_session() as s, s.begin():
        # session, user and permissions epoch in one statement; roles, grants and teams from
        # the epoch's cache (see token_actor)
        found = s.execute(select(WebSession, User, epoch_column())
                          .outerjoin(User, col(User.id) == col(WebSession.user_id))
                          .where(col(WebSession.id) == sid)).first()
        if found is None:
            return None
        row, user, epoch = found
        dead = (user is None or not user.is_active or row.password_stamp != _stamp(user)
                or _as_utc(row.expires_at) <= now or _as_utc(row.last_seen_at) + SESSION_IDLE <= now)
        actor = (None if dead or user is None or user.id is None
                 else actor_of(user, access_cache(kernel).access(s, user.id, epoch)))
    if actor is None:
        revoke_session(kernel, token)
        return None
    if now - _as_utc(row.last_seen_at) >= SEEN_EVERY:
        with kernel.new_session(write=True) as s, s.begin():
            s.execute(update(WebSession).where(col(WebSession.id) == sid).values(last_seen_at=now))
        row.last_seen_at = now
    return row, actor


def revoke_session(kernel: Kernel, token: str) -> None:
    with kernel.new_session(write=True) as s, s.begin():
        s.execute(delete(WebSession).where(col(WebSession.id) == hash_token(token)))


def revoke_user_sessions(kernel: Kernel, user_id: int) -> int:
    """Log a user out everywhere; returns how many sessions ended."""
    with kernel.new_session(write=True) as s, s.begin():
        return rowcount(s.execute(delete(WebSession).where(col(WebSession.user_id) == user_id)))


def mark_reauthenticated(kernel: Kernel, session_id: str, action: str) -> None:
    """The session's user gave their password again: allow ``action`` once in the next minutes."""
    with kernel.new_session(write=True) as s, s.begin():
        s.execute(update(WebSession).where(col(WebSession.id) == session_id)
                  .values(reauth_action=action[:120], reauth_until=utcnow() + REAUTH_FOR))


def consume_reauthentication(kernel: Kernel, session_id: str, action: str) -> bool:
    """Use up the session's re-authentication for ``action``; ``False`` if there is none."""
    with kernel.new_session(write=True) as s, s.begin():
        used = rowcount(s.execute(
            update(WebSession)
            .where(col(WebSession.id) == session_id, col(WebSession.reauth_action) == action,
                   col(WebSession.reauth_until) > utcnow())
            .values(reauth_action=None, reauth_until=None)
        ))
    return used == 1


# --- API tokens ---------------------------------------------------------------------------
def _user_by_login(s: Session, login: str) -> User:
    user = s.scalar(select(User).where(col(User.login) == login))
    if user is None:
        raise NotFound(f"no user {login!r}")
    return user


def _may_manage_tokens_of(ctx: Ctx, user: User) -> None:
    if ctx.actor.id != user.id and not ctx.actor.can("users.manage"):
        raise PermissionDenied(f"{ctx.actor.login} may not manage the API tokens of {user.login}")


def create_token(ctx: Ctx, login: str, name: str = "", expires_days: int | None = None
                 ) -> tuple[ApiToken, str]:
    """A new API token for ``login``: (its row, the plain token — shown this once, never stored)."""
    name = (name or "").strip()
    if len(name) > 120:
        raise ValidationError("invalid token", {"name": ["at most 120 characters"]})
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise ValidationError("invalid token", {"expires_days": ["between 1 and 3650"]})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with ctx.uow() as s:
        user = _user_by_login(s, login)
        _may_manage_tokens_of(ctx, user)
        if not user.is_active or user.id is None:
            raise ValidationError("invalid token", {"login": [f"user {login!r} is disabled"]})
        row = ApiToken(user_id=user.id, name=name, token_hash=hash_token(raw), prefix=raw[:12],
                       created_at=now,
                       expires_at=now + timedelta(days=expires_days) if expires_days else None)
        s.add(row)
        s.flush()
        record(ctx, s, action="token.create", entity="api_token", entity_id=row.id,
               changes={"user": [None, login], "name": [None, name],
                        "expires_at": [None, row.expires_at]},
               summary=f"{login} {row.prefix}… {name}".strip())
    return row, raw


def list_tokens(ctx: Ctx, login: str | None = None) -> list[tuple[ApiToken, str]]:
    """(token, owner login), newest first: everyone's for user managers, else one's own."""
    with ctx.reader() as s:
        stmt = select(ApiToken, col(User.login)).join(User, col(User.id) == col(ApiToken.user_id))
        if login is not None:
            _may_manage_tokens_of(ctx, _user_by_login(s, login))
            stmt = stmt.where(col(User.login) == login)
        elif not ctx.actor.can("users.manage"):
            stmt = stmt.where(col(ApiToken.user_id) == ctx.actor.id)
        return [(t, u) for t, u in s.execute(stmt.order_by(col(ApiToken.id).desc())).all()]


def revoke_token(ctx: Ctx, token_id: int) -> ApiToken:
    with ctx.uow() as s:
        row = s.get(ApiToken, token_id)
        user = s.get(User, row.user_id) if row else None
        if row is None or user is None:
            raise NotFound(f"no API token {token_id}")
        _may_manage_tokens_of(ctx, user)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            record(ctx, s, action="token.revoke", entity="api_token", entity_id=row.id,
                   changes={"revoked_at": [None, row.revoked_at]},
                   summary=f"{user.login} {row.prefix}…")
        return row


def token_status(row: ApiToken, now: datetime | None = None) -> str:
    now = now or utcnow()
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and _as_utc(row.expires_at) <= now:
        return "expired"
    return "active"


@functools.cache
def _token_statement() -> Select[Any]:
    """Token, its user's columns and the permissions epoch — built once (building it per request
    cost a third of the lookup). The user comes as a plain row: an entity costs more to build
    than it is used."""
    return (select(ApiToken, col(User.id), col(User.login), col(User.display_name), col(User.locale),
                   col(User.timezone), col(User.is_active), epoch_column())
            .join(User, col(User.id) == col(ApiToken.user_id))
            .where(col(ApiToken.token_hash) == bindparam("token_hash")))


def token_actor(kernel: Kernel, raw: str) -> tuple[ApiToken, Actor] | None:
    """The live token of this bearer value and its user's actor, or ``None``."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    now = utcnow()
    with kernel.new_session() as s, s.begin():
        # token, user and permissions epoch in one statement: this runs on every API request;
        # the user's roles, grants and teams come from the epoch's cache (no statement on a hit)
        found = s.execute(_token_statement(), {"token_hash": hash_token(raw)}).first()
        if found is None:
            return None
        row, user_id, login, display_name, locale, timezone, is_active, epoch = found
        if token_status(row, now) != "active" or not is_active:
            return None
        access = access_cache(kernel).access(s, user_id, epoch)
        actor = Actor(id=user_id, login=login, display_name=display_name, locale=locale,
                      timezone=timezone, roles=access.roles, team_ids=access.team_ids,
                      grants=access.grants)
    if row.last_used_at is None or now - _as_utc(row.last_used_at) >= SEEN_EVERY:
        with kernel.new_session(write=True) as s, s.begin():
            s.execute(update(ApiToken).where(col(ApiToken.id) == row.id).values(last_used_at=now))
    return row, actor


def verify_actor_password(kernel: Kernel, actor: Actor, password: str, ip: str = "") -> bool:
    """Re-authentication: is this the actor's password? Failures count towards throttling.

    :raises TooManyAttempts: throttled.
    """
    user = check_password(kernel, actor.login, password, ip)
    return user is not None and user.id == actor.id


# --- preferences --------------------------------------------------------------------------
def set_own_locale(ctx: Ctx, locale: str) -> None:
    """The acting user's UI language (``zh_CN`` or ``en``)."""
    if locale not in LOCALES:
        raise ValidationError("invalid locale", {"locale": [f"one of {', '.join(LOCALES)}"]})
    if ctx.actor.id is None:
        raise PermissionDenied("only a signed-in user has a language setting")
    with ctx.uow() as s:
        user = s.get(User, ctx.actor.id)
        if user is None:
            raise NotFound("no such user")
        if user.locale == locale:
            return
        before, user.locale = user.locale, locale
        bump(user)
        record(ctx, s, action="user.locale", entity="user", entity_id=user.id,
               changes={"locale": [before, locale]}, summary=user.login)


def active_sessions(kernel: Kernel, user_id: int) -> int:
    with kernel.new_session() as s:
        return s.scalar(select(func.count()).select_from(WebSession).where(
            col(WebSession.user_id) == user_id, col(WebSession.expires_at) > utcnow())) or 0
