"""Due jobs run several to a transaction in production, and one failing job costs the others nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from bot import job_groups
from bot.app import App, Limits
from bot.context import Context
from bot.events import ConversationRef
from bot.jobs import BACKOFF
from bot.ui import Message
from storage.models import Job, JobStatus, OutboxMessage
from tests.support import RecordingAdapter, schedule_job

LIMITS = Limits(interactions=2, jobs=3, delivery=1, job_group=8)


def _production(db, clock) -> App:  # type: ignore[no-untyped-def]
    """The production runner (grouping on), driven by hand: `run_due` without its timer."""
    return App(db, clock, [RecordingAdapter()], limits=LIMITS)


async def _keys(db) -> list[str]:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return sorted((await session.execute(select(OutboxMessage.key))).scalars())


async def _run_counting_commits(db, app: App, jobs: int) -> int:  # type: ignore[no-untyped-def]
    commits = 0

    def count(_conn) -> None:  # type: ignore[no-untyped-def]
        nonlocal commits
        commits += 1

    event.listen(db.engine.sync_engine, "commit", count)
    try:
        assert await app.jobs.run_due() == jobs
    finally:
        event.remove(db.engine.sync_engine, "commit", count)
    return commits


@pytest.mark.parametrize("budget", [60.0, 0.0])
async def test_jobs_share_transactions_and_each_queues_its_message_once(
    db, clock, monkeypatch, budget: float
) -> None:
    """Eight jobs a group, in one transaction while it runs within its budget (a group of
    eight takes far less than a minute, even on a loaded machine); with the budget spent
    (0) a new transaction starts after each job, and every job still runs once."""
    monkeypatch.setattr(job_groups, "BUDGET", budget)

    async def post(ctx: Context, n: int) -> None:
        await ctx.outbox.enqueue(
            key=f"post:{n}", to=ConversationRef("fake", "W1", "C1"), message=Message(text=str(n))
        )

    app = _production(db, clock)
    app.registry.jobs["test.post"] = post
    for n in range(40):
        await schedule_job(app, f"post:{n}", clock.now(), "test.post", [n])
    commits = await _run_counting_commits(db, app, 40)
    assert await _keys(db) == sorted(f"post:{n}" for n in range(40))
    async with db.session() as session:
        assert (await session.execute(select(func.count()).select_from(Job))).scalar_one() == 0
    if budget:  # 5 groups of 8 plus the claims: far fewer than one transaction a job
        assert commits <= 8, commits
    else:
        assert commits >= 40, commits


async def test_a_failing_job_rolls_back_its_group_and_the_others_run_alone_once(db, clock) -> None:
    calls: list[int] = []

    async def post(ctx: Context, n: int) -> None:
        calls.append(n)
        await ctx.outbox.enqueue(
            key=f"post:{n}", to=ConversationRef("fake", "W1", "C1"), message=Message(text=str(n))
        )
        assert ctx.job is not None
        if n == 5 and ctx.job.attempt == 1:
            raise ValueError("the first attempt of job 5 fails after queuing its message")

    app = _production(db, clock)
    app.registry.jobs["test.post"] = post
    for n in range(16):
        await schedule_job(app, f"post:{n}", clock.now(), "test.post", [n])
    assert await app.jobs.run_due() == 16
    # Job 5's group (0-7) rolled back, then each of its jobs ran alone: 5's message is not
    # queued, everyone else's is, once (the key is unique; the rows are counted below).
    assert await _keys(db) == sorted(f"post:{n}" for n in range(16) if n != 5)
    assert sorted(n for n in calls if n >= 8) == list(range(8, 16))  # their group: once each
    async with db.session() as session:
        left = list((await session.execute(select(Job))).scalars())
    assert [(j.id, j.status, j.attempts) for j in left] == [("post:5", JobStatus.PENDING, 1)]
    assert left[0].last_error == "ValueError"

    await app.advance(BACKOFF[0] + timedelta(seconds=1))
    assert await _keys(db) == sorted(f"post:{n}" for n in range(16))
    async with db.session() as session:
        assert (await session.execute(select(func.count()).select_from(Job))).scalar_one() == 0
