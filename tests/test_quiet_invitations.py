"""A round's invitation (and its nudge) never reaches a member in their quiet hours: it waits in the outbox
until they end, in the member's own zone (set with /cop my timezone, else the one their
platform gives, else the community's), and goes out at the opening when the quiet hours
last until the round closes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlmodel import col

from bot.features.reflections.member_prefs import invitation_time
from bot.ports import FakeClock
from storage.db import Database
from storage.models import Member, OutboxMessage
from tests.support import transcript

NY = ZoneInfo("America/New_York")
MADRID = ZoneInfo("Europe/Madrid")
QUIET = (time(20, 0), time(8, 0))


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


SCRIPT = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:as eva
/cop join
:as noa
/cop join
:as eva
/cop my timezone Europe/Madrid
:as ben
/cop checkins default
/cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"
:at 2026-11-05T19:31
:at 2026-11-06T01:59
:at 2026-11-06T02:01
"""


def _line_before(lines: list[str], prefix: str) -> str:
    """The last clock line (a job's ``~ time`` or a typed ``:at``) before the first `prefix`."""
    at = lines.index(next(ln for ln in lines if ln.startswith(prefix)))
    return next(ln for ln in reversed(lines[:at]) if ln.startswith("~ ") or ":at " in ln)


async def test_madrid_waits_for_eight_while_new_york_is_asked_at_once(db: Database) -> None:
    """The meeting (Tuesday 18:30 New York) ends; its check-in opens two days later, at
    19:30 New York time: 01:30 in Madrid. noa (New York) is asked then; eva (Madrid, by
    /cop my timezone) at 08:00 Madrid time, 02:00 in New York."""
    lines = await transcript(
        SCRIPT, db=db, clock=FakeClock(ny(2026, 11, 2, 9, 0)), zone="America/New_York"
    )
    noa = _line_before(lines, "[dm @noa] ")
    eva = _line_before(lines, "[dm @eva] ")
    assert noa == "~ Thu 5 Nov 2026, 19:30 EST"
    assert eva.endswith(":at 2026-11-06T02:01")  # not yet at 01:59 New York time
    invited = next(ln for ln in lines if ln.startswith("[dm @eva] "))
    assert "Finger Lakes CoP" in invited
    # Each DM shows the closing time in its reader's own zone.
    eva_at = lines.index(invited)
    assert "  (Closes Wed 11 Nov 2026, 01:30 CET)" in lines[eva_at : eva_at + 8]
    async with db.session() as session:
        rows = await session.execute(
            select(OutboxMessage.key, OutboxMessage.not_before, OutboxMessage.status).where(
                col(OutboxMessage.kind) == "dm", col(OutboxMessage.key).like("reflections:round:%")
            )
        )
        waits = {key.rsplit(":", 1)[-1]: when for key, when, status in rows}
    eva_id, noa_id = await _ids(db, "eva", "noa")
    assert waits[str(eva_id)].astimezone(MADRID).time() == time(8, 0)
    assert waits[str(noa_id)] < waits[str(eva_id)]


async def test_the_platforms_zone_counts_when_none_was_set(db: Database) -> None:
    """A zone the platform gave (stored on the member row) is used like one set by hand; one
    set with /cop my timezone wins over it."""
    script = SCRIPT.replace(":as eva\n/cop my timezone Europe/Madrid\n", "")
    head, tail = script.split(":as ben\n", 1)
    clock = FakeClock(ny(2026, 11, 2, 9, 0))
    await transcript(head, db=db, clock=clock, zone="America/New_York")
    async with db.session() as session:
        await session.execute(
            update(Member)
            .where(col(Member.user_id).in_(("eva", "noa")))
            .values(platform_timezone="Europe/Madrid")
        )
        await session.execute(
            update(Member).where(col(Member.user_id) == "noa").values(timezone="America/New_York")
        )
    nights = ":at 2026-11-07T19:31\n:at 2026-11-08T01:59\n:at 2026-11-08T02:01\n"
    lines = await transcript(
        ":in #cop\n:as ben\n" + tail + nights, db=db, clock=clock, zone="America/New_York"
    )
    assert _line_before(lines, "[dm @noa] ") == "~ Thu 5 Nov 2026, 19:30 EST"
    assert _line_before(lines, "[dm @eva] ").endswith(":at 2026-11-06T02:01")
    # The one nudge, two days after the opening: noa's at once, eva's at 08:00 in Madrid.
    assert _line_before(lines, "[dm @noa] A gentle reminder") == "~ Sat 7 Nov 2026, 19:30 EST"
    assert _line_before(lines, "[dm @eva] A gentle reminder") == "~ Sun 8 Nov 2026, 02:00 EST"


async def _ids(db: Database, *who: str) -> list[int]:
    async with db.session() as session:
        rows = dict(
            (
                await session.execute(
                    select(Member.user_id, Member.id).where(col(Member.user_id).in_(who))
                )
            ).all()
        )
    return [rows[w] for w in who]


def test_quiet_hours_that_outlast_the_round_send_at_the_opening() -> None:
    opens = datetime(2026, 11, 5, 21, 0, tzinfo=MADRID)  # quiet until 08:00
    assert invitation_time(opens, opens + timedelta(hours=12), MADRID, None) == datetime(
        2026, 11, 6, 8, 0, tzinfo=MADRID
    )
    assert invitation_time(opens, opens + timedelta(hours=11), MADRID, None) is None
    day = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
    assert invitation_time(day, day + timedelta(days=7), MADRID, None) is None
