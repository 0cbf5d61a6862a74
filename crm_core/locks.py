"""The deployment-wide scheduler lock: whoever holds it runs the one active scheduler.

* PostgreSQL: a session-level ``pg_try_advisory_lock`` on a dedicated connection kept open for
  as long as the lock is held. The server drops the lock when that session ends, so a process
  that dies (or loses its connection) frees it for a standby without any timeout to tune.
  Advisory locks are per database, so deployments sharing a server do not interfere.
* SQLite: an OS file lock (``flock``) on ``<database file>.scheduler.lock``. The kernel drops it
  when the process dies. An in-memory database gets a lock private to this process.

A ``SchedulerLock`` is not thread-safe by itself; :class:`crm_core.scheduler.SchedulerHost`
serialises the calls.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

if TYPE_CHECKING:
    from crm_core.kernel import Kernel

log = logging.getLogger("crm.scheduler")

LOCK_NAME = "crm-scheduler"


def advisory_key(name: str = LOCK_NAME) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` derived from ``name``."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def sqlite_lock_path(database_url: str) -> Path | None:
    """``<db path>.scheduler.lock`` for a file database, ``None`` for an in-memory one."""
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    if database.startswith("file:"):  # sqlite URI filename: "file:path?mode=…"
        database = database[len("file:"):].split("?", 1)[0]
    return Path(database).resolve().with_name(Path(database).name + ".scheduler.lock")


_memory_locks: dict[str, threading.Lock] = {}
_memory_locks_guard = threading.Lock()


def _memory_lock(url: str) -> threading.Lock:
    with _memory_locks_guard:
        return _memory_locks.setdefault(url, threading.Lock())


class SchedulerLock:
    """Non-blocking, process-crash-safe mutual exclusion for the scheduler of one database."""

    def __init__(self, kernel: Kernel, name: str = LOCK_NAME) -> None:
        self.kernel = kernel
        self.name = name
        self.key = advisory_key(name)
        self._held = False
        self._conn: Connection | None = None  # PostgreSQL
        self._file: FileLock | None = None  # SQLite file database
        self._mem: threading.Lock | None = None  # SQLite in-memory database
        self.path: Path | None = None  # the lock file, for a SQLite file database
        url = kernel.settings.database_url
        if kernel.settings.is_sqlite:
            path = sqlite_lock_path(url)
            if path is None:
                self._mem = _memory_lock(url)
            else:
                self.path = path
                # thread_local=False: start() and stop() may run on different threads.
                # fallback_to_soft=False: an existence lock would outlive a crashed holder.
                self._file = FileLock(
                    str(path), timeout=0, thread_local=False, preserve_lock_file=True,
                    fallback_to_soft=False,
                )

    @property
    def held(self) -> bool:
        return self._held

    def acquire(self) -> bool:
        """Try once, without waiting. ``True`` if this object now holds the lock."""
        if self._held:
            return True
        if self._file is not None:
            try:
                self._file.acquire(timeout=0)
            except Timeout:
                return False
            self._held = True
        elif self._mem is not None:
            self._held = self._mem.acquire(blocking=False)
        else:
            self._held = self._acquire_pg()
        return self._held

    def _acquire_pg(self) -> bool:
        conn = self.kernel.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
                       .scalar())
        except Exception:
            conn.invalidate()
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def check(self) -> bool:
        """Whether the lock is still held (on PostgreSQL: the lock's session is alive)."""
        if not self._held:
            return False
        if self._conn is None:
            return True  # OS and in-process locks cannot be lost while the process lives
        try:
            self._conn.execute(text("SELECT 1"))
        except Exception:
            log.warning("scheduler lock connection lost; the lock is no longer held")
            self._drop_pg(unlock=False)
            return False
        return True

    def release(self) -> None:
        """Release the lock if held; safe to call more than once."""
        if not self._held:
            return
        if self._file is not None:
            self._file.release(force=True)
        elif self._mem is not None:
            self._mem.release()
        else:
            self._drop_pg(unlock=True)
        self._held = False

    def _drop_pg(self, unlock: bool) -> None:
        conn, self._conn = self._conn, None
        self._held = False
        if conn is None:
            return
        try:
            if unlock:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        except Exception:
            log.warning("could not unlock the scheduler lock; closing its connection instead")
        finally:
            # Never hand a session that may still hold the lock back to the pool.
            conn.invalidate()
            conn.close()
