"""The figures an operator scrapes from `/metrics`: one `Metrics` per app, no global registry.

Each `App` owns a `Metrics` (passed to the dispatcher, the job runner and the delivery
worker through `Services`), with its own `prometheus_client.CollectorRegistry`, so tests and
several apps in one process never collide. Counters and histograms are recorded as things
happen; the outbox depth, its oldest undelivered message's age and the job counts are
gauges read by one cheap query each when `/metrics` is scraped (`Metrics.refresh`).

Labels are kinds and results only: never a member, a channel, a message or reflection text,
and never which option an anonymous ballot chose.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from storage.db import Database, is_memory_sqlite
from storage.models import Job, OutboxMessage

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST

#: Undelivered outbox rows (the depth gauge counts these).
UNDELIVERED = ("pending", "sending")

# Interactions must be answered within 3 seconds on both platforms: buckets around that.
INTERACTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
# Job lag (due -> claimed): the runner wakes on time, polls every 30 s, retries in minutes.
LAG_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)


class Metrics:
    """The app's metric objects and the methods that record into them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events = Counter(
            "circlebot_events_handled",
            "Platform events handled, by event kind and result.",
            ["kind", "result"],
            registry=r,
        )
        self.interaction_seconds = Histogram(
            "circlebot_interaction_seconds",
            "Time from an event reaching the core to its reply, by event kind.",
            ["kind"],
            buckets=INTERACTION_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "circlebot_deliveries",
            "Outbox delivery attempts, by platform and result (sent, retry, rate_limited, failed).",
            ["platform", "result"],
            registry=r,
        )
        self.rate_limited = Counter(
            "circlebot_rate_limited",
            "Rate-limit answers (HTTP 429) the adapters received, by platform.",
            ["platform"],
            registry=r,
        )
        self.jobs = Counter(
            "circlebot_jobs_run",
            "Jobs run, by result (ok, retry, failed).",
            ["result"],
            registry=r,
        )
        self.job_lag = Histogram(
            "circlebot_job_lag_seconds",
            "Seconds from a job's due time to its claim by a runner.",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.outbox_depth = Gauge(
            "circlebot_outbox_depth",
            "Outbox messages not yet delivered (pending or being sent).",
            registry=r,
        )
        self.outbox_oldest = Gauge(
            "circlebot_outbox_oldest_age_seconds",
            "Age of the oldest undelivered outbox message (0 when there is none).",
            registry=r,
        )
        self.jobs_waiting = Gauge(
            "circlebot_jobs_waiting",
            "Jobs in the job table, by status (pending, running, failed).",
            ["status"],
            registry=r,
        )

    # -- recording -------------------------------------------------------------------------

    def event_handled(self, kind: str, result: str, started: float) -> None:
        """One event answered; `started` is its `time.monotonic()` on arrival in the core."""
        self.events.labels(kind=kind, result=result).inc()
        self.interaction_seconds.labels(kind=kind).observe(max(0.0, time.monotonic() - started))

    def delivered(self, platform: str, result: str) -> None:
        self.deliveries.labels(platform=platform, result=result).inc()

    def rate_limit(self, platform: str) -> None:
        self.rate_limited.labels(platform=platform).inc()

    def job_claimed(self, due_at: datetime, claimed_at: datetime) -> None:
        self.job_lag.observe(max(0.0, (claimed_at - due_at).total_seconds()))

    def job_done(self, result: str) -> None:
        self.jobs.labels(result=result).inc()

    # -- scraping --------------------------------------------------------------------------

    async def refresh(self, db: Database, now: datetime) -> None:
        """Set the gauges read from the database (two small aggregate queries)."""
        async with reading(db) as conn:
            depth, oldest = (
                await conn.execute(
                    select(func.count(), func.min(col(OutboxMessage.created_at))).where(
                        col(OutboxMessage.status).in_(UNDELIVERED)
                    )
                )
            ).one()
            by_status = (
                await conn.execute(select(col(Job.status), func.count()).group_by(col(Job.status)))
            ).all()
        self.outbox_depth.set(int(depth))
        self.outbox_oldest.set(_age(now, oldest))
        counts = {str(getattr(status, "value", status)): int(n) for status, n in by_status}
        for status in ("pending", "running", "failed"):
            self.jobs_waiting.labels(status=status).set(counts.get(status, 0))

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


def _age(now: datetime, then: datetime | None) -> float:
    """Seconds from `then` to `now` (0 for none); a naive `then` is UTC, as stored."""
    if then is None:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return max(0.0, (now - then).total_seconds())


@asynccontextmanager
async def reading(db: Database) -> AsyncIterator[AsyncConnection | AsyncSession]:
    """A connection for a short read outside the app's transactions (/healthz, /metrics).

    A pooled connection of its own, so a scrape never waits behind SQLite's one writer; but
    in-memory SQLite has a single shared connection, so there it takes its turn as a session.
    """
    if is_memory_sqlite(db.url):
        async with db.session() as session:
            yield session
        return
    async with db.engine.connect() as conn:
        yield conn
