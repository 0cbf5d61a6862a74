"""Tasks pages and API in both languages: my tasks with quick add and complete, the team view,
the rules page, the dashboard widget and customer panel, the API (ETag / If-Match, keyset,
OpenAPI), the secret iCalendar feed; switching the plugin off hides all of it."""

from __future__ import annotations

from datetime import timedelta

from crm_tasks.services import create_task, list_tasks
from icalendar import Calendar
from openapi_spec_validator import validate

from crm_core.db import utcnow
from crm_core.services.plugins import disable, enable


def signed_in(site, login):
    c = site.client()
    assert c.login(login).status_code == 303
    return c


def test_my_tasks_page_quick_add_and_complete(world, site) -> None:
    cid = world.customer("rep", "华东机械")
    rep = world.ctx("rep")
    create_task(rep, {"title": "逾期的回访", "due_at": utcnow() - timedelta(hours=3)})
    create_task(rep, {"title": "下周拜访", "due_at": utcnow() + timedelta(days=3)})
    c = signed_in(site, "rep")
    page = c.get("/tasks/")
    assert page.status_code == 200
    assert "我的任务" in page.text and "已逾期" in page.text and "逾期的回访" in page.text
    assert "下周拜访" in page.text and "团队任务" not in page.text
    r = c.submit("/tasks/new", {"title": "电话确认报价", "due_date": "2030-05-01", "due_time": "10:30",
                                "related_id": str(cid), "recurrence_every": "", "recurrence_unit": "day",
                                "notes": ""}, page="/tasks/")
    assert r.status_code == 303
    [t] = [x for x in list_tasks(rep, due_after=utcnow() + timedelta(days=30)).items]
    assert (t.title, t.related_id, t.due_at.hour) == ("电话确认报价", cid, 2)  # 10:30 Shanghai
    bad = c.submit("/tasks/new", {"title": "", "due_date": "nope", "due_time": ""}, page="/tasks/")
    assert bad.status_code == 422 and "请修改标出的字段" in bad.text
    r = c.submit(f"/tasks/{t.id}/complete", {}, page="/tasks/")
    assert r.status_code == 303
    assert all(x.id != t.id for x in list_tasks(rep).items)
    home = c.get("/")
    assert "逾期的回访" in home.text and 'id="widget-tasks.mine"' in home.text
    panel = c.get(f"/customers/{cid}")
    assert "未完成任务" in panel.text


def test_english_page_and_team_view_for_managers(world, site) -> None:
    create_task(world.ctx("rep2"), {"title": "Call back", "due_at": utcnow() + timedelta(hours=1)})
    create_task(world.ctx("other"), {"title": "Outside the team", "due_at": utcnow()})
    en = signed_in(site, "rep2")
    page = en.get("/tasks/")
    assert "My tasks" in page.text and "Call back" in page.text
    assert en.get("/tasks/team").status_code == 303  # own scope: no team view
    mgr = signed_in(site, "mgr")
    team = mgr.get("/tasks/team")
    assert team.status_code == 200 and "Call back" in team.text and "Outside the team" not in team.text
    assert mgr.get("/tasks/rules").status_code == 403


def test_rules_page(world, site) -> None:
    admin = signed_in(site, "admin")
    page = admin.get("/tasks/rules")
    assert page.status_code == 200 and "未跟进" in page.text
    r = admin.submit("/tasks/rules/stale_customer", {"threshold": "5", "enabled": "on"}, page="/tasks/rules")
    assert r.status_code == 303
    bad = admin.submit("/tasks/rules/stale_customer", {"threshold": "abc"}, page="/tasks/rules")
    assert "1 到 365" in bad.text
    api = admin.get("/api/v1/tasks/rules").json()
    assert api["items"][0]["threshold"] == 5


