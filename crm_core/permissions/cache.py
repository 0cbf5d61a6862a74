"""Each user's roles, grants and teams, cached per *permissions epoch*.

``crm_meta['permissions_epoch']`` is changed by database triggers (migration ``core_0005``) in the
same transaction as any change to roles, grants, role assignments, teams or team memberships —
whichever process or tool makes it. A caller reads the epoch in the same query as the user (the
API token lookup does), and asks for the user's :class:`~crm_core.permissions.actor.Access` under
that epoch: a hit needs no statement, a miss loads it (after the epoch was read, so what is
stored is never older than its epoch). A change therefore shows on the very next request, in
every process; entries of older epochs are simply never asked for again and age out of the
bounded LRU. Without the row (a schema before ``core_0005``) nothing is cached.

What must stay immediate per request — token revoked or expired, user disabled, password
changed — is not cached: it is checked on the user and token rows read each time.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.sql.elements import Label
from sqlmodel import col

from crm_core.models import KernelMeta
from crm_core.permissions.actor import Access, load_access

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from crm_core.kernel import Kernel

EPOCH_KEY = "permissions_epoch"
MAX_ENTRIES = 2048


def epoch_column() -> Label[str]:
    """``(SELECT value FROM crm_meta WHERE key = 'permissions_epoch')`` — add it to the query that
    reads the user, so the epoch comes from the same snapshot at no extra round trip."""
    return (select(col(KernelMeta.value)).where(col(KernelMeta.key) == EPOCH_KEY)
            .scalar_subquery().label("permissions_epoch"))


class AccessCache:
    """A bounded LRU of (user id, epoch) → :class:`Access`, safe to share between threads."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, str], Access] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def access(self, session: Session, user_id: int, epoch: str | None) -> Access:
        """``user_id``'s access, from the cache when ``epoch`` was seen before for them."""
        if epoch is None:  # no epoch row: nothing may be cached
            return load_access(session, user_id)
        key = (user_id, epoch)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
        access = load_access(session, user_id)
        with self._lock:
            self.misses += 1
            self._entries[key] = access
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return access

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_caches: weakref.WeakKeyDictionary[Kernel, AccessCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def access_cache(kernel: Kernel) -> AccessCache:
    """The kernel's cache (one per kernel: epochs of different databases never mix)."""
    found = _caches.get(kernel)
    if found is None:
        with _caches_lock:
            found = _caches.get(kernel)
            if found is None:
                found = _caches[kernel] = AccessCache()
    return found
