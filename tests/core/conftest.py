"""Small shared helpers for the kernel's behaviour tests."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_core.kernel import Kernel
from crm_core.models import AuditEntry, Contact, Customer, FollowUp, OutboxEvent, User
from crm_core.passwords import hash_password
from crm_core.permissions.actor import Actor
from crm_core.services.roles import seed_builtin_grants, set_user_roles
from crm_core.services.users import actor_for, set_membership

PASSWORD = "correct-horse-battery"


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per session


def add_user(kernel: Kernel, login: str, *roles: str, team: str | None = None) -> Actor:
    """A user (password ``PASSWORD``) with built-in roles, optionally in a team; returns its actor."""
    with kernel.new_session(write=True) as s, s.begin():
        s.add(User(login=login, display_name=login, password_hash=password_hash()))
    ctx = kernel.ctx()
    if roles:
        set_user_roles(ctx, login, list(roles))
    if team:
        set_membership(ctx, team, login, True)
    return actor_for(ctx, login)


def count(kernel: Kernel, model: Any, *where: Any) -> int:
    with kernel.new_session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def snapshot(kernel: Kernel) -> dict[str, int]:
    """Row counts of what a write leaves behind; equal snapshots = nothing was written."""
    return {m.__tablename__: count(kernel, m)
            for m in (Customer, Contact, FollowUp, AuditEntry, OutboxEvent)}


def audit_entries(kernel: Kernel, *where: Any) -> list[AuditEntry]:
    with kernel.new_session() as s:
        return list(s.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.id)))


def outbox_rows(kernel: Kernel, *where: Any) -> list[OutboxEvent]:
    with kernel.new_session() as s:
        return list(s.scalars(select(OutboxEvent).where(*where).order_by(OutboxEvent.id)))


class Helpers:
    """What test modules use; handed out as the ``helpers`` fixture (conftest modules are not
    importable reliably)."""

    PASSWORD = PASSWORD
    add_user = staticmethod(add_user)
    count = staticmethod(count)
    snapshot = staticmethod(snapshot)
    audit_entries = staticmethod(audit_entries)
    outbox_rows = staticmethod(outbox_rows)


@pytest.fixture(scope="session")
def helpers() -> type[Helpers]:
    return Helpers


@pytest.fixture
def crm(kernel: Kernel) -> Kernel:
    """The kernel alone, with the built-in roles and their default grants."""
    seed_builtin_grants(kernel.ctx())
    return kernel
