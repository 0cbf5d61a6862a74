"""Lead assignment throughput: ``python -m bench.run_leads [--leads 100000] [--batch 2000]``.

Builds a fresh SQLite file with the leads plugin enabled, 50 sales reps in 5 teams of 10 and
10 assignment rules (3 named-user rules, 4 round-robin, 2 fewest-open-leads, 1 round-robin
fallback) with conditions on region, source, industry and value range; inserts ``--leads`` new
leads without an owner (setup, not timed), then times the production batch path
``crm_leads.services.assign_many`` (what ``POST /api/v1/leads/assign`` and the rules page's
"assign now" run): rules read once per batch, one atomic round-robin upsert per rule per
batch, owners + reasons written with one executemany UPDATE, audit entries and
``lead.assigned`` outbox events inserted in bulk, one transaction per batch. Prints the
command and the figure and writes ``bench/out/leads-<N>.json``. Target: ≥ 5,000 leads/s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.common import OUT_DIR, machine, source_state
from crm_core.db import utcnow
from crm_core.kernel import Kernel
from crm_core.migrate import enable_plugins, migrate
from crm_core.models import AuditEntry, Team, TeamMember, User
from crm_core.models.base import table_of
from crm_core.schemas import REGIONS, SOURCES
from crm_core.settings import Secrets, Settings

TARGET = 5000


def build(db: Path) -> Kernel:
    from crm_leads.manifest import manifest

    settings = Settings(database_url=f"sqlite:///{db}", autoload_plugins=False, scheduler_enabled=False)
    k = Kernel(settings.with_secrets(Secrets.generate()), plugins=[manifest], autoload=False, strict=True)
    migrate(k, [])
    enable_plugins(k, ["leads"])
    return k


def people(k: Kernel) -> list[int]:
    """5 teams × 10 reps; returns the team ids."""
    now = utcnow()
    with k.new_session(write=True) as s, s.begin():
        s.execute(insert(User), [{"login": f"rep{i:02d}", "display_name": f"销售{i:02d}",
                                  "password_hash": "!", "locale": "zh_CN", "created_at": now,
                                  "updated_at": now} for i in range(50)])
        users = list(s.scalars(select(User.id).order_by(User.id)))
        s.execute(insert(Team), [{"name": f"销售{t}组", "created_at": now, "updated_at": now}
                                 for t in range(5)])
        teams = list(s.scalars(select(Team.id).order_by(Team.id)))
        s.execute(insert(TeamMember), [{"team_id": teams[i // 10], "user_id": u}
                                       for i, u in enumerate(users)])
    return teams


def rules(k: Kernel, teams: list[int]) -> None:
    from crm_leads.services.rules import create_rule

    ctx = k.ctx()
    with k.new_session() as s:
        u = list(s.scalars(select(User.id).order_by(User.id)))
    for data in (
        {"name": "大单 华东", "action": "user", "user_id": u[0],
         "conditions": {"regions": ["华东"], "value_min": "400000"}},
        {"name": "合作伙伴", "action": "user", "user_id": u[10], "conditions": {"sources": ["partner"]}},
        {"name": "金融 华北", "action": "user", "user_id": u[20],
         "conditions": {"industries": ["J"], "regions": ["华北"]}},
        {"name": "华东", "action": "round_robin", "team_id": teams[0], "conditions": {"regions": ["华东"]}},
        {"name": "华南", "action": "round_robin", "team_id": teams[1], "conditions": {"regions": ["华南"]}},
        {"name": "华北 华中", "action": "least_open", "team_id": teams[2],
         "conditions": {"regions": ["华北", "华中"]}},
        {"name": "展会", "action": "round_robin", "team_id": teams[3],
         "conditions": {"sources": ["trade_show"]}},
        {"name": "小单", "action": "least_open", "team_id": teams[4],
         "conditions": {"value_max": "10000"}},
        {"name": "IT 行业", "action": "round_robin", "team_id": teams[3],
         "conditions": {"industries": ["I"]}},
        {"name": "兜底", "action": "round_robin", "team_id": teams[4], "is_fallback": True},
    ):
        create_rule(ctx, data)


def leads(k: Kernel, n: int, seed: int = 7) -> None:
    from crm_leads.models import Lead

    rng = random.Random(seed)
    now = utcnow()
    table = table_of(Lead)
    rows = [{"name": f"线索{i}", "company": f"公司{i}", "phone": f"+86138{i:08d}",
             "source": rng.choice(SOURCES), "region": rng.choice(REGIONS),
             "industry": rng.choice("CFGIJK"), "estimated_value": Decimal(rng.randint(1, 600) * 1000),
             "status": "new", "custom": {}, "created_at": now, "updated_at": now, "version": 1}
            for i in range(n)]
    with k.new_session(write=True) as s, s.begin():
        for i in range(0, n, 10_000):
            s.execute(insert(table), rows[i:i + 10_000])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--leads", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=2000)
    args = p.parse_args(argv)
    from crm_leads.models import Lead
    from crm_leads.services import assign_many

    with tempfile.TemporaryDirectory() as tmp:
        k = build(Path(tmp) / "leads.db")
        try:
            teams = people(k)
            rules(k, teams)
            leads(k, args.leads)
            load_before = os.getloadavg()[0]
            t0, c0 = time.perf_counter(), time.process_time()
            assigned = assign_many(k.ctx(), batch=args.batch)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            with k.new_session() as s:
                unowned = s.scalar(select(func.count()).select_from(Lead).where(Lead.owner_id.is_(None)))
                audits = s.scalar(select(func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.action == "lead.assign"))
                per_rule = Counter(dict(s.execute(select(Lead.assignment_rule_id, func.count())
                                                  .group_by(Lead.assignment_rule_id)).all()))
        finally:
            k.shutdown()
    rate = assigned / seconds if seconds else 0.0
    command = "python -m bench.run_leads " + " ".join(argv if argv is not None else sys.argv[1:])
    result = {"command": command.strip(), "leads": args.leads, "assigned": assigned,
              "seconds": round(seconds, 3),
              "leads_per_second": round(rate), "target": TARGET, "met": rate >= TARGET,
              "cpu_seconds": round(cpu, 3), "leads_per_cpu_second": round(assigned / cpu) if cpu else 0,
              "load_average_before": load_before,
              "unowned_after": unowned, "audit_entries": audits,
              "per_rule": {str(k_): v for k_, v in sorted(per_rule.items(), key=lambda x: x[0] or 0)},
              "machine": machine(), "source": source_state()}
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / f"leads-{args.leads}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"$ {result['command']}")
    print(f"assigned {assigned:,} leads through 10 rules to 50 reps in {seconds:.2f} s: "
          f"{rate:,.0f} leads/s (target ≥ {TARGET:,}: {'met' if rate >= TARGET else 'MISSED'})")
    print(f"CPU {cpu:.2f} s ({assigned / cpu if cpu else 0:,.0f} leads per CPU second); "
          f"load average before: {load_before:.1f}")
    print(f"per rule: {result['per_rule']}; unowned after: {unowned}; audit entries: {audits}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
