"""The scheduler host: one active scheduler per database, each fire done once."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlmodel import col

from crm_core.declarations import JobDecl
from crm_core.hookspecs import hookimpl
from crm_core.kernel import Kernel
from crm_core.locks import SchedulerLock, advisory_key, sqlite_lock_path
from crm_core.models import JobRun
from crm_core.plugin_system.manifest import Manifest
from crm_core.scheduler import (
    INTERVAL_ANCHOR,
    SchedulerHost,
    fire_key_for,
    last_fire_time,
    make_trigger,
    run_job,
    run_worker,
)

MakeKernel = Callable[..., Kernel]
WAIT = 30.0  # upper bound for waits on events; never a timing assertion


class Calls:
    """What the test jobs saw, shared with the test."""

    def __init__(self) -> None:
        self.fire_keys: list[str] = []
        self.lock = threading.Lock()

    def tick(self, kernel: Kernel, fire_key: str) -> None:
        with self.lock:
            self.fire_keys.append(fire_key)

    @staticmethod
    def boom(kernel: Kernel, fire_key: str) -> None:
        raise ValueError("kaput")


YEARLY = {"month": 1, "day": 1, "hour": 0, "minute": 0}
YEAR_SECONDS = 366 * 24 * 3600


def jobs_plugin(name: str, calls: Calls, grace: int = 120) -> Manifest:
    """``<name>.tick`` and ``<name>.boom``, both yearly: with the default grace they only
    fire when a test makes them (unless run in the first minutes of a year)."""

    class Hooks:
        @hookimpl
        def register_jobs(self, kernel: Kernel) -> list[JobDecl]:
            return [
                JobDecl(f"{name}.tick", calls.tick, "cron", YEARLY, misfire_grace_time=grace),
                JobDecl(f"{name}.boom", calls.boom, "cron", YEARLY, misfire_grace_time=grace),
            ]

    return Manifest(name=name, version="1.0", hooks=Hooks())


def next_event(events: queue.Queue[JobExecutionEvent], job_id: str) -> JobExecutionEvent:
    """The next execution event of ``job_id`` (the kernel's own jobs may run meanwhile)."""
    while True:
        ev = events.get(timeout=WAIT)
        if ev.job_id == job_id:
            return ev


@pytest.fixture(autouse=True)
def _no_threads_left() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"threads left running: {left}"


@pytest.fixture
def hosts(make_kernel: MakeKernel) -> Iterator[Callable[..., SchedulerHost]]:
    """SchedulerHost factory; every host is stopped before its kernel shuts down."""
    made: list[SchedulerHost] = []

    def factory(kernel: Kernel, **kwargs: Any) -> SchedulerHost:
        kwargs.setdefault("retry_seconds", None)
        host = SchedulerHost(kernel, **kwargs)
        made.append(host)
        return host

    yield factory
    for host in made:
        host.stop()


def job_runs(kernel: Kernel, job_id: str | None = None) -> list[JobRun]:
    with kernel.new_session() as s:
        q = select(JobRun).order_by(col(JobRun.id))
        if job_id:
            q = q.where(col(JobRun.job_id) == job_id)
        return list(s.scalars(q).all())


# -- declarations and helpers ------------------------------------------------------------------
def test_core_declares_outbox_retry(kernel: Kernel) -> None:
    decl, plugin = kernel.jobs["core.outbox_retry"]
    assert plugin == "core"
    assert (decl.trigger, decl.trigger_args, decl.misfire_grace_time) == (
        "interval", {"seconds": 30}, 30)
    assert run_job(kernel, "core.outbox_retry", "2024-01-01T00:00:00Z") == "done"
    assert [r.status for r in job_runs(kernel, "core.outbox_retry")] == ["done"]


def test_fire_key_is_the_utc_scheduled_time() -> None:
    assert fire_key_for(datetime(2024, 5, 1, 2, 0, tzinfo=UTC)) == "2024-05-01T02:00:00Z"
    cst = timezone(timedelta(hours=8))
    assert fire_key_for(datetime(2024, 5, 1, 10, 0, 30, tzinfo=cst)) == "2024-05-01T02:00:30Z"
    assert fire_key_for(datetime(2024, 5, 1, 2, 0, 0, 250000)) == "2024-05-01T02:00:00.250000Z"


def test_interval_fire_times_do_not_depend_on_when_the_host_started() -> None:
    decl = JobDecl("core.x", Calls().tick, "interval", {"seconds": 30})
    a, b = make_trigger(decl), make_trigger(decl)
    now = datetime(2024, 5, 1, 2, 0, 7, 123000, tzinfo=UTC)
    first = a.get_next_fire_time(None, now)
    assert first == b.get_next_fire_time(None, now + timedelta(seconds=11))
    assert first == datetime(2024, 5, 1, 2, 0, 30, tzinfo=UTC)
    assert (first - INTERVAL_ANCHOR) % timedelta(seconds=30) == timedelta(0)
    cron = make_trigger(JobDecl("core.y", Calls().tick, "cron", {"hour": 3}))
    assert cron.get_next_fire_time(None, now) == datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
    assert last_fire_time(a, now - timedelta(seconds=40), now) == datetime(
        2024, 5, 1, 2, 0, tzinfo=UTC)
    assert last_fire_time(a, now - timedelta(seconds=5), now) is None
    assert last_fire_time(cron, now - timedelta(days=1), now) == datetime(
        2024, 4, 30, 3, 0, tzinfo=UTC)
    shanghai = make_trigger(JobDecl("core.y", Calls().tick, "cron", {"hour": 2}), "Asia/Shanghai")
    assert shanghai.get_next_fire_time(None, now) == datetime(2024, 5, 1, 18, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="unknown trigger"):
        make_trigger(JobDecl("core.z", Calls().tick, "date", {}))


def test_lock_key_and_path_are_stable(tmp_path: Path) -> None:
    assert advisory_key() == advisory_key("crm-scheduler") == -983882146761769017
    db = tmp_path / "crm.db"
    assert sqlite_lock_path(f"sqlite:///{db}") == tmp_path / "crm.db.scheduler.lock"
    assert sqlite_lock_path("sqlite://") is None
    assert sqlite_lock_path("sqlite:///:memory:") is None


def test_lock_is_exclusive_and_reusable(make_kernel: MakeKernel) -> None:
    k1, k2 = make_kernel(), make_kernel()
    a, b = SchedulerLock(k1), SchedulerLock(k2)
    try:
        assert a.acquire()
        assert a.acquire()  # already ours
        assert not b.acquire()
        assert a.check()
        a.release()
        a.release()
        assert not a.check()
        assert b.acquire()
        assert not a.acquire()
    finally:
        a.release()
        b.release()
    if k1.settings.is_sqlite:
        assert a.path is not None and a.path.name == "crm.db.scheduler.lock"
        assert a.path.parent == Path(make_url(k1.settings.database_url).database or "").parent


# -- one active scheduler ------------------------------------------------------------------------
def test_exactly_one_host_is_active(
    make_kernel: MakeKernel, hosts: Callable[..., SchedulerHost]
) -> None:
    h1, h2 = hosts(make_kernel()), hosts(make_kernel())
    assert h1.start() is True
    assert h2.start() is False
    assert h2.poll() is False
    assert h1.poll() is True
    assert [h1.is_active, h2.is_active] == [True, False]
    assert h1.scheduler is not None and h1.scheduler.running
    assert h2.scheduler is None


def test_standby_takes_over_when_the_active_host_stops(
    make_kernel: MakeKernel, hosts: Callable[..., SchedulerHost]
) -> None:
    h1 = hosts(make_kernel())
    h2 = hosts(make_kernel(), retry_seconds=0.05)
    assert h1.start()
    assert not h2.start()
    h1.stop()
    assert not h1.is_active
    assert h2.wait_active(WAIT)
    assert h2.is_active
    h1.start()  # comes back as the standby
    assert not h1.is_active
    assert [h1.is_active, h2.is_active].count(True) == 1


_HOLD_LOCK = """
import sys, types
from crm_core.db import make_engine
from crm_core.locks import SchedulerLock
from crm_core.settings import Settings
url = sys.argv[1]
fake = types.SimpleNamespace(settings=Settings(database_url=url), engine=make_engine(url))
lock = SchedulerLock(fake)  # keep a reference: a collected lock is released
print("locked" if lock.acquire() else "busy", flush=True)
sys.stdin.read()
"""


def test_standby_takes_over_when_the_active_process_dies(
    make_kernel: MakeKernel, hosts: Callable[..., SchedulerHost]
) -> None:
    kernel = make_kernel()
    with subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, kernel.settings.database_url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        host = hosts(kernel, retry_seconds=0.05)
        assert host.start() is False
        proc.kill()  # no clean release: the OS / the database server drops the lock
        proc.wait()
    assert host.wait_active(WAIT)


def test_active_host_schedules_every_declared_job(
    make_kernel: MakeKernel, hosts: Callable[..., SchedulerHost]
) -> None:
    kernel = make_kernel(plugins=[jobs_plugin("jobsa", Calls())])
    host = hosts(kernel)
    assert host.start()
    assert host.scheduler is not None
    jobs = {j.id: j for j in host.scheduler.get_jobs()}
    assert set(jobs) == set(kernel.jobs) >= {"core.outbox_retry", "jobsa.tick", "jobsa.boom"}
    for job_id, job in jobs.items():
        decl = kernel.jobs[job_id][0]
        assert job.misfire_grace_time == decl.misfire_grace_time
        assert (job.coalesce, job.max_instances) == (True, 1)
    assert jobs["core.outbox_retry"].misfire_grace_time == 30


# -- exactly-once fires -----------------------------------------------------------------------
def test_same_fire_key_runs_once_even_from_another_process(make_kernel: MakeKernel) -> None:
    calls = Calls()
    k1 = make_kernel(plugins=[jobs_plugin("jobsa", calls)], enabled=["jobsa"])
    k2 = make_kernel(plugins=[jobs_plugin("jobsa", calls)])
    key = "2024-05-01T02:00:00Z"
    assert run_job(k1, "jobsa.tick", key, owner="one") == "done"
    assert run_job(k1, "jobsa.tick", key) == "duplicate"
    assert run_job(k2, "jobsa.tick", key) == "duplicate"
    assert calls.fire_keys == [key]
    assert run_job(k2, "jobsa.tick", "2024-05-01T03:00:00Z") == "done"
    assert calls.fire_keys == [key, "2024-05-01T03:00:00Z"]
    runs = job_runs(k1, "jobsa.tick")
    assert [(r.fire_key, r.status) for r in runs] == [
        (key, "done"), ("2024-05-01T03:00:00Z", "done")]
    assert runs[0].owner == "one" and runs[0].finished_at is not None
    assert run_job(k1, "nope.job", key) == "unknown"


def test_disabled_plugin_job_is_skipped(make_kernel: MakeKernel) -> None:
    calls = Calls()
    kernel = make_kernel(plugins=[jobs_plugin("jobsa", calls)])
    assert "jobsa.tick" in kernel.jobs
    assert run_job(kernel, "jobsa.tick", "2024-05-01T02:00:00Z") == "disabled"
    assert calls.fire_keys == []
    assert job_runs(kernel) == []
    # enabled elsewhere (another process): this kernel follows without a restart
    make_kernel(plugins=[jobs_plugin("jobsa", calls)], enabled=["jobsa"])
    assert run_job(kernel, "jobsa.tick", "2024-05-01T02:00:00Z") == "done"
    assert calls.fire_keys == ["2024-05-01T02:00:00Z"]


def test_job_error_is_recorded_and_the_scheduler_keeps_running(
    make_kernel: MakeKernel, hosts: Callable[..., SchedulerHost]
) -> None:
    calls = Calls()
    kernel = make_kernel(plugins=[jobs_plugin("jobsa", calls)], enabled=["jobsa"])
    host = hosts(kernel)
    assert host.start()
    sched = host.scheduler
    assert sched is not None
    events: queue.Queue[JobExecutionEvent] = queue.Queue()
    sched.add_listener(events.put, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    assert host.run_now("jobsa.boom")
    ev = next_event(events, "jobsa.boom")
    assert (ev.job_id, ev.code) == ("jobsa.boom", EVENT_JOB_EXECUTED)
    [boom] = job_runs(kernel, "jobsa.boom")
    assert boom.status == "failed"
    assert boom.error == "ValueError: kaput"
    assert boom.finished_at is not None
    assert boom.fire_key == fire_key_for(ev.scheduled_run_time)

    # still scheduling: the next job runs, with its scheduled time as the fire key
    scheduled = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    sched.modify_job("jobsa.tick", next_run_time=scheduled)
    sched.wakeup()
    ev = next_event(events, "jobsa.tick")
    assert (ev.job_id, ev.code) == ("jobsa.tick", EVENT_JOB_EXECUTED)
    assert sched.running and host.is_active
    assert calls.fire_keys == [fire_key_for(scheduled)]
    [tick] = job_runs(kernel, "jobsa.tick")
    assert (tick.fire_key, tick.status, tick.error) == (fire_key_for(scheduled), "done", None)
    assert not host.run_now("jobsa.nope")


def test_run_worker_runs_until_sigterm(make_kernel: MakeKernel) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers need the main thread")
    kernel, probe_kernel = make_kernel(), make_kernel()
    probe = SchedulerLock(probe_kernel)
    errors: list[BaseException] = []
    done = threading.Event()

    def send_sigterm_once_active() -> None:
        try:
            while not done.wait(0.02):
                if not probe.acquire():  # the worker holds the lock: its handlers are set
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                probe.release()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    killer = threading.Thread(target=send_sigterm_once_active)
    killer.start()
    try:
        assert run_worker(kernel, retry_seconds=0.05) == 0
    finally:
        done.set()
        killer.join()
    assert not errors
    assert probe.acquire()  # released on the way out
    probe.release()


def test_a_fire_missed_during_takeover_runs_once(
    make_kernel: MakeKernel, hosts: Callable[..., SchedulerHost]
) -> None:
    """A new active host fires the latest time still within grace; if the previous host already
    ran it, the JobRun row turns the second fire into a no-op."""
    calls = Calls()
    plugin = jobs_plugin("jobsa", calls, grace=YEAR_SECONDS)
    k1 = make_kernel(plugins=[plugin], enabled=["jobsa"])
    k2 = make_kernel(plugins=[plugin])
    # cron runs in the deployment's time zone: New Year in Shanghai is 16:00 UTC the day before
    sh = ZoneInfo("Asia/Shanghai")
    this_year = fire_key_for(datetime(datetime.now(sh).year, 1, 1, tzinfo=sh))

    def fired_by(host: SchedulerHost) -> None:
        """Wait until ``host`` has submitted its catch-up fire of ``jobsa.tick``, then stop it
        (stopping waits for the run to finish)."""
        assert host.start()
        sched = host.scheduler
        assert sched is not None
        deadline = time.monotonic() + WAIT
        while sched.get_job("jobsa.tick").next_run_time <= datetime.now(UTC):
            assert time.monotonic() < deadline, "the catch-up fire was never submitted"
            time.sleep(0.01)
        host.stop()

    fired_by(hosts(k1, owner="first"))
    fired_by(hosts(k2, owner="second"))
    assert calls.fire_keys == [this_year]
    runs = job_runs(k1, "jobsa.tick")
    assert [(r.fire_key, r.owner, r.status) for r in runs] == [(this_year, "first", "done")]
