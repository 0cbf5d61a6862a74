"""Two processes assigning 1,000 leads in total through one round-robin rule on the real
database (SQLite file or PostgreSQL): per-member counts differ by at most one."""

from __future__ import annotations

import multiprocessing
from collections import Counter

from crm_leads.models import Lead
from crm_leads.services import rules
from leads_support import People, lead_data
from sqlalchemy import func, select

TOTAL = 1000


def worker(url: str, start: int, n: int, bulk: bool) -> None:
    from crm_leads import services as svc
    from crm_leads.manifest import manifest

    from crm_core.kernel import Kernel
    from crm_core.testing import settings_for
    k = Kernel(settings_for(url, plugin_refresh_seconds=0.0, scheduler_enabled=False),
               plugins=[manifest], autoload=False, strict=True)
    try:
        ctx = k.ctx()
        if bulk:
            svc.assign_many(ctx, batch=7)
            return
        for i in range(start, start + n):  # one transaction per lead: maximal interleaving
            svc.create_lead(ctx, lead_data(n=i, estimated_value=None))
    finally:
        k.shutdown()


def _run(url: str, bulk: bool) -> None:
    mp = multiprocessing.get_context("spawn")
    procs = [mp.Process(target=worker, args=(url, i * TOTAL // 2, TOTAL // 2, bulk)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
        assert p.exitcode == 0


def _members(people: People) -> list[int]:
    return [people.ids[x] for x in ("rep_a", "rep_b", "mgr_east")]


def test_two_processes_round_robin_fair(people: People, crm_database_url: str) -> None:
    from crm_core.services.users import set_membership

    set_membership(people.system, "east", "mgr_east", True)  # three members: 1000 = 334+333+333
    rules.create_rule(people.ctx("admin"), {"name": "rr", "action": "round_robin",
                                            "team_id": people.teams["east"]})
    _run(crm_database_url, bulk=False)
    with people.kernel.new_session() as s:
        counts = Counter(dict(s.execute(select(Lead.owner_id, func.count()).group_by(Lead.owner_id)).all()))
    assert sum(counts.values()) == TOTAL and set(counts) == set(_members(people))
    assert max(counts.values()) - min(counts.values()) <= 1, counts


def test_two_processes_bulk_assign_fair(people: People, crm_database_url: str) -> None:
    from crm_leads import services as svc

    from crm_core.services.users import set_membership

    set_membership(people.system, "east", "mgr_east", True)
    for i in range(300):  # no rules yet, created by the system: they stay without an owner
        svc.create_lead(people.system, lead_data(n=i, estimated_value=None))
    rules.create_rule(people.ctx("admin"), {"name": "rr", "action": "round_robin",
                                            "team_id": people.teams["east"]})
    _run(crm_database_url, bulk=True)
    with people.kernel.new_session() as s:
        counts = Counter(dict(s.execute(select(Lead.owner_id, func.count()).group_by(Lead.owner_id)).all()))
    assert sum(counts.values()) == 300 and None not in counts
    assert max(counts.values()) - min(counts.values()) <= 1, counts
