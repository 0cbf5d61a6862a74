"""/admin/users: create with roles and a team, inline translated errors that keep what was typed,
effective access with reasons, role changes and password resets behind the password."""

from __future__ import annotations

import re
from typing import Any

from crm_core.models import AuditEntry
from crm_core.services.roles import effective_access
from crm_core.services.users import actor_for, create_team, create_user, get_user, list_users

NEW = {"login": "wangfang", "display_name": "王芳", "email": "wf@example.com", "password": "s3cret-pass",
       "locale": "zh_CN", "timezone": "Asia/Shanghai", "team": "华东一组", "roles": ["sales_rep"]}


def roles_of(kernel: Any, login: str) -> list[str]:
    return next(r for u, r, _t in list_users(kernel.ctx()) if u.login == login)


def test_create_a_user_with_roles_and_a_team_then_see_their_access(admin: Any, pages: Any,
                                                                   web_kernel: Any) -> None:
    create_team(web_kernel.ctx(), "华东一组")
    refused = admin.submit("/admin/users", NEW, page="/admin/users")  # giving roles needs the password
    assert refused.status_code == 422
    assert pages.field_errors(refused.text) == ["请输入您的密码以确认此修改。"]
    assert pages.input_value(refused.text, "login") == "wangfang"  # what was typed stays
    assert pages.input_value(refused.text, "display_name") == "王芳"
    assert 'value="sales_rep" checked' in refused.text and "s3cret-pass" not in refused.text
    assert "wangfang" not in [u.login for u, _r, _t in list_users(web_kernel.ctx())]

    created = admin.submit("/admin/users", {**NEW, "reauth_password": pages.PASSWORD}, page="/admin/users")
    assert created.status_code == 303 and created.headers["location"] == "/admin/users/wangfang?done=created"
    assert "用户已创建" in pages.text(admin.get(created.headers["location"]).text)
    actor = actor_for(web_kernel.ctx(), "wangfang")
    assert actor.roles == ("sales_rep",) and len(actor.team_ids) == 1 and actor.display_name == "王芳"

    access = admin.get("/admin/users/wangfang/access")
    assert access.status_code == 200
    html = access.text
    read = pages.row(html, "perm-customers.read")
    assert "是" in read and "本人" in read and "角色 销售代表 授予此权限，范围：本人。" in read
    delete = pages.row(html, "perm-customers.delete")
    assert "否" in delete and "该用户的角色都没有授予此权限。" in delete
    _actor, lines = effective_access(web_kernel.ctx(), "wangfang")
    assert html.count('class="allowed"') == sum(1 for line in lines if line.allowed)


def test_inline_errors_are_translated_and_keep_the_input(client: Any, pages: Any) -> None:
    client.login("admin")
    data = {"login": "rep", "display_name": "Someone", "password": "short", "email": "nope@",
            "locale": "zh_CN", "timezone": "Mars/Olympus"}
    response = client.submit("/admin/users", data, page="/admin/users")
    assert response.status_code == 422
    assert pages.field_errors(response.text) == [
        "nope@ 不是有效的邮箱地址。", "至少 8 个字符。", "未知的时区。"]
    assert pages.input_value(response.text, "email") == "nope@"
    assert pages.input_value(response.text, "timezone") == "Mars/Olympus"
    data.update(password="long-enough", email="", timezone="Asia/Shanghai")
    taken = client.submit("/admin/users", data, page="/admin/users")
    assert pages.field_errors(taken.text) == ["登录名“rep”已被使用。"]
    assert pages.input_value(taken.text, "display_name") == "Someone"

    client.login("en_admin")
    taken = client.submit("/admin/users", {**data, "login": "Bad Login!"}, page="/admin/users")
    assert pages.field_errors(taken.text) == ["2 to 64 lowercase letters, digits, “.”, “_” or “-”."]
    assert "Please correct what is marked below." in taken.text


def test_changing_roles_needs_the_password_and_is_audited(admin: Any, pages: Any, web_kernel: Any) -> None:
    url = "/admin/users/rep/roles"
    page = "/admin/users/rep"
    refused = admin.submit(url, {"roles": ["sales_manager"]}, page=page)
    assert refused.status_code == 422 and "请输入您的密码以确认此修改。" in pages.field_errors(refused.text)
    assert 'value="sales_manager" checked' in refused.text  # the choice is kept
    wrong = admin.submit(url, {"roles": ["sales_manager"], "reauth_password": "nope-nope"}, page=page)
    assert wrong.status_code == 422 and "密码错误。" in pages.field_errors(wrong.text)
    assert roles_of(web_kernel, "rep") == ["sales_rep"]
    done = admin.submit(url, {"roles": ["sales_manager", "viewer"], "reauth_password": pages.PASSWORD},
                        page=page)
    assert done.status_code == 303
    assert roles_of(web_kernel, "rep") == ["sales_manager", "viewer"]
    with web_kernel.new_session() as s:
        entry = s.query(AuditEntry).filter(AuditEntry.action == "user.roles").order_by(
            AuditEntry.id).all()[-1]
    assert (entry.actor_login, entry.interface) == ("admin", "web")
    assert entry.changes == {"roles": [["sales_rep"], ["sales_manager", "viewer"]]}
    assert "实际权限" in admin.get("/admin/users/rep?done=roles").text


