"""Kernel timings on a generated database: ``python -m bench.run_kernel --db PATH``.

Everything goes through the service layer as a sales rep (own scope) would call it:

* the rep's customer list (``list_customers``, 50 rows, keyset): first pages, and every page of a
  few reps' books followed by cursor;
* exact phone lookup (``q`` = the 11-digit mobile of one of the rep's contacts) and name
  substring search (``q`` = 3–4 characters cut from one of the rep's customers' names);
* ``create_customer`` with one contact (audit entry + outbox event), on a copy of the database
  so the generated one stays as it was.

Each figure is the median / p95 / p99 of many timed calls (``time.perf_counter``) after a warm-up.
Prints a markdown table and writes it with the raw figures to ``bench/out/``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import random
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select, text
from sqlalchemy.orm import Session

import crm_core.services.customers as customer_service
from bench import vocab
from bench.common import OUT_DIR, machine, open_kernel, parse_pragmas, secrets_path, source_state, summarize
from crm_core.db import contains_ci, is_sqlite
from crm_core.kernel import Kernel
from crm_core.models import Contact, Customer
from crm_core.normalize import FormatError, national_display, normalize_phone
from crm_core.permissions.actor import Actor
from crm_core.permissions.scope import scope_clause
from crm_core.services.customers import create_customer, list_customers
from crm_core.services.users import actor_for, list_users

FTS = "crm_customer_fts"


@dataclass
class Series:
    key: str
    label: str
    samples: list[float] = field(default_factory=list)
    target_ms: float | None = None
    target_stat: str = "median"  # which statistic the target applies to
    note: str = ""
    cpu: list[float] = field(default_factory=list)

    def add(self, wall: float) -> None:
        """One timed call (its CPU time comes from the ``timed`` that measured it)."""
        self.samples.append(wall)
        self.cpu.append(_LAST_CPU[0])

    def result(self) -> dict[str, Any]:
        stats = summarize(self.samples) if self.samples else {}
        if self.cpu:
            stats["cpu_median"] = summarize(self.cpu)["median"]
        met = None
        if self.target_ms is not None and stats:
            met = stats[self.target_stat] <= self.target_ms
        return {"key": self.key, "label": self.label, **stats, "target_ms": self.target_ms,
                "target_stat": self.target_stat, "met": met, "note": self.note}


_LAST_CPU = [0.0]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(wall seconds, result); the call's CPU seconds are kept for ``Series.add``."""
    c = time.process_time()
    t = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t
    _LAST_CPU[0] = time.process_time() - c
    return wall, out


# --- the people and the probes ---------------------------------------------------------------
def sales_people(kernel: Kernel) -> tuple[list[Actor], list[Actor]]:
    """(reps, managers) as the services load them."""
    ctx = kernel.ctx()
    reps, managers = [], []
    for user, roles, _teams in list_users(ctx):
        if "sales_rep" in roles:
            reps.append(actor_for(ctx, user.login))
        elif "sales_manager" in roles:
            managers.append(actor_for(ctx, user.login))
    if not reps:
        raise SystemExit("no sales reps in this database: build it with python -m bench.generate")
    return reps, managers


def phones_of(kernel: Kernel, actor: Actor, k: int, rng: random.Random) -> list[tuple[str, int]]:
    """(11-digit mobile, customer id) of ``k`` random contacts of the actor's customers."""
    with kernel.new_session() as s:
        ids = list(s.scalars(select(Customer.id).where(Customer.owner_id == actor.id)))
        picked = rng.sample(ids, min(k, len(ids)))
        rows = s.execute(select(Contact.phone_enc, Contact.customer_id)
                         .where(Contact.customer_id.in_(picked), Contact.is_primary.is_(True))).all()
    rows = sorted(rows, key=lambda r: r[1])
    rng.shuffle(rows)
    return [(national_display(kernel.cipher.decrypt(enc) or ""), cid) for enc, cid in rows]


def name_probes(kernel: Kernel, actor: Actor, k: int, rng: random.Random) -> list[str]:
    """``k`` substrings of 3–4 characters cut at random from the actor's customers' names."""
    with kernel.new_session() as s:
        names = list(s.scalars(select(Customer.name).where(
            Customer.owner_id == actor.id, func.length(Customer.name) >= 3).order_by(Customer.id)))
    out = []
    for name in rng.sample(names, min(k, len(names))):
        n = min(rng.choice((3, 4)), len(name))
        start = rng.randrange(0, len(name) - n + 1)
        out.append(name[start : start + n])
    return out


