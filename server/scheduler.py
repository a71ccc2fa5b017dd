"""Scheduled scripts: ``SET SCHEDULE`` declarations as APScheduler jobs (DIALECT §9.10.1).

Each distinct normalised cron expression of each script (``ScriptInfo.schedules``) is one
job of an ``AsyncIOScheduler``, with a ``CronTrigger`` in the bot's time zone (config
``timezone``, e.g. ``America/Sao_Paulo``; default the server's local zone). The jobs
follow the bots: ``ScheduleManager`` re-reads the declarations whenever the registry's
``version`` changes (hot reload, admin reload, packages added or removed) and adds,
replaces and removes jobs to match.

When a job fires, ``fire(bot, script, minute)`` runs the script's current program in
system context (``system_runs.py``), at most once per scheduled minute across every
server process sharing the database or Redis (``run_claims.py``), and never while a
previous run of the same script is still in progress (that firing is skipped and
logged). Each run is recorded in ``schedule_runs`` (started, finished, status, error),
counted in ``/metrics`` and logged. ``fire`` is also the trigger hook for tests and for
the admin "run now" endpoint (``jobs.py``): give it the minute to run as.

Cron semantics are standard cron's, not APScheduler's: day-of-week 0 is Sunday (given
to APScheduler as names, since it numbers Monday 0), and when both day-of-month and
day-of-week are restricted a day matching either one fires.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Callable, Optional, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from tzlocal import get_localzone

from ..runtime.limits import DEFAULT_LIMITS
from ..runtime.scripts import script_key
from ..runtime.values import to_json
from .run_claims import BUSY, TAKEN
from .system_runs import run_system_script
from .system_tables import ERROR, OK, RunKey

log = logging.getLogger("botbasic.scheduler")

RAN, MISSING = "ran", "missing"
# A run that lasts longer than the VM allows (plus a margin) is dead, not in progress.
STALE_AFTER_S = DEFAULT_LIMITS.max_seconds + 60
RUNS_KEPT_S = 7 * 24 * 3600
_PRUNE_EVERY_S = 3600
# coalesce: a late scheduler runs a missed firing once; misfire_grace_time keeps a late
# firing inside its own minute, so the minute it is run as is the one it was due.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

FireTime = Union[datetime, str, None]


# ---------------------------------------------------------------- cron -> trigger


def cron_trigger(cron: str, tz: tzinfo) -> BaseTrigger:
    """The APScheduler trigger of a normalised 5-field cron expression in zone ``tz``."""
    minute, hour, day, month, day_of_week = cron.split()
    weekdays = weekday_names(day_of_week)

    def trigger(day_field: str, weekday_field: str) -> CronTrigger:
        return CronTrigger(minute=minute, hour=hour, day=day_field, month=month,
                           day_of_week=weekday_field, timezone=tz)

    if _restricted(day) and _restricted(day_of_week):
        return OrTrigger([trigger(day, "*"), trigger("*", weekdays)])
    return trigger(day, weekdays)


def _restricted(field: str) -> bool:
    """Cron's rule: a field starting with ``*`` (``*``, ``*/2``) does not restrict days."""
    return not field.startswith("*")


def weekday_names(field: str) -> str:
    """A cron day-of-week field (0 or 7 = Sunday) as the day names APScheduler reads."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        base, _, step = item.partition("/")
        if base == "*":
            first, last = 0, 6
        else:
            low, _, high = base.partition("-")
            first = int(low)
            last = int(high) if high else (6 if step else first)
        days.update(day % 7 for day in range(first, last + 1, int(step or 1)))
    return ",".join(_DAY_NAMES[day] for day in sorted(days))


def bot_timezone(config) -> tzinfo:
    """The zone of config key ``timezone``; the server's local zone when it is not set or
    not a known zone name (logged)."""
    name = (config.get("timezone") if config is not None else None) or ""
    if name.strip():
        try:
            return ZoneInfo(name.strip())
        except (ZoneInfoNotFoundError, ValueError):
            log.error("unknown timezone %r in config.csv; using the server's local zone", name)
    return get_localzone()


def scheduled_minute(trigger: BaseTrigger, now: datetime) -> datetime:
    """The minute a job firing at ``now`` was due: the latest fire time of ``trigger`` at
    or before ``now`` (within the misfire grace), else ``now``'s own minute."""
    minute = now.replace(second=0, microsecond=0)
    for back in range(2):
        candidate = minute - timedelta(minutes=back)
        if trigger.get_next_fire_time(None, candidate) == candidate:
            return candidate
    return minute


