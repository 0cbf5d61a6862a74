"""Load generator of ``bench.run_api`` — its own process, started once per round.

``python -m bench._load SPEC.json`` with a spec written by ``run_api``: the URL of the first page,
the URL template of a page after a cursor, extra headers, the cursors of the book's pages, how
many connections, warm-up and measured seconds. Prints one JSON object with the figures.

``connections`` asyncio tasks share one ``httpx.AsyncClient`` whose pool holds as many
connections (HTTP/1.1 keep-alive on loopback). Each task loops over short walks: it starts on
the first page (half of the walks) or on a page picked at random from the whole book, then
follows the ``next_cursor`` of that answer once more — so about a quarter of the requests are
first pages and three quarters are deeper pages reached by cursor. Latency is the time from
sending a request to having read the whole answer. Requests that complete inside the measured
window count; the warm-up's do not.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx

_NEXT = re.compile(rb'"next_cursor":(?:null|"([^"]*)")')


async def _walker(client: httpx.AsyncClient, spec: dict[str, Any], rng: random.Random,
                  t_start: float, t_end: float, out: list[tuple[float, float, int]],
                  counter: list[int]) -> None:
    first_url: str = spec["first_url"]
    page_url: str = spec["page_url"]
    cursors: list[str] = spec["cursors"]
    follow: int = spec.get("follow", 1)
    while time.perf_counter() < t_end:
        url = first_url if rng.random() < 0.5 else page_url.format(cursor=rng.choice(cursors))
        for _ in range(1 + follow):
            t = time.perf_counter()
            if t >= t_end:
                return
            resp = await client.get(url)
            body = resp.content
            done = time.perf_counter()
            counter[0] += 1
            if done >= t_start:
                out.append((done, done - t, resp.status_code))
            if resp.status_code != 200:
                break
            m = _NEXT.search(body, max(0, len(body) - 300))
            if m is None or m.group(1) is None:
                break
            url = page_url.format(cursor=m.group(1).decode())


def _pct(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return float("nan")
    k = (len(sorted_ms) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_ms) - 1)
    return sorted_ms[lo] + (sorted_ms[hi] - sorted_ms[lo]) * (k - lo)


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    n = spec["connections"]
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    rng = random.Random(spec.get("seed", 1))
    out: list[tuple[float, float, int]] = []
    counter = [0]  # every answer, warm-up included
    async with httpx.AsyncClient(limits=limits, headers=spec.get("headers") or {},
                                 timeout=30.0) as client:
        t0 = time.perf_counter()
        t_start = t0 + spec["warmup"]
        t_end = t_start + spec["seconds"]
        c0 = time.process_time()
        await asyncio.gather(*(_walker(client, spec, random.Random(rng.random()), t_start, t_end, out,
                                       counter)
                               for _ in range(n)))
        cpu = time.process_time() - c0
    inside = [r for r in out if r[0] <= t_end]
    ms = sorted(lat * 1000 for _, lat, _ in inside)
    errors = sum(1 for *_, st in inside if st != 200)
    return {"requests": len(inside), "all_requests": counter[0], "errors": errors, "seconds": spec["seconds"],
            "rps": len(inside) / spec["seconds"], "p50": _pct(ms, 50), "p95": _pct(ms, 95),
            "p99": _pct(ms, 99), "mean": sum(ms) / len(ms) if ms else float("nan"),
            "max": ms[-1] if ms else float("nan"), "client_cpu_s": cpu,
            "statuses": sorted({st for *_, st in inside})}


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(run(spec))))


if __name__ == "__main__":
    main()
