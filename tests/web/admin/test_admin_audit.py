"""/admin/audit: filters (actor, entity, entity id, action prefix, interface, dates), keyset pages
and each change shown as before and after per field."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from crm_core.db import utcnow
from crm_core.models import AuditEntry
from crm_core.services.roles import set_grants
from crm_core.services.users import actor_for, create_team


def ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="audit-(\d+)">', page)]


def entries(kernel: Any, *where: Any) -> list[int]:
    with kernel.new_session() as s:
        return [e.id for e in s.query(AuditEntry).filter(*where).order_by(AuditEntry.id.desc())]


def test_filters(admin: Any, pages: Any, web_kernel: Any) -> None:
    web = web_kernel.ctx(actor_for(web_kernel.ctx(), "admin"), "web")
    team = create_team(web, "华东一组")
    create_team(web_kernel.ctx(), "华南组")  # by the system
    everything = entries(web_kernel)
    assert ids(admin.get("/admin/audit").text) == everything

    by_admin = ids(admin.get("/admin/audit?actor=admin").text)
    assert by_admin == entries(web_kernel, AuditEntry.actor_login == "admin") and by_admin
    teams = ids(admin.get("/admin/audit?entity=team").text)
    assert len(teams) == 2
    assert ids(admin.get(f"/admin/audit?entity=team&entity_id={team.id}").text) == [teams[-1]]
    assert ids(admin.get("/admin/audit?action=team.").text) == teams
    assert ids(admin.get("/admin/audit?action=team").text) == []  # exact unless it ends with a dot
    assert ids(admin.get("/admin/audit?action=team.create&interface=web").text) == [teams[-1]]
    assert ids(admin.get("/admin/audit?interface=system&entity=team").text) == [teams[0]]
    today = utcnow().date()
    assert ids(admin.get(f"/admin/audit?date_from={today - timedelta(days=1)}").text) == everything
    assert ids(admin.get(f"/admin/audit?date_to={today - timedelta(days=2)}").text) == []
    kept = admin.get("/admin/audit?actor=admin&entity=team")
    assert pages.input_value(kept.text, "actor") == "admin"
    assert pages.input_value(kept.text, "entity") == "team"


def test_bad_filters_are_named_beside_their_field(admin: Any, pages: Any) -> None:
    response = admin.get("/admin/audit?entity_id=abc&date_from=2026-13-40")
    assert response.status_code == 422 and ids(response.text) == []
    assert pages.field_errors(response.text) == ["请输入整数。", "请按 YYYY-MM-DD 格式输入日期。"]
    assert pages.input_value(response.text, "entity_id") == "abc"
    response = admin.get("/admin/audit?interface=fax")
    assert pages.field_errors(response.text)[0].startswith("请从以下选项中选择：web, api")
    response = admin.get("/admin/audit?cursor=garbage")
    assert "此分页链接已失效" in pages.text(response.text)


def test_keyset_pages(admin: Any, web_kernel: Any) -> None:
    with web_kernel.new_session(write=True) as s, s.begin():
        for i in range(60):
            s.add(AuditEntry(action="demo.tick", entity="demo", entity_id=i, changes={"n": [i, i + 1]}))
    first = admin.get("/admin/audit?action=demo.")
    page_one = ids(first.text)
    assert len(page_one) == 50
    found = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert found
    second = admin.get(found.group(1).replace("&amp;", "&"))
    page_two = ids(second.text)
    assert len(page_two) == 10 and max(page_two) < min(page_one)
    assert 'rel="next"' not in second.text and 'href="/admin/audit?action=demo."' in second.text


def test_changes_show_before_and_after_per_field(admin: Any, pages: Any, web_kernel: Any) -> None:
    set_grants(web_kernel.ctx(), "viewer", {"customers.read": "team", "audit.read": None})
    page = admin.get("/admin/audit?action=role.update")
    [entry_id] = ids(page.text)
    html = page.text
    changes = html[html.index(f'<tr id="audit-{entry_id}">'):]
    rows = re.findall(r"<tr><td><code>([^<]+)</code></td>\s*<td class=\"before\">([^<]*)</td>\s*"
                      r"<td class=\"after\">([^<]*)</td></tr>", changes)
    assert ("grants.customers.read", "all", "team") in rows
    assert ("grants.audit.read", "—", "✓") in rows  # granted, an action without scope
    assert ("grants.contacts.read", "all", "—") in rows  # taken away
    assert len(rows) == 4  # the unchanged grants are not listed
    created = admin.get("/admin/audit?action=user.create&entity_id=1")
    assert re.search(r"<code>login</code></td>\s*<td class=\"before\">—</td>\s*<td class=\"after\">admin<",
                     created.text)


def test_a_sales_manager_reads_the_log(client: Any) -> None:
    client.login("mgr")
    assert client.get("/admin/audit?entity=user").status_code == 200
