"""Meetings and series are numbered per community: the second community's first meeting is #1.

Migration 0008 numbers existing rows; new rows get the next number as they are created.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from storage.db import Database
from storage.types import UTCDateTime

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


async def test_migration_numbers_existing_meetings_and_series_per_community(db_url: str) -> None:
    database = Database(db_url)
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
    finally:
        await database.dispose()
    # Community 1: meetings 2 and 4 both start at T0 (id breaks the tie), then meeting 1.
    # Community 2: meeting 5 (T0) before meeting 3 (a week later).
    assert [tuple(r) for r in meetings] == [(1, 3), (2, 1), (3, 2), (4, 2), (5, 1)]
    # Series in creation order per community; the agenda stays the default (NULL).
    assert sorted(tuple(r) for r in series) == [(1, 1, None), (2, 1, None), (3, 2, None)]