def fts_matches(kernel: Kernel, q: str, cap: int = 1_000_000) -> int:
    """How many customers (in the whole table) the FTS index matches for ``q``."""
    with kernel.new_session() as s:
        return s.execute(text(f"SELECT count(*) FROM (SELECT 1 FROM {FTS} WHERE {FTS} MATCH :q "
                              "LIMIT :cap)"), {"q": _fts_query(q), "cap": cap}).scalar_one()


# --- candidates for crm_core (measured here, not installed) ---------------------------------
ADAPTIVE_CAP = 10_000


def _fts_query(q: str) -> str:
    return '"' + q.replace('"', '""') + '"'


def adaptive_name_clause(s: Session, q: str) -> Any:
    """Proposed ``_name_clause``: ask the trigram index how common ``q`` is (it stops counting
    at a cap). Rare → ``id IN (FTS matches)`` as today; common → a LIKE filter, so SQLite walks
    the actor's rows in page order and stops after one page instead of collecting every match."""
    if len(q) >= 3 and is_sqlite(s):
        n = s.execute(text(f"SELECT count(*) FROM (SELECT 1 FROM {FTS} WHERE {FTS} MATCH :q "
                           "LIMIT :cap)"), {"q": _fts_query(q), "cap": ADAPTIVE_CAP}).scalar_one()
        if n < ADAPTIVE_CAP:
            return _ORIGINAL["_name_clause"](s, q)
        return contains_ci(Customer.name, q)
    return _ORIGINAL["_name_clause"](s, q)


def customer_level_search_clause(ctx: Any, s: Session, q: str) -> Any:
    """Proposed phone branch of ``search_clause``: a contact is readable exactly when its
    customer is within the actor's ``contacts.read`` scope, so apply that scope to the outer
    customer row instead of ``crm_contact.customer_id IN (SELECT id FROM crm_customer WHERE
    <scope>)``, which makes SQLite collect every customer id in the actor's scope per query."""
    digits = re.sub(r"[\s\-+()]", "", q)
    if digits.isdigit() and len(digits) >= 7 and ctx.actor.can("contacts.see_phone"):
        try:
            bidx = ctx.kernel.cipher.blind_index(normalize_phone(q))
        except FormatError:
            return _ORIGINAL["search_clause"](ctx, s, q)
        return and_(scope_clause(ctx.kernel, ctx.actor, "customer", "contacts.read"),
                    Customer.id.in_(select(Contact.customer_id).where(Contact.phone_bidx == bidx)))
    return _ORIGINAL["search_clause"](ctx, s, q)


_ORIGINAL = {"_name_clause": customer_service._name_clause,
             "search_clause": customer_service.search_clause}


@contextlib.contextmanager
def swapped(name: str, fn: Callable[..., Any]) -> Iterator[None]:
    """Run with ``crm_core.services.customers.<name>`` replaced by a candidate."""
    setattr(customer_service, name, fn)
    try:
        yield
    finally:
        setattr(customer_service, name, _ORIGINAL[name])


