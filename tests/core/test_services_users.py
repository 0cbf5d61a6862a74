"""Users, teams and roles: creation rules, audited role changes, effective access, passwords."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher

from crm_core import passwords
from crm_core.errors import NotFound, PermissionDenied, ValidationError
from crm_core.kernel import Kernel
from crm_core.models import AuditEntry, OutboxEvent, User
from crm_core.services.customers import create_customer, list_customers
from crm_core.services.roles import (
    create_role,
    effective_access,
    role_grants,
    seed_builtin_grants,
    set_grants,
    set_user_roles,
)
from crm_core.services.users import (
    actor_for,
    authenticate,
    create_team,
    create_user,
    set_active,
    set_password,
)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about who may change which password, not about argon2's cost: hash
    cheaply (argon2 reads the parameters from each hash, so any hash still verifies)."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def admin(crm: Kernel, helpers: Any) -> Any:
    return crm.ctx(helpers.add_user(crm, "boss", "admin"), "web")


def test_creating_users(crm: Kernel, helpers: Any, admin: Any) -> None:
    create_team(admin, "华南销售部")
    u = create_user(admin, {"login": " Alice ", "password": "s3cret-pass", "display_name": "爱丽丝"},
                    roles=["sales_rep", "viewer"], team="华南销售部")
    assert (u.login, u.display_name) == ("alice", "爱丽丝")
    a = actor_for(crm.ctx(), "alice")
    assert (set(a.roles), a.scope("customers.read"), len(a.team_ids)) == ({"sales_rep", "viewer"}, "all", 1)
    [entry] = helpers.audit_entries(crm, AuditEntry.action == "user.create")
    assert entry.actor_login == "boss" and "password" not in repr(entry.changes)
    assert "s3cret-pass" not in repr(helpers.outbox_rows(crm)[-1].payload)

    before = helpers.count(crm, User)
    cases: list[tuple[dict[str, Any], dict[str, Any], str]] = [
        ({"login": "bob", "password": "s3cret-pass"}, {"roles": ["sales_rep", "wizard"]}, "roles"),
        ({"login": "ALICE", "password": "s3cret-pass"}, {}, "login"),  # taken, whatever the case
        ({"login": "bob", "password": "short"}, {}, "password"),
        ({"login": "b", "password": "s3cret-pass"}, {}, "login"),
        ({"login": "bob smith", "password": "s3cret-pass"}, {}, "login"),
        ({"login": "bob", "password": "s3cret-pass", "email": "bob@"}, {}, "email"),
        ({"login": "bob", "password": "s3cret-pass", "locale": "fr"}, {}, "locale"),
        ({"login": "bob", "password": "s3cret-pass", "timezone": "Mars/Olympus"}, {}, "timezone"),
        ({"login": "bob", "password": "s3cret-pass", "is_active": False}, {}, "is_active"),
        ({"login": "bob", "password": "s3cret-pass"}, {"team": "no such team"}, "team"),
    ]
    for data, extra, field in cases:
        with pytest.raises(ValidationError) as exc:
            create_user(admin, data, **extra)
        assert field in exc.value.errors, (data, exc.value.errors)
    assert helpers.count(crm, User) == before
    rep = crm.ctx(actor_for(crm.ctx(), "alice"))
    with pytest.raises(PermissionDenied):
        create_user(rep, {"login": "mallory", "password": "s3cret-pass"}, roles=["admin"])


def test_role_changes_are_audited_and_take_effect(crm: Kernel, helpers: Any, admin: Any) -> None:
    helpers.add_user(crm, "carol", "viewer")
    set_user_roles(admin, "carol", ["sales_manager", "sales_rep"])
    [entry] = helpers.audit_entries(crm, AuditEntry.action == "user.roles", AuditEntry.actor_login == "boss")
    assert entry.changes == {"roles": [["viewer"], ["sales_manager", "sales_rep"]]}
    assert entry.interface == "web"
    assert len(helpers.outbox_rows(crm, OutboxEvent.name == "user.updated",
                                   OutboxEvent.actor_id == admin.actor.id)) == 1
    assert actor_for(crm.ctx(), "carol").scope("customers.delete") == "team"
    with pytest.raises(ValidationError) as exc:
        set_user_roles(admin, "carol", ["sales_rep", "ghost"])
    assert "roles" in exc.value.errors
    with pytest.raises(NotFound):
        set_user_roles(admin, "nobody", ["viewer"])
    assert set(actor_for(crm.ctx(), "carol").roles) == {"sales_manager", "sales_rep"}
    carol = crm.ctx(actor_for(crm.ctx(), "carol"))
    with pytest.raises(PermissionDenied):  # a manager may not hand out roles
        set_user_roles(carol, "carol", ["admin"])


def test_effective_access_explains_each_grant(crm: Kernel, helpers: Any, admin: Any) -> None:
    helpers.add_user(crm, "dave", "sales_rep", "viewer")
    actor, lines = effective_access(admin, "dave")
    by = {line.action: line for line in lines}
    assert set(by) == set(crm.active_actions())
    read = by["customers.read"]
    assert (read.allowed, read.scope) == (True, "all")  # the wider of own (rep) and all (viewer)
    assert set(read.reasons) == {"role sales_rep grants customers.read with scope own",
                                 "role viewer grants customers.read with scope all"}
    assert by["customers.update"].reasons == ("role sales_rep grants customers.update with scope own",)
    assert by["contacts.see_phone"].reasons == ("role sales_rep grants contacts.see_phone",)
    assert by["contacts.see_phone"].scope is None
    denied = by["customers.delete"]
    assert (denied.allowed, denied.scope) == (False, None)
    assert denied.reasons == ("no role of this user grants it",)
    for line in lines:  # every line says why
        assert line.reasons and line.allowed == (line.action in actor.grants)
    # a user may look at their own access, not at others'
    dave = crm.ctx(actor_for(crm.ctx(), "dave"))
    assert effective_access(dave, "dave")[0].login == "dave"
    with pytest.raises(PermissionDenied):
        effective_access(dave, "boss")


def test_a_disabled_user_has_no_grants(crm: Kernel, helpers: Any, admin: Any) -> None:
    erin = helpers.add_user(crm, "erin", "sales_manager")
    create_customer(crm.ctx(erin), {"name": "Erin's"})
    assert authenticate(crm.ctx(), "erin", helpers.PASSWORD) is not None
    set_active(admin, "erin", False)
    actor, lines = effective_access(admin, "erin")
    assert actor.grants == {} and not any(line.allowed for line in lines)
    assert {line.reasons for line in lines} == {("user is disabled",)}
    stale = actor_for(crm.ctx(), "erin")
    assert not stale.can("customers.read")
    assert list_customers(crm.ctx(stale)).items == []
    with pytest.raises(PermissionDenied):
        create_customer(crm.ctx(stale), {"name": "Nope"})
    assert authenticate(crm.ctx(), "erin", helpers.PASSWORD) is None
    set_active(admin, "erin", True)
    assert actor_for(crm.ctx(), "erin").scope("customers.read") == "team"


def test_changing_passwords(crm: Kernel, helpers: Any, admin: Any) -> None:
    frank = helpers.add_user(crm, "frank", "sales_rep")
    helpers.add_user(crm, "grace", "sales_rep")
    me = crm.ctx(frank, "web")
    for old in (None, "wrong-password"):
        with pytest.raises(ValidationError) as exc:
            set_password(me, "frank", "brand-new-pass", old_password=old)
        assert "old_password" in exc.value.errors
    with pytest.raises(ValidationError) as exc:
        set_password(me, "frank", "short", old_password=helpers.PASSWORD)
    assert "password" in exc.value.errors
    with pytest.raises(PermissionDenied):  # not someone else's
        set_password(me, "grace", "brand-new-pass", old_password=helpers.PASSWORD)

    set_password(me, "frank", "brand-new-pass", old_password=helpers.PASSWORD)
    assert authenticate(crm.ctx(), "frank", helpers.PASSWORD) is None
    assert authenticate(crm.ctx(), " FRANK ", "brand-new-pass") is not None
    set_password(admin, "grace", "reset-by-admin")  # an admin resets without the old one
    assert authenticate(crm.ctx(), "grace", "reset-by-admin") is not None
    entries = helpers.audit_entries(crm, AuditEntry.action == "user.password")
    assert [(e.actor_login, e.summary) for e in entries] == [("frank", "frank"), ("boss", "grace")]
    assert all(e.changes == {"password": ["(hidden)", "(changed)"]} for e in entries)


def test_custom_roles_and_grants(crm: Kernel, helpers: Any, admin: Any) -> None:
    bad = [
        ({"customers.read": "everything"}, "customers.read"),
        ({"customers.read": None}, "customers.read"),
        ({"users.manage": "all"}, "users.manage"),
        ({"customers.teleport": "all"}, "customers.teleport"),
    ]
    for grants, field in bad:
        with pytest.raises(ValidationError) as exc:
            create_role(admin, "auditor", "审计", grants)
        assert field in exc.value.errors
    with pytest.raises(ValidationError):
        create_role(admin, "Auditor!", "审计", {})
    create_role(admin, "auditor", "审计", {"customers.read": "own", "audit.read": None})
    helpers.add_user(crm, "hank")
    set_user_roles(admin, "hank", ["auditor"])
    assert actor_for(crm.ctx(), "hank").scope("customers.read") == "own"
    set_grants(admin, "auditor", {"customers.read": "all"})
    assert role_grants(admin, "auditor") == {"customers.read": "all"}
    hank = actor_for(crm.ctx(), "hank")
    assert (hank.scope("customers.read"), hank.can("audit.read")) == ("all", False)
    [entry] = helpers.audit_entries(crm, AuditEntry.action == "role.update")
    assert entry.changes == {"grants": [{"customers.read": "own", "audit.read": None},
                                        {"customers.read": "all"}]}


def test_seeding_is_idempotent_and_respects_removed_grants(crm: Kernel, admin: Any) -> None:
    grants = role_grants(admin, "viewer")
    assert grants == {"customers.read": "all", "contacts.read": "all", "followups.read": "all"}
    set_grants(admin, "viewer", {"customers.read": "all"})
    assert seed_builtin_grants(crm.ctx()) == []  # an admin's removal sticks
    assert role_grants(admin, "viewer") == {"customers.read": "all"}