def minute_text(moment: FireTime, clock: Callable[[], datetime]) -> str:
    """The run key of a firing: its minute in UTC, ``2025-01-31T09:00Z``. A naive datetime
    or ISO text without an offset is taken as UTC; None is the current minute."""
    if moment is None:
        moment = clock()
    elif isinstance(moment, str):
        moment = datetime.fromisoformat(moment.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- jobs


@dataclass(frozen=True)
class JobSpec:
    """One registered schedule: a cron expression of a script of a bot, in a zone."""

    bot: str
    script: str
    cron: str
    timezone: str

    @property
    def id(self) -> str:
        return f"{self.bot.lower()}/{self.script}/{self.cron}/{self.timezone}"


@dataclass
class FireReport:
    """What one firing did here: ``result`` is ``ran``, ``busy`` (skipped, a previous run
    is in progress), ``taken`` (another process runs it) or ``missing`` (no such script);
    ``status``/``error`` of a run."""

    bot: str
    script: str
    fire_time: str
    result: str
    status: Optional[str] = None
    error: Optional[str] = None
    talked: Optional[list] = None

    def as_dict(self) -> dict:
        return asdict(self)


def declared_jobs(bots) -> dict[str, tuple[JobSpec, tzinfo]]:
    """Every schedule the loaded bots declare, by job id (scripts with a program only)."""
    jobs: dict[str, tuple[JobSpec, tzinfo]] = {}
    for bot in bots.bots():
        zone = bot_timezone(getattr(bot, "config", None))
        for key, info in sorted(getattr(bot, "infos", {}).items()):
            if not info.schedules or bot.program(key) is None:
                continue
            for schedule in info.schedules:
                spec = JobSpec(bot.name, key, schedule.cron, str(zone))
                jobs[spec.id] = (spec, zone)
    return jobs


class ScheduleManager:
    """The scheduled jobs of every bot of the server (see module doc)."""

    def __init__(self, bots, runtimes, claims, tables, channels=None, metrics=None,
                 poll_interval: float = 0.5, clock: Callable[[], datetime] = _utc_now):
        self.bots = bots
        self.runtimes = runtimes
        self.claims = claims
        self.tables = tables
        self.channels = channels
        self.metrics = metrics  # job_metrics.JobMetrics, or None
        self.poll_interval = poll_interval
        self.clock = clock
        self._scheduler: Optional[AsyncIOScheduler] = None
        self._specs: dict[str, JobSpec] = {}
        self._triggers: dict[str, BaseTrigger] = {}
        self._seen_version: Optional[int] = None
        self._follower: Optional[asyncio.Task] = None
        self._runs: set[asyncio.Task] = set()
        self._last_prune = 0.0

    # ------------------------------------------------------------ life

    async def start(self) -> None:
        _quiet_apscheduler()
        self._scheduler = AsyncIOScheduler(job_defaults=JOB_DEFAULTS)
        self._scheduler.start()
        self.sync()
        self._follower = asyncio.create_task(self._follow_reloads())

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop firing; give runs in progress ``timeout`` seconds, then cancel them."""
        if self._follower is not None:
            self._follower.cancel()
            await asyncio.gather(self._follower, return_exceptions=True)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._runs:
            _, pending = await asyncio.wait(set(self._runs), timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _follow_reloads(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            if self.bots.version != self._seen_version:
                try:
                    self.sync()
                except Exception:  # one bad bot must not stop the schedules of the others
                    log.exception("cannot update the scheduled jobs")

    # ------------------------------------------------------------ registrations

    def sync(self) -> tuple[list[str], list[str]]:
        """Make the jobs match the bots' declarations; returns (added, removed) job ids."""
        self._seen_version = self.bots.version
        wanted = declared_jobs(self.bots)
        removed = [job_id for job_id in self._specs if job_id not in wanted]
        for job_id in removed:
            self._remove(job_id)
        added = [job_id for job_id in wanted if job_id not in self._specs]
        for job_id in added:
            self._add(*wanted[job_id])
        if self.metrics is not None:
            self.metrics.scheduled_jobs.set(len(self._specs))
        if added or removed:
            log.info("scheduled jobs: %d (+%d, -%d)", len(self._specs), len(added), len(removed))
        return added, removed

    def _add(self, spec: JobSpec, zone: tzinfo) -> None:
        try:
            trigger = cron_trigger(spec.cron, zone)
        except ValueError as exc:  # the front end validated it; be safe anyway
            log.error("bot %s: schedule %r of %s: %s", spec.bot, spec.cron, spec.script, exc)
            return
        self._scheduler.add_job(self._on_time, trigger, args=[spec.id], id=spec.id,
                                name=f"{spec.bot}/{spec.script}", replace_existing=True)
        self._specs[spec.id] = spec
        self._triggers[spec.id] = trigger
        log.info("scheduled %s at %r (%s)", spec.script, spec.cron, spec.timezone,
                 extra={"bot": spec.bot})

    def _remove(self, job_id: str) -> None:
        spec = self._specs.pop(job_id)
        self._triggers.pop(job_id, None)
        if self._scheduler is not None and self._scheduler.get_job(job_id) is not None:
            self._scheduler.remove_job(job_id)
        log.info("unscheduled %s at %r", spec.script, spec.cron, extra={"bot": spec.bot})

    def jobs(self, bot: Optional[str] = None) -> list[dict]:
        """The registered schedules (of ``bot``), with their next fire time (ISO)."""
        shown = []
        for job_id, spec in sorted(self._specs.items()):
            if bot is not None and spec.bot.lower() != bot.lower():
                continue
            job = self._scheduler.get_job(job_id) if self._scheduler else None
            following = job.next_run_time if job is not None else None
            shown.append({"bot": spec.bot, "script": spec.script, "cron": spec.cron,
                          "timezone": spec.timezone,
                          "next_run": following.isoformat() if following else None})
        return shown

    # ------------------------------------------------------------ firing

    async def _on_time(self, job_id: str) -> None:
        """The APScheduler job: run the firing in its own task and return at once, so a
        long run never holds the scheduler (overlaps are ours to detect and log)."""
        spec, trigger = self._specs.get(job_id), self._triggers.get(job_id)
        if spec is None or trigger is None:
            return
        minute = scheduled_minute(trigger, self.clock())
        task = asyncio.create_task(self.fire(spec.bot, spec.script, minute))
        self._runs.add(task)
        task.add_done_callback(self._runs.discard)

    async def fire(self, bot: str, script: str, fire_time: FireTime = None) -> FireReport:
        """Run ``script`` of ``bot`` as its firing of minute ``fire_time`` (None: now),
        once across processes (see module doc)."""
        runtime = self.runtimes.get(bot)
        key = script_key(script)
        minute = minute_text(fire_time, self.clock)
        program = runtime.program(key) if runtime is not None else None
        if program is None:
            log.warning("scheduled script %s is not available; firing of %s ignored", key,
                        minute, extra={"bot": bot})
            return self._report(FireReport(bot, key, minute, MISSING))
        run = RunKey(runtime.name, key, minute)
        claim = await self.claims.claim(run)
        if claim == TAKEN:
            log.debug("firing %s runs in another process", run, extra={"bot": runtime.name})
            return self._report(FireReport(runtime.name, key, minute, TAKEN))
        if claim == BUSY:
            log.warning("scheduled run of %s at %s skipped: the previous run is still in "
                        "progress", key, minute, extra={"bot": runtime.name})
            return self._report(FireReport(runtime.name, key, minute, BUSY))
        return self._report(await self._run(runtime, program, run))

    async def _run(self, runtime, program, run: RunKey) -> FireReport:
        if self.channels is not None:
            self.channels.install(runtime)
        log.info("scheduled run of %s at %s started", run.script, run.fire_time,
                 extra={"bot": runtime.name})
        started = time.monotonic()
        status, error, talked = ERROR, "the run was interrupted", None
        try:
            result = await run_system_script(runtime, self.bots.registry, program, "scheduled")
            talked = result.talked
            status, error = (ERROR, str(result.error)) if result.error else (OK, None)
            if result.outcome.value is not None:  # §7.6: a scheduled run's result is logged
                log.info("scheduled run of %s at %s returned %s", run.script, run.fire_time,
                         to_json(result.outcome.value), extra={"bot": runtime.name})
        finally:
            await self._finish(runtime.name, run, status, error, time.monotonic() - started)
        return FireReport(runtime.name, run.script, run.fire_time, RAN, status, error, talked)

    async def _finish(self, bot: str, run: RunKey, status: str, error: Optional[str],
                      seconds: float) -> None:
        """Record the end of a run (a failing database must not hide the run's result)."""
        level = logging.INFO if status == OK else logging.ERROR
        log.log(level, "scheduled run of %s at %s finished: %s in %.3f s%s", run.script,
                run.fire_time, status, seconds, f" ({error})" if error else "",
                extra={"bot": bot})
        if self.metrics is not None:
            self.metrics.scheduled_runs.inc(bot, status)
            self.metrics.scheduled_run_seconds.observe(seconds)
        try:
            await self.claims.release(run, status, error)
            await self._prune()
        except Exception:
            log.exception("cannot record the end of scheduled run %s", run, extra={"bot": bot})

    async def _prune(self) -> None:
        """Forget old runs, at most once an hour per process."""
        now = time.time()
        if now - self._last_prune >= _PRUNE_EVERY_S:
            self._last_prune = now
            await self.tables.prune_runs(now - RUNS_KEPT_S)

    def _report(self, report: FireReport) -> FireReport:
        if self.metrics is not None:
            self.metrics.schedule_firings.inc(report.bot, report.result)
        return report


def _quiet_apscheduler() -> None:
    """APScheduler logs every job it adds and runs at INFO; our own lines say more (bot,
    script, minute, status), so its routine lines are dropped unless someone configured
    its loggers explicitly."""
    for name in ("apscheduler.scheduler", "apscheduler.executors.default"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
