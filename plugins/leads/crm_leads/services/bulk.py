"""The bulk writer of :func:`crm_leads.services.assign.assign_many`: owners, reasons, audit
entries and ``lead.assigned`` outbox rows for a whole batch, each as ONE driver-level
``executemany``. Values go through the columns' own bind processors (what SQLAlchemy would
send), constants are processed once per batch; the SQL is plain and the placeholders follow the
driver's paramstyle, so it runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from crm_core.context import Ctx
from crm_core.db import utcnow
from crm_core.models import AuditEntry, OutboxEvent
from crm_core.models.base import table_of
from crm_core.services.base import jsonable
from crm_leads.models import Lead

ENTITY = "leads.lead"


class _Writer:
    def __init__(self, s: Session) -> None:
        self.conn = s.connection()
        self.dialect = self.conn.dialect
        self.ph = "?" if self.dialect.paramstyle == "qmark" else "%s"

    def proc(self, table: Table, column: str) -> Any:
        p = table.c[column].type.bind_processor(self.dialect)
        return p or (lambda v: v)

    def insert(self, table: Table, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
               f"VALUES ({', '.join([self.ph] * len(columns))})")
        self.conn.exec_driver_sql(sql, rows)


def write_batch(ctx: Ctx, s: Session, rows: list[Any], decisions: list[Any]) -> int:
    """Write the decisions of one batch; returns how many leads got an owner."""
    w = _Writer(s)
    lead, audit, outbox = table_of(Lead), table_of(AuditEntry), table_of(OutboxEvent)
    now = utcnow()
    now_lead = w.proc(lead, "updated_at")(now)
    now_audit = w.proc(audit, "at")(now)
    now_out = w.proc(outbox, "created_at")(now)
    changes_json, payload_json = w.proc(audit, "changes"), w.proc(outbox, "payload")
    updates: list[tuple[Any, ...]] = []
    audits: list[tuple[Any, ...]] = []
    events: list[tuple[int, dict[str, Any]]] = []
    actor_id, login, interface = ctx.actor.id, ctx.actor.login, ctx.interface
    for row, (owner, team, rule_id, why) in zip(rows, decisions, strict=True):
        why = why[:500]
        updates.append((owner, team, rule_id, why, now_lead if owner else None, now_lead, row.id))
        if owner is None and rule_id is None and row.owner_id is None:
            continue  # nothing matched and nothing changes: the reason is on the lead
        audits.append((now_audit, actor_id, login, interface, "lead.assign", ENTITY, row.id,
                       changes_json({"owner_id": [row.owner_id, owner]}), why))
        if owner:
            events.append((row.id, {"id": row.id, "owner_id": owner, "team_id": team,
                                    "rule_id": rule_id, "reason": why}))
    w.conn.exec_driver_sql(
        f"UPDATE {lead.name} SET owner_id = {w.ph}, team_id = {w.ph}, assignment_rule_id = {w.ph}, "
        f"assignment_reason = {w.ph}, assigned_at = {w.ph}, version = version + 1, "
        f"updated_at = {w.ph} WHERE id = {w.ph}", updates)
    w.insert(audit, ["at", "actor_id", "actor_login", "interface", "action", "entity", "entity_id",
                     "changes", "summary"], audits)
    if events and ctx.kernel.events.subscribers("lead.assigned"):
        for lead_id, payload in events:  # someone listens: the kernel's outbox path delivers
            ctx.kernel.events.emit(ctx, s, "lead.assigned", ENTITY, lead_id, jsonable(payload))
    else:  # nobody listens: the outbox keeps the record, already delivered (as emit does)
        w.insert(outbox, ["created_at", "name", "entity", "entity_id", "actor_id", "payload", "status",
                          "available_at", "done_at"],
                 [(now_out, "lead.assigned", ENTITY, lid, actor_id, payload_json(p), "done", now_out,
                   now_out) for lid, p in events])
    return len(events)
