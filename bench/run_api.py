"""The API under load, next to a bare endpoint: ``python -m bench.run_api --db PATH``.

Two servers on loopback, each its own uvicorn process with one worker, on the same SQLite file:

* **ours** — ``crm_core.web.app:create_app_from_env`` (what ``crm serve`` runs) with the
  deployment's settings from ``CRM_*`` variables (the benchmark database and its secrets file,
  plugins discovered as installed, scheduler off), answering a sales rep's
  ``GET /api/v1/customers?limit=50`` with ``Authorization: Bearer <token>`` — token lookup,
  actor and grants, route permission, query validation, own-scope clause, keyset page,
  ``CustomerRead`` models, hooks;
* **bare** — :mod:`bench.bare_app`: Starlette + SQLAlchemy Core running the same SQL (same
  columns, same owner, same order, limit 50 + 1) and nothing else.

A load generator (:mod:`bench._load`, its own process, httpx + asyncio, one pool of
``--connections`` keep-alive connections) drives one server at a time, in alternating rounds
(ours, bare, ours, bare …) so that whatever else runs on the machine weighs on both alike. Each
round: ``--warmup`` seconds discarded, then ``--seconds`` measured. Per round it records
throughput, p50/p95/p99, errors, the server's and the load generator's CPU time and the load
average; the summary is the median over rounds, and the ratio of the medians.

Before loading, both servers are asked for the rep's first two pages and must return the same
customers, so they are known to run the same query. Writes ``bench/out/api-<N>.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlmodel import col

from bench.common import OUT_DIR, machine, open_kernel, secrets_path, source_state
from crm_core.models import Customer
from crm_core.services.auth import create_token, revoke_token
from crm_core.services.base import encode_cursor
from crm_core.services.users import actor_for, list_users

ROOT = Path(__file__).resolve().parent.parent
API_PATH = "/api/v1/customers"
TARGET_RATIO = 0.6
TARGET_P99_MS = 100.0


# --- setup -------------------------------------------------------------------------------------
def prepare(db: Path, rep_login: str | None) -> dict[str, Any]:
    """Pick the rep, make a token for them, list the cursors of their book's pages."""
    kernel = open_kernel(db)
    try:
        ctx = kernel.ctx()
        reps = sorted(u.login for u, roles, _t in list_users(ctx) if "sales_rep" in roles)
        if not reps:
            raise SystemExit("no sales reps in this database: build it with python -m bench.generate")
        login = rep_login or reps[0]
        actor = actor_for(ctx, login)
        row, raw = create_token(ctx, login, name="bench.run_api", expires_days=1)
        with kernel.new_session() as s:
            ids = list(s.scalars(select(col(Customer.id)).where(col(Customer.owner_id) == actor.id)
                                 .order_by(col(Customer.id).desc())))
    finally:
        kernel.shutdown()
    # the cursor after page k is the id of its last row
    last_ids = ids[49:-1:50]
    return {"login": login, "user_id": actor.id, "token": raw, "token_id": row.id,
            "book": len(ids), "pages": len(ids) // 50 + (1 if len(ids) % 50 else 0),
            "last_ids": last_ids}


def revoke(db: Path, token_id: int) -> None:
    kernel = open_kernel(db)
    try:
        revoke_token(kernel.ctx(), token_id)
    finally:
        kernel.shutdown()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(stack: ExitStack, app: str, port: int, env: dict[str, str],
                 src: Path = ROOT, http: str = "h11") -> subprocess.Popen[bytes]:
    """uvicorn with one worker serving ``app`` imported from the source tree ``src``."""
    cmd = [sys.executable, "-m", "uvicorn", "--factory", app, "--host", "127.0.0.1",
           "--port", str(port), "--workers", "1", "--no-access-log", "--log-level", "warning",
           "--http", http]
    log = stack.enter_context((OUT_DIR / f"api-server-{port}.log").open("wb"))
    env = {**os.environ, **env, "PYTHONPATH": str(src)}
    proc = subprocess.Popen(cmd, cwd=src, env=env, stdout=log, stderr=log)

    def _stop() -> None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    stack.callback(_stop)
    return proc


