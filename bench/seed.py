"""Seeds many communities fast, each as `/cop setup` + `/cop meeting series` would leave it.

A community set up through the commands has: its row, its creator as a member, one meeting
series, the next `AHEAD` meetings materialised, their reminder, start and end jobs plus the
series' top-up job, and four delivered outbox rows (the announcement card and the three
meetings' native-event mirrors). `seed` writes the same rows with bulk inserts through the
storage models, computing times with the meetings feature's own functions; `verify` checks
the shape against communities created through the real command path.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from bot.features.meetings.core import (
    AHEAD,
    DEFAULT_REMINDERS,
    default_segments,
    ends_at,
    offset_iso,
    parse_iso,
    parse_offsets,
    reminder_due,
)
from bot.features.meetings.render import card
from bot.i18n import translator
from bot.schedule import parse_schedule
from bot.ui import CalendarEvent
from storage.db import Database
from storage.meetings import Meeting, MeetingSeries
from storage.models import Community, Job, JobStatus, Member, MemberRole, OutboxMessage

log = logging.getLogger(__name__)

TEAM_ID = "T012AB3C4"  # the loopback fake's workspace, so its slash commands land in one
TITLE = "Monthly CoP"

#: (zone, schedule) pairs the communities take in turn, so jobs fall due at varied times.
VARIANTS: tuple[tuple[str, str], ...] = (
    ("America/Chicago", "monthly on the first Tuesday at 18:30"),
    ("America/New_York", "monthly on the second Wednesday at 19:00"),
    ("America/Denver", "every 2 weeks on Monday at 15:30"),
    ("America/Los_Angeles", "monthly on the last Thursday at 16:00"),
)

CHUNK = 5_000  # rows per executemany
STAND_IN_ID = 987_654_321  # a meeting id no date, time or count in a card can look like


def channel_id(i: int) -> str:
    return f"C{i:08d}"


def user_id(i: int) -> str:
    return f"U{i:08d}"


@dataclass
class Rows:
    """The rows of a batch of communities, table by table, in insert order."""

    community: list[dict[str, Any]] = field(default_factory=list)
    member: list[dict[str, Any]] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    meeting: list[dict[str, Any]] = field(default_factory=list)
    job: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    def tables(self) -> Iterator[tuple[type[SQLModel], list[dict[str, Any]]]]:
        yield Community, self.community
        yield Member, self.member
        yield MeetingSeries, self.series
        yield Meeting, self.meeting
        yield Job, self.job
        yield OutboxMessage, self.outbox

    def total(self) -> int:
        return sum(len(rows) for _, rows in self.tables())


def _job(job_id: str, kind: str, args: list[Any], community: int, due: datetime, now: datetime):  # type: ignore[no-untyped-def]
    return {
        "id": job_id,
        "kind": kind,
        "args": json.dumps(args),
        "community_id": community,
        "due_at": due,
        "status": JobStatus.PENDING.value,
        "version": 1,
        "attempts": 0,
        "lease_until": None,
        "last_error": None,
        "updated_at": now,
    }


def _sent(key: str, community: dict[str, Any], kind: str, payload: str, now: datetime):  # type: ignore[no-untyped-def]
    """An outbox row as the worker leaves it once delivered (the model's defaults elsewhere)."""
    row = OutboxMessage(
        key=key,
        community_id=community["id"],
        platform=community["platform"],
        workspace_id=community["workspace_id"],
        kind=kind,
        target=community["channel_id"],
        payload=payload,
        status="sent",
        attempts=1,
        not_before=now,
        claimed_at=now,
        sent_at=now,
        created_at=now,
    ).model_dump(exclude={"id"})
    if "first_tried_at" in row:  # when the first attempt began, kept across retries
        row["first_tried_at"] = now
    return row


@dataclass
class _Variant:
    """What every community of one variant shares: rows for a stand-in community, ready to copy.

    The stand-in has community, member and series id 0 and meetings 0 .. AHEAD-1; `rows` puts
    a real community's ids in. Built with the models and the meetings feature's functions,
    once a batch, so seeding costs dict copies rather than a render per community.
    """

    series: dict[str, Any]
    meetings: list[dict[str, Any]]
    events: list[str]  # native-event payloads, one per meeting
    card: str  # the announcement card's payload, for meeting STAND_IN_ID
    jobs: list[tuple[int, str | None, datetime]]  # (meeting index, reminder iso or kind, due)
    ahead_due: datetime


async def _variant(session: AsyncSession, zone: str, schedule_text: str, now: datetime) -> _Variant:
    t = translator("en")
    schedule = parse_schedule(schedule_text, zone)
    starts = schedule.occurrences(now, AHEAD)
    series = MeetingSeries(
        id=0,
        community_id=0,
        number=1,
        title=TITLE,
        schedule=schedule_text,
        tz=schedule.tz,
        reminders=" ".join(offset_iso(o) for o in parse_offsets(DEFAULT_REMINDERS)),
        dm_reminders=False,
        first_start=starts[0],
        created_by="",
        created_at=now,
    )
    meetings = [
        Meeting(
            id=n,
            community_id=0,
            number=n + 1,
            series_id=0,
            occurrence_start=start,
            starts_at=start,
            duration_minutes=series.duration_minutes,
            timing_set_at=now,
            segments=json.dumps(default_segments(t)),
            created_at=now,
        )
        for n, start in enumerate(starts)
    ]
    stand_in = meetings[0].model_copy(update={"id": STAND_IN_ID})
    card_payload = (await card(session, t, stand_in, series, "announce")).model_dump_json()
    meetings[0].card_kind = "announce"
    events = [
        CalendarEvent(
            name=series.title,
            start=m.starts_at,
            end=ends_at(m),
            location="",
            description="",
            cancelled=False,
        ).model_dump_json()
        for m in meetings
    ]
    jobs: list[tuple[int, str | None, datetime]] = []
    for n, meeting in enumerate(meetings):
        for iso in series.reminders.split():
            due = reminder_due(meeting, series.tz, parse_iso(iso))
            if due >= now:  # one due before the meeting was set up never applies
                jobs.append((n, iso, due))
        jobs.append((n, "meeting.start", meeting.starts_at))
        jobs.append((n, "meeting.end", ends_at(meeting)))
    return _Variant(
        series=series.model_dump(),
        meetings=[m.model_dump() for m in meetings],
        events=events,
        card=card_payload,
        jobs=jobs,
        ahead_due=min(starts),
    )


async def build(
    session: AsyncSession, first: int, count: int, now: datetime, *, with_jobs: bool = True
) -> Rows:
    """The rows of communities `first` .. `first + count - 1`; every id is that number's.

    Ids are chosen, not generated, so one batch inserts without reading anything back:
    community, member and series `i`, meetings ``AHEAD*(i-1)+1 ..``, outbox rows
    ``(AHEAD+1)*(i-1)+1 ..``. `with_jobs=False` leaves the job table empty, as an upgrade
    from a release without it did.
    """
    variants = [await _variant(session, zone, text_, now) for zone, text_ in VARIANTS]
    rows = Rows()
    for i in range(first, first + count):
        v = variants[(i - 1) % len(VARIANTS)]
        zone = VARIANTS[(i - 1) % len(VARIANTS)][0]
        community = {
            "id": i,
            "platform": "slack",
            "workspace_id": TEAM_ID,
            "channel_id": channel_id(i),
            "channel_name": f"cop-{i}",
            "name": f"Community {i}",
            "timezone": zone,
            "language": "en",
            "next_topic": None,
            "created_by": user_id(i),
            "created_at": now,
        }
        rows.community.append(community)
        rows.member.append(
            {
                "id": i,
                "community_id": i,
                "user_id": user_id(i),
                "display_name": f"facilitator {i}",
                "role": MemberRole.MEMBER.value,
                "timezone": None,
                "joined_at": now,
                "dm_closed_at": None,
            }
        )
        rows.series.append(v.series | {"id": i, "community_id": i, "created_by": user_id(i)})
        ids = [AHEAD * (i - 1) + n + 1 for n in range(AHEAD)]
        announce = f"meeting:{ids[0]}:announce"
        for n, meeting in enumerate(v.meetings):
            rows.meeting.append(
                meeting
                | {"id": ids[n], "community_id": i, "series_id": i}
                | ({"card_key": announce} if n == 0 else {})
            )
        outbox_id = (AHEAD + 1) * (i - 1)
        for n, event in enumerate(v.events):
            outbox_id += 1
            row = _sent(f"event:{ids[n]}", community, "event", event, now)
            rows.outbox.append({"id": outbox_id, **row})
        payload = v.card.replace(str(STAND_IN_ID), str(ids[0]))
        row = _sent(announce, community, "channel", payload, now)
        row |= {"message_channel": channel_id(i), "message_id": f"{1_700_000_000 + i}.000100"}
        rows.outbox.append({"id": outbox_id + 1, **row})
        if not with_jobs:
            continue
        for n, what, due in v.jobs:
            m = ids[n]
            if what == "meeting.start":
                rows.job.append(_job(f"meeting-start:{m}", what, [m], i, due, now))
            elif what == "meeting.end":
                rows.job.append(_job(f"meeting-end:{m}", what, [m], i, due, now))
            else:
                rows.job.append(
                    _job(f"reminder:{m}:{what}", "meeting.remind", [m, what], i, due, now)
                )
        rows.job.append(_job(f"meeting-ahead:{i}", "meeting.ahead", [i], i, v.ahead_due, now))
    return rows


async def _advance_sequences(session: AsyncSession) -> None:
    """PostgreSQL: move each id sequence past the chosen ids, so later inserts do not collide."""
    for table in ("community", "member", "meeting_series", "meeting", "outbox"):
        await session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


async def seed(
    db: Database, count: int, now: datetime, *, first: int = 1, with_jobs: bool = True
) -> int:
    """Write `count` communities with bulk inserts, one transaction per batch; returns rows."""
    total = 0
    batch = 1_000
    for start in range(first, first + count, batch):
        size = min(batch, first + count - start)
        async with db.session() as session:
            rows = await build(session, start, size, now, with_jobs=with_jobs)
            for model, values in rows.tables():
                for at in range(0, len(values), CHUNK):
                    await session.execute(model.__table__.insert(), values[at : at + CHUNK])  # type: ignore[attr-defined]
            total += rows.total()
    if db.dialect == "postgresql":
        async with db.session() as session:
            await _advance_sequences(session)
    return total


# -- checking the shape against the command path ----------------------------------------------

_PLATFORM_FIELDS = {"message_id", "message_channel"}  # what the platform answered, not ours


async def snapshot(db: Database, community_id: int) -> dict[str, list[dict[str, Any]]]:
    """One community's rows with its own ids replaced by names, comparable across communities."""
    async with db.session() as s:
        community = await s.get(Community, community_id)
        assert community is not None, f"no community {community_id}"
        series = list(
            (
                await s.execute(
                    select(MeetingSeries).where(MeetingSeries.community_id == community_id)
                )
            )
            .scalars()
            .all()
        )
        meetings = list(
            (
                await s.execute(
                    select(Meeting)
                    .where(Meeting.community_id == community_id)
                    .order_by(Meeting.starts_at)
                )
            )
            .scalars()
            .all()
        )
        members = list(
            (await s.execute(select(Member).where(Member.community_id == community_id))).scalars()
        )
        jobs = list(
            (await s.execute(select(Job).where(Job.community_id == community_id))).scalars()
        )
        outbox = list(
            (
                await s.execute(
                    select(OutboxMessage).where(OutboxMessage.community_id == community_id)
                )
            ).scalars()
        )
    # Ids inside strings (job ids and args, outbox keys, button ids) are meetings' and series'.
    names = {str(x.id): f"<series{n}>" for n, x in enumerate(series)}
    names |= {str(x.id): f"<meeting{n}>" for n, x in enumerate(meetings)}
    assert len(names) == len(series) + len(meetings), "a series and a meeting share an id"
    names |= {
        community.channel_id: "<channel>",
        community.channel_name: "<channel-name>",
        community.name: "<name>",
        community.created_by: "<creator>",
    }
    ids = re.compile(
        "|".join(rf"(?<![\w.]){re.escape(k)}(?![\w])" for k in sorted(names, key=len, reverse=True))
    )
    columns = {
        "community_id": {community_id: "<community>"},
        "series_id": {x.id: f"<series{n}>" for n, x in enumerate(series)},
        "meeting_id": {x.id: f"<meeting{n}>" for n, x in enumerate(meetings)},
        "member_id": {x.id: f"<member{n}>" for n, x in enumerate(members)},
    }

    def plain(column: str, value: object) -> object:
        if isinstance(value, str):
            return ids.sub(lambda m: names[m.group(0)], value)
        if column in columns:
            return columns[column].get(value, value)
        return value

    def rows(objs: Sequence[SQLModel], key: str, skip: set[str] = set()) -> list[dict[str, Any]]:  # noqa: B006
        out = []
        for obj in objs:
            data = obj.model_dump()
            if key == "id" and isinstance(data.get("id"), int):
                data.pop("id")
            out.append(
                {k: plain(k, v) for k, v in data.items() if k not in skip and k != "display_name"}
            )
        return sorted(out, key=lambda r: json.dumps(r, default=str, sort_keys=True))

    return {
        "community": rows([community], "id"),
        "member": rows(members, "id"),
        "meeting_series": rows(series, "id"),
        "meeting": rows(meetings, "id"),
        "job": rows(jobs, "job"),
        "outbox": rows(outbox, "id", _PLATFORM_FIELDS),
    }


class _SlackShaped:
    """Stands in for the Slack adapter when checking shapes: answers every send at once."""

    platform = "slack"

    def __init__(self) -> None:
        from bot.ports import Capabilities

        self.capabilities = Capabilities()
        self.sent = 0

    async def start(self, handle):  # type: ignore[no-untyped-def]
        pass

    async def stop(self) -> None:
        pass

    async def send(self, to, msg):  # type: ignore[no-untyped-def]
        from bot.events import MessageRef

        self.sent += 1
        return MessageRef("slack", to.channel_id, f"1.{self.sent}")

    async def edit(self, ref, msg) -> None:  # type: ignore[no-untyped-def]
        pass

    async def send_dm(self, user, msg):  # type: ignore[no-untyped-def]
        from bot.events import MessageRef

        self.sent += 1
        return MessageRef("slack", "D", f"2.{self.sent}")


async def through_commands(db: Database, now: datetime, variant: tuple[str, str], n: int) -> int:
    """Create one community the normal way (`/cop setup`, `/cop meeting series`); its id."""
    from bot.app import App
    from bot.events import Actor, CommandInvoked, ConversationRef, Place, Respond, UserRef
    from bot.ports import FakeClock

    zone, schedule = variant
    app = App(db, FakeClock(now), [_SlackShaped()], manual=True)
    await app.start(migrate=False)
    conv = ConversationRef("slack", TEAM_ID, f"CREF{n:04d}")
    admin = Actor(UserRef("slack", TEAM_ID, f"UREF{n:04d}"), "ref", True)
    where = Place(conv, f"ref-{n}")
    for path, params in (
        (("setup",), {"name": f"Reference {n}", "timezone": zone}),
        (("meeting", "series"), {"schedule": schedule, "title": TITLE}),
    ):
        reply = await app.dispatcher.handle(CommandInvoked(admin, where, path, params))
        assert isinstance(reply, Respond), reply
    await app.worker.drain()
    await app.stop()
    async with db.session() as s:
        found = await s.execute(select(Community.id).where(Community.channel_id == conv.channel_id))
        return int(found.scalar_one())


async def verify(db: Database, now: datetime) -> None:
    """Seed one community per variant, create one per variant through the commands, compare.

    Raises AssertionError naming the first table whose rows differ.
    """
    base = 100_001  # ids of six digits, which no date or time in a payload can look like
    await seed(db, 2 * len(VARIANTS), now, first=base)
    for n, variant in enumerate(VARIANTS):
        reference = await snapshot(db, await through_commands(db, now, variant, n))
        # The second community of each variant: its card comes from the batch's template.
        seeded = await snapshot(db, base + len(VARIANTS) + n)
        for table, rows in reference.items():
            if seeded[table] != rows:
                raise AssertionError(
                    f"seeded {table} rows differ from the command path ({variant[1]}):\n"
                    f"  commands: {rows}\n  seeded:   {seeded[table]}"
                )
