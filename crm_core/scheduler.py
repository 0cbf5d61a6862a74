"""The scheduler host: one active APScheduler 3 per deployment, every fire done at most once.

Every process that may run jobs (``crm serve`` on one machine, or the ``crm worker`` processes)
creates a :class:`SchedulerHost`. Only the host that holds the :class:`~crm_core.locks.SchedulerLock`
runs a ``BackgroundScheduler``; the others stand by and retry the lock every few seconds, so a
standby takes over when the active process stops or dies.

Each fire of a job goes through :func:`run_job`, which inserts a ``JobRun(job_id, fire_key)`` row
first: the unique key makes a fire that was already done (a takeover, a duplicated fire) a no-op.
``fire_key`` is the scheduled run time in UTC (``2024-05-01T02:00:00Z``). Interval triggers are
anchored to a fixed start date, so every host computes the same fire times and therefore the same
keys. Cron triggers run in the deployment's time zone (``default_timezone``) unless the job's
``trigger_args`` name a ``timezone``. A job with
``jitter`` gets per-host fire keys and loses this guarantee.

When a host becomes active it also fires, once, each job's latest scheduled time that is still
within the job's ``misfire_grace_time`` (a fire due while no scheduler ran, during a takeover or a
restart); if the previous scheduler already ran it, its ``JobRun`` row makes this a no-op.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from apscheduler.executors.base import run_job as _aps_run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from crm_core.asyncutil import resolve
from crm_core.db import utcnow
from crm_core.declarations import JobDecl
from crm_core.locks import SchedulerLock
from crm_core.models import JobRun

if TYPE_CHECKING:
    from concurrent.futures import Future

    from crm_core.kernel import Kernel

log = logging.getLogger("crm.scheduler")

#: Interval triggers count from here, so all hosts agree on the fire times of a job.
INTERVAL_ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)
DEFAULT_RETRY_SECONDS = 5.0

JobOutcome = Literal["done", "failed", "duplicate", "disabled", "unknown"]


def default_owner() -> str:
    """``host:pid`` of this process, recorded on the ``JobRun`` rows it creates."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def fire_key_for(run_time: datetime) -> str:
    """The fire key of a scheduled run time: UTC ISO 8601, whole seconds unless the time has
    a fraction (an off-grid manual fire), e.g. ``2024-05-01T02:00:00Z``."""
    if run_time.tzinfo is not None:
        run_time = run_time.astimezone(UTC).replace(tzinfo=None)
    spec = "seconds" if run_time.microsecond == 0 else "microseconds"
    return run_time.isoformat(timespec=spec) + "Z"


def make_trigger(decl: JobDecl, tz: str | None = None) -> BaseTrigger:
    """The APScheduler trigger for a job declaration: ``interval`` anchored so every host
    computes the same fire times; ``cron`` in ``tz`` (the deployment's time zone, so "02:00"
    means 02:00 where the company is) unless the job's ``trigger_args`` name a ``timezone``."""
    args: dict[str, Any] = dict(decl.trigger_args)
    if decl.trigger == "cron":
        args.setdefault("timezone", ZoneInfo(tz) if tz else UTC)
    else:
        args.setdefault("timezone", UTC)
    if decl.trigger == "interval":
        args.setdefault("start_date", INTERVAL_ANCHOR)
        return IntervalTrigger(**args)
    if decl.trigger == "cron":
        return CronTrigger(**args)
    raise ValueError(f"job {decl.id}: unknown trigger {decl.trigger!r} (use 'interval' or 'cron')")


def last_fire_time(trigger: BaseTrigger, since: datetime, now: datetime) -> datetime | None:
    """The latest fire time of ``trigger`` in ``[since, now]``, or ``None``."""
    last: datetime | None = None
    t = trigger.get_next_fire_time(None, since)
    for _ in range(10_000):
        if t is None or t > now:
            break
        last = t
        t = trigger.get_next_fire_time(None, t + timedelta(microseconds=1))
    return last


