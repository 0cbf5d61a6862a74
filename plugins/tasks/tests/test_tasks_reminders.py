"""Reminder rules and due reminders: the stale-customer sweep (one statement), each reminder
delivered exactly once even when the job runs twice or in two threads at once, and real email
received by an SMTP server on loopback."""

from __future__ import annotations

import threading
from datetime import timedelta

from crm_tasks.models import Task
from crm_tasks.services import create_task, list_tasks
from crm_tasks.services.reminders import send_due_reminders
from crm_tasks.services.rules import list_rules, run_stale_rule, update_rule
from sqlalchemy import func, select, update

from crm_core.db import utcnow
from crm_core.models import Customer, Notification, User
from crm_core.scheduler import run_job
from crm_core.services.notifications import deliver_emails
from crm_core.testing_mail import SmtpSink


def count(world, model, *where) -> int:
    with world.kernel.new_session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def age(world, customer_id: int, days: float | None, created_days: float = 30) -> None:
    """Last follow-up ``days`` ago (None: never), created ``created_days`` ago."""
    now = utcnow()
    with world.kernel.new_session(write=True) as s, s.begin():
        s.execute(update(Customer).where(Customer.id == customer_id).values(
            last_followup_at=None if days is None else now - timedelta(days=days),
            created_at=now - timedelta(days=created_days)))


def in_parallel(fn, n: int = 2) -> list:
    barrier = threading.Barrier(n)
    out: list = []
    errors: list = []

    def run() -> None:
        barrier.wait()
        try:
            out.append(fn())
        except Exception as exc:  # pragma: no cover - shown by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return out


def test_stale_customer_rule_reminds_each_owner_once(world) -> None:
    stale = world.customer("rep", "华东机械")  # 5 days without follow-up
    never = world.customer("rep2", "Never Called Ltd")  # never, created 30 days ago
    fresh = world.customer("rep", "新客户")  # followed up yesterday
    new = world.customer("rep", "刚建的客户")  # never, but created today
    churned = world.customer("other", "流失客户")
    unowned = world.customer("admin", "无人负责")
    age(world, stale, 5)
    age(world, never, None)
    age(world, fresh, 1)
    age(world, new, None, created_days=0.1)
    age(world, churned, 10)
    age(world, unowned, 10)
    with world.kernel.new_session(write=True) as s, s.begin():
        s.execute(update(Customer).where(Customer.id == churned).values(status="churned"))
        s.execute(update(Customer).where(Customer.id == unowned).values(owner_id=None))
    ctx = world.kernel.ctx()
    created = run_stale_rule(ctx)
    assert len(created) == 2
    assert run_stale_rule(ctx) == []  # the job fired twice: nothing new
    assert run_job(world.kernel, "tasks.stale_customers", "f1") == "done"
    assert run_job(world.kernel, "tasks.stale_customers", "f1") == "duplicate"
    assert count(world, Task) == 2 and count(world, Notification) == 2
    [t] = list_tasks(world.ctx("rep")).items
    assert (t.related_id, t.source, t.title) == (stale, "rule.stale_customer", "跟进客户：华东机械")
    assert [x.related_id for x in list_tasks(world.ctx("rep2")).items] == [never]
    # each owner reads the reminder in their own language (rep2's UI is English)
    assert [x.title for x in list_tasks(world.ctx("rep2")).items] == ["Follow up with Never Called Ltd"]
    with world.kernel.new_session() as s:
        bodies = dict(s.execute(select(Notification.user_id, Notification.body)).all())
    assert bodies == {world.ids["rep"]: "超过 3 天未跟进。",
                      world.ids["rep2"]: "No follow-up for more than 3 days."}
    age(world, stale, 4)  # followed up once more, then left alone again: a new reminder
    assert len(run_stale_rule(ctx)) == 1
    assert count(world, Task, Task.related_id == stale) == 2


def test_stale_rule_in_two_threads_creates_each_task_once(world) -> None:
    ids = [world.customer("rep", f"客户{i}") for i in range(20)]
    for cid in ids:
        age(world, cid, 7)
    results = in_parallel(lambda: run_stale_rule(world.kernel.ctx()))
    assert sorted(len(r) for r in results) in ([0, 20], [20, 0]) or sum(map(len, results)) == 20
    assert count(world, Task) == 20 and count(world, Notification) == 20


def test_rule_settings_threshold_and_switch(world) -> None:
    cid = world.customer("rep", "华东机械")
    age(world, cid, 5)
    admin = world.ctx("admin")
    [rule] = list_rules(admin)
    assert (rule.key, rule.threshold, rule.enabled) == ("stale_customer", 3, True)
    update_rule(admin, "stale_customer", {"threshold": 7})
    assert run_stale_rule(world.kernel.ctx()) == []
    update_rule(admin, "stale_customer", {"threshold": 4, "enabled": False})
    assert run_stale_rule(world.kernel.ctx()) == []
    update_rule(admin, "stale_customer", {"enabled": True})
    assert len(run_stale_rule(world.kernel.ctx())) == 1


def test_due_reminder_once_with_duplicated_job_runs(world) -> None:
    rep = world.ctx("rep")
    t = create_task(rep, {"title": "回访华东机械", "due_at": utcnow() - timedelta(minutes=1)})
    create_task(rep, {"title": "later", "due_at": utcnow() + timedelta(days=1)})
    handled = in_parallel(lambda: send_due_reminders(world.kernel))
    assert sorted(handled) == [0, 1]
    assert send_due_reminders(world.kernel) == 0
    assert run_job(world.kernel, "tasks.due_reminders", "a") == "done"
    assert run_job(world.kernel, "tasks.due_reminders", "b") == "done"
    with world.kernel.new_session() as s:
        [n] = s.scalars(select(Notification)).all()
    assert n.user_id == world.ids["rep"] and n.title == f"任务到期：{t.title}"
    assert n.url == f"/tasks/#task-{t.id}"


def test_real_email_for_a_stale_customer(make_world) -> None:
    with SmtpSink() as sink:
        w = make_world(smtp_host=sink.host, smtp_port=sink.port, smtp_from="crm@example.com",
                       mail_base_url="https://crm.example.com")
        k = w.kernel
        with k.new_session(write=True) as s, s.begin():
            s.execute(update(User).where(User.login == "rep").values(email="rep@example.com"))
        cid = w.customer("rep", "华东机械")
        age(w, cid, 6)
        assert len(run_stale_rule(k.ctx())) == 1
        assert run_stale_rule(k.ctx()) == []
        results = in_parallel(lambda: deliver_emails(k))
        assert deliver_emails(k) == 0
        assert run_job(k, "core.notification_email", "x") == "done"
        messages = sink.wait_for(1)
        sink.wait_for(2, timeout=0.5)
    assert sorted(results) == [0, 1]
    assert len(sink.messages) == 1
    [msg] = messages
    assert msg["To"] == "rep@example.com" and msg["Subject"] == "跟进客户：华东机械"
    assert f"https://crm.example.com/customers/{cid}" in msg.get_content()
