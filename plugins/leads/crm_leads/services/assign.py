"""Assigning leads through the rules — one lead or a batch, atomic and fair across workers.

Round-robin: each rule has a counter row (``leads_rotation``) that only grows; a batch takes
``n`` slots with ONE ``INSERT … ON CONFLICT DO UPDATE SET counter = counter + n RETURNING``
in the assigning transaction. On SQLite the write transaction is ``BEGIN IMMEDIATE`` (one
writer); on PostgreSQL the upsert locks the row until commit. Two workers therefore never get
the same slot, and member ``k`` of a team gets slots ``k, k+m, k+2m…``: counts differ by ≤ 1.
Fewest open leads: the same row is locked first, so counts are read and updated by one worker
at a time.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, func, null, select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.errors import PermissionDenied, ValidationError
from crm_core.models import TeamMember, User
from crm_core.models.base import table_of
from crm_core.permissions.scope import fetch_in_scope
from crm_core.services.base import bump, record
from crm_leads.models import OPEN_STATUSES, AssignmentRule, Lead, RotationPointer
from crm_leads.services.bulk import write_batch
from crm_leads.services.engine import Rule, pick

ENTITY = "leads.lead"
_TAKE = text(
    "INSERT INTO leads_rotation (rule_id, counter, updated_at) VALUES (:rule, :n, :now) "
    "ON CONFLICT (rule_id) DO UPDATE SET counter = leads_rotation.counter + :n, updated_at = :now "
    "RETURNING counter"
).bindparams(bindparam("now", type_=table_of(RotationPointer).c.updated_at.type))


def load_rules(s: Session) -> list[Rule]:
    rows = s.scalars(select(AssignmentRule).where(col(AssignmentRule.active))
                     .order_by(col(AssignmentRule.position), col(AssignmentRule.id)))
    return [Rule.of(r) for r in rows]


def take_slots(s: Session, rule_id: int, n: int) -> int:
    """Reserve ``n`` round-robin slots of a rule; returns the first one (atomic)."""
    counter = s.execute(_TAKE, {"rule": rule_id, "n": n, "now": utcnow()}).scalar_one()
    return int(counter) - n


def team_members(s: Session, team_id: int | None) -> list[int]:
    if team_id is None:
        return []
    return list(s.scalars(
        select(col(TeamMember.user_id)).join(User, col(User.id) == TeamMember.user_id)
        .where(col(TeamMember.team_id) == team_id, col(User.is_active))
        .order_by(col(TeamMember.user_id))))


def _first_team(s: Session, user_id: int) -> int | None:
    return s.scalar(select(func.min(TeamMember.team_id)).where(col(TeamMember.user_id) == user_id))


def _decide(s: Session, rules: list[Rule], leads: list[Any]) -> list[tuple[int | None, int | None,
                                                                             int | None, str]]:
    """(owner_id, team_id, rule_id, reason) for each lead, in order."""
    chosen = [pick(rules, lead) for lead in leads]
    out: list[tuple[int | None, int | None, int | None, str]] = [(None, None, None, "")] * len(leads)
    by_rule: dict[int, list[int]] = defaultdict(list)
    rule_of: dict[int, Rule] = {}
    for i, (rule, why) in enumerate(chosen):
        if rule is None:
            out[i] = (None, None, None, why)
        else:
            by_rule[rule.id].append(i)
            rule_of[rule.id] = rule
    for rid in sorted(by_rule):  # a fixed order of row locks: no deadlock between workers
        rule, idx = rule_of[rid], by_rule[rid]
        head = f"rule #{rule.id} “{rule.name}” ({{why}})"
        if rule.action == "user":
            active = rule.user_id is not None and s.scalar(
                select(col(User.is_active)).where(col(User.id) == rule.user_id))
            team = _first_team(s, rule.user_id) if active and rule.user_id else None
            for i in idx:
                why = head.format(why=chosen[i][1])
                if active:
                    out[i] = (rule.user_id, rule.team_id or team, rule.id, f"{why} → named user")
                else:
                    out[i] = (None, None, rule.id, f"{why} → named user is missing or inactive")
            continue
        members = team_members(s, rule.team_id)
        if not members:
            for i in idx:
                out[i] = (None, None, rule.id, head.format(why=chosen[i][1]) + " → team has no members")
            continue
        if rule.action == "round_robin":
            start = take_slots(s, rule.id, len(idx))
            for k, i in enumerate(idx):
                slot = start + k
                owner = members[slot % len(members)]
                out[i] = (owner, rule.team_id, rule.id, head.format(why=chosen[i][1])
                          + f" → round-robin in team {rule.team_id}, slot {slot}")
            continue
        take_slots(s, rule.id, 0)  # lock the rule's row: one worker counts at a time
        counts = dict.fromkeys(members, 0)
        for uid, n in s.execute(select(col(Lead.owner_id), func.count())
                                .where(col(Lead.owner_id).in_(members),
                                       col(Lead.status).in_(OPEN_STATUSES))
                                .group_by(col(Lead.owner_id))):
            counts[uid] = n
        for i in idx:
            owner = min(members, key=lambda u: (counts[u], u))
            out[i] = (owner, rule.team_id, rule.id, head.format(why=chosen[i][1])
                      + f" → fewest open leads in team {rule.team_id} ({counts[owner]})")
            counts[owner] += 1
    return out


def set_owner(ctx: Ctx, s: Session, row: Lead, owner_id: int | None, team_id: int | None,
              rule_id: int | None, reason: str, action: str = "lead.assign") -> None:
    before = row.owner_id
    row.owner_id, row.team_id = owner_id, team_id
    row.assignment_rule_id, row.assignment_reason = rule_id, reason[:500]
    row.assigned_at = utcnow() if owner_id else None
    bump(row)
    record(ctx, s, action=action, entity=ENTITY, entity_id=row.id,
           changes={"owner_id": [before, owner_id]}, summary=reason,
           event="lead.assigned" if owner_id else None,
           payload={"id": row.id, "owner_id": owner_id, "team_id": team_id, "rule_id": rule_id,
                    "reason": reason})


def assign_rows(ctx: Ctx, s: Session, rows: list[Lead]) -> None:
    """Assign freshly inserted leads (ORM rows) through the rules, in the caller's transaction."""
    decisions = _decide(s, load_rules(s), rows)
    for row, (owner, team, rule_id, why) in zip(rows, decisions, strict=True):
        set_owner(ctx, s, row, owner, team, rule_id, why)