# -- running one fire ----------------------------------------------------------------------------
def run_job(kernel: Kernel, job_id: str, fire_key: str, *, owner: str = "") -> JobOutcome:
    """Run one fire of a job at most once across every process sharing the database.

    * ``"unknown"``: no such job is declared; ``"disabled"``: its plugin is not enabled now
      (nothing recorded, so the fire can still run if the plugin is enabled in time);
    * ``"duplicate"``: a ``JobRun`` with this ``(job_id, fire_key)`` exists, the fire was already
      taken (possibly by another process) and the function is not called;
    * ``"done"`` / ``"failed"``: the function ran; a failure's error is stored on the ``JobRun``
      row and logged, never raised, so one bad job cannot disturb the scheduler.

    A process that dies mid-run leaves its row ``running``; that fire is not retried.
    """
    entry = kernel.jobs.get(job_id)
    if entry is None:
        log.warning("job %s is not declared by any loaded plugin", job_id)
        return "unknown"
    decl, plugin = entry
    if not kernel.host.is_enabled(plugin):
        log.debug("job %s skipped: plugin %s is not enabled", job_id, plugin)
        return "disabled"
    try:
        with kernel.new_session(write=True) as s, s.begin():
            run = JobRun(job_id=job_id, fire_key=fire_key, owner=owner[:120])
            s.add(run)
    except IntegrityError:
        log.debug("job %s fire %s already taken", job_id, fire_key)
        return "duplicate"
    outcome: JobOutcome = "done"
    error: str | None = None
    try:
        resolve(decl.func(kernel, fire_key))
    except Exception as exc:
        log.exception("job %s (fire %s) failed", job_id, fire_key)
        outcome, error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
    try:
        with kernel.new_session(write=True) as s, s.begin():
            s.execute(update(JobRun).where(col(JobRun.id) == run.id)
                      .values(status=outcome, error=error, finished_at=utcnow()))
    except Exception:
        log.exception("could not record the end of job %s (fire %s)", job_id, fire_key)
    return outcome


# -- APScheduler glue ------------------------------------------------------------------------------
_fire = threading.local()


def _run_with_fire_time(
    job: Job, jobstore_alias: str, run_times: list[datetime], logger_name: str
) -> list[Any]:
    """APScheduler's ``run_job`` one run time at a time, telling the job which time it runs."""
    events: list[Any] = []
    for run_time in run_times:
        _fire.run_time = run_time
        try:
            events.extend(_aps_run_job(job, jobstore_alias, [run_time], logger_name))
        finally:
            _fire.run_time = None
    return events


class _FireTimeExecutor(ThreadPoolExecutor):
    """A thread-pool executor whose jobs can read their scheduled run time (:func:`_current_fire_key`)."""

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def done(f: Future[list[Any]]) -> None:
            exc = f.exception()
            if exc is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, f.result())

        f = self._pool.submit(
            _run_with_fire_time, job, job._jobstore_alias, run_times, self._logger.name
        )
        f.add_done_callback(done)


def _current_fire_key() -> str:
    run_time: datetime | None = getattr(_fire, "run_time", None)
    if run_time is None:  # called outside the executor: the current second
        run_time = utcnow().replace(microsecond=0)
    return fire_key_for(run_time)


