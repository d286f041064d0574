"""Scheduled work of the meetings feature: reminders, start/end hooks, top-ups, reconciling.

Job ids (stable, arguments are ids): ``reminder:{meeting}:{offset}`` -> ``meeting.remind``
(which emits ``meeting.reminder`` once its card is queued),
``meeting-start:{meeting}`` / ``meeting-end:{meeting}`` -> ``meeting.start`` / ``meeting.end``
(which emit the hooks of the same names inside their transaction), and
``meeting-ahead:{series}`` -> ``meeting.ahead`` keeping `AHEAD` occurrences materialised.

A reminder job decides for itself whether it is still useful: more than `STARTED_GRACE` after
the meeting has started it is skipped and logged; when a shorter reminder is also already due
(the bot was down through both) only the shorter one goes out. Late by more than `late_after`
of its offset, it says so in its headline with the true time to the start ("starts in 12
minutes — sent late because circlebot was offline", "started 4 minutes ago — ...").
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.context import Context, Services, background, channel_of
from bot.features.meetings.core import (
    LATE_FRACTION,
    answered,
    ends_at,
    materialise,
    next_meeting_without_topic,
    offset_iso,
    offsets_of,
    parse_iso,
    plan_series,
    reminder_due,
    reminder_key,
)
from bot.features.meetings.find import agenda_extras
from bot.features.meetings.render import card, late_kind
from bot.hooks import MeetingEnded, MeetingReminded, MeetingStarted, TopicChosen
from bot.i18n import Translator, translator
from bot.languages import fan_out_each
from bot.ui import ActionId, Actions, Button, Message, Section
from storage.meetings import Meeting, MeetingSeries
from storage.models import Community

log = logging.getLogger(__name__)

# Within this long after the start, the last reminder still goes out (saying how long ago the
# meeting started): a member who missed the start can still join. Later, it is skipped.
STARTED_GRACE = timedelta(minutes=10)
# A reminder this late says so whatever its offset: past it, "starts in 1 week" is no longer
# true enough. The runner's normal delay is far below `ON_TIME_FLOOR`, which keeps a short
# reminder that ran a second late from calling itself late.
MAX_ON_TIME = timedelta(minutes=10)
ON_TIME_FLOOR = timedelta(seconds=30)


def late_after(offset: timedelta) -> timedelta:
    """How late reminder `offset` may go out and still say "starts in <offset>"."""
    return max(ON_TIME_FLOOR, min(offset / LATE_FRACTION, MAX_ON_TIME))


async def _load(
    session: AsyncSession, meeting_id: int
) -> tuple[Meeting | None, MeetingSeries | None, Community | None]:
    meeting = await session.get(Meeting, int(meeting_id))
    if meeting is None:
        return None, None, None
    series = await session.get(MeetingSeries, meeting.series_id)
    community = await session.get(Community, meeting.community_id)
    return meeting, series, community


async def remind(ctx: Context, meeting_id: int, iso: str) -> None:
    """Post one reminder (and its DMs) unless it is no longer useful."""
    now, session = ctx.now, ctx.session
    meeting, series, community = await _load(session, meeting_id)
    job = f"reminder:{meeting_id}:{iso}"
    if meeting is None or series is None or community is None:
        log.info("%s skipped: meeting gone", job)
        return
    if meeting.status != "scheduled":
        log.info("%s skipped: meeting %s is %s", job, meeting.id, meeting.status)
        return
    offsets = [offset_iso(o) for o in offsets_of(series)]
    if iso not in offsets:
        log.info("%s skipped: series %s no longer reminds at %s", job, series.id, iso)
        return
    if now >= meeting.starts_at + STARTED_GRACE:
        log.warning(
            "%s skipped: meeting %s started %s ago (bot was down)",
            job,
            meeting.id,
            now - meeting.starts_at,
        )
        return
    offset = parse_iso(iso)
    due = reminder_due(meeting, series.tz, offset)
    if due < meeting.timing_set_at or now < due - timedelta(minutes=1):
        log.info("%s skipped: not due for the meeting's current time", job)
        return
    shorter_due = [
        o for o in offsets_of(series) if o < offset and reminder_due(meeting, series.tz, o) <= now
    ]
    if shorter_due:
        log.warning("%s skipped: superseded by the %s reminder", job, offset_iso(shorter_due[0]))
        return
    late = now - due > late_after(offset)
    kind = late_kind(iso, meeting.starts_at - now) if late else iso
    t = translator(community.language)
    message = await card(session, t, meeting, series, kind, await agenda_extras(ctx, meeting, t))
    key = reminder_key(meeting, iso)
    if not await ctx.outbox.enqueue(
        key=key, to=channel_of(community), message=message, community_id=community.id
    ):
        log.info("%s: already sent", key)
        return
    meeting.card_key, meeting.card_kind = key, kind
    session.add(meeting)
    if series.dm_reminders:

        async def compose(t: Translator) -> Message:
            extras = await agenda_extras(ctx, meeting, t)
            return await card(session, t, meeting, series, kind, extras)

        # The DMs: each in the member's own language.
        await fan_out_each(
            ctx,
            key=key,
            community=community,
            members=await answered(session, meeting.id),
            compose=compose,
        )
    if late:
        log.warning("%s sent %s late", key, now - due)
    else:
        log.info("%s queued", key)
    last = offset == min(offsets_of(series))
    await ctx.emit(
        "meeting.reminder",
        MeetingReminded(community.id or 0, meeting.id or 0, meeting.starts_at, iso, last),
    )


async def start(ctx: Context, meeting_id: int) -> None:
    """Mark the meeting started and emit ``meeting.start`` (not when it is already over)."""
    meeting, _series, _community = await _load(ctx.session, meeting_id)
    if meeting is None or meeting.status != "scheduled" or meeting.started:
        return
    meeting.started = True
    ctx.session.add(meeting)
    if ctx.now >= ends_at(meeting):
        log.warning("meeting %s: start hook skipped, the meeting is already over", meeting.id)
        return
    log.info("meeting %s started", meeting_id)
    await ctx.emit(
        "meeting.start", MeetingStarted(meeting.community_id, int(meeting_id), meeting.starts_at)
    )


async def end(ctx: Context, meeting_id: int) -> None:
    """Mark the meeting ended, offer "I attended", and emit ``meeting.end``."""
    meeting, series, community = await _load(ctx.session, meeting_id)
    if meeting is None or series is None or community is None:
        return
    if meeting.status != "scheduled" or meeting.ended:
        return
    meeting.started = meeting.ended = True
    ctx.session.add(meeting)
    t = translator(community.language)
    text = t("meetings.ended", title=series.title, id=meeting.number)
    button = Button(
        action=ActionId("attend", "mark", meeting.id),
        label=t("meetings.attended_button"),
        style="primary",
    )
    await ctx.outbox.enqueue(
        key=f"meeting:{meeting.id}:ended",
        to=channel_of(community),
        message=Message(text=text, blocks=[Section.of(text), Actions(elements=[button])]),
        community_id=community.id,
    )
    log.info("meeting %s ended", meeting_id)
    await ctx.emit("meeting.end", MeetingEnded(community.id or 0, int(meeting_id)))


async def ahead(ctx: Context, series_id: int) -> None:
    """Keep the next occurrences of a series materialised, with their jobs."""
    series = await ctx.session.get(MeetingSeries, int(series_id))
    if series is None:
        return
    community = await ctx.session.get(Community, series.community_id)
    if community is None:
        return
    await _top_up(ctx, series, community)


async def _top_up(ctx: Context, series: MeetingSeries, community: Community) -> None:
    now = ctx.now
    await materialise(ctx.session, series, community, translator(community.language), now)
    await plan_series(
        ctx.session, ctx.schedule, series, now, mirror=(ctx.services.outbox, community)
    )


RECONCILE_BATCH = 500  # series looked at per read; each repair is its own transaction


def _ahead_job(series_id: int) -> str:
    return f"meeting-ahead:{series_id}"


async def reconcile(services: Services) -> None:
    """After start, in the background: repair series whose top-up job is missing.

    Jobs are written with the changes that cause them, so normally there is nothing to do;
    after an upgrade from the old job store every series is re-planned once. Series are
    looked at `RECONCILE_BATCH` at a time in short reads, and each repair is its own small
    transaction: on SQLite, where transactions run one at a time, an interaction then waits
    for one series' repair at most, never for a whole batch of them.
    """
    last_id, repaired = 0, 0
    while True:
        async with background(services) as ctx:
            ids = list(
                (
                    await ctx.session.execute(
                        select(col(MeetingSeries.id))
                        .where(col(MeetingSeries.id) > last_id)
                        .order_by(col(MeetingSeries.id))
                        .limit(RECONCILE_BATCH)
                    )
                ).scalars()
            )
            have = await ctx.schedule.exists([_ahead_job(i) for i in ids])
        if not ids:
            break
        last_id = ids[-1]
        for series_id in ids:
            if _ahead_job(series_id) in have:
                continue
            async with background(services) as ctx:
                repaired += await _repair(ctx, series_id)
            await asyncio.sleep(0)
    if repaired:
        log.info("meetings: re-planned %d series", repaired)


async def _repair(ctx: Context, series_id: int) -> int:
    """Top up one series unless it is gone or was planned meanwhile (another instance)."""
    series = await ctx.session.get(MeetingSeries, series_id)
    if series is None or await ctx.schedule.exists([_ahead_job(series_id)]):
        return 0
    community = await ctx.session.get(Community, series.community_id)
    if community is None:
        return 0
    await _top_up(ctx, series, community)
    return 1


async def topic_chosen(ctx: Context, chosen: TopicChosen) -> None:
    """Voting chose a topic: put it on the next meeting that has none (else it waits)."""
    meeting = await next_meeting_without_topic(ctx.session, chosen.community_id, ctx.now)
    if meeting is None:
        return
    meeting.topic = chosen.title[:200]
    ctx.session.add(meeting)
    community = await ctx.session.get(Community, chosen.community_id)
    if community is not None and community.next_topic == chosen.title:
        community.next_topic = None
        ctx.session.add(community)
    log.info("community %s: chosen topic placed on meeting %s", chosen.community_id, meeting.id)