def test_api_crud_complete_etag_and_keyset(world, site) -> None:
    c = signed_in(site, "rep")
    token = c.csrf("/tasks/")
    h = {"X-CSRF-Token": token}
    due = (utcnow() + timedelta(days=1)).isoformat()
    r = c.post("/api/v1/tasks", json={"title": "API 任务", "due_at": due}, headers=h)
    assert r.status_code == 201 and r.headers["etag"] == 'W/"1"'
    tid = r.json()["id"]
    assert r.headers["location"] == f"/api/v1/tasks/{tid}"
    assert c.post("/api/v1/tasks", json={"title": "x", "due_at": due, "owner_id": 3},
                  headers=h).status_code == 422
    assert c.get(f"/api/v1/tasks/{tid}").headers["etag"] == 'W/"1"'
    assert c.request("PATCH", f"/api/v1/tasks/{tid}", json={"title": "y"}, headers=h).status_code == 428
    r = c.request("PATCH", f"/api/v1/tasks/{tid}", json={"title": "改名"}, headers={**h, "If-Match": 'W/"1"'})
    assert r.status_code == 200 and r.json()["version"] == 2
    stale = c.request("PATCH", f"/api/v1/tasks/{tid}", json={"title": "z"},
                      headers={**h, "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    r = c.post(f"/api/v1/tasks/{tid}/complete", headers=h)
    assert r.status_code == 200 and r.json()["done_at"]
    for i in range(3):
        c.post("/api/v1/tasks", json={"title": f"p{i}", "due_at": due}, headers=h)
    first = c.get("/api/v1/tasks", params={"limit": 2}).json()
    second = c.get("/api/v1/tasks", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(first["items"]) == 2 and len(second["items"]) == 1 and second["next_cursor"] is None
    assert c.get("/api/v1/tasks", params={"sort": "x"}).status_code == 400
    assert c.get("/api/v1/tasks", params={"status": "done"}).json()["items"][0]["id"] == tid
    r = c.request("DELETE", f"/api/v1/tasks/{tid}", headers={**h, "If-Match": 'W/"3"'})
    assert r.status_code == 204
    assert c.get(f"/api/v1/tasks/{tid}").status_code == 404
    other = signed_in(site, "other")
    mine = create_task(world.ctx("rep"), {"title": "secret", "due_at": utcnow()})
    assert other.get(f"/api/v1/tasks/{mine.id}").status_code == 404
    doc = c.get("/api/v1/openapi.json").json()
    assert {"/api/v1/tasks", "/api/v1/tasks/{id}", "/api/v1/tasks/{id}/complete"} <= set(doc["paths"])
    validate(doc)  # a valid OpenAPI 3.1 document with the tasks operations in it


def test_calendar_feed_secret_url(world, site) -> None:
    create_task(world.ctx("rep"), {"title": "拜访华东机械", "due_at": utcnow() + timedelta(days=1),
                                   "notes": "带上样品"})
    create_task(world.ctx("rep2"), {"title": "not mine", "due_at": utcnow()})
    c = signed_in(site, "rep")
    page = c.submit("/tasks/calendar", {}, page="/tasks/calendar")
    assert page.status_code == 200
    url = page.text.split('id="feed-url">')[1].split("<")[0]
    path = url.split("crm.test")[1]
    anon = site.client()
    feed = anon.get(path)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(feed.content)
    events = [e for e in cal.walk("VEVENT")]
    assert [str(e["SUMMARY"]) for e in events] == ["拜访华东机械"]
    assert str(events[0]["DESCRIPTION"]) == "带上样品" and str(events[0]["UID"]).startswith("task-")
    uid, _, secret = path.removeprefix("/tasks/feed/").removesuffix(".ics").partition("-")
    assert anon.get(f"/tasks/feed/{uid}-{secret}x.ics").status_code == 404
    assert anon.get(f"/tasks/feed/{world.ids['rep2']}-{secret}.ics").status_code == 404
    assert anon.get("/tasks/feed/garbage.ics").status_code == 404
    again = c.submit("/tasks/calendar", {}, page="/tasks/calendar")  # regenerate
    new_path = again.text.split('id="feed-url">')[1].split("<")[0].split("crm.test")[1]
    assert anon.get(path).status_code == 404 and anon.get(new_path).status_code == 200


def test_disabling_hides_pages_api_and_widgets(world, site) -> None:
    cid = world.customer("rep", "华东机械")
    create_task(world.ctx("rep"), {"title": "仍然保留", "due_at": utcnow(), "related_entity": "customer",
                                   "related_id": cid})
    c = signed_in(site, "rep")
    assert 'data-key="tasks"' in c.get("/").text
    disable(world.kernel.ctx(), ["tasks"])
    assert c.get("/tasks/").status_code == 404
    assert c.get("/api/v1/tasks").status_code == 404
    home = c.get("/")
    assert 'data-key="tasks"' not in home.text and "widget-tasks.mine" not in home.text
    assert "未完成任务" not in c.get(f"/customers/{cid}").text
    assert c.get(f"/customers/{cid}").status_code == 200  # customers intact
    enable(world.kernel.ctx(), ["tasks"])
    assert "仍然保留" in c.get("/tasks/").text
