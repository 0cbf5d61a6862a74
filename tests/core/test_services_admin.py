"""The service functions the admin pages need beyond the CLI's: editing users, team managers,
removing teams, role labels and deletion, planning an enable, reading one field definition."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher

from crm_core import passwords
from crm_core.errors import Conflict, NotFound, PermissionDenied, PluginError, ValidationError
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.models import AuditEntry, OutboxEvent
from crm_core.plugin_system import Manifest
from crm_core.services import plugins as plugin_svc
from crm_core.services.custom_fields import create_field, get_field, update_field
from crm_core.services.roles import (
    create_role,
    delete_role,
    list_roles,
    role_grants,
    seed_builtin_grants,
    set_user_roles,
    update_role,
)
from crm_core.services.users import (
    actor_for,
    create_team,
    create_user,
    delete_team,
    get_user,
    list_teams,
    set_active,
    set_membership,
    set_team_manager,
    update_user,
)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def admin(crm: Kernel, helpers: Any) -> Any:
    return crm.ctx(helpers.add_user(crm, "boss", "admin"), "web")


def test_update_user_changes_profile_and_is_audited(crm: Kernel, helpers: Any, admin: Any) -> None:
    helpers.add_user(crm, "amy", "sales_rep")
    version = get_user(admin, "amy").version
    user = update_user(admin, "amy", {"display_name": " 艾米 ", "email": "AMY@Example.com",
                                      "locale": "en", "timezone": "Europe/Berlin"}, version=version)
    assert (user.display_name, user.email, user.locale, user.timezone) == (
        "艾米", "amy@example.com", "en", "Europe/Berlin")
    assert actor_for(crm.ctx(), "amy").locale == "en"
    [entry] = helpers.audit_entries(crm, AuditEntry.action == "user.update")
    assert entry.actor_login == "boss" and entry.changes["display_name"] == ["amy", "艾米"]
    assert helpers.outbox_rows(crm, OutboxEvent.name == "user.updated")
    update_user(admin, "amy", {"display_name": "艾米"})  # nothing changes: nothing recorded
    assert len(helpers.audit_entries(crm, AuditEntry.action == "user.update")) == 1
    update_user(admin, "amy", {"email": ""})
    assert get_user(admin, "amy").email is None

    with pytest.raises(Conflict):
        update_user(admin, "amy", {"display_name": "x"}, version=version)
    for data, field in [({"display_name": ""}, "display_name"), ({"locale": "fr"}, "locale"),
                        ({"timezone": "Mars/Olympus"}, "timezone"), ({"email": "amy@"}, "email"),
                        ({"login": "amy2"}, "login"), ({"locale": None}, "locale")]:
        with pytest.raises(ValidationError) as exc:
            update_user(admin, "amy", data)
        assert field in exc.value.errors, data
    with pytest.raises(NotFound):
        update_user(admin, "nobody", {"display_name": "x"})
    rep = crm.ctx(helpers.add_user(crm, "rex", "sales_rep"))
    with pytest.raises(PermissionDenied):
        update_user(rep, "amy", {"display_name": "x"})


def test_nobody_disables_their_own_account(crm: Kernel, admin: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        set_active(admin, "boss", False)
    assert "is_active" in exc.value.errors
    assert actor_for(crm.ctx(), "boss").can("users.manage")


def test_giving_roles_at_creation_needs_roles_manage(crm: Kernel, helpers: Any, admin: Any) -> None:
    create_role(admin, "hr", "人事", {"users.manage": None})
    helpers.add_user(crm, "hilda")
    set_user_roles(admin, "hilda", ["hr"])
    hr = crm.ctx(actor_for(crm.ctx(), "hilda"))
    with pytest.raises(PermissionDenied):
        create_user(hr, {"login": "ivan", "password": "s3cret-pass"}, roles=["admin"])
    assert create_user(hr, {"login": "ivan", "password": "s3cret-pass"}).login == "ivan"


def test_team_manager_and_removal(crm: Kernel, helpers: Any, admin: Any) -> None:
    helpers.add_user(crm, "mia", "sales_manager")
    helpers.add_user(crm, "ned", "sales_rep")
    create_team(admin, "华东一组")
    set_membership(admin, "华东一组", "ned", True)
    set_team_manager(admin, "华东一组", "mia")
    set_team_manager(admin, "华东一组", "mia")  # no change, no second entry
    assert len(actor_for(crm.ctx(), "mia").team_ids) == 1
    [team] = [t for t, _members in list_teams(admin)]
    with pytest.raises(ValidationError) as exc:
        set_team_manager(admin, "华东一组", "ghost")
    assert "manager" in exc.value.errors
    set_team_manager(admin, "华东一组", None)
    assert actor_for(crm.ctx(), "mia").team_ids == ()
    entries = helpers.audit_entries(crm, AuditEntry.action == "team.manager")
    assert [e.changes for e in entries] == [{"manager": [None, "mia"]}, {"manager": ["mia", None]}]

    rep = crm.ctx(actor_for(crm.ctx(), "ned"))
    with pytest.raises(PermissionDenied):
        set_team_manager(rep, "华东一组", "ned")
    with pytest.raises(PermissionDenied):
        delete_team(rep, "华东一组")
    delete_team(admin, "华东一组")
    assert list_teams(admin) == []
    assert actor_for(crm.ctx(), "ned").team_ids == ()
    [entry] = helpers.audit_entries(crm, AuditEntry.action == "team.delete")
    assert entry.entity_id == team.id and entry.changes == {"name": ["华东一组", None],
                                                             "members": [["ned"], None]}
    with pytest.raises(NotFound):
        delete_team(admin, "华东一组")


def test_role_labels_and_deletion(crm: Kernel, helpers: Any, admin: Any) -> None:
    create_role(admin, "auditor", "审计", {"audit.read": None})
    update_role(admin, "auditor", label="审计员", label_en="Auditor", description="reads the log")
    role = next(r for r in list_roles(admin) if r.name == "auditor")
    assert (role.label, role.label_en, role.description) == ("审计员", "Auditor", "reads the log")
    update_role(admin, "sales_rep", label="销售", label_en="Sales")  # built-ins are editable
    with pytest.raises(ValidationError) as exc:
        update_role(admin, "auditor", label=" ")
    assert "label" in exc.value.errors

    with pytest.raises(ValidationError) as exc:
        delete_role(admin, "sales_rep")
    assert "built-in" in str(exc.value)
    helpers.add_user(crm, "olga")
    set_user_roles(admin, "olga", ["auditor"])
    with pytest.raises(ValidationError) as exc:
        delete_role(admin, "auditor")
    assert "olga" in str(exc.value)
    set_user_roles(admin, "olga", [])
    viewer = crm.ctx(helpers.add_user(crm, "vic", "viewer"))
    with pytest.raises(PermissionDenied):
        delete_role(viewer, "auditor")
    delete_role(admin, "auditor")
    assert "auditor" not in {r.name for r in list_roles(admin)}
    with pytest.raises(NotFound):
        role_grants(admin, "auditor")
    [entry] = helpers.audit_entries(crm, AuditEntry.action == "role.delete")
    assert entry.changes == {"name": ["auditor", None], "grants": [{"audit.read": None}, None]}


class _Nothing:
    @hookimpl
    def on_startup(self, kernel: Any) -> None:
        return None


def test_plan_enable_names_what_comes_along(make_kernel: Any, helpers: Any) -> None:
    base = Manifest(name="base", version="1.0.0", hooks=_Nothing())
    top = Manifest(name="top", version="1.0.0", depends=("base",), hooks=_Nothing())
    k = make_kernel(plugins=[base, top])
    seed_builtin_grants(k.ctx())
    admin = k.ctx(helpers.add_user(k, "boss", "admin"))
    assert plugin_svc.plan_enable(admin, ["top"]) == ["base", "top"]
    assert k.host.enabled(refresh=True) == frozenset()  # only a plan
    with pytest.raises(PluginError):
        plugin_svc.plan_enable(admin, ["ghost"])
    with pytest.raises(PermissionDenied):
        plugin_svc.plan_enable(k.ctx(helpers.add_user(k, "mgr", "sales_manager")), ["top"])


def test_get_field(crm: Kernel, admin: Any) -> None:
    row = create_field(admin, {"entity": "customer", "key": "years", "label": "合作年限", "type": "number"})
    assert row.id is not None
    update_field(admin, row.id, {"active": False})
    got = get_field(admin, row.id)
    assert (got.key, got.active, got.version) == ("years", False, row.version + 1)
    with pytest.raises(NotFound):
        get_field(admin, 999)
