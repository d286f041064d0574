"""Meetings and series are numbered per community: the second community's first meeting is #1.

Migration 0008 numbers existing rows; new rows get the next number as they are created.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import command

from bot.features.meetings.core import materialise
from bot.i18n import Translator
from bot.ports import FakeClock
from storage.db import Database, alembic_config
from storage.meetings import Meeting, MeetingSeries
from storage.models import Community
from storage.types import UTCDateTime
from tests.support import transcript

T0 = datetime(2026, 11, 3, 18, 30, tzinfo=UTC)

_community = sa.table(
    "community",
    *(sa.column(c) for c in ("id", "platform", "workspace_id", "channel_id", "channel_name")),
    *(sa.column(c) for c in ("name", "timezone", "language", "created_by")),
    sa.column("created_at", UTCDateTime()),
)
_series = sa.table(
    "meeting_series",
    *(sa.column(c) for c in ("id", "community_id", "title", "schedule", "tz", "duration_minutes")),
    *(sa.column(c) for c in ("reminders", "dm_reminders", "sequence", "created_by")),
    sa.column("first_start", UTCDateTime()),
    sa.column("created_at", UTCDateTime()),
)
_meeting = sa.table(
    "meeting",
    *(sa.column(c) for c in ("id", "community_id", "series_id", "duration_minutes", "status")),
    *(sa.column(c) for c in ("revision", "objectives", "segments", "started", "ended")),
    sa.column("occurrence_start", UTCDateTime()),
    sa.column("starts_at", UTCDateTime()),
    sa.column("timing_set_at", UTCDateTime()),
    sa.column("created_at", UTCDateTime()),
)


def _seed_0007(conn: sa.Connection) -> None:
    """Two communities as 0007 left them; ids interleave and meetings were created out of order."""
    for cid in (1, 2):
        conn.execute(
            _community.insert().values(
                id=cid,
                platform="fake",
                workspace_id="W1",
                channel_id=f"C{cid}",
                channel_name="",
                name=f"CoP {cid}",
                timezone="UTC",
                language="en",
                created_by="ana",
                created_at=T0,
            )
        )
    for sid, cid in ((1, 1), (2, 2), (3, 1)):
        conn.execute(
            _series.insert().values(
                id=sid,
                community_id=cid,
                title=f"Series {sid}",
                schedule="weekly on Tuesday at 18:30",
                tz="UTC",
                duration_minutes=60,
                reminders="P1D",
                dm_reminders=False,
                sequence=0,
                created_by="ana",
                first_start=T0,
                created_at=T0,
            )
        )
    # (meeting id, community, series, weeks after T0)
    for mid, cid, sid, weeks in (
        (1, 1, 1, 2),
        (2, 1, 1, 0),
        (3, 2, 2, 1),
        (4, 1, 3, 0),
        (5, 2, 2, 0),
    ):
        start = T0 + timedelta(weeks=weeks)
        conn.execute(
            _meeting.insert().values(
                id=mid,
                community_id=cid,
                series_id=sid,
                duration_minutes=60,
                status="scheduled",
                revision=0,
                objectives="[]",
                segments="[]",
                started=False,
                ended=False,
                occurrence_start=start,
                starts_at=start,
                timing_set_at=T0,
                created_at=T0,
            )
        )


async def test_migration_numbers_existing_meetings_and_series_per_community(
    empty_db_url: str,
) -> None:
    database = Database(empty_db_url)
    try:
        await database.upgrade("0007")
        async with database.engine.begin() as conn:
            await conn.run_sync(_seed_0007)
        await database.upgrade("0008")
        async with database.engine.connect() as conn:
            meetings = (
                await conn.execute(sa.text("SELECT id, number FROM meeting ORDER BY id"))
            ).all()
            series = (
                await conn.execute(sa.text("SELECT id, number, segments FROM meeting_series"))
            ).all()
        # Downgrading drops the columns and keeps every row (no table rebuild on SQLite,
        # which would cascade from meeting_series to its meetings).
        async with database.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0007"))
        async with database.engine.connect() as conn:
            kept = (await conn.execute(sa.text("SELECT count(*) FROM meeting"))).scalar_one()
    finally:
        await database.dispose()
    # Community 1: meetings 2 and 4 both start at T0 (id breaks the tie), then meeting 1.
    # Community 2: meeting 5 (T0) before meeting 3 (a week later).
    assert [tuple(r) for r in meetings] == [(1, 3), (2, 1), (3, 2), (4, 2), (5, 1)]
    # Series in creation order per community; the agenda stays the default (NULL).
    assert sorted(tuple(r) for r in series) == [(1, 1, None), (2, 1, None), (3, 2, None)]
    assert kept == 5


# -- numbering in use (console) ---------------------------------------------------------------

NY = "America/New_York"
TWO_COMMUNITIES = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"
:in #nyc
/cop setup "NYC CoP" America/New_York
/cop meeting series "weekly on Thursday at 12:00" title="NYC lunch"
"""


def _ny(*args: int) -> FakeClock:
    return FakeClock(datetime(*args, tzinfo=ZoneInfo(NY)))


def _reply(lines: list[str], command: str) -> list[str]:
    """The lines printed in answer to the (last) `command` typed, up to the next input."""
    start = max(i for i, line in enumerate(lines) if line.endswith(f"> {command}")) + 1
    end = next((i for i in range(start, len(lines)) if re.match(r"^\w+> ", lines[i])), len(lines))
    return lines[start:end]


