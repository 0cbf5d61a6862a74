"""The glue plugin (tasks + leads): a new lead not contacted within 12 hours alerts its owner
and the team manager — once, even when the job fires twice or runs in two threads — and real
email reaches them; a contacted or recent lead is left alone; the rule appears on the tasks
rules page and can be switched off."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from crm_leads.manifest import manifest as LEADS
from crm_leads.models import Lead
from crm_leads.services.leads import create_lead, mark_contacted
from crm_tasks.manifest import manifest as TASKS
from crm_tasks.models import Task
from crm_tasks.services.rules import list_rules, update_rule
from crm_tasks_leads.manifest import manifest as GLUE
from crm_tasks_leads.rule import run_uncontacted_rule
from sqlalchemy import func, select, update

from crm_core.db import utcnow
from crm_core.models import Notification, User
from crm_core.scheduler import run_job
from crm_core.services.notifications import deliver_emails
from crm_core.services.roles import seed_builtin_grants
from crm_core.services.users import actor_for, create_team, set_membership
from crm_core.testing_mail import SmtpSink
from crm_core.testing_web import add_user


@pytest.fixture
def make(make_kernel):
    def build(**settings):
        k = make_kernel(plugins=[TASKS, LEADS, GLUE], enabled=["tasks", "leads", "tasks_leads"],
                        scheduler_enabled=False, **settings)
        seed_builtin_grants(k.ctx())
        ids = {login: add_user(k, login, role) for login, role in (
            ("admin", "admin"), ("mgr", "sales_manager"), ("rep", "sales_rep"), ("solo", "sales_rep"),
            ("rep2", "sales_rep"))}
        create_team(k.ctx(), "East", manager="mgr")
        set_membership(k.ctx(), "East", "rep", True)
        set_membership(k.ctx(), "East", "rep2", True)
        with k.new_session(write=True) as s, s.begin():
            for login in ("rep", "mgr"):
                s.execute(update(User).where(User.login == login).values(email=f"{login}@example.com"))
        return k, ids

    return build


def lead(k, login: str, name: str, hours_old: float) -> int:
    ctx = k.ctx(actor_for(k.ctx(), login), "web")
    lid = create_lead(ctx, {"name": name, "phone": "+8613800138000", "company": "华东机械"}).id
    with k.new_session(write=True) as s, s.begin():
        s.execute(update(Lead).where(Lead.id == lid).values(created_at=utcnow() - timedelta(hours=hours_old)))
    return lid


def count(k, model, *where) -> int:
    with k.new_session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_uncontacted_lead_alerts_owner_and_manager_once(make) -> None:
    k, ids = make()
    old = lead(k, "rep", "王先生", 13)
    recent = lead(k, "rep", "李女士", 2)
    contacted = lead(k, "rep", "张总", 20)
    mark_contacted(k.ctx(actor_for(k.ctx(), "rep")), contacted)
    no_team = lead(k, "solo", "Mr Smith", 15)
    assert sorted(run_uncontacted_rule(k.ctx())) == sorted([old, no_team])
    assert run_uncontacted_rule(k.ctx()) == []
    assert run_job(k, "tasks_leads.uncontacted_leads", "f1") == "done"
    with k.new_session() as s:
        got = sorted((n.user_id, n.url) for n in s.scalars(select(Notification)))
    assert got == sorted([(ids["rep"], f"/leads/{old}"), (ids["mgr"], f"/leads/{old}"),
                          (ids["solo"], f"/leads/{no_team}")])
    [task] = [t for t in _tasks(k) if t.related_id == old]
    assert (task.assignee_id, task.related_entity) == (ids["rep"], "leads.lead")
    assert task.title == "联系新线索：王先生"
    assert recent not in {t.related_id for t in _tasks(k)}


def _tasks(k):
    with k.new_session() as s:
        return list(s.scalars(select(Task)))


def test_two_workers_and_real_email(make) -> None:
    with SmtpSink() as sink:
        k, _ids = make(smtp_host=sink.host, smtp_port=sink.port, smtp_from="crm@example.com")
        lid = lead(k, "rep", "王先生", 13)
        results: list[list[int]] = []
        barrier = threading.Barrier(2)

        def run(fn, out):
            barrier.wait()
            out.append(fn())

        threads = [threading.Thread(target=run, args=(lambda: run_uncontacted_rule(k.ctx()), results))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(map(len, results)) == [0, 1]
        sent: list[int] = []
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=run, args=(lambda: deliver_emails(k), sent)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        messages = sink.wait_for(2)
        sink.wait_for(3, timeout=0.5)
    assert sum(sent) == 2 and len(sink.messages) == 2
    assert sorted(m["To"] for m in messages) == ["mgr@example.com", "rep@example.com"]
    assert all(m["Subject"] == "联系新线索：王先生" for m in messages)
    assert count(k, Task, Task.related_id == lid) == 1


def test_rule_listed_and_switchable(make) -> None:
    k, _ = make()
    admin = k.ctx(actor_for(k.ctx(), "admin"))
    keys = {r.key: r for r in list_rules(admin)}
    assert keys["tasks_leads.lead_uncontacted"].threshold == 12
    assert keys["tasks_leads.lead_uncontacted"].unit == "hours"
    lead(k, "rep", "王先生", 13)
    update_rule(admin, "tasks_leads.lead_uncontacted", {"enabled": False})
    assert run_uncontacted_rule(k.ctx()) == []
    update_rule(admin, "tasks_leads.lead_uncontacted", {"enabled": True, "threshold": 24})
    assert run_uncontacted_rule(k.ctx()) == []
    update_rule(admin, "tasks_leads.lead_uncontacted", {"threshold": 12})
    assert len(run_uncontacted_rule(k.ctx())) == 1


def test_task_on_a_lead_must_be_readable_by_its_assignee(make) -> None:
    from crm_tasks.services import create_task

    from crm_core.errors import ValidationError

    k, ids = make()
    lid = lead(k, "rep", "王先生", 1)
    rep = k.ctx(actor_for(k.ctx(), "rep"), "web")
    t = create_task(rep, {"title": "回电", "due_at": utcnow(), "related_entity": "leads.lead",
                          "related_id": lid})
    assert (t.related_entity, t.related_id) == ("leads.lead", lid)
    solo = k.ctx(actor_for(k.ctx(), "solo"), "web")
    with pytest.raises(ValidationError) as err:  # solo cannot read rep's lead
        create_task(solo, {"title": "x", "due_at": utcnow(), "related_entity": "leads.lead",
                           "related_id": lid})
    assert err.value.errors == {"related_id": ["not found"]}
    mgr = k.ctx(actor_for(k.ctx(), "mgr"), "web")
    with pytest.raises(ValidationError) as err:  # the manager reads it, rep2 (the assignee) not
        create_task(mgr, {"title": "x", "due_at": utcnow(), "related_entity": "leads.lead",
                          "related_id": lid, "assignee_id": ids["rep2"]})
    assert err.value.errors == {"assignee_id": ["the assignee cannot see the related record"]}