# --- the measurements ------------------------------------------------------------------------
def bench_lists(kernel: Kernel, reps: list[Actor], managers: list[Actor], args: argparse.Namespace,
                rng: random.Random) -> list[Series]:
    first = Series("list_first", "Rep's list, first page (50 rows, keyset)", target_ms=20,
                   target_stat="p95")
    deep = Series("list_deep", "Rep's list, every page of a book by cursor", target_ms=20,
                  target_stat="p95")
    updated = Series("list_updated", "Rep's list sorted by -updated_at, first 5 pages",
                     note="info: not a target")
    team = Series("list_team", "Manager's team list (team scope), first 5 pages",
                  note="info: not a target")
    ctxs = [kernel.ctx(a, "web") for a in reps]
    for ctx in ctxs[:3]:
        for _ in range(3):
            list_customers(ctx, {"limit": 50})
    for _ in range(args.repeat):
        for ctx in ctxs:
            dt, _page = timed(lambda c=ctx: list_customers(c, {"limit": 50}))
            first.add(dt)
    walkers = rng.sample(ctxs, min(args.deep_reps, len(ctxs)))
    pages = 0
    for ctx in walkers:
        cursor = None
        while True:
            query = {"limit": 50, "cursor": cursor}
            dt, page = timed(lambda c=ctx, q=query: list_customers(c, q))
            deep.add(dt)
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
    deep.note = f"{len(walkers)} reps, {pages} pages"
    for series, actors, sort in ((updated, reps, "-updated_at"), (team, managers, "-id")):
        for actor in rng.sample(actors, min(5, len(actors))):
            ctx = kernel.ctx(actor, "web")
            cursor = None
            for _ in range(5):
                query = {"limit": 50, "sort": sort, "cursor": cursor}
                dt, page = timed(lambda c=ctx, q=query: list_customers(c, q))
                series.add(dt)
                cursor = page.next_cursor
    return [first, deep, updated, team]


