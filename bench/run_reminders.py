"""The stale-customer sweep at scale: ``python -m bench.run_reminders --db bench/out/crm-1m-5m.db``.

Times the query the tasks plugin's ``tasks.stale_customers`` job runs to find every customer due
a reminder — owned, active (potential / won), no follow-up for N days (default 3) — over a
database made by ``python -m bench.generate --customers 1000000 --followups 5000000 --db …``.
It is one indexed query (``crm_customer (status, last_followup_at)``), fetched to the last row
as the job does; the plan is printed so a regression to a table scan shows. ``--sweep`` also
runs the whole rule once through the service (INSERT … SELECT of the reminder tasks plus one
notification each) and a second time to show the re-run creates nothing.

``now`` defaults to the end of the generated period (the generator's ``--until`` + 1 day).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crm_tasks.services.rules import find_stale, stale_condition, stale_select
from sqlalchemy import func, select

from bench.common import OUT_DIR, machine, open_kernel, source_state
from crm_core.models import Customer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run_reminders", description=__doc__.split("\n")[0])
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--days", type=int, default=3, help="the rule's N")
    p.add_argument("--now", type=datetime.fromisoformat,
                   default=datetime(2026, 11, 1, tzinfo=UTC), help="the sweep's 'now' (ISO, UTC)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--sweep", action="store_true",
                   help="also run the whole rule (creates tasks and notifications in the file)")
    p.add_argument("--json", type=Path, default=OUT_DIR / "reminders.json")
    return p.parse_args(argv)


def plan(kernel: Any, cutoff: datetime) -> list[str]:
    c = Customer.__table__.c
    stmt = stale_select(cutoff, c.id, c.owner_id)
    sql = str(stmt.compile(kernel.engine, compile_kwargs={"literal_binds": True}))
    with kernel.engine.connect() as conn:
        return [str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


def sweep(db: Path, now: datetime, days: int) -> dict[str, Any]:
    """The whole rule through the service, with the tasks plugin enabled on the file."""
    from crm_tasks.manifest import manifest
    from crm_tasks.services.rules import sweep_stale_customers

    from crm_core.kernel import Kernel
    from crm_core.migrate import enable_plugins

    base = open_kernel(db)
    settings = base.settings
    base.shutdown()
    kernel = Kernel(settings, plugins=[manifest], autoload=False, strict=True)
    try:
        enable_plugins(kernel, ["tasks"])
        out = {}
        for run in ("first", "second"):
            t = time.perf_counter()
            created = sweep_stale_customers(kernel.ctx(), days, now)
            out[run] = {"seconds": time.perf_counter() - t, "tasks_created": len(created)}
        return out
    finally:
        kernel.shutdown()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if not args.db.exists():
        raise SystemExit(f"{args.db} not found: generate it first (see the module docstring)")
    kernel = open_kernel(args.db.resolve())
    cutoff = args.now - timedelta(days=args.days)
    load_before = os.getloadavg()
    with kernel.engine.connect() as conn:
        customers = conn.exec_driver_sql("SELECT count(*) FROM crm_customer").scalar()
        followups = conn.exec_driver_sql("SELECT count(*) FROM crm_followup").scalar()
    query_plan = plan(kernel, cutoff)
    samples: list[float] = []
    cpu: list[float] = []
    found = 0
    for _ in range(args.repeat):
        t, c0 = time.perf_counter(), time.process_time()
        with kernel.new_session() as s:
            rows = find_stale(s, cutoff).all()
        samples.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c0)
        found = len(rows)
    with kernel.new_session() as s:
        check = s.scalar(select(func.count()).select_from(Customer).where(stale_condition(cutoff)))
    assert check == found, (check, found)
    result: dict[str, Any] = {
        "customers": customers, "followups": followups, "days": args.days,
        "now": args.now.isoformat(), "due_customers": found,
        "seconds": {"first": samples[0], "median": statistics.median(samples),
                    "min": min(samples), "max": max(samples), "all": samples,
                    "cpu_median": statistics.median(cpu), "cpu_all": cpu},
        "plan": query_plan, "loadavg_before": load_before, "machine": machine(),
        "source": source_state(),
    }
    kernel.shutdown()
    if args.sweep:
        result["sweep"] = sweep(args.db.resolve(), args.now, args.days)
    result["loadavg_after"] = os.getloadavg()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    s = result["seconds"]
    print(f"{customers:,} customers, {followups:,} follow-ups: {found:,} due a reminder "
          f"(no follow-up for {args.days} days before {args.now:%Y-%m-%d %H:%M} UTC)")
    print(f"  find query: first {s['first']:.2f}s, median {s['median']:.2f}s, min {s['min']:.2f}s "
          f"over {args.repeat} runs (CPU median {s['cpu_median']:.2f}s)")
    print(f"  plan: {' | '.join(query_plan)}")
    if "sweep" in result:
        for run, r in result["sweep"].items():
            print(f"  whole rule, {run} run: {r['tasks_created']:,} tasks + notifications in "
                  f"{r['seconds']:.1f}s")
    print(f"  load average {load_before[0]:.2f} → {result['loadavg_after'][0]:.2f}; → {args.json}")
    return result


if __name__ == "__main__":
    main()
