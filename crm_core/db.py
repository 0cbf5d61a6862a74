"""Engine creation and the few dialect differences the kernel needs, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Result, event, func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import create_engine


def utcnow() -> datetime:
    """Aware UTC timestamp: what every ``*_at`` column stores (and returns) on both engines."""
    return datetime.now(UTC)


# SQLite connections a pool keeps open. Starlette runs sync endpoints in a thread pool of up to
# 40 threads; SQLAlchemy's default (5 kept, 10 overflow) closes every connection beyond the
# fifth when it is returned, so a busy server opened a new connection (≈ 0.7 ms of CPU with its
# pragmas) for most requests and queued beyond 15. Connections are only opened when needed.
SQLITE_POOL_SIZE = 40
SQLITE_POOL_OVERFLOW = 20


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": 30}
        if ":memory:" not in url and url.rstrip("/") != "sqlite:" and "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
            kwargs.setdefault("max_overflow", SQLITE_POOL_OVERFLOW)
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy control transactions (BEGIN on first statement).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the write lock up front (IMMEDIATE), so two writers queue on
            # busy_timeout instead of failing on lock upgrade; readers stay deferred so WAL
            # lets them run alongside a writer.
            if conn.get_execution_options().get("crm_write"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def writer(engine: Engine) -> Engine:
    """The same pool, flagged so a transaction on SQLite starts with the write lock."""
    return engine.execution_options(crm_write=True)


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "sqlite"


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an ``UPDATE``/``DELETE`` run through ``Session.execute`` (typed as a plain
    ``Result``, but a ``CursorResult`` at run time)."""
    return cast("CursorResult[Any]", result).rowcount


def contains_ci(column: Any, text: str) -> Any:
    """Case-insensitive substring match (LIKE on SQLite is already case-insensitive for ASCII)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped.lower()}%", escape="\\")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def dialect_insert(session: Session, table: Any) -> Any:
    """``INSERT`` with ``on_conflict_do_*`` and ``returning`` for the session's dialect."""
    if is_sqlite(session):
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    return pg_insert(table)