def test_disable_and_enable_a_user(site: Any, admin: Any, pages: Any, web_kernel: Any) -> None:
    rep = site.client()
    rep.login("rep")
    assert rep.get("/").status_code == 200
    assert admin.submit("/admin/users/rep/active", {}, page="/admin/users/rep").status_code == 303
    assert not get_user(web_kernel.ctx(), "rep").is_active
    assert rep.get("/").status_code == 303  # signed out at once
    assert "已停用" in pages.text(admin.get("/admin/users/rep").text)
    enable = admin.submit("/admin/users/rep/active", {"active": "1"}, page="/admin/users/rep")
    assert enable.status_code == 303
    assert get_user(web_kernel.ctx(), "rep").is_active
    own = admin.submit("/admin/users/admin/active", {}, page="/admin/users/admin")
    assert own.status_code == 422 and "不能停用自己的账号。" in pages.text(own.text)


def test_reset_a_password(site: Any, admin: Any, pages: Any) -> None:
    url, page = "/admin/users/rep/password", "/admin/users/rep"
    differ = admin.submit(url, {"password": "brand-new-pass", "password2": "other-pass",
                                "reauth_password": pages.PASSWORD}, page=page)
    assert differ.status_code == 422 and pages.field_errors(differ.text) == ["两次输入的密码不一致。"]
    short = admin.submit(url, {"password": "short", "password2": "short", "reauth_password": pages.PASSWORD},
                         page=page)
    assert pages.field_errors(short.text) == ["至少 8 个字符。"]
    unconfirmed = admin.submit(url, {"password": "brand-new-pass", "password2": "brand-new-pass"}, page=page)
    assert pages.field_errors(unconfirmed.text) == ["请输入您的密码以确认此修改。"]
    done = admin.submit(url, {"password": "brand-new-pass", "password2": "brand-new-pass",
                              "reauth_password": pages.PASSWORD}, page=page)
    assert done.status_code == 303
    rep = site.client()
    assert rep.login("rep").status_code == 200  # the old password no longer works
    assert rep.login("rep", "brand-new-pass").status_code == 303 and rep.get("/").status_code == 200
    assert "不要在这里重置" in admin.get("/admin/users/admin").text  # not for one's own account


def test_edit_the_profile(admin: Any, pages: Any, web_kernel: Any) -> None:
    page = admin.get("/admin/users/rep")
    version = pages.input_value(page.text, "version")
    data = {"display_name": "Rita Rep", "email": "rita@example.com", "locale": "en",
            "timezone": "Europe/Berlin", "version": version}
    assert admin.submit("/admin/users/rep", data, page="/admin/users/rep").status_code == 303
    user = get_user(web_kernel.ctx(), "rep")
    assert (user.display_name, user.email, user.locale, user.timezone) == (
        "Rita Rep", "rita@example.com", "en", "Europe/Berlin")
    stale = admin.submit("/admin/users/rep", {**data, "display_name": "Old"}, page="/admin/users/rep")
    assert stale.status_code == 422 and "其他人已修改了这条数据" in pages.text(stale.text)
    empty = admin.submit("/admin/users/rep", {**data, "display_name": "", "version": str(user.version)},
                         page="/admin/users/rep")
    assert pages.field_errors(empty.text) == ["此项为必填项。"]


def test_the_user_list_filters_and_pages(admin: Any, pages: Any, web_kernel: Any) -> None:
    page = admin.get("/admin/users?q=adm")
    assert 'id="user-admin"' in page.text and 'id="user-en_admin"' in page.text
    assert 'id="user-rep"' not in page.text
    for i in range(51):
        create_user(web_kernel.ctx(), {"login": f"u{i:03d}", "password": "s3cret-pass"})
    first = admin.get("/admin/users")
    assert first.text.count('<tr id="user-') == 50 and 'rel="next"' in first.text
    next_url = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert next_url
    second = admin.get(next_url.group(1).replace("&amp;", "&"))
    assert second.text.count('<tr id="user-') == 6 and "第一页" in second.text