async def test_the_second_community_starts_at_one_and_numbers_stay_in_their_community() -> None:
    lines = await transcript(
        TWO_COMMUNITIES
        + """
        /cop meeting agenda 1
        /cop meeting cancel 3
        :in #cop
        /cop meeting list
        /cop meeting cancel 4
        /cop meeting edit 2 title=Nope
        """,
        zone=NY,
        clock=_ny(2026, 11, 10, 9, 0),
    )
    assert (
        "[private @ana] Series 1 created: NYC lunch, weekly on Thursday at 12:00 "
        "(America/New_York), 60 minutes, reminders 1 week, 1 day, 1 hour. Upcoming: "
        "#1 Thu 12 Nov 2026, 12:00 EST, #2 Thu 19 Nov 2026, 12:00 EST, "
        "#3 Thu 26 Nov 2026, 12:00 EST."
    ) in lines
    assert "  (Going 0 · Maybe 0 · Can't go 0 · meeting 1)" in lines
    assert _reply(lines, "/cop meeting agenda 1")[0] == (
        "[private @ana] Agenda of meeting 1, NYC lunch, Thu 12 Nov 2026, 12:00 EST"
    )
    assert _reply(lines, "/cop meeting cancel 3")[0] == (
        "[private @ana] Meeting 3 (NYC lunch) is cancelled; 0 people who answered will be told."
    )
    # The first community's #3 is untouched by the second's cancel 3.
    assert _reply(lines, "/cop meeting list") == [
        "[private @ana] Upcoming meetings:",
        "  #1 Tue 1 Dec 2026, 18:30 EST — Monthly CoP (0 going, 0 maybe)",
        "  #2 Tue 5 Jan 2027, 18:30 EST — Monthly CoP (0 going, 0 maybe)",
        "  #3 Tue 2 Feb 2027, 18:30 EST — Monthly CoP (0 going, 0 maybe)",
        "  Series:",
        "  series 1: Monthly CoP, monthly on the first Tuesday at 18:30 (America/New_York), "
        "60 minutes, reminders 1 week, 1 day, 1 hour",
    ]
    assert _reply(lines, "/cop meeting cancel 4") == [
        "[private @ana] There is no meeting 4 in this community; see /cop meeting list."
    ]
    assert _reply(lines, "/cop meeting edit 2 title=Nope") == [
        "[private @ana] There is no series 2 in this community; see /cop meeting list."
    ]


async def test_a_cancelled_meeting_leaves_upcoming_and_past_lists_attendance_newest_first() -> None:
    lines = await transcript(
        TWO_COMMUNITIES
        + """
        /cop meeting list past
        /cop meeting cancel 2
        /cop meeting list
        :advance 20d
        /cop meeting attended 1
        /cop meeting attended 3
        :as bob
        /cop join
        /cop meeting attended 3
        /cop meeting list past
        """,
        zone=NY,
        clock=_ny(2026, 11, 10, 9, 0),
    )
    assert _reply(lines, "/cop meeting list past")[:2] == [
        "[private @bob] Past meetings, newest first:",
        "  #3 Thu 26 Nov 2026, 12:00 EST — NYC lunch (2 attended)",
    ]
    assert _reply(lines, "/cop meeting list past")[2] == (
        "  #1 Thu 12 Nov 2026, 12:00 EST — NYC lunch (1 attended)"
    )
    # The cancelled #2 is neither upcoming nor past; only the series follow.
    assert len(_reply(lines, "/cop meeting list past")) == 3
    first_past = lines.index("ana> /cop meeting list past")
    assert lines[first_past + 1 : first_past + 3] == [
        "[private @ana] Past meetings, newest first:",
        "  No meetings have taken place yet.",
    ]
    upcoming = _reply(lines, "/cop meeting list")
    assert upcoming[:4] == [
        "[private @ana] Upcoming meetings:",
        "  #1 Thu 12 Nov 2026, 12:00 EST — NYC lunch (0 going, 0 maybe)",
        "  #3 Thu 26 Nov 2026, 12:00 EST — NYC lunch (0 going, 0 maybe)",
        "  Cancelled, so no longer upcoming: #2.",
    ]


async def test_list_refuses_a_misspelled_choice() -> None:
    lines = await transcript(
        TWO_COMMUNITIES + "\n/cop meeting list pats\n", zone=NY, clock=_ny(2026, 11, 10, 9, 0)
    )
    [refusal] = _reply(lines, "/cop meeting list pats")
    assert refusal.startswith("[private @ana] ")
    assert "past" in refusal


# -- numbering under concurrency --------------------------------------------------------------


async def test_meetings_created_at_once_in_one_community_get_distinct_numbers(db: Database) -> None:
    """Eight series materialised in parallel transactions: 24 meetings numbered 1..24, no gaps.

    On PostgreSQL the transactions really overlap (the community row lock orders them); on
    SQLite they take turns anyway.
    """
    now = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    async with db.session() as session:
        community = Community(
            platform="fake",
            workspace_id="W1",
            channel_id="C1",
            name="CoP",
            timezone="UTC",
            created_by="ana",
        )
        session.add(community)
        await session.flush()
        series_ids = []
        for n in range(1, 9):
            s = MeetingSeries(
                community_id=community.id,
                number=n,
                title=f"Series {n}",
                schedule=f"weekly on Tuesday at {10 + n}:00",
                tz="UTC",
                first_start=now,
                created_by="ana",
            )
            session.add(s)
            await session.flush()
            series_ids.append(s.id)
        community_id = community.id

    async def create(series_id: int) -> None:
        async with db.session() as session:
            series = await session.get(MeetingSeries, series_id)
            community = await session.get(Community, community_id)
            assert series is not None and community is not None
            await materialise(session, series, community, Translator(), now)

    await asyncio.gather(*(create(i) for i in series_ids))
    async with db.session() as session:
        numbers = (await session.execute(sa.select(Meeting.number))).scalars().all()
    assert sorted(numbers) == list(range(1, 25))
