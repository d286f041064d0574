"""The operator's HTTP endpoint: `/healthz` and `/metrics`, in the bot's own event loop.

Opt-in (``OPS_HTTP_PORT``; host ``OPS_HTTP_HOST``, default 127.0.0.1, so it is not exposed by
accident). `/healthz` answers 200 when the database answers ``SELECT 1``, the job runner and
the outbox worker are running and their loops went round recently, and every adapter is
connected; otherwise 503, naming the parts that fail. `/metrics` is Prometheus' text format
from the app's own registry (`bot.metrics`), with the outbox and job gauges read at scrape
time. Neither says anything about members, messages or tokens.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy import text

from bot.jobs import failure_reason
from bot.metrics import CONTENT_TYPE, reading
from bot.ports import Monitored

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

#: How long the database may take to answer ``SELECT 1`` (and the gauges' queries).
DB_TIMEOUT = 2.0
#: A loop whose last round is older than this is stuck. The job runner goes round at least
#: every 30 s (its poll) and before every batch it claims; the outbox worker every second.
STALE_AFTER = {"jobs": 120.0, "outbox": 60.0}


@dataclass(frozen=True)
class Check:
    """One part of the health answer: its name, whether it is fine, and why not."""

    name: str
    ok: bool
    detail: str = ""


async def check_database(app: App) -> Check:
    try:
        async with asyncio.timeout(DB_TIMEOUT), reading(app.db) as conn:
            await conn.execute(text("SELECT 1"))
    except TimeoutError:
        return Check("database", False, f"no answer within {DB_TIMEOUT:.0f} s")
    except Exception as exc:
        # The type only: a driver's message can quote the URL it was given.
        return Check("database", False, f"SELECT 1 failed ({failure_reason(exc)})")
    return Check("database", True)


def check_loop(app: App, name: str, beat: float, stale_after: float) -> Check:
    task = app.loops.get(name)
    if task is None:
        return Check(name, False, "not started")
    if task.done():
        return Check(name, False, "stopped")
    age = time.monotonic() - beat
    if age > stale_after:
        return Check(name, False, f"no round for {age:.0f} s")
    return Check(name, True)


def check_adapters(app: App) -> list[Check]:
    checks = []
    for adapter in app.adapters:
        name = f"adapter:{adapter.platform}"
        if isinstance(adapter, Monitored) and not adapter.connected():
            checks.append(Check(name, False, "not connected"))
        else:
            checks.append(Check(name, True))
    return checks


async def health(app: App, stale_after: Mapping[str, float] = STALE_AFTER) -> list[Check]:
    """Every check, in a fixed order: database, jobs, outbox, then each adapter."""
    return [
        await check_database(app),
        check_loop(app, "jobs", app.jobs.beat, stale_after["jobs"]),
        check_loop(app, "outbox", app.worker.beat, stale_after["outbox"]),
        *check_adapters(app),
    ]


class OpsServer:
    """`/healthz` and `/metrics` for one app on `host`:`port` (0: a free port, see `port`)."""

    def __init__(
        self,
        app: App,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        stale_after: Mapping[str, float] = STALE_AFTER,
    ) -> None:
        self.app = app
        self.stale_after = stale_after
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        web_app = web.Application()
        web_app.router.add_get("/healthz", self._healthz)
        web_app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("ops: /healthz and /metrics on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        checks = await health(self.app, self.stale_after)
        failing = [c.name for c in checks if not c.ok]
        body = {
            "status": "failing" if failing else "ok",
            "failing": failing,
            "checks": {
                c.name: {"ok": c.ok, **({"detail": c.detail} if c.detail else {})} for c in checks
            },
        }
        if failing:
            log.warning("healthz: failing %s", ", ".join(failing))
        return web.Response(
            status=503 if failing else 200,
            text=json.dumps(body),
            content_type="application/json",
        )

    async def _metrics(self, _request: web.Request) -> web.Response:
        metrics = self.app.metrics
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                await metrics.refresh(self.app.db, self.app.clock.now())
        except Exception as exc:
            # The counters still tell something; the gauges keep their last values.
            log.warning("metrics: the database gauges were not read (%s)", failure_reason(exc))
        return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})
