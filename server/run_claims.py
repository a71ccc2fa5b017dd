"""Exactly once across server processes: who runs a firing of a scheduled script.

Every process of a pool has the same schedules, so every process's scheduler fires at the
same minute. Before running, each asks ``claim(run)`` for the firing's ``RunKey`` (bot,
script, scheduled minute):

* ``CLAIMED`` — this process won: run the script, then ``release(run, status, error)``;
* ``TAKEN`` — another process won this firing: do nothing;
* ``BUSY`` — this process won the firing, but a previous run of the same script is still
  in progress (in any process): the firing is skipped (recorded and logged once).

Two implementations:

* ``DatabaseClaims`` — the unique key of table ``schedule_runs`` decides (PostgreSQL
  shared by the pool, or the SQLite file shared by processes on one machine);
* ``RedisClaims`` (when ``REDIS_URL`` is set) — ``SET key NX EX`` decides, and a
  ``running`` key with an expiry marks a run in progress; runs are still recorded in
  the database for ``/metrics``, logs and the admin API.

A run that does not finish (its process died) stops counting as "in progress" after
``stale_after`` seconds, so one crash never blocks a schedule for good.
"""
from __future__ import annotations

import logging
import os
from typing import Optional

from .system_tables import RUNNING, SKIPPED, RunKey

log = logging.getLogger("botbasic.scheduler")

CLAIMED, TAKEN, BUSY = "claimed", "taken", "busy"
BUSY_ERROR = "previous run still in progress"
FIRING_TTL_S = 3600  # a firing key only has to outlive the clock skew between processes

# Delete the running marker only if it is still ours (it may have expired and been
# taken by a later run meanwhile).
_RELEASE_IF_OWNER = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class DatabaseClaims:
    """Claims decided by the unique key of ``schedule_runs`` (see module doc)."""

    backend = "database"

    def __init__(self, tables, owner: str, stale_after: float):
        self.tables = tables
        self.owner = owner
        self.stale_after = stale_after

    async def claim(self, run: RunKey) -> str:
        if not await self.tables.insert_run(run, self.owner, RUNNING):
            return TAKEN
        if await self.tables.other_run_active(run, self.stale_after):
            await self.tables.finish_run(run, SKIPPED, BUSY_ERROR)
            return BUSY
        return CLAIMED

    async def release(self, run: RunKey, status: str, error: Optional[str] = None) -> None:
        await self.tables.finish_run(run, status, error)

    async def close(self) -> None:
        pass


class RedisClaims:
    """Claims decided by Redis ``SET NX EX`` (see module doc)."""

    backend = "redis"

    def __init__(self, client, tables, owner: str, stale_after: float, prefix: str = "botbasic"):
        self.client = client
        self.tables = tables
        self.owner = owner
        self.stale_after = stale_after
        self.prefix = prefix

    @classmethod
    async def connect(cls, url: str, tables, owner: str, stale_after: float,
                      prefix: str = "botbasic") -> "RedisClaims":
        """Connect and check the server answers (a wrong REDIS_URL stops the start)."""
        import redis.asyncio as redis  # only servers configured for Redis need it

        client = redis.from_url(url)
        try:
            await client.ping()
        except Exception:
            await client.aclose()
            raise
        return cls(client, tables, owner, stale_after, prefix)

    def _firing_key(self, run: RunKey) -> str:
        return f"{self.prefix}:schedule:fired:{run.bot}:{run.script}:{run.fire_time}"

    def _running_key(self, run: RunKey) -> str:
        return f"{self.prefix}:schedule:running:{run.bot}:{run.script}"

    def _token(self, run: RunKey) -> str:
        return f"{self.owner}@{run.fire_time}"

    async def claim(self, run: RunKey) -> str:
        if not await self.client.set(self._firing_key(run), self.owner, nx=True, ex=FIRING_TTL_S):
            return TAKEN
        marked = await self.client.set(self._running_key(run), self._token(run), nx=True,
                                       ex=max(1, int(self.stale_after)))
        if not marked:
            await self.tables.insert_run(run, self.owner, SKIPPED)
            await self.tables.finish_run(run, SKIPPED, BUSY_ERROR)
            return BUSY
        await self.tables.insert_run(run, self.owner, RUNNING)
        return CLAIMED

    async def release(self, run: RunKey, status: str, error: Optional[str] = None) -> None:
        try:
            await self.tables.finish_run(run, status, error)
        finally:
            await self.client.eval(_RELEASE_IF_OWNER, 1, self._running_key(run), self._token(run))

    async def close(self) -> None:
        await self.client.aclose()


async def open_claims(tables, owner: str, stale_after: float, env=os.environ):
    """``RedisClaims`` when ``REDIS_URL`` is set, else ``DatabaseClaims``.

    ``BOTBASIC_REDIS_PREFIX`` (default ``botbasic``) starts every key, so several
    deployments (or test runs) can share one Redis."""
    url = env.get("REDIS_URL")
    if not url:
        return DatabaseClaims(tables, owner, stale_after)
    prefix = env.get("BOTBASIC_REDIS_PREFIX") or "botbasic"
    claims = await RedisClaims.connect(url, tables, owner, stale_after, prefix)
    log.info("scheduled runs are claimed in Redis (exactly once across processes)")
    return claims