# -- the host ---------------------------------------------------------------------------------------
class SchedulerHost:
    """Runs the deployment's scheduler if this process holds the lock, else stands by.

    ``retry_seconds``: how often a standby retries the lock and an active host checks it still
    holds it (``None``: no background thread; call :meth:`poll` yourself).
    """

    def __init__(
        self,
        kernel: Kernel,
        *,
        retry_seconds: float | None = DEFAULT_RETRY_SECONDS,
        max_workers: int = 4,
        owner: str | None = None,
    ) -> None:
        self.kernel = kernel
        self.retry_seconds = retry_seconds
        self.max_workers = max_workers
        self.owner = owner or default_owner()
        self.lock = SchedulerLock(kernel)
        self._scheduler: BackgroundScheduler | None = None
        self._mu = threading.RLock()
        self._stopping = threading.Event()
        self._active = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = False

    # -- state -------------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        """Whether this host currently runs the scheduler."""
        return self._scheduler is not None

    @property
    def scheduler(self) -> BackgroundScheduler | None:
        """The running APScheduler instance while active, else ``None``."""
        return self._scheduler

    def wait_active(self, timeout: float | None = None) -> bool:
        """Block until this host is active (or ``timeout`` seconds pass); returns ``is_active``."""
        return self._active.wait(timeout)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> bool:
        """Try the lock once; run the scheduler if it is ours, else stand by (an error, such as
        an unreachable database, is logged and the host stands by). Returns ``is_active``.
        Calling it again while started does nothing."""
        with self._mu:
            if self._running:
                return self.is_active
            self._running = True
            self._stopping.clear()
            try:
                self._try_activate()
            except Exception:  # e.g. the database is unreachable: stand by and retry
                log.exception("could not start the scheduler; standing by")
            if self.retry_seconds:
                self._thread = threading.Thread(
                    target=self._monitor, name="crm-scheduler-monitor", daemon=True
                )
                self._thread.start()
            return self.is_active

    def poll(self) -> bool:
        """One monitor step: a standby tries the lock, an active host checks it still holds it.
        Returns ``is_active``."""
        with self._mu:
            if not self._running:
                return False
            if self._scheduler is None:
                self._try_activate()
            elif not self.lock.check():
                log.error("scheduler lock lost; this process stops scheduling")
                self._deactivate()
            return self.is_active

    def stop(self) -> None:
        """Stop scheduling (waiting for running jobs) and release the lock. Idempotent."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        with self._mu:
            self._running = False
            self._deactivate()

    def run_now(self, job_id: str) -> bool:
        """Fire a job as soon as possible (its fire key is the current time). ``False`` if this
        host is not active or has no such job."""
        with self._mu:
            sched = self._scheduler
            if sched is None or sched.get_job(job_id) is None:
                return False
            sched.modify_job(job_id, next_run_time=datetime.now(UTC))
            sched.wakeup()
            return True

    # -- internals ---------------------------------------------------------------------------
    def _monitor(self) -> None:
        assert self.retry_seconds
        while not self._stopping.wait(self.retry_seconds):
            try:
                self.poll()
            except Exception:
                log.exception("scheduler monitor step failed; retrying")

    def _try_activate(self) -> None:
        if not self.lock.acquire():
            log.debug("scheduler lock is held elsewhere; standing by")
            return
        try:
            sched = BackgroundScheduler(
                timezone=UTC,
                executors={"default": _FireTimeExecutor(
                    self.max_workers, pool_kwargs={"thread_name_prefix": "crm-job"})},
            )
            now = datetime.now(UTC)
            for job_id, (decl, plugin) in sorted(self.kernel.jobs.items()):
                try:
                    trigger = make_trigger(decl, self.kernel.settings.default_timezone)
                except Exception:
                    log.exception("job %s of plugin %s has an invalid trigger; not scheduled",
                                  job_id, plugin)
                    continue
                extra: dict[str, Any] = {}
                # Catch up the latest fire still within its grace time: it may have been due
                # while no scheduler ran (a takeover, a restart). JobRun makes it a no-op if
                # the previous scheduler did run it.
                grace = timedelta(seconds=decl.misfire_grace_time or 0)
                missed = last_fire_time(trigger, now - grace, now) if grace else None
                if missed is not None:
                    extra["next_run_time"] = missed
                sched.add_job(
                    self._fire, trigger=trigger, args=[job_id], id=job_id, name=job_id,
                    misfire_grace_time=decl.misfire_grace_time, coalesce=True,
                    max_instances=1, replace_existing=True, **extra,
                )
            sched.start()
        except BaseException:
            self.lock.release()
            raise
        self._scheduler = sched
        self._active.set()
        log.info("scheduler active in %s with %d job(s)", self.owner, len(sched.get_jobs()))

    def _deactivate(self) -> None:
        sched, self._scheduler = self._scheduler, None
        self._active.clear()
        try:
            if sched is not None:
                sched.shutdown(wait=True)
                log.info("scheduler stopped in %s", self.owner)
        finally:
            self.lock.release()

    def _fire(self, job_id: str) -> None:
        run_job(self.kernel, job_id, _current_fire_key(), owner=self.owner)


# -- the ``crm worker`` command -----------------------------------------------------------------------
def run_worker(
    kernel: Kernel,
    *,
    stop_event: threading.Event | None = None,
    retry_seconds: float | None = DEFAULT_RETRY_SECONDS,
) -> int:
    """Body of ``crm worker``: start the kernel and a :class:`SchedulerHost`, block until SIGINT or
    SIGTERM (or ``stop_event``), then stop the host and shut the kernel down. Returns the exit
    code. Signal handlers are installed only when called from the main thread."""
    stop = stop_event or threading.Event()
    previous: dict[signal.Signals, Any] = {}

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("worker got signal %s; stopping", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    host = SchedulerHost(kernel, retry_seconds=retry_seconds)
    try:
        kernel.startup()
        if not host.start():
            log.info("another process runs the scheduler; standing by")
        while not stop.wait(1.0):
            pass
    finally:
        host.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        kernel.shutdown()
    return 0