def assign_lead(ctx: Ctx, lead_id: int) -> Lead:
    """Run the rules again on one lead (``leads.assign``), e.g. after the rules changed."""
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, lead_id, "leads.assign",
                             for_update=True)
        assign_rows(ctx, s, [row])
        return row


def assign_many(ctx: Ctx, lead_ids: list[int] | None = None, batch: int = 2000) -> int:
    """Assign leads in batches (each its own transaction): the given ones, or every lead still
    without an owner. Needs ``leads.assign`` with scope ``all`` (or the system actor). The
    audit entries and ``lead.assigned`` events are written in bulk; returns how many leads got
    an owner."""
    if ctx.actor.scope("leads.assign") != "all":
        raise PermissionDenied(f"{ctx.actor.login} may not assign leads in bulk")
    lead = table_of(Lead)
    done, last = 0, 0
    todo = sorted(set(lead_ids)) if lead_ids is not None else None
    while True:
        with ctx.uow() as s:
            rules = load_rules(s)
            # custom fields are decoded only when a rule looks at them
            custom = lead.c.custom if any(r.custom for r in rules) else null().label("custom")
            stmt = select(lead.c.id, lead.c.region, lead.c.industry, lead.c.source,
                          lead.c.estimated_value, custom, lead.c.owner_id)
            if todo is not None:
                chunk = todo[:batch]
                todo = todo[batch:]
                if not chunk:
                    return done
                stmt = stmt.where(lead.c.id.in_(chunk)).order_by(lead.c.id).with_for_update()
            else:
                # PostgreSQL: rows another worker is assigning are locked: skip them (it owns
                # them); SQLite: the write transaction already holds the only write lock
                stmt = stmt.where(lead.c.owner_id.is_(None), lead.c.status == "new",
                                  lead.c.id > last).order_by(lead.c.id).limit(batch)
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list(s.execute(stmt))
            if not rows:
                return done
            last = rows[-1].id
            decisions = _decide(s, rules, rows)
            done += write_batch(ctx, s, rows, decisions)
        if todo is None and len(rows) < batch:
            return done


def reassign(ctx: Ctx, lead_id: int, owner_id: int, version: int | None = None) -> Lead:
    """Manual override: give a lead to another user (``leads.assign`` in scope; with scope
    ``own`` only to yourself, with ``team`` only within your teams)."""
    scope = ctx.actor.scope("leads.assign")
    if scope is None:
        raise PermissionDenied(f"{ctx.actor.login} may not leads.assign")
    with ctx.uow() as s:
        row = fetch_in_scope(ctx.kernel, s, ctx.actor, ENTITY, lead_id, "leads.assign",
                             for_update=True)
        if version is not None and row.version != version:
            from crm_core.services.base import check_version

            check_version(row, version, "lead")
        owner = s.get(User, owner_id)
        if owner is None or not owner.is_active:
            raise ValidationError("invalid owner", {"owner_id": ["no active user with this id"]})
        if scope == "own" and owner_id != ctx.actor.id:
            raise PermissionDenied("you may only assign leads to yourself")
        if scope == "team" and owner_id != ctx.actor.id:
            member = s.scalar(select(col(TeamMember.user_id)).where(
                col(TeamMember.user_id) == owner_id,
                col(TeamMember.team_id).in_(ctx.actor.team_ids or (-1,))))
            if member is None:
                raise PermissionDenied("the new owner is not in your team")
        if row.status == "converted":
            raise ValidationError("lead is converted", {"owner_id": ["a converted lead can't be reassigned"]})
        team = _first_team(s, owner_id)
        set_owner(ctx, s, row, owner_id, team, None,
                  f"reassigned by {ctx.actor.login} (manual override) → {owner.login}",
                  action="lead.reassign")
        return row


