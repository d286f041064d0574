"""The meetings reconciler after start: repairs series whose jobs are missing, leaves the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select

from bot.app import App
from bot.events import Actor, CommandInvoked, ConversationRef, Place, Respond, UserRef
from bot.ports import FakeClock
from storage.db import Database
from storage.models import Job
from tests.support import RecordingAdapter

NOW = datetime(2026, 12, 2, 14, tzinfo=UTC)
SCHEDULES = (
    ("America/Chicago", "monthly on the first Tuesday at 18:30"),
    ("America/New_York", "every 2 weeks on Monday at 15:30"),
    ("America/Denver", "monthly on the last Thursday at 16:00"),
)


async def _jobs(db: Database) -> dict[str, tuple[int | None, str, str, datetime, int]]:
    async with db.session() as s:
        rows = (await s.execute(select(Job))).scalars()
        return {j.id: (j.community_id, j.kind, j.args, j.due_at, j.version) for j in rows}


async def _communities(app: App) -> None:
    """Three communities, each with a series, set up through the commands."""
    for n, (zone, schedule) in enumerate(SCHEDULES):
        conv = ConversationRef("fake", "W1", f"C{n}")
        admin = Actor(UserRef("fake", "W1", f"U{n}"), f"admin{n}", is_admin=True)
        for path, params in (
            (("setup",), {"name": f"CoP {n}", "timezone": zone}),
            (("meeting", "series"), {"schedule": schedule, "title": "Monthly CoP"}),
        ):
            reply = await app.dispatcher.handle(
                CommandInvoked(admin, Place(conv, "c"), path, params)
            )
            assert isinstance(reply, Respond), reply


async def test_reconcile_restores_exactly_the_jobs_the_commands_wrote(db: Database) -> None:
    app = App(db, FakeClock(NOW), [RecordingAdapter()], manual=True)
    await app.start(migrate=False)
    await _communities(app)
    written = await _jobs(db)
    assert sum(1 for j in written if j.startswith("meeting-ahead:")) == len(SCHEDULES)
    async with db.session() as s:  # as after an upgrade from a release without the job table
        await s.execute(delete(Job))

    await app.reconcile()

    assert await _jobs(db) == written
    await app.stop()


async def test_reconcile_re_plans_only_the_series_whose_top_up_job_is_missing(
    db: Database,
) -> None:
    app = App(db, FakeClock(NOW), [RecordingAdapter()], manual=True)
    await app.start(migrate=False)
    await _communities(app)
    written = await _jobs(db)
    broken = sorted(j for j in written if j.startswith("meeting-ahead:"))[1]
    community = written[broken][0]
    async with db.session() as s:
        await s.execute(delete(Job).where(Job.id == broken))

    await app.reconcile()

    after = await _jobs(db)
    assert set(after) == set(written)
    assert after[broken] == written[broken]  # written anew, as the command wrote it
    # Re-planning rewrites a series' other jobs (their version goes up); nothing else moved,
    # not even the community's digest jobs (the digest feature's, already in place).
    rewritten = {j for j in after if after[j][4] != written[j][4]}
    assert rewritten == {
        j
        for j, v in written.items()
        if v[0] == community and j != broken and not j.startswith("digest")
    }
    assert any(j.startswith("digest:") for j, v in written.items() if v[0] == community)
    await app.stop()
