"""Tasks: create / change / complete / delete through the services; scope by assignee (a rep
sees only own tasks, a manager the team's); the related record must be readable by the
assignee; recurrence; a follow-up's next step becomes a task once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from crm_tasks.models import Task
from crm_tasks.services import (
    complete_task,
    create_task,
    delete_task,
    get_task,
    list_tasks,
    reopen_task,
    update_task,
)
from crm_tasks.services.tasks import add_interval
from sqlalchemy import func, select

from crm_core.db import utcnow
from crm_core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from crm_core.models import AuditEntry
from crm_core.services.followups import create_followup, update_followup

SOON = timedelta(days=1)


def n_tasks(world) -> int:
    with world.kernel.new_session() as s:
        return s.scalar(select(func.count()).select_from(Task)) or 0


def test_rep_sees_only_own_tasks_manager_the_teams(world) -> None:
    rep, rep2, other, mgr = (world.ctx(x) for x in ("rep", "rep2", "other", "mgr"))
    mine = create_task(rep, {"title": "回访", "due_at": utcnow() + SOON})
    theirs = create_task(rep2, {"title": "call", "due_at": utcnow() + SOON})
    outside = create_task(other, {"title": "拜访", "due_at": utcnow() + SOON})
    assert [t.id for t in list_tasks(rep, view="scope").items] == [mine.id]
    with pytest.raises(NotFound):
        get_task(rep, theirs.id)
    with pytest.raises(NotFound):
        complete_task(rep, outside.id)
    team = {t.id for t in list_tasks(mgr, view="scope").items}
    assert team == {mine.id, theirs.id}
    assert list_tasks(mgr).items == []  # "mine": assigned to the manager
    assert {t.id for t in list_tasks(world.ctx("admin"), view="scope").items} == {
        mine.id, theirs.id, outside.id}
    complete_task(mgr, theirs.id)  # team scope may complete a member's task
    with pytest.raises(NotFound):
        get_task(mgr, outside.id)


def test_who_may_be_given_a_task(world) -> None:
    rep, mgr = world.ctx("rep"), world.ctx("mgr")
    with pytest.raises(PermissionDenied):
        create_task(rep, {"title": "x", "due_at": utcnow(), "assignee_id": world.ids["rep2"]})
    t = create_task(mgr, {"title": "给李娜", "due_at": utcnow(), "assignee_id": world.ids["rep"]})
    assert t.assignee_id == world.ids["rep"] and t.created_by_id == world.ids["mgr"]
    with pytest.raises(PermissionDenied):
        create_task(mgr, {"title": "x", "due_at": utcnow(), "assignee_id": world.ids["other"]})
    assert n_tasks(world) == 1


def test_related_record_must_be_readable_by_the_assignee(world) -> None:
    cid = world.customer("rep", "华东机械")
    other_cid = world.customer("other", "南方贸易")
    rep, mgr = world.ctx("rep"), world.ctx("mgr")
    t = create_task(rep, {"title": "回访", "due_at": utcnow(), "related_entity": "customer",
                          "related_id": cid})
    assert (t.related_entity, t.related_id) == ("customer", cid)
    with pytest.raises(ValidationError) as err:  # rep cannot read other's customer
        create_task(rep, {"title": "x", "due_at": utcnow(), "related_entity": "customer",
                          "related_id": other_cid})
    assert err.value.errors == {"related_id": ["not found"]}
    with pytest.raises(ValidationError) as err:  # manager reads it, rep2 (assignee) does not
        create_task(mgr, {"title": "x", "due_at": utcnow(), "related_entity": "customer",
                          "related_id": cid, "assignee_id": world.ids["rep2"]})
    assert "assignee_id" in err.value.errors
    with pytest.raises(ValidationError) as err:  # leads is not enabled here
        create_task(rep, {"title": "x", "due_at": utcnow(), "related_entity": "leads.lead",
                          "related_id": 1})
    assert err.value.errors == {"related_entity": ["unknown or switched off"]}
    with pytest.raises(ValidationError):
        create_task(rep, {"title": "x", "due_at": utcnow(), "related_entity": "customer"})
    with pytest.raises(ValidationError):
        create_task(rep, {"title": "  ", "due_at": utcnow()})
    with pytest.raises(ValidationError):
        create_task(rep, {"title": "x", "due_at": utcnow(), "owner_id": 1})
    assert n_tasks(world) == 1


def test_update_with_version_delete_and_audit(world) -> None:
    rep = world.ctx("rep")
    t = create_task(rep, {"title": "a", "due_at": datetime(2030, 1, 2, 9, 0)})  # naive: Shanghai
    assert t.due_at == datetime(2030, 1, 2, 1, 0, tzinfo=UTC)
    t2 = update_task(rep, t.id, {"title": "b"}, version=t.version)
    assert t2.version == t.version + 1 and t2.title == "b"
    with pytest.raises(Conflict):
        update_task(rep, t.id, {"title": "c"}, version=t.version)
    with pytest.raises(ValidationError):
        update_task(rep, t.id, {"due_at": None})
    reopened = reopen_task(rep, complete_task(rep, t.id).id)
    assert reopened.done_at is None
    delete_task(rep, t.id)
    with pytest.raises(NotFound):
        get_task(rep, t.id)
    with world.kernel.new_session() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "tasks.task")
                                 .order_by(AuditEntry.id)))
    assert actions == ["tasks.create", "tasks.update", "tasks.complete", "tasks.reopen", "tasks.delete"]


def test_recurrence_creates_the_next_one_once(world) -> None:
    rep = world.ctx("rep")
    due = utcnow() + timedelta(hours=2)
    t = create_task(rep, {"title": "每周回访", "due_at": due, "recurrence_every": 1,
                          "recurrence_unit": "week"})
    complete_task(rep, t.id)
    complete_task(rep, t.id)  # again: nothing more
    [nxt] = list_tasks(rep).items
    assert nxt.due_at == due + timedelta(weeks=1) and nxt.recurrence_unit == "week"
    assert nxt.source == "recurrence"
    late = create_task(rep, {"title": "every 3 days", "due_at": utcnow() - timedelta(days=10),
                             "recurrence_every": 3, "recurrence_unit": "day"})
    complete_task(rep, late.id)
    following = [x for x in list_tasks(rep).items if x.title == "every 3 days"]
    assert len(following) == 1 and following[0].due_at > utcnow()
    assert following[0].due_at - late.due_at == timedelta(days=12)
    with pytest.raises(ValidationError):
        create_task(rep, {"title": "x", "due_at": due, "recurrence_every": 2})


def test_month_arithmetic_clamps_the_day() -> None:
    jan31 = datetime(2027, 1, 31, 9, tzinfo=UTC)
    assert add_interval(jan31, 1, "month") == datetime(2027, 2, 28, 9, tzinfo=UTC)
    assert add_interval(jan31, 13, "month") == datetime(2028, 2, 29, 9, tzinfo=UTC)
    assert add_interval(jan31, 2, "day") == datetime(2027, 2, 2, 9, tzinfo=UTC)


def test_followup_next_step_creates_one_task(world) -> None:
    cid = world.customer("rep", "华东机械")
    rep = world.ctx("rep")
    day = date.today() + timedelta(days=2)
    fu = create_followup(rep, {"customer_id": cid, "method": "phone", "content": "电话沟通",
                               "next_step": "发送报价单", "next_step_due": day})
    [t] = list_tasks(rep).items
    assert (t.title, t.related_id, t.source) == ("发送报价单", cid, "followup")
    assert t.due_at == datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    world.kernel.events.retry_due()  # a redelivery is harmless
    from crm_tasks.plugin import _followup_task

    _followup_task(world.kernel, fu.id)
    update_followup(rep, fu.id, {"next_step_due": day + timedelta(days=1)})
    assert n_tasks(world) == 1
    create_followup(rep, {"customer_id": cid, "method": "phone", "content": "无下一步"})
    assert n_tasks(world) == 1


def test_keyset_pages(world) -> None:
    rep = world.ctx("rep")
    base = utcnow() + SOON
    for i in range(5):
        create_task(rep, {"title": f"t{i}", "due_at": base + timedelta(minutes=i % 2)})
    seen, cursor = [], None
    while True:
        page = list_tasks(rep, cursor=cursor, limit=2)
        seen += [t.id for t in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5
    with pytest.raises(ValidationError):
        list_tasks(rep, cursor="nope")
