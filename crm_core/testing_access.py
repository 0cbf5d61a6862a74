"""The expectation of the access-matrix tests: built-in role × own / same-team / other-team record
× action → allowed?, taken only from the roles' *declared* default scopes in
:mod:`crm_core.permissions.catalog` (``own`` → own records, ``team`` → own + same team, ``all`` →
all, missing → none), never from the permission engine under test.

Used by ``tests/core/test_access_matrix.py`` (through the services) and
``tests/web/api/test_api_access_matrix.py`` (through the JSON API); a plugin author can run the
same matrix over its own records. The world they share: every built-in role has a user
``u_<role>`` in team T1 (the sales manager manages it), with a same-team colleague (``PEER``) and a
user of another team (``OTHER``); which rows exist comes from the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from crm_core.kernel import Kernel
from crm_core.models import Team, TeamMember, User
from crm_core.permissions.catalog import BUILTIN_ROLES, KERNEL_ACTIONS
from crm_core.services.users import create_team, set_membership

ROLES = tuple(BUILTIN_ROLES)
RECORDS = ("own", "same_team", "other_team")
DECLARED = {a.name: a.defaults for a in KERNEL_ACTIONS}
PEER, OTHER = "t1_peer", "t2_user"  # the same-team colleague and the other-team user
MASKED_PHONE = re.compile(r"^1\d{2}\*{4}\d{4}$")
MASKED_ID = re.compile(r"^\d{3}\*+[\dX]{4}$")
_REACH = {"own": {"own"}, "team": {"own", "same_team"}, "all": set(RECORDS)}


def declared_scope(role: str, action: str) -> str | None:
    """The scope the catalog gives ``role`` for a record action (``None``: not granted)."""
    value = DECLARED[action].get(role)
    return value if isinstance(value, str) else None


def declared_flag(role: str, action: str) -> bool:
    """Whether the catalog grants ``role`` a scope-less action (seeing phones, ID numbers…)."""
    return DECLARED[action].get(role) is True


def permits(role: str, action: str, record: str) -> bool:
    """Whether ``role`` may do ``action`` on a record of the kind ``record`` (one of RECORDS)."""
    return record in _REACH.get(declared_scope(role, action) or "", set())


def login_of(role: str) -> str:
    return f"u_{role}"


def owner_login(role: str, record: str) -> str:
    """Who owns the ``record`` kind of record, seen from ``role``'s user."""
    return {"own": login_of(role), "same_team": PEER, "other_team": OTHER}[record]


@dataclass
class Teams:
    """The users of the world and who is in team T1, to classify a record by its owner."""

    user_ids: dict[str, int]  # login → id
    t1_members: set[int]

    def classify(self, role: str, owner_id: int | None) -> str:
        if owner_id == self.user_ids[login_of(role)]:
            return "own"
        return "same_team" if owner_id in self.t1_members else "other_team"

    def expected(self, role: str, action: str, rows: Iterable[tuple[int, int | None]]) -> set[int]:
        """Of ``rows`` (id, owner id), the ids ``role`` may reach with ``action``."""
        return {row_id for row_id, owner in rows if permits(role, action, self.classify(role, owner))}


def build_teams(kernel: Kernel, add_user: Callable[..., Any]) -> Teams:
    """Make the world's users and teams. ``add_user(kernel, login, role, team=None)`` is the
    test suite's own helper (its return value is not used)."""
    sys = kernel.ctx()
    create_team(sys, "T2")
    for role in ROLES:
        add_user(kernel, login_of(role), role)
    add_user(kernel, PEER, "sales_rep")
    add_user(kernel, OTHER, "sales_rep", team="T2")
    create_team(sys, "T1", manager=login_of("sales_manager"))
    for login in [*(login_of(r) for r in ROLES), PEER]:
        set_membership(sys, "T1", login, True)
    logins = [*(login_of(r) for r in ROLES), PEER, OTHER]
    with kernel.new_session() as s:
        found = {login: uid for uid, login in s.execute(
            select(col(User.id), col(User.login)).where(col(User.login).in_(logins))).all()}
        user_ids = {login: found[login] for login in logins}  # in a stable order
        t1_members = {user_ids[PEER]} | {user_ids[login_of(r)] for r in ROLES}
        # sanity: the teams were really built as intended
        members = select(col(TeamMember.user_id)).join(Team).where(col(Team.name) == "T1")
        assert set(s.scalars(members)) == t1_members
        assert set(s.scalars(select(col(Team.manager_id)).where(col(Team.name) == "T1"))) == {
            user_ids[login_of("sales_manager")]}
    return Teams(user_ids, t1_members)


def id_number(n: int) -> str:
    """A valid resident ID number (GB 11643 check digit)."""
    body = f"11010119900307{n:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def spaced(phone: str) -> str:
    """A national mobile number as people write it: ``139 0000 0001``."""
    return f"{phone[:3]} {phone[3:7]} {phone[7:]}"


def assert_exact(got: set[int], expected: set[int], what: str) -> None:
    """No leak (more than expected) and no over-block (less)."""
    leaks, blocked = sorted(got - expected), sorted(expected - got)
    assert not leaks and not blocked, f"{what}: leaked {leaks}, over-blocked {blocked}"