def bench_phone(kernel: Kernel, reps: list[Actor], args: argparse.Namespace,
                rng: random.Random) -> list[Series]:
    rep = Series("phone", "Exact phone lookup (q = 11-digit mobile), rep", target_ms=5)
    system = Series("phone_all", "Exact phone lookup, all-scope actor (system)",
                    note="info: not a target")
    per = max(1, args.searches // len(reps))
    probes = [(kernel.ctx(a, "web"), phone, cid)
              for a in reps for phone, cid in phones_of(kernel, a, per, rng)]
    rng.shuffle(probes)
    misses = 0
    for ctx, phone, _ in probes[:5]:
        list_customers(ctx, {"q": phone})
    for ctx, phone, cid in probes:
        dt, page = timed(lambda c=ctx, p=phone: list_customers(c, {"q": p}))
        rep.add(dt)
        misses += cid not in {i.id for i in page.items}
    sys_ctx = kernel.ctx()
    for _ctx, phone, _ in probes[: len(probes) // 2]:
        dt, _page = timed(lambda p=phone: list_customers(sys_ctx, {"q": p}))
        system.add(dt)
    rep.note = f"{len(probes)} phones of the reps' own contacts; not found: {misses}"
    proposed = Series("phone_proposed", "Phone lookup, rep, contact scope applied to the customer row",
                      note="info: candidate change, see docs/benchmarks.md")
    misses = 0
    with swapped("search_clause", customer_level_search_clause):
        for ctx, phone, cid in probes:
            dt, page = timed(lambda c=ctx, p=phone: list_customers(c, {"q": p}))
            proposed.add(dt)
            misses += cid not in {i.id for i in page.items}
    if misses:
        proposed.note += f"; not found: {misses}"
    return [rep, system, proposed]


def bench_names(kernel: Kernel, reps: list[Actor], args: argparse.Namespace,
                rng: random.Random) -> tuple[list[Series], dict[str, Any]]:
    rep = Series("name", "Name substring search (q = 3–4 chars of a name), rep", target_ms=5)
    system = Series("name_all", "Name substring search, all-scope actor (system)",
                    note="info: not a target")
    adaptive = Series("name_adaptive", "Name search, rep, with the proposed adaptive clause",
                      note="info: candidate change, see docs/benchmarks.md")
    adaptive_all = Series("name_adaptive_all", "Name search, system, with the proposed clause",
                          note="info: candidate change")
    per = max(1, args.searches // len(reps))
    probes = [(kernel.ctx(a, "web"), q) for a in reps for q in name_probes(kernel, a, per, rng)]
    rng.shuffle(probes)
    for ctx, q in probes[:5]:
        list_customers(ctx, {"q": q})
    empty = 0
    for ctx, q in probes:
        dt, page = timed(lambda c=ctx, s=q: list_customers(c, {"q": s}))
        rep.add(dt)
        empty += not page.items
    rep.note = f"{len(probes)} substrings of the reps' own customers' names; no hit: {empty}"
    short = Series("name_2", "Name search with 2 characters (no FTS: LIKE), rep",
                   note="info: outside the target, which is for 3–4 characters")
    for ctx, q in probes[:100]:
        two = q[:2]
        dt, _page = timed(lambda c=ctx, s=two: list_customers(c, {"q": s}))
        short.add(dt)
    sys_ctx = kernel.ctx()
    sys_probes = probes[: max(1, len(probes) // 4)]
    for _ctx, q in sys_probes:
        dt, _page = timed(lambda s=q: list_customers(sys_ctx, {"q": s}))
        system.add(dt)
    with swapped("_name_clause", adaptive_name_clause):
        for ctx, q in probes:
            dt, _page = timed(lambda c=ctx, s=q: list_customers(c, {"q": s}))
            adaptive.add(dt)
        for _ctx, q in sys_probes:
            dt, _page = timed(lambda s=q: list_customers(sys_ctx, {"q": s}))
            adaptive_all.add(dt)
    # how the time depends on how common the substring is
    buckets: dict[str, dict[str, list[float]]] = {}
    for (_ctx, q), cur, new in zip(probes, rep.samples, adaptive.samples, strict=True):
        n = fts_matches(kernel, q)
        b = ("< 100" if n < 100 else "100 – 999" if n < 1000 else "1,000 – 9,999" if n < 10_000
             else "10,000 – 99,999" if n < 100_000 else "≥ 100,000")
        slot = buckets.setdefault(b, {"current": [], "adaptive": []})
        slot["current"].append(cur)
        slot["adaptive"].append(new)
    order = ["< 100", "100 – 999", "1,000 – 9,999", "10,000 – 99,999", "≥ 100,000"]
    by_freq = {b: {k: summarize(v) for k, v in buckets[b].items()} for b in order if b in buckets}
    return [rep, system, adaptive, adaptive_all, short], by_freq


def bench_create(db: Path, secrets: Path, login: str, args: argparse.Namespace,
                 rng: random.Random, pragmas: dict[str, str]) -> Series:
    series = Series("create", "create_customer with one contact (+ audit + outbox)", target_ms=5)
    copy = db.with_name(db.name + ".bench-copy")
    for suffix in ("", "-wal", "-shm"):
        Path(str(copy) + suffix).unlink(missing_ok=True)
    src = sqlite3.connect(db)
    src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    src.close()
    shutil.copyfile(db, copy)
    kernel = open_kernel(copy, secrets, pragmas=pragmas)
    try:
        ctx = kernel.ctx(actor_for(kernel.ctx(), login), "web")
        trade = [c for c, _ in vocab.TRADE]
        cities = [c for _, cs in vocab.REGIONS.values() for c, _ in cs]

        def payload(i: int) -> dict[str, Any]:
            name = (rng.choice(cities) + "".join(rng.sample(trade, 2)) + "科技有限公司")
            return {"name": name, "industry": "I", "source": "website", "region": "华东",
                    "contacts": [{"name": "测试联系人", "title": "采购经理",
                                  "phone": f"139{rng.randrange(10**8):08d}",
                                  "email": f"bench{i}@example.cn"}]}

        for i in range(10):
            create_customer(ctx, payload(i))
        for i in range(args.creates):
            data = payload(100 + i)
            dt, _row = timed(lambda d=data: create_customer(ctx, d))
            series.add(dt)
        series.note = (f"{args.creates} creates on a copy of the database; no plugin subscribes, "
                       "so the outbox row is written already delivered")
    finally:
        kernel.shutdown()
        for suffix in ("", "-wal", "-shm"):
            Path(str(copy) + suffix).unlink(missing_ok=True)
    return series


# --- output ----------------------------------------------------------------------------------
def fmt(x: float | None) -> str:
    return "" if x is None else f"{x:,.2f}"


def markdown(results: list[dict[str, Any]], by_freq: dict[str, Any], info: dict[str, Any]) -> str:
    lines = [
        f"Kernel benchmark — {info['customers']:,} customers, {info['contacts']:,} contacts, "
        f"SQLite {info['machine']['sqlite']}, {info['machine']['cores']} cores",
        "",
        "| Measurement | n | median ms | p95 ms | p99 ms | CPU median ms | target | met |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        target = f"{r['target_stat']} ≤ {r['target_ms']:g} ms" if r["target_ms"] else "—"
        met = "—" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(f"| {r['label']} | {r.get('n', 0)} | {fmt(r.get('median'))} | "
                     f"{fmt(r.get('p95'))} | {fmt(r.get('p99'))} | {fmt(r.get('cpu_median'))} | "
                     f"{target} | {met} |")
    lines += ["", "Name search by how many customers the substring matches in the whole table:", "",
              "| FTS matches | n | current median / p95 ms | adaptive median / p95 ms |",
              "|---|---:|---:|---:|"]
    for bucket, v in by_freq.items():
        cur, new = v["current"], v["adaptive"]
        lines.append(f"| {bucket} | {cur['n']} | {fmt(cur['median'])} / {fmt(cur['p95'])} | "
                     f"{fmt(new['median'])} / {fmt(new['p95'])} |")
    notes = [f"- {r['label']}: {r['note']}" for r in results if r["note"]]
    return "\n".join([*lines, "", *notes, ""])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run_kernel", description=__doc__.split("\n")[0])
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--secrets", type=Path, default=None, help="default: DB.secrets.json")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--reps", type=int, default=10, help="sales reps to act as")
    p.add_argument("--repeat", type=int, default=50, help="first-page calls per rep")
    p.add_argument("--deep-reps", type=int, default=3, help="reps whose whole book is paged")
    p.add_argument("--searches", type=int, default=500, help="phone lookups / name searches")
    p.add_argument("--creates", type=int, default=300)
    p.add_argument("--sqlite-pragma", action="append", default=[], metavar="NAME=VALUE",
                   help="extra PRAGMA on every connection (to try engine settings), repeatable")
    p.add_argument("--skip", nargs="*", default=[], choices=("lists", "phone", "names", "create"))
    p.add_argument("--out", type=Path, default=None, help="default bench/out/kernel-<N>.{json,md}")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    db: Path = args.db.resolve()
    if not db.exists():
        raise SystemExit(f"{db} does not exist: build it with python -m bench.generate")
    secrets = (args.secrets or secrets_path(db)).resolve()
    rng = random.Random(args.seed)
    pragmas = parse_pragmas(args.sqlite_pragma)
    kernel = open_kernel(db, secrets, pragmas=pragmas)
    with kernel.new_session() as s:
        n_customers = s.scalar(select(func.max(Customer.id))) or 0
        n_contacts = s.scalar(select(func.max(Contact.id))) or 0
    info: dict[str, Any] = {"db": str(db), "customers": n_customers, "contacts": n_contacts,
                            "machine": machine(), "source": source_state(),
                            "args": {k: str(v) for k, v in vars(args).items()}}
    all_reps, managers = sales_people(kernel)
    reps = rng.sample(all_reps, min(args.reps, len(all_reps)))
    results: list[Series] = []
    by_freq: dict[str, Any] = {}
    started = time.perf_counter()

    def step(name: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {name}", file=sys.stderr, flush=True)

    gc.collect()
    if "lists" not in args.skip:
        step("lists")
        results += bench_lists(kernel, reps, managers, args, rng)
    if "phone" not in args.skip:
        step("phone lookups")
        results += bench_phone(kernel, reps, args, rng)
    if "names" not in args.skip:
        step("name searches")
        series, by_freq = bench_names(kernel, reps, args, rng)
        results += series
    kernel.shutdown()
    if "create" not in args.skip:
        step("creates (on a copy)")
        results.append(bench_create(db, secrets, reps[0].login, args, rng, pragmas))
    step("done")
    info["seconds"] = time.perf_counter() - started
    info["machine"]["loadavg_after"] = machine()["loadavg"]
    rows = [r.result() for r in results]
    # the list target covers every page a rep sees: report the two kinds together as well
    lists = [r for r in results if r.key in ("list_first", "list_deep")]
    if lists:
        both = Series("list_all", "Rep's list, all pages above together",
                      [x for r in lists for x in r.samples], 20, "p95",
                      cpu=[x for r in lists for x in r.cpu])
        rows.insert(2, both.result())
    md = markdown(rows, by_freq, info)
    out = args.out or OUT_DIR / f"kernel-{n_customers}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(md)
    report = {**info, "results": rows, "name_search_by_frequency": by_freq}
    out.with_suffix(".json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(md)
    print(f"→ {out.with_suffix('.md')} and .json", file=sys.stderr)
    return report


if __name__ == "__main__":
    main()
