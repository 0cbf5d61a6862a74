"""Build a benchmark database: ``python -m bench.generate --customers 1000000 --db PATH``.

A fresh SQLite file migrated by ``crm_core.migrate.migrate``, 10 teams and 50 sales people made
through the services, then N customers (and their contacts) bulk-loaded with SQLAlchemy Core
``insert()`` executemany in large batches inside a few transactions — never the ORM's per-row
path. The field key is written to ``PATH.secrets.json`` (the benchmark needs it to find phones).

Producer processes make the rows (names, encrypted phones, bound values); the main process is
the single SQLite writer. See docs/benchmarks.md for what each option costs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import random
import resource
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, MetaData, Table, insert
from sqlalchemy.engine import Connection

from bench import vocab
from bench.common import OUT_DIR, machine, open_kernel, secrets_path, source_state
from bench.synth import CONTACT_COLUMNS, CUSTOMER_COLUMNS, Generator, Plan, Row, check_rows, person_pool
from crm_core.kernel import Kernel
from crm_core.migrate import migrate
from crm_core.models import Contact, Customer
from crm_core.services.customers import allocate_codes
from crm_core.services.roles import seed_builtin_grants
from crm_core.services.users import create_team, create_user, set_membership

BENCH_PASSWORD = "bench-Passw0rd"  # the 50 benchmark users' password (a throwaway database)
FTS = "crm_customer_fts"


# --- people --------------------------------------------------------------------------------
def org_specs(seed: int) -> list[dict[str, Any]]:
    """10 teams of 5: a manager (``sales_manager``, team scope) and 4 reps (``sales_rep``, own
    scope), in the order they are created."""
    people = person_pool(seed + 1, 400)
    rng = random.Random(f"{seed}:org")
    rng.shuffle(people)
    specs: list[dict[str, Any]] = []
    used: set[str] = set()
    for team in vocab.TEAM_NAMES:
        for m in range(5):
            name, sur_py, given_py = people.pop()
            login = f"{given_py}.{sur_py}"
            while login in used:
                login += str(rng.randrange(10))
            used.add(login)
            specs.append({"login": login, "display_name": name, "team": team,
                          "role": "sales_manager" if m == 0 else "sales_rep",
                          "email": f"{login}@mosaic-bench.cn"})
    return specs


def create_org(kernel: Kernel, specs: list[dict[str, Any]], threads: int = 2) -> None:
    """Create the teams and users through the services and note each user's id in its spec.
    Argon2 hashing dominates and releases the GIL, so two threads create users side by side
    (each with its own ``Ctx``: a Ctx holds its open unit of work)."""

    def make(spec: dict[str, Any]) -> None:
        manager = spec["role"] == "sales_manager"
        user = create_user(kernel.ctx(interface="cli"),
                           {"login": spec["login"], "password": BENCH_PASSWORD,
                            "display_name": spec["display_name"], "email": spec["email"]},
                           roles=[spec["role"]], team=None if manager else spec["team"])
        spec["id"] = user.id

    managers = [s for s in specs if s["role"] == "sales_manager"]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(make, managers))
    ctx = kernel.ctx(interface="cli")
    for spec in managers:
        create_team(ctx, spec["team"], manager=spec["login"])
        set_membership(ctx, spec["team"], spec["login"], True)
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(make, [s for s in specs if s["role"] != "sales_manager"]))


def owner_weights(specs: list[dict[str, Any]], seed: int) -> tuple[float, ...]:
    """Books of business differ: managers hold fewer accounts, some reps far more than others."""
    rng = random.Random(f"{seed}:books")
    return tuple((0.4 if s["role"] == "sales_manager" else 1.0) * rng.uniform(0.5, 1.5) for s in specs)


def allocate_all_codes(kernel: Kernel, plan: Plan) -> list[str]:
    """One ``allocate_codes`` block per creation day, in id order."""
    codes: list[str] = []
    first = plan.first_day()
    with kernel.ctx().uow() as s:
        for i, n in enumerate(plan.day_counts()):
            if n:
                codes.extend(allocate_codes(s, first + timedelta(days=i), n))
    return codes


# --- producers -----------------------------------------------------------------------------
_GEN: Generator | None = None


def _init_worker(plan: Plan, codes: list[str], field_key: bytes) -> None:
    from crm_core.crypto import FieldCipher

    global _GEN
    _GEN = Generator(plan, codes, FieldCipher(field_key))


def _make_batch(task: tuple[int, int]) -> tuple[list[Row], list[Row]]:
    assert _GEN is not None
    return _GEN.batch(*task)


@contextlib.contextmanager
def producers(plan: Plan, codes: list[str], field_key: bytes, size: int,
              workers: int) -> Iterator[Iterator[tuple[list[Row], list[Row]]]]:
    """The batches in id order. With workers the pool starts producing at once (and keeps
    going while the caller does other things); without, rows are made on demand."""
    tasks = [(start, min(size, plan.n - start + 1)) for start in range(1, plan.n + 1, size)]
    if workers <= 0:
        _init_worker(plan, codes, field_key)
        yield (_make_batch(task) for task in tasks)
        return
    # fork: the producers inherit the codes instead of unpickling them
    ctx = mp.get_context("fork")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(plan, codes, field_key)) as pool:
        yield pool.imap(_make_batch, tasks)


# --- loading -------------------------------------------------------------------------------
def _bare_table(table: Table) -> Table:
    """The same table without column types: values arrive already in their bound form."""
    return Table(table.name, MetaData(), *[Column(c.name) for c in table.c])


class Loader:
    """The single writer: one connection with bulk-load pragmas, batches of executemany."""

    def __init__(self, conn: Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        cust, cont = _bare_table(Customer.__table__), _bare_table(Contact.__table__)
        self.cust_cols, self.cont_cols = CUSTOMER_COLUMNS, CONTACT_COLUMNS
        self.cust_insert = insert(cust)
        self.cont_insert = insert(cont)
        dialect = conn.dialect
        self.cust_sql = str(insert(Customer.__table__).compile(dialect=dialect))
        self.cont_sql = str(insert(Contact.__table__).compile(dialect=dialect))
        for sql, cols in ((self.cust_sql, CUSTOMER_COLUMNS), (self.cont_sql, CONTACT_COLUMNS)):
            listed = sql[sql.index("(") + 1 : sql.index(")")].split(", ")
            if tuple(listed) != cols:
                raise SystemExit(f"the model's columns changed; update bench/synth.py: {listed}")

    def write(self, customers: list[Row], contacts: list[Row]) -> None:
        if self.path == "driver":
            self.conn.exec_driver_sql(self.cust_sql, customers)
            self.conn.exec_driver_sql(self.cont_sql, contacts)
        else:
            cc, tc = self.cust_cols, self.cont_cols
            self.conn.execute(self.cust_insert, [dict(zip(cc, r, strict=True)) for r in customers])
            self.conn.execute(self.cont_insert, [dict(zip(tc, r, strict=True)) for r in contacts])


def _schema_objects(conn: Connection, kind: str, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    marks = ", ".join("?" for _ in tables)
    rows = conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = ? AND tbl_name IN ({marks}) "
        "AND sql IS NOT NULL ORDER BY name", (kind, *tables)).all()
    return [(r[0], r[1]) for r in rows]


def load(kernel: Kernel, plan: Plan, codes: list[str], rows: Iterator[tuple[list[Row], list[Row]]],
         args: argparse.Namespace) -> dict[str, float]:
    """Bulk-load the customers and contacts; returns phase timings (seconds)."""
    times: dict[str, float] = {}
    kernel.engine.dispose()  # the loader must be the only connection (journal mode switch)
    with kernel.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")  # rows are generated consistent; see --check
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute(f"PRAGMA cache_size=-{args.cache_mb * 1024}")
        raw.execute("PRAGMA temp_store=MEMORY")
        if args.journal != "wal":
            raw.execute(f"PRAGMA journal_mode={args.journal}")
        tables = ("crm_customer", "crm_contact")
        indexes = [(n, sql) for n, sql in _schema_objects(conn, "index", tables)
                   if args.rebuild_indexes == "all" or n in args.rebuild_indexes.split(",")]
        triggers = [t for t in _schema_objects(conn, "trigger", ("crm_customer",))
                    if t[0] == f"{FTS}_ai"] if args.fts == "rebuild" else []
        conn.commit()
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        for name, _ in triggers:
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        conn.commit()
        loader = Loader(conn, args.path)
        t0 = time.perf_counter()
        done = since_commit = 0
        checked = False
        write_wall = write_cpu = 0.0
        for customers, contacts in rows:
            if not checked:
                check_rows(Generator(plan, codes, kernel.cipher), customers, contacts)
                checked = True
            w0, c0 = time.perf_counter(), time.process_time()
            loader.write(customers, contacts)
            write_wall += time.perf_counter() - w0
            write_cpu += time.process_time() - c0
            done += len(customers)
            since_commit += len(customers)
            if since_commit >= args.commit_every:
                conn.commit()
                since_commit = 0
            if args.progress:
                rate = done / (time.perf_counter() - t0)
                print(f"\r  {done:>9,} customers  {rate:>8,.0f} customers/s", end="", file=sys.stderr)
        conn.commit()
        if args.progress:
            print(file=sys.stderr)
        times["insert"] = time.perf_counter() - t0
        times["insert_executemany_wall"] = write_wall
        times["insert_executemany_cpu"] = write_cpu
        # The FTS index before ix_crm_customer_name: with that index present SQLite feeds the
        # rebuild from it (a covering index, so in name order) and FTS5 flushes a segment at
        # every out-of-order rowid, about 4x slower. Automatic merging is off during the
        # rebuild (one 'optimize' merges everything at the end) and back to FTS5's default 4.
        t2 = time.perf_counter()
        for _, sql in triggers:
            conn.exec_driver_sql(sql)
        if triggers:
            if args.fts_optimize:
                conn.exec_driver_sql(f"INSERT INTO {FTS}({FTS}, rank) VALUES('automerge', 0)")
            conn.exec_driver_sql(f"INSERT INTO {FTS}({FTS}) VALUES('rebuild')")
        conn.commit()
        times["fts_rebuild"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        if args.fts_optimize:
            conn.exec_driver_sql(f"INSERT INTO {FTS}({FTS}) VALUES('optimize')")
            conn.exec_driver_sql(f"INSERT INTO {FTS}({FTS}, rank) VALUES('automerge', 4)")
            conn.commit()
        times["fts_optimize"] = time.perf_counter() - t3
        t1 = time.perf_counter()
        for _, sql in indexes:
            conn.exec_driver_sql(sql)
        conn.commit()
        times["indexes"] = time.perf_counter() - t1
        t4 = time.perf_counter()
        if args.analyze:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        times["analyze"] = time.perf_counter() - t4
        t5 = time.perf_counter()
        if args.journal != "wal":
            raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        times["finish"] = time.perf_counter() - t5
        if args.check:
            t6 = time.perf_counter()
            problems = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
            if problems:
                raise SystemExit(f"foreign key problems: {problems[:5]}")
            times["check"] = time.perf_counter() - t6
    return times


# --- main ----------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n")[0])
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--db", type=Path, required=True, help="SQLite file to create")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--seed", type=int, default=20240501)
    p.add_argument("--until", type=date.fromisoformat, default=date(2026, 10, 31),
                   help="last creation day (local); customers span --days before it")
    p.add_argument("--days", type=int, default=3 * 365)
    p.add_argument("--contacts-per-customer", type=int, default=1)
    p.add_argument("--batch", type=int, default=10_000, help="customers per executemany")
    p.add_argument("--commit-every", type=int, default=250_000, help="customers per transaction")
    p.add_argument("--workers", type=int, default=2, help="producer processes (0: in-process)")
    p.add_argument("--path", choices=("driver", "core"), default="driver",
                   help="driver: the compiled Core insert() handed to the DBAPI executemany; "
                        "core: Connection.execute(insert(), list of dicts)")
    p.add_argument("--fts", choices=("rebuild", "trigger"), default="rebuild",
                   help="name index: rebuilt once after the load, or kept by the insert trigger")
    p.add_argument("--rebuild-indexes", default="all", metavar="NAMES",
                   help="comma-separated secondary indexes to drop during the load and create "
                        "afterwards ('all', or '' for none); the others are kept up to date by "
                        "the inserts, which is cheaper for indexes the rows arrive in order for")
    p.add_argument("--fts-optimize", action=argparse.BooleanOptionalAction, default=True,
                   help="merge the FTS segments into one b-tree after loading")
    p.add_argument("--analyze", action=argparse.BooleanOptionalAction, default=False,
                   help="run ANALYZE afterwards (the application itself never does)")
    p.add_argument("--journal", choices=("off", "wal"), default="off",
                   help="journal mode during the load (WAL is restored afterwards)")
    p.add_argument("--cache-mb", type=int, default=256)
    p.add_argument("--check", action="store_true", help="PRAGMA foreign_key_check afterwards")
    p.add_argument("--followups", type=int, default=0, metavar="N",
                   help="also add N follow-ups (random customers, mostly recent) and set each "
                        "customer's last_followup_at from them (bench/followups.py)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=sys.stderr.isatty())
    p.add_argument("--json", type=Path, default=None, help="where to write the timings "
                   "(default bench/out/generate-<N>.json)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    db: Path = args.db.resolve()
    related = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), secrets_path(db)]
    if db.exists() and not args.force:
        raise SystemExit(f"{db} exists (use --force to replace it)")
    for f in related:
        f.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_before = os.getloadavg()

    kernel = open_kernel(db, create_secrets=True)
    t = time.perf_counter()
    migrate(kernel)
    seed_builtin_grants(kernel.ctx())
    t_schema = time.perf_counter() - t

    t = time.perf_counter()
    org = org_specs(args.seed)
    create_org(kernel, org)
    t_users = time.perf_counter() - t

    t = time.perf_counter()
    plan = Plan(n=args.customers, seed=args.seed, until=args.until, days=args.days,
                owners=tuple(s["id"] for s in org), owner_weights=owner_weights(org, args.seed),
                contacts_per_customer=args.contacts_per_customer)
    codes = allocate_all_codes(kernel, plan)
    t_codes = time.perf_counter() - t
    kernel.engine.dispose()  # no open SQLite connection across fork()
    field_key = kernel.settings.load_secrets().field_key
    cpu0 = time.process_time()
    with producers(plan, codes, field_key, args.batch, args.workers) as rows:
        phases = load(kernel, plan, codes, rows, args)
    bulk = time.perf_counter() - t
    phases["load_cpu_main"] = time.process_time() - cpu0
    phases["load_cpu_producers"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    kernel.shutdown()
    if args.followups:
        from bench.followups import add_followups

        phases.update(add_followups(db, args.followups, args.until, args.seed))
    total = time.perf_counter() - started
    rows = plan.n * (1 + plan.contacts_per_customer)
    result = {
        "customers": plan.n, "contacts": plan.n * plan.contacts_per_customer, "seed": args.seed,
        "followups": args.followups,
        "db": str(db), "db_bytes": db.stat().st_size,
        "options": {k: (str(v) if isinstance(v, Path | date) else v) for k, v in vars(args).items()},
        "seconds": {"schema_and_roles": t_schema, "users_and_teams": t_users, "codes": t_codes,
                    **phases, "bulk_total": bulk, "command_total": total},
        "rows_per_second": rows / bulk, "customers_per_second": plan.n / bulk,
        "loadavg_before": load_before, "loadavg_after": os.getloadavg(), "machine": machine(),
        "source": source_state(),
        "users": [{k: s[k] for k in ("id", "login", "display_name", "role", "team")} for s in org],
        "plan": {k: (str(v) if isinstance(v, date) else v) for k, v in asdict(plan).items()
                 if k not in ("owners", "owner_weights")},
    }
    out = args.json or OUT_DIR / f"generate-{plan.n}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    s = result["seconds"]
    print(f"{plan.n:,} customers + {result['contacts']:,} contacts → {db} "
          f"({result['db_bytes'] / 2**20:,.0f} MiB)")
    print(f"  schema+roles {s['schema_and_roles']:.1f}s · 50 users {s['users_and_teams']:.1f}s")
    print(f"  codes {s['codes']:.1f}s · insert {s['insert']:.1f}s · FTS rebuild "
          f"{s['fts_rebuild']:.1f}s · FTS optimize {s['fts_optimize']:.1f}s · indexes "
          f"{s['indexes']:.1f}s · analyze {s['analyze']:.1f}s · finish {s['finish']:.1f}s")
    print(f"  customers+contacts: {bulk:.1f}s from the first code block to the finished file = "
          f"{result['rows_per_second']:,.0f} rows/s; whole command {total:.1f}s")
    print(f"  CPU: main {s['load_cpu_main']:.1f}s, producers {s['load_cpu_producers']:.1f}s; "
          f"load average {load_before[0]:.1f} → {result['loadavg_after'][0]:.1f}")
    print(f"  timings → {out}")
    return result


if __name__ == "__main__":
    main()
