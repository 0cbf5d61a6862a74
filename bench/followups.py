"""Bulk follow-ups for a benchmark database (``python -m bench.generate … --followups N``).

N rows of ``crm_followup`` made by one ``INSERT … SELECT`` inside SQLite (a recursive counter
joined to a random customer each), then ``crm_customer.last_followup_at`` set to each customer's
latest follow-up — exactly what the follow-up service maintains, so the stale-customer sweep
(``bench/run_reminders.py``) sees consistent data. Each follow-up lies an exponentially
distributed time before the end of the generated period (mean ``mean_days``), never before the
customer was created: with 5 follow-ups per customer and a 10-day mean about one customer in five
has had none in the last 3 days. Times are written in the form SQLAlchemy stores on SQLite.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

CONTENTS = ("电话沟通需求，客户对报价有疑问", "上门拜访，演示产品", "微信跟进合同进度",
            "邮件发送方案与报价单", "客户反馈试用情况良好")
METHODS = ("phone", "visit", "wechat", "email", "other")


def _case(values: tuple[str, ...], expr: str) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE {expr} {whens} END"


def add_followups(db: Path, n: int, until: date, seed: int, mean_days: float = 10.0,
                  batch: int = 1_000_000) -> dict[str, float]:
    """Add ``n`` follow-ups and refresh ``last_followup_at``; returns phase timings."""
    end = datetime.combine(until + timedelta(days=1), dtime(0), UTC)
    end_epoch = end.timestamp()
    conn = sqlite3.connect(db, isolation_level=None)
    times: dict[str, float] = {}
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("PRAGMA temp_store=MEMORY")
        customers = conn.execute("SELECT max(id) FROM crm_customer").fetchone()[0] or 0
        if not customers:
            raise SystemExit("no customers to follow up")
        first = (conn.execute("SELECT coalesce(max(id), 0) FROM crm_followup").fetchone()[0]) + 1
        # uniform in (0, 1]: random() is a signed 64-bit integer
        u = "((abs(random()) % 1000000000) + 1) / 1000000000.0"
        created = "(CAST(strftime('%s', substr(c.created_at, 1, 19)) AS REAL) + 1)"
        stamp = ("strftime('%Y-%m-%d %H:%M:%S', t, 'unixepoch') || '.' || "
                 "printf('%06d', cast((t - cast(t AS INTEGER)) * 1000000 AS INTEGER))")
        t0 = time.perf_counter()
        conn.execute("DROP INDEX IF EXISTS ix_crm_followup_customer_at")
        conn.execute("DROP INDEX IF EXISTS ix_crm_followup_due")
        done = 0
        while done < n:
            k = min(batch, n - done)
            conn.execute("BEGIN")
            lo, hi = first + done, first + done + k - 1
            conn.execute(f"""
                WITH RECURSIVE seq(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM seq WHERE i < {hi}),
                picks AS MATERIALIZED (
                    SELECT i, (abs(random()) % {customers}) + 1 AS pick, abs(random()) AS r,
                           {u} AS u FROM seq),
                made AS MATERIALIZED (
                    SELECT p.i AS i, c.id AS cid, c.owner_id AS owner, p.r AS r,
                           max({created}, {end_epoch} - (-ln(p.u) * {mean_days} * 86400.0)) AS t
                    FROM picks AS p JOIN crm_customer AS c ON c.id = p.pick),
                stamped AS MATERIALIZED (SELECT i, cid, owner, r, {stamp} AS s FROM made)
                INSERT INTO crm_followup (created_at, updated_at, version, id, customer_id,
                    contact_id, user_id, method, occurred_at, content, feedback, next_step,
                    next_step_due)
                SELECT s, s, 1, i, cid, NULL, owner, {_case(METHODS, "r % 5")}, s,
                       {_case(CONTENTS, "(r / 7) % 5")}, NULL, NULL, NULL
                FROM stamped WHERE true
            """)
            conn.execute("COMMIT")
            done += k
        times["followups_insert"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        conn.execute("CREATE INDEX ix_crm_followup_customer_at ON crm_followup (customer_id, occurred_at)")
        conn.execute("CREATE INDEX ix_crm_followup_due ON crm_followup (next_step_due)")
        times["followups_indexes"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute("DROP INDEX IF EXISTS ix_crm_customer_last_followup")
        conn.execute("""UPDATE crm_customer SET last_followup_at = (
            SELECT max(f.occurred_at) FROM crm_followup f WHERE f.customer_id = crm_customer.id)""")
        conn.execute("CREATE INDEX ix_crm_customer_last_followup ON crm_customer (status, last_followup_at)")
        conn.execute("COMMIT")
        times["last_followup_update"] = time.perf_counter() - t2
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return times