def wait_ready(url: str, proc: subprocess.Popen[bytes], headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server for {url} exited with {proc.returncode}; "
                             "see bench/out/api-server-*.log")
        try:
            if httpx.get(url, headers=headers, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within 60 s")


def check_same_pages(ours: str, bare: str, headers: dict[str, str]) -> None:
    """Both servers return the same two first pages (ids in order) of the rep's book."""
    with httpx.Client(timeout=30) as c:
        a1 = c.get(f"{ours}{API_PATH}?limit=50", headers=headers).json()
        b1 = c.get(f"{bare}/customers?limit=50").json()
        a2 = c.get(f"{ours}{API_PATH}?limit=50&cursor={a1['next_cursor']}", headers=headers).json()
        b2 = c.get(f"{bare}/customers?limit=50&cursor={b1['next_cursor']}").json()
    for a, b in ((a1, b1), (a2, b2)):
        ids_a = [r["id"] for r in a["items"]]
        if ids_a != [r["id"] for r in b["items"]] or len(ids_a) != 50:
            raise SystemExit("the two servers do not return the same page: not comparable")
        if a["items"][0]["name"] != b["items"][0]["name"]:
            raise SystemExit("the two servers disagree on a customer's name")


# --- rounds ------------------------------------------------------------------------------------
def one_round(spec: dict[str, Any], server: subprocess.Popen[bytes], tmp: Path) -> dict[str, Any]:
    path = tmp / "spec.json"
    path.write_text(json.dumps(spec))
    load_before = os.getloadavg()
    cpu0 = cpu_seconds(server.pid)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench._load", str(path)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(server.pid) - cpu0
    res = json.loads(done.stdout)
    res.update(loadavg_before=load_before, loadavg_after=os.getloadavg(),
               server_cpu_s=cpu, server_cpu_share=cpu / wall,
               # the server's CPU time over the whole round, warm-up included, per answer
               server_cpu_ms_per_req=1000 * cpu / res["all_requests"] if res["all_requests"] else None)
    return res


def median_of(rounds: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in rounds)


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def render(result: dict[str, Any]) -> str:
    lines = [
        f"uvicorn --http {result['http']}. Rep `{result['rep']}` (own scope, "
        f"{result['book']:,} customers = {result['pages']} pages); "
        f"{result['connections']} connections, {result['warmup']} s warm-up + {result['seconds']} s "
        "measured per round.",
        "",
        "| Round | Server | req/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/req | "
        "load avg (1 min) before → after |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in result["rounds"]:
        lines.append(
            f"| {r['round']} | {r['server']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['p99']:.1f} | {r['errors']} | {r['server_cpu_ms_per_req']:.2f} | "
            f"{r['loadavg_before'][0]:.2f} → {r['loadavg_after'][0]:.2f} |")
    s = result["summary"]
    lines += [
        "",
        "| Median over rounds | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in result["servers"]:
        m = s[name]
        lines.append(f"| {name} | {m['rps']:.0f} | {m['p50']:.1f} | {m['p95']:.1f} | {m['p99']:.1f} | "
                     f"{m['server_cpu_ms_per_req']:.2f} |")
    lines += [
        "",
        f"Throughput ratio ours / bare: **{s['ratio']:.2f}** (target ≥ {TARGET_RATIO}: "
        f"{'met' if s['ratio_met'] else 'not met'}); per pair of rounds: "
        + ", ".join(f"{x:.2f}" for x in s["pair_ratios"]) + ".",
        f"Capacity ratio (bare's server CPU per answer / ours): **{s['cpu_ratio']:.2f}**; per pair: "
        + ", ".join(f"{x:.2f}" for x in s["cpu_pair_ratios"]) + ".",
        f"Ours p99 (median over rounds): **{s['ours']['p99']:.1f} ms** (target ≤ {TARGET_P99_MS:.0f} ms: "
        f"{'met' if s['p99_met'] else 'not met'}).",
        f"`uptime` before: {result['uptime_before']}; after: {result['uptime_after']}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3, help="rounds per server (alternating)")
    ap.add_argument("--seconds", type=float, default=15.0, help="measured seconds per round")
    ap.add_argument("--warmup", type=float, default=3.0, help="discarded seconds per round")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--rep", default=None, help="login of the sales rep (default: the first)")
    ap.add_argument("--port", type=int, default=8731, help="ours on PORT, bare on PORT+1")
    ap.add_argument("--http", default="h11", choices=("h11", "httptools"),
                    help="uvicorn's HTTP parser for every server (httptools must be installed)")
    ap.add_argument("--before-src", type=Path, default=None,
                    help="also serve our app from this copy of the source tree (e.g. before a "
                         "change), as a third server 'before' on PORT+2 in the same rotation")
    args = ap.parse_args(argv)
    db = args.db.resolve()
    if not db.exists():
        raise SystemExit(f"{db} does not exist: python -m bench.generate --customers 1000000 --db {db}")
    OUT_DIR.mkdir(exist_ok=True)
    prep = prepare(db, args.rep)
    ours_url, bare_url = f"http://127.0.0.1:{args.port}", f"http://127.0.0.1:{args.port + 1}"
    auth = {"Authorization": f"Bearer {prep['token']}"}
    ours_env = {"CRM_DATABASE_URL": f"sqlite:///{db}", "CRM_SECRETS_FILE": str(secrets_path(db)),
                "CRM_SCHEDULER_ENABLED": "false", "CRM_WEB_WORKERS": "1"}
    bare_env = {"BENCH_DB": str(db), "BENCH_OWNER_ID": str(prep["user_id"])}
    specs: dict[str, dict[str, Any]] = {
        "ours": {"first_url": f"{ours_url}{API_PATH}?limit=50",
                 "page_url": f"{ours_url}{API_PATH}?limit=50&cursor={{cursor}}", "headers": auth,
                 "cursors": [encode_cursor([i]) for i in prep["last_ids"]]},
        "bare": {"first_url": f"{bare_url}/customers?limit=50",
                 "page_url": f"{bare_url}/customers?limit=50&cursor={{cursor}}",
                 "cursors": [str(i) for i in prep["last_ids"]]},
    }
    names = ["ours", "bare"]
    if args.before_src is not None:
        before_url = f"http://127.0.0.1:{args.port + 2}"
        specs["before"] = {**specs["ours"], "first_url": f"{before_url}{API_PATH}?limit=50",
                           "page_url": f"{before_url}{API_PATH}?limit=50&cursor={{cursor}}"}
        names.append("before")
    for spec in specs.values():
        spec.update(connections=args.connections, warmup=args.warmup, seconds=args.seconds, seed=7)
    rounds: list[dict[str, Any]] = []
    up_before = uptime()
    print(f"rep {prep['login']}: {prep['book']:,} customers; {up_before}", flush=True)
    try:
        with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
            servers = {"ours": start_server(stack, "crm_core.web.app:create_app_from_env", args.port,
                                            ours_env, http=args.http),
                       "bare": start_server(stack, "bench.bare_app:create_app", args.port + 1, bare_env,
                                            http=args.http)}
            if args.before_src is not None:
                servers["before"] = start_server(stack, "crm_core.web.app:create_app_from_env",
                                                 args.port + 2, ours_env, args.before_src.resolve(),
                                                 http=args.http)
                wait_ready(f"{before_url}{API_PATH}?limit=1", servers["before"], auth)
                check_same_pages(before_url, bare_url, auth)
            wait_ready(f"{ours_url}{API_PATH}?limit=1", servers["ours"], auth)
            wait_ready(f"{bare_url}/customers?limit=1", servers["bare"])
            check_same_pages(ours_url, bare_url, auth)
            for i in range(args.rounds):
                for j, name in enumerate(names):
                    r = one_round(specs[name], servers[name], Path(tmp))
                    r.update(round=len(names) * i + j + 1, server=name)
                    rounds.append(r)
                    print(f"  round {r['round']} {name}: {r['rps']:.0f} req/s, p50 {r['p50']:.1f} "
                          f"p95 {r['p95']:.1f} p99 {r['p99']:.1f} ms, errors {r['errors']}, "
                          f"server {r['server_cpu_ms_per_req']:.2f} ms CPU/req, "
                          f"load {r['loadavg_after'][0]:.2f}", flush=True)
    finally:
        revoke(db, prep["token_id"])
    up_after = uptime()
    summary: dict[str, Any] = {}
    for name in names:
        rs = [r for r in rounds if r["server"] == name]
        summary[name] = {k: median_of(rs, k) for k in
                         ("rps", "p50", "p95", "p99", "server_cpu_ms_per_req", "client_cpu_s")}
        summary[name]["errors"] = sum(r["errors"] for r in rs)
    ours_r = [r for r in rounds if r["server"] == "ours"]
    bare_r = [r for r in rounds if r["server"] == "bare"]
    summary["ratio"] = summary["ours"]["rps"] / summary["bare"]["rps"]
    summary["pair_ratios"] = [a["rps"] / b["rps"] for a, b in zip(ours_r, bare_r, strict=True)]
    summary["ratio_met"] = summary["ratio"] >= TARGET_RATIO
    # capacity: answers per CPU-second of the server process, i.e. what each would serve with a
    # core to itself; robust to how much CPU other processes left it during the round
    summary["cpu_ratio"] = (summary["bare"]["server_cpu_ms_per_req"]
                            / summary["ours"]["server_cpu_ms_per_req"])
    summary["cpu_pair_ratios"] = [b["server_cpu_ms_per_req"] / a["server_cpu_ms_per_req"]
                                  for a, b in zip(ours_r, bare_r, strict=True)]
    summary["p99_met"] = summary["ours"]["p99"] <= TARGET_P99_MS
    result = {"servers": names, "http": args.http, "rep": prep["login"], "book": prep["book"],
              "pages": prep["pages"],
              "connections": args.connections, "warmup": args.warmup, "seconds": args.seconds,
              "rounds": rounds, "summary": summary, "uptime_before": up_before, "uptime_after": up_after,
              "machine": machine(), "source": source_state(), "db": str(db)}
    md = render(result)
    print()
    print(md)
    n = f"{args.connections}c"
    (OUT_DIR / f"api-{n}.md").write_text(md + "\n")
    (OUT_DIR / f"api-{n}.json").write_text(json.dumps(result, indent=1, default=str))
    print(f"\nwritten: bench/out/api-{n}.md, bench/out/api-{n}.json")


if __name__ == "__main__":
    main()
