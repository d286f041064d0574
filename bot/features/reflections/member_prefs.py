"""A member's own say over check-ins: pause, opt-out (all or one check-in) and quiet hours.

Read by the core before anyone is asked (`may_ask`) and by the nudges and commitment
check-backs before anything is sent (`quiet_until`). Quiet hours are local wall-clock
times in the member's own zone (`Member.timezone`, else the zone their platform gives,
`Member.platform_timezone`, else the community's), so across a daylight-saving change
"08:00" stays 08:00 where the member lives. The invitation of a round waits for the end of
them too (`invitation_time`).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Community, Member
from storage.reflections import ReflectionPreference

log = logging.getLogger(__name__)

DEFAULT_QUIET = ("20:00", "08:00")
_HHMM = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


async def preference(
    session: AsyncSession, community_id: int, member_id: int
) -> ReflectionPreference | None:
    return (
        await session.execute(
            select(ReflectionPreference).where(
                col(ReflectionPreference.community_id) == community_id,
                col(ReflectionPreference.member_id) == member_id,
            )
        )
    ).scalar_one_or_none()


async def own_preference(
    session: AsyncSession, community_id: int, member_id: int, now: datetime
) -> ReflectionPreference:
    """The member's row, created on first use (an upsert, so two first presses make one)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(
        insert(ReflectionPreference)
        .values(community_id=community_id, member_id=member_id, updated_at=now)
        .on_conflict_do_nothing(index_elements=["community_id", "member_id"])
    )
    row = await preference(session, community_id, member_id)
    assert row is not None
    return row


def opted_out_numbers(pref: ReflectionPreference | None) -> set[int]:
    if pref is None or not pref.opted_out_checkins:
        return set()
    return {int(n) for n in pref.opted_out_checkins.split() if n.isdigit()}


def store_opted_out(pref: ReflectionPreference, numbers: set[int]) -> None:
    pref.opted_out_checkins = " ".join(str(n) for n in sorted(numbers)) or None


def asks(pref: ReflectionPreference | None, now: datetime, checkin_number: int | None) -> bool:
    """Whether a member with this preference may be asked (or nudged) now."""
    if pref is None:
        return True
    if pref.opted_out_at is not None:
        return False
    if pref.paused_until is not None and pref.paused_until > now:
        return False
    return checkin_number is None or checkin_number not in opted_out_numbers(pref)


async def may_ask(
    session: AsyncSession,
    community_id: int,
    member_id: int,
    now: datetime,
    *,
    checkin_number: int | None = None,
) -> bool:
    """False when the member paused check-ins until after `now` or opted out (of them all,
    or of check-in `checkin_number` of this community when it is given)."""
    pref = await preference(session, community_id, member_id)
    return asks(pref, now, checkin_number)


def parse_hhmm(text: str) -> time | None:
    m = _HHMM.match(text.strip())
    return time(int(m.group(1)), int(m.group(2))) if m else None


def member_zone(member: Member, community: Community) -> ZoneInfo:
    """The zone the member set with ``/cop my timezone``, else the one their platform gives
    (`Member.platform_timezone`, from Slack), else the community's (a zone no longer known
    falls back to the next, and at last to UTC)."""
    for name in (member.timezone, member.platform_timezone, community.timezone):
        if name:
            try:
                return ZoneInfo(name)
            except (ValueError, OSError):
                log.warning("member %s: unknown zone, trying the next", member.id)
    return ZoneInfo("UTC")


def quiet_hours(pref: ReflectionPreference | None) -> tuple[time, time]:
    start = parse_hhmm(pref.quiet_from) if pref and pref.quiet_from else None
    end = parse_hhmm(pref.quiet_to) if pref and pref.quiet_to else None
    default_start, default_end = (parse_hhmm(x) for x in DEFAULT_QUIET)
    assert default_start is not None and default_end is not None
    return start or default_start, end or default_end


def _local(day: datetime, at: time, zone: ZoneInfo) -> datetime:
    """`at` on `day`'s local date in `zone`, as a UTC instant (a skipped time moves forward)."""
    wall = datetime.combine(day.date(), at, tzinfo=zone)
    # Round trip: a wall time in a DST gap comes back shifted to a time that exists.
    return wall.astimezone(UTC).astimezone(zone).astimezone(UTC)


def quiet_until(now: datetime, zone: ZoneInfo, start: time, end: time) -> datetime | None:
    """When the quiet hours around `now` end (a UTC instant), or None if `now` is not quiet.

    `start`-`end` is local wall-clock time and may wrap midnight (20:00-08:00). The end is
    computed on the local calendar, so a night that spans a daylight-saving change still
    ends at the local `end`, whatever the night's length in hours.
    """
    local = now.astimezone(zone)
    t = local.time().replace(tzinfo=None)
    if start == end:
        return None
    if start < end:  # same day, e.g. 13:00-15:00
        return _local(local, end, zone) if start <= t < end else None
    if t >= start:  # evening: quiet until tomorrow's end
        return _local(local + timedelta(days=1), end, zone)
    if t < end:  # small hours: quiet until this morning's end
        return _local(local, end, zone)
    return None


def invitation_time(
    now: datetime, closes_at: datetime, zone: ZoneInfo, pref: ReflectionPreference | None
) -> datetime | None:
    """When a round's invitation may reach a member: None for now, else the end of their
    quiet hours. When those last until the round closes, None too: the invitation goes out
    at the opening as before, since a round asked of no one in the night could not be
    answered at all (the nudge, by contrast, is then left out)."""
    until = quiet_until(now, zone, *quiet_hours(pref))
    if until is None or until >= closes_at:
        return None
    return until
