"""/admin/teams: create with a manager, add and remove members, change the manager, remove."""

from __future__ import annotations

import re
from typing import Any

from crm_core.services.users import actor_for, list_teams


def team_url(response: Any) -> str:
    found = re.fullmatch(r"(/admin/teams/\d+)\?done=created", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def test_team_lifecycle(admin: Any, pages: Any, web_kernel: Any) -> None:
    created = admin.submit("/admin/teams", {"name": "华东一组", "manager": "mgr"}, page="/admin/teams")
    assert created.status_code == 303
    url = team_url(created)
    assert "团队已创建" in pages.text(admin.get(created.headers["location"]).text)
    assert len(actor_for(web_kernel.ctx(), "mgr").team_ids) == 1  # a manager sees the team

    twice = admin.submit("/admin/teams", {"name": "华东一组"}, page="/admin/teams")
    assert twice.status_code == 422 and pages.field_errors(twice.text) == ["已存在名为“华东一组”的团队。"]
    assert pages.input_value(twice.text, "name") == "华东一组"
    empty = admin.submit("/admin/teams", {"name": " "}, page="/admin/teams")
    assert pages.field_errors(empty.text) == ["此项为必填项。"]

    assert admin.submit(f"{url}/members", {"add": "rep"}, page=url).status_code == 303
    assert admin.submit(f"{url}/members", {"add": "viewer"}, page=url).status_code == 303
    [(team, members)] = list_teams(web_kernel.ctx())
    assert members == ["rep", "viewer"]
    assert 'value="rep"' in admin.get(url).text
    ghost = admin.submit(f"{url}/members", {"add": "ghost"}, page=url)
    assert ghost.status_code == 422 and pages.field_errors(ghost.text) == ["没有用户“ghost”。"]
    assert admin.submit(f"{url}/members", {"remove": "viewer"}, page=url).status_code == 303
    assert list_teams(web_kernel.ctx())[0][1] == ["rep"]

    assert admin.submit(f"{url}/manager", {"manager": ""}, page=url).status_code == 303
    assert actor_for(web_kernel.ctx(), "mgr").team_ids == ()
    assert admin.submit(f"{url}/manager", {"manager": "admin"}, page=url).status_code == 303
    assert pages.row(admin.get("/admin/teams").text, f"team-{team.id}") == "华东一组 admin rep"

    wrong = admin.submit(f"{url}/delete", {"confirm_name": "华东"}, page=url)
    assert wrong.status_code == 422 and pages.field_errors(wrong.text) == ["请输入团队名称以确认。"]
    gone = admin.submit(f"{url}/delete", {"confirm_name": "华东一组"}, page=url)
    assert gone.status_code == 303 and list_teams(web_kernel.ctx()) == []
    assert actor_for(web_kernel.ctx(), "rep").team_ids == ()
    assert admin.get(url).status_code == 404


def test_teams_in_english(client: Any, pages: Any) -> None:
    client.login("en_admin")
    client.submit("/admin/teams", {"name": "East"}, page="/admin/teams")
    twice = client.submit("/admin/teams", {"name": "East"}, page="/admin/teams")
    assert pages.field_errors(twice.text) == ["A team named East already exists."]
    assert "Team name" in twice.text
