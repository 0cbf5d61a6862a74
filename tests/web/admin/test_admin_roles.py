"""/admin/roles: create custom roles, edit grants (checkbox + scope) behind the password; built-in
roles are editable, not deletable."""

from __future__ import annotations

from typing import Any

from crm_core.models import AuditEntry
from crm_core.services.roles import role_grants, set_user_roles
from crm_core.services.users import actor_for


def grants_form(kernel: Any, role: str, **changes: str | None) -> dict[str, Any]:
    """The role page's form as a browser would send it, with ``changes`` applied
    (``None`` unticks an action)."""
    grants = {**role_grants(kernel.ctx(), role), **changes}
    data: dict[str, Any] = {"label": role, "label_en": "", "description": "",
                            "grant": [a for a in grants if changes.get(a, "") is not None]}
    for action, scope in grants.items():
        if scope:
            data[f"scope.{action}"] = scope
    return data


def test_create_a_custom_role_and_edit_its_grants(admin: Any, pages: Any, web_kernel: Any) -> None:
    data = {"name": "auditor", "label": "审计员", "label_en": "Auditor", "copy_from": "viewer"}
    refused = admin.submit("/admin/roles", data, page="/admin/roles")
    assert refused.status_code == 422 and "请输入您的密码以确认此修改。" in pages.field_errors(refused.text)
    assert pages.input_value(refused.text, "label") == "审计员"
    created = admin.submit("/admin/roles", {**data, "reauth_password": pages.PASSWORD}, page="/admin/roles")
    assert created.status_code == 303 and created.headers["location"] == "/admin/roles/auditor?done=created"
    assert role_grants(web_kernel.ctx(), "auditor") == role_grants(web_kernel.ctx(), "viewer")

    page = admin.get("/admin/roles/auditor")
    assert 'name="grant" value="customers.read"' in page.text and "scope.customers.read" in page.text
    assert 'name="scope.audit.read"' not in page.text  # an action without records takes no scope

    form = grants_form(web_kernel, "auditor", **{"customers.read": "team", "audit.read": "",
                                                  "followups.read": None})
    unconfirmed = admin.submit("/admin/roles/auditor", form, page="/admin/roles/auditor")
    assert unconfirmed.status_code == 422
    assert 'value="audit.read" checked' in unconfirmed.text  # the ticks are kept
    assert role_grants(web_kernel.ctx(), "auditor")["customers.read"] == "all"

    saved = admin.submit("/admin/roles/auditor", {**form, "reauth_password": pages.PASSWORD},
                         page="/admin/roles/auditor")
    assert saved.status_code == 303
    assert role_grants(web_kernel.ctx(), "auditor") == {
        "customers.read": "team", "contacts.read": "all", "audit.read": None}
    set_user_roles(web_kernel.ctx(), "viewer", ["auditor"])
    viewer = actor_for(web_kernel.ctx(), "viewer")
    assert viewer.scope("customers.read") == "team" and viewer.can("audit.read")
    with web_kernel.new_session() as s:
        entries = s.query(AuditEntry).filter(AuditEntry.action == "role.update",
                                             AuditEntry.actor_login == "admin").all()
    assert sorted(sorted(e.changes) for e in entries) == [["grants"], ["label", "label_en"]]  # one save
    [entry] = [e for e in entries if "grants" in e.changes]
    assert entry.changes["grants"][1] == {"customers.read": "team", "contacts.read": "all",
                                          "audit.read": None}


def test_a_bad_scope_is_shown_beside_its_action(admin: Any, pages: Any, web_kernel: Any) -> None:
    form = grants_form(web_kernel, "sales_rep", **{"customers.export": "everything"})
    response = admin.submit("/admin/roles/sales_rep", {**form, "reauth_password": pages.PASSWORD},
                            page="/admin/roles/sales_rep")
    assert response.status_code == 422
    assert "请选择范围：本人、团队或全部。" in pages.row(response.text, "grant-customers.export")
    assert "customers.export" not in role_grants(web_kernel.ctx(), "sales_rep")


def test_built_in_roles_are_editable_not_deletable(admin: Any, pages: Any, web_kernel: Any) -> None:
    page = admin.get("/admin/roles/sales_rep").text
    assert 'action="/admin/roles/sales_rep/delete"' not in page
    form = grants_form(web_kernel, "sales_rep", **{"customers.delete": "own"})
    form["label"] = "销售"
    saved = admin.submit("/admin/roles/sales_rep", {**form, "reauth_password": pages.PASSWORD},
                         page="/admin/roles/sales_rep")
    assert saved.status_code == 303
    assert role_grants(web_kernel.ctx(), "sales_rep")["customers.delete"] == "own"
    assert "销售" in pages.row(admin.get("/admin/roles").text, "role-sales_rep")
    refused = admin.submit("/admin/roles/sales_rep/delete", {"reauth_password": pages.PASSWORD},
                           page="/admin/roles/sales_rep")
    assert refused.status_code == 422 and "内置角色不能删除。" in pages.text(refused.text)


def test_a_custom_role_is_deleted_once_nobody_has_it(admin: Any, pages: Any, web_kernel: Any) -> None:
    admin.submit("/admin/roles", {"name": "temp", "label": "临时", "reauth_password": pages.PASSWORD},
                 page="/admin/roles")
    set_user_roles(web_kernel.ctx(), "rep", ["sales_rep", "temp"])
    url = "/admin/roles/temp/delete"
    held = admin.submit(url, {"reauth_password": pages.PASSWORD}, page="/admin/roles/temp")
    assert held.status_code == 422 and "以下用户仍拥有此角色：rep。请先收回。" in pages.text(held.text)
    set_user_roles(web_kernel.ctx(), "rep", ["sales_rep"])
    assert admin.submit(url, {}, page="/admin/roles/temp").status_code == 422  # the password again
    done = admin.submit(url, {"reauth_password": pages.PASSWORD}, page="/admin/roles/temp")
    assert done.status_code == 303 and admin.get("/admin/roles/temp").status_code == 404
    duplicate = admin.submit("/admin/roles", {"name": "viewer", "label": "x",
                                              "reauth_password": pages.PASSWORD}, page="/admin/roles")
    assert pages.field_errors(duplicate.text) == ["已存在名为“viewer”的角色。"]
