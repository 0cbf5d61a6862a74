""""A new lead not contacted within N hours (default 12) → alert its owner and the team
manager" — reading ``leads_lead`` through the leads plugin's model.

One statement finds the due leads over the index ``leads_lead (status, created_at)`` and
creates a "contact this lead" task for each owner (``INSERT … SELECT … ON CONFLICT (source_key)
DO NOTHING RETURNING``): a lead is handled once however often the job fires, or how many workers
run it. Only the leads that got a task just now notify their owner and the team's manager
(in-app + email, exactly once by dedup key). Leads older than ``LOOKBACK`` are left alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from crm_leads.models import Lead
from crm_tasks.models import Task
from crm_tasks.services.rules import rule_settings
from sqlalchemy import String, and_, cast, func, literal, select
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import dialect_insert, utcnow
from crm_core.models import Team, TeamMember
from crm_core.models.base import table_of
from crm_core.services.base import record
from crm_core.services.notifications import Note, notify_many

KEY = "tasks_leads.lead_uncontacted"
RULE: dict[str, Any] = {
    "key": KEY, "plugin": "tasks_leads",
    "label": "新线索超过 N 小时未联系 → 提醒负责人和团队经理",
    "label_en": "New lead not contacted within N hours → alert its owner and the team manager",
    "unit": "hours", "threshold": 12, "enabled": True,
}
LOOKBACK = timedelta(days=30)


def due_condition(cutoff: datetime) -> Any:
    return and_(col(Lead.status) == "new", col(Lead.created_at) < cutoff,
                col(Lead.created_at) >= cutoff - LOOKBACK, col(Lead.first_contacted_at).is_(None),
                col(Lead.owner_id).is_not(None))


def _title_prefix(kernel: Any) -> str:
    return "联系新线索：" if kernel.settings.default_locale == "zh_CN" else "Contact the new lead "


def managers_of(s: Any, lead_ids: list[int]) -> dict[int, set[int]]:
    """lead id → the managers of its team (or, without a team, of its owner's teams)."""
    out: dict[int, set[int]] = {i: set() for i in lead_ids}
    by_team = s.execute(select(col(Lead.id), col(Team.manager_id))
                        .join(Team, col(Team.id) == col(Lead.team_id))
                        .where(col(Lead.id).in_(lead_ids), col(Team.manager_id).is_not(None)))
    for lead_id, manager in by_team:
        out[lead_id].add(manager)
    no_team = [i for i, m in out.items() if not m]
    if no_team:
        by_owner = s.execute(
            select(col(Lead.id), col(Team.manager_id))
            .join(TeamMember, col(TeamMember.user_id) == col(Lead.owner_id))
            .join(Team, col(Team.id) == col(TeamMember.team_id))
            .where(col(Lead.id).in_(no_team), col(Lead.team_id).is_(None),
                   col(Team.manager_id).is_not(None)))
        for lead_id, manager in by_owner:
            out[lead_id].add(manager)
    return out


def run_uncontacted_rule(ctx: Ctx, now: datetime | None = None) -> list[int]:
    """Create the tasks and send the alerts; returns the ids of the leads alerted now."""
    rule = rule_settings(ctx, RULE)
    if not rule.enabled:
        return []
    now = now or utcnow()
    hours = rule.threshold
    cutoff = now - timedelta(hours=hours)
    tt, lt = table_of(Task), table_of(Lead)
    due = literal(now, tt.c.due_at.type)
    title = func.substr(literal(_title_prefix(ctx.kernel)) + lt.c.name, 1, 200)
    key = literal("lead_uncontacted:") + cast(lt.c.id, String)
    cols = ["created_at", "updated_at", "version", "title", "due_at", "assignee_id",
            "related_entity", "related_id", "source", "source_key"]
    sel = select(due, due, literal(1), title, due, lt.c.owner_id, literal("leads.lead"), lt.c.id,
                 literal("rule.lead_uncontacted"), key).where(due_condition(cutoff))
    with ctx.uow() as s:
        created = list(s.execute(
            dialect_insert(s, tt).from_select(cols, sel)
            .on_conflict_do_nothing(index_elements=["source_key"])
            .returning(tt.c.assignee_id, tt.c.related_id, tt.c.title)))
        if not created:
            return []
        managers = managers_of(s, [r[1] for r in created])
        body = f"{hours}+ hours without contact / 超过 {hours} 小时未联系"
        notify_many(ctx, [
            Note(user, "tasks_leads.lead_uncontacted", task_title, body, f"/leads/{lead_id}",
                 f"tasks_leads.uncontacted:{lead_id}")
            for owner_id, lead_id, task_title in created
            for user in [owner_id, *sorted(managers[lead_id] - {owner_id})]])
        record(ctx, s, action="tasks.rule_run", entity="tasks.rule", entity_id=None,
               changes={"created": [0, len(created)]}, summary=f"{KEY}: {len(created)} lead(s)")
        return [r[1] for r in created]
