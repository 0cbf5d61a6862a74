"""In-app notifications: exactly once per (user, dedup key), unread count, keyset list, mark
read; their email copies sent once through a real SMTP server even when the job runs twice at
once; the header badge, the /notifications page and the API."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from crm_core.errors import NotFound, ValidationError
from crm_core.kernel import Kernel
from crm_core.models import DueWork, Notification, User
from crm_core.scheduler import run_job
from crm_core.services import notifications as svc
from crm_core.services.roles import seed_builtin_grants
from crm_core.services.users import actor_for
from crm_core.testing_mail import SmtpSink
from crm_core.testing_web import Site, add_user
from crm_core.web import create_app


def count(kernel: Kernel, model: Any, *where: Any) -> int:
    with kernel.new_session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _mail(sink: SmtpSink) -> dict[str, object]:
    return {"smtp_host": sink.host, "smtp_port": sink.port, "smtp_from": "crm@example.com",
            "mail_base_url": "https://crm.example.com", "scheduler_enabled": False}


def _users(k: Kernel) -> tuple[int, int]:
    seed_builtin_grants(k.ctx())
    a = add_user(k, "li.na", "sales_rep")
    b = add_user(k, "wang.fang", "sales_rep", locale="en")
    with k.new_session(write=True) as s, s.begin():
        s.execute(update(User).where(User.id == a).values(email="li.na@example.com"))
    return a, b


def test_notify_is_exactly_once_per_user_and_key(kernel: Kernel) -> None:
    a, b = _users(kernel)
    ctx = kernel.ctx()
    first = svc.notify(ctx, a, "test.kind", "跟进提醒", "body", "/customers/1", "k1")
    again = svc.notify(ctx, a, "test.kind", "another title", "x", "/", "k1")
    assert again.id == first.id and again.title == "跟进提醒"
    other = svc.notify(ctx, b, "test.kind", "Reminder", "", "", "k1")  # same key, other user
    assert other.id != first.id
    assert count(kernel, Notification) == 2


def test_notify_validates_and_writes_nothing_on_bad_input(kernel: Kernel) -> None:
    a, _ = _users(kernel)
    ctx = kernel.ctx()
    with pytest.raises(ValidationError) as err:
        svc.notify(ctx, a, "", " ", "", "https://evil.example.com", "")
    assert set(err.value.errors) == {"kind", "title", "dedup_key", "url"}
    with pytest.raises(NotFound):
        svc.notify(ctx, 99999, "k", "t", dedup_key="x")
    assert count(kernel, Notification) == 0


def test_unread_count_list_and_mark_read(kernel: Kernel) -> None:
    a, b = _users(kernel)
    for i in range(5):
        svc.notify(kernel.ctx(), a, "k", f"n{i}", dedup_key=f"d{i}")
    svc.notify(kernel.ctx(), b, "k", "theirs", dedup_key="d0")
    me = kernel.ctx(actor_for(kernel.ctx(), "li.na"))
    them = kernel.ctx(actor_for(kernel.ctx(), "wang.fang"))
    assert svc.unread_count(me) == 5
    assert svc.unread_count(me, cap=3) == 3
    page1 = svc.list_notifications(me, limit=2)
    page2 = svc.list_notifications(me, cursor=page1.next_cursor, limit=2)
    page3 = svc.list_notifications(me, cursor=page2.next_cursor, limit=2)
    titles = [n.title for p in (page1, page2, page3) for n in p.items]
    assert titles == ["n4", "n3", "n2", "n1", "n0"] and page3.next_cursor is None
    svc.mark_read(me, page1.items[0].id)
    assert svc.unread_count(me) == 4
    assert [n.title for n in svc.list_notifications(me, unread_only=True).items] == ["n3", "n2", "n1", "n0"]
    with pytest.raises(NotFound):  # someone else's notification
        svc.mark_read(them, page1.items[1].id)
    assert svc.mark_all_read(me) == 4
    assert svc.unread_count(me) == 0 and svc.unread_count(them) == 1
    with pytest.raises(ValidationError):
        svc.list_notifications(me, cursor="garbage")


def test_email_sent_once_even_when_the_job_runs_twice_at_once(make_kernel: Callable[..., Kernel]) -> None:
    with SmtpSink() as sink:
        k = make_kernel(**_mail(sink))
        a, b = _users(k)
        svc.notify(k.ctx(), a, "tasks.due", "任务到期：回访华东机械", "请今天回电", "/tasks/#task-1", "due:1")
        svc.notify(k.ctx(), a, "tasks.due", "duplicate", "", "", "due:1")  # same key: no 2nd mail
        svc.notify(k.ctx(), b, "x", "no address", "", "", "n:1")  # no email address: no mail
        svc.notify(k.ctx(), a, "x", "in-app only", "", "", "n:2", email=False)
        assert count(k, DueWork, DueWork.kind == svc.EMAIL_KIND) == 1
        barrier = threading.Barrier(2)
        handled: list[int] = []

        def worker() -> None:
            barrier.wait()
            handled.append(svc.deliver_emails(k))

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert run_job(k, "core.notification_email", "fire-1") == "done"
        assert run_job(k, "core.notification_email", "fire-2") == "done"
        messages = sink.wait_for(1)
        sink.wait_for(2, timeout=0.5)  # give a wrong second message the chance to arrive
    assert sorted(handled) == [0, 1]
    assert len(sink.messages) == 1
    [msg] = messages
    assert msg["Subject"] == "任务到期：回访华东机械" and msg["To"] == "li.na@example.com"
    assert "https://crm.example.com/tasks/#task-1" in msg.get_content()
    assert count(k, Notification, Notification.emailed_at.is_not(None)) == 1  # type: ignore[union-attr]


def test_failed_email_is_retried_not_lost(make_kernel: Callable[..., Kernel]) -> None:
    with SmtpSink(refuse=True) as sink:
        k = make_kernel(**_mail(sink))
        a, _ = _users(k)
        svc.notify(k.ctx(), a, "k", "t", dedup_key="r1")
        assert svc.deliver_emails(k) == 0
    [row] = svc.pending_emails(k)
    assert row["status"] == "pending" and row["attempts"] == 1


def test_no_email_row_when_mail_is_off(kernel: Kernel) -> None:
    a, _ = _users(kernel)
    svc.notify(kernel.ctx(), a, "k", "t", dedup_key="off")
    assert svc.pending_emails(kernel) == [] and svc.deliver_emails(kernel) == 0


@pytest.fixture
def site(make_kernel: Callable[..., Kernel], tmp_path: Path):  # type: ignore[no-untyped-def]
    k = make_kernel(scheduler_enabled=False, instance_dir=str(tmp_path / "i"))
    _users(k)
    s = Site(create_app(kernel=k))
    yield k, s
    s.close()


def test_badge_page_and_read_all(site) -> None:  # type: ignore[no-untyped-def]
    k, s = site
    a = actor_for(k.ctx(), "li.na").id
    for i in range(3):
        svc.notify(k.ctx(), a, "k", f"客户提醒{i}", "正文", "/customers/7", f"p{i}")
    c = s.client()
    assert c.login("li.na").status_code == 303
    home = c.get("/")
    assert 'data-unread="3"' in home.text and ">3</span>" in home.text and "通知" in home.text
    page = c.get("/notifications")
    assert page.status_code == 200 and "客户提醒2" in page.text and "全部标为已读" in page.text
    first = k.ctx(actor_for(k.ctx(), "li.na"))
    nid = svc.list_notifications(first).items[0].id
    r = c.submit(f"/notifications/{nid}/read", {}, page="/notifications")
    assert r.status_code == 303 and r.headers["location"] == "/customers/7"
    assert 'data-unread="2"' in c.get("/").text
    r = c.submit("/notifications/read-all", {}, page="/notifications")
    assert r.status_code == 303
    assert 'data-unread="0"' in c.get("/notifications").text
    en = s.client()
    en.login("wang.fang")
    assert "Notifications" in en.get("/notifications").text
    anon = s.client()
    assert anon.get("/notifications").status_code in (302, 303)


def test_api_lists_and_marks_read(site) -> None:  # type: ignore[no-untyped-def]
    k, s = site
    a = actor_for(k.ctx(), "li.na").id
    b = actor_for(k.ctx(), "wang.fang").id
    for i in range(3):
        svc.notify(k.ctx(), a, "k", f"n{i}", dedup_key=f"a{i}")
    theirs = svc.notify(k.ctx(), b, "k", "theirs", dedup_key="b")
    c = s.client()
    c.login("li.na")
    r = c.get("/api/v1/notifications", params={"limit": 2})
    body = r.json()
    assert r.status_code == 200 and [n["title"] for n in body["items"]] == ["n2", "n1"]
    assert body["unread_count"] == 3 and body["next_cursor"]
    r2 = c.get("/api/v1/notifications", params={"cursor": body["next_cursor"]})
    assert [n["title"] for n in r2.json()["items"]] == ["n0"]
    assert c.get("/api/v1/notifications", params={"bogus": "1"}).status_code == 400
    token = c.csrf("/notifications")
    r = c.post(f"/api/v1/notifications/{body['items'][0]['id']}/read", headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["read_at"]
    r = c.post(f"/api/v1/notifications/{theirs.id}/read", headers={"X-CSRF-Token": token})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = c.post("/api/v1/notifications/read-all", headers={"X-CSRF-Token": token})
    assert r.json() == {"marked": 2}
    doc = c.get("/api/v1/openapi.json").json()
    assert "/api/v1/notifications" in doc["paths"]
    assert "/api/v1/notifications/{id}/read" in doc["paths"]


def test_notify_many_in_bulk_is_exactly_once_too(make_kernel: Callable[..., Kernel]) -> None:
    with SmtpSink() as sink:
        k = make_kernel(**_mail(sink))
        a, b = _users(k)
        notes = [svc.Note(a, "rule", f"提醒{i}", dedup_key=f"bulk:{i}") for i in range(1200)]
        notes += [svc.Note(b, "rule", "no address", dedup_key="bulk:0"),
                  svc.Note(a, "rule", "repeat in the batch", dedup_key="bulk:1")]
        assert svc.notify_many(k.ctx(), notes, chunk=500) == 1201
        assert svc.notify_many(k.ctx(), notes) == 0
        assert count(k, Notification) == 1201
        assert count(k, DueWork, DueWork.kind == svc.EMAIL_KIND) == 1200
        with pytest.raises(ValidationError):
            svc.notify_many(k.ctx(), [svc.Note(a, "rule", "t", url="http://x", dedup_key="z")])
        with pytest.raises(NotFound):
            svc.notify_many(k.ctx(), [svc.Note(999999, "rule", "t", dedup_key="z")])
        assert count(k, Notification) == 1201
