"""What the benchmark scripts share: the kernel on a benchmark database, output, statistics."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import sqlite3
import statistics
import subprocess
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event

from crm_core.kernel import Kernel
from crm_core.settings import Secrets, Settings

OUT_DIR = Path(__file__).with_name("out")


def secrets_path(db: Path) -> Path:
    return db.with_name(db.name + ".secrets.json")


def open_kernel(db: Path, secrets_file: Path | None = None, create_secrets: bool = False,
                pragmas: dict[str, str] | None = None) -> Kernel:
    """The kernel alone (no plugins, no scheduler) on a benchmark database, with the engine
    settings an installation gets, plus ``pragmas`` on every connection if given."""
    settings = Settings(database_url=f"sqlite:///{db}",
                        secrets_file=str(secrets_file or secrets_path(db)),
                        autoload_plugins=False, scheduler_enabled=False)
    secrets: Secrets = settings.load_secrets(create=create_secrets)
    kernel = Kernel(settings.with_secrets(secrets), autoload=False, strict=True)
    if pragmas:
        def _extra(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            for name, value in pragmas.items():
                cur.execute(f"PRAGMA {name}={value}")
            cur.close()

        event.listen(kernel.engine, "connect", _extra)
        kernel.engine.dispose()  # connections opened so far lack them
    return kernel


def parse_pragmas(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        if not re.fullmatch(r"[a-z_]+", name) or not re.fullmatch(r"-?\w+", value):
            raise SystemExit(f"not a NAME=VALUE pragma: {item!r}")
        out[name] = value
    return out


def source_state() -> dict[str, Any]:
    """The commit benchmarked and whether crm_core had uncommitted changes (others edit it)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "crm_core"], cwd=root, text=True,
                               capture_output=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return {}
    return {"commit": head, "crm_core_uncommitted_files": len(dirty)}


def summarize(samples_s: list[float]) -> dict[str, float]:
    """median / p95 / p99 / mean / min / max in milliseconds."""
    ms = sorted(x * 1000 for x in samples_s)
    q = [ms[0]] * 99 if len(ms) == 1 else statistics.quantiles(ms, n=100, method="inclusive")
    return {"n": len(ms), "median": statistics.median(ms), "p95": q[94], "p99": q[98],
            "mean": statistics.fmean(ms), "min": ms[0], "max": ms[-1]}


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    with contextlib.suppress(ValueError, OSError):
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem / 2**30, 1),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": sqlalchemy.__version__, "platform": platform.platform(),
            "loadavg": os.getloadavg()}
