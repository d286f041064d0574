"""Scheduled work of the meetings feature: reminders, start/end hooks, top-ups, reconciling.

Job ids (stable, arguments are ids): ``reminder:{meeting}:{offset}`` -> ``meeting.remind``,
``meeting-start:{meeting}`` / ``meeting-end:{meeting}`` -> ``meeting.start`` / ``meeting.end``
(which fire the hooks of the same names after their transaction commits), and
``meeting-ahead:{series}`` -> ``meeting.ahead`` keeping `AHEAD` occurrences materialised.

A reminder job decides for itself whether it is still useful: after the meeting has started it
is skipped and logged; when a shorter reminder is also already due (the bot was down through
both) only the shorter one goes out; more than a tenth of its offset late, it says it is late.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from bot.context import Services, channel_of
from bot.features.meetings_core import (
    LATE_FRACTION,
    JobPlan,
    Meeting,
    MeetingSeries,
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
from bot.features.meetings_render import card
from bot.i18n import translator
from bot.ui import ActionId, Actions, Button, Message, Section
from storage.models import Community

log = logging.getLogger(__name__)


async def _load(session, meeting_id: int):  # type: ignore[no-untyped-def]
    meeting = await session.get(Meeting, int(meeting_id))
    if meeting is None:
        return None, None, None
    series = await session.get(MeetingSeries, meeting.series_id)
    community = await session.get(Community, meeting.community_id)
    return meeting, series, community


async def remind(services: Services, meeting_id: int, iso: str) -> None:
    """Post one reminder (and its DMs) unless it is no longer useful."""
    now = services.clock.now()
    async with services.db.session() as session:
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
        if now >= meeting.starts_at:
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
            o
            for o in offsets_of(series)
            if o < offset and reminder_due(meeting, series.tz, o) <= now
        ]
        if shorter_due:
            log.warning(
                "%s skipped: superseded by the %s reminder", job, offset_iso(shorter_due[0])
            )
            return
        late = now - due > offset / LATE_FRACTION
        kind = f"{iso}:late" if late else iso
        t = translator(community.language)
        message = await card(session, t, meeting, series, kind)
        key = reminder_key(meeting, iso)
        if not await services.outbox.enqueue(
            session, key=key, to=channel_of(community), message=message, community_id=community.id
        ):
            log.info("%s: already sent", key)
            return
        meeting.card_key, meeting.card_kind = key, kind
        session.add(meeting)
        if series.dm_reminders:
            await services.outbox.fan_out(
                session,
                key=key,
                community=community,
                members=await answered(session, meeting.id),  # type: ignore[arg-type]
                message=message,
            )
        if late:
            log.warning("%s sent %s late", key, now - due)
        else:
            log.info("%s queued", key)


async def start(services: Services, meeting_id: int) -> None:
    """Mark the meeting started and fire ``meeting.start`` (not when it is already over)."""
    now = services.clock.now()
    fire = False
    async with services.db.session() as session:
        meeting, _series, _community = await _load(session, meeting_id)
        if meeting is None or meeting.status != "scheduled" or meeting.started:
            return
        meeting.started = True
        session.add(meeting)
        if now >= ends_at(meeting):
            log.warning("meeting %s: start hook skipped, the meeting is already over", meeting.id)
        else:
            fire = True
    if fire:
        log.info("meeting %s started", meeting_id)
        await services.fire("meeting.start", int(meeting_id))


async def end(services: Services, meeting_id: int) -> None:
    """Mark the meeting ended, offer "I attended", and fire ``meeting.end``."""
    async with services.db.session() as session:
        meeting, series, community = await _load(session, meeting_id)
        if meeting is None or series is None or community is None:
            return
        if meeting.status != "scheduled" or meeting.ended:
            return
        meeting.started = meeting.ended = True
        session.add(meeting)
        t = translator(community.language)
        text = t("meetings.ended", title=series.title, id=meeting.id)
        button = Button(
            action=ActionId("attend", "mark", meeting.id),
            label=t("meetings.attended_button"),
            style="primary",
        )
        await services.outbox.enqueue(
            session,
            key=f"meeting:{meeting.id}:ended",
            to=channel_of(community),
            message=Message(text=text, blocks=[Section.of(text), Actions(elements=[button])]),
            community_id=community.id,
        )
    log.info("meeting %s ended", meeting_id)
    await services.fire("meeting.end", int(meeting_id))


async def ahead(services: Services, series_id: int) -> None:
    """Keep the next occurrences of a series materialised, with their jobs."""
    now = services.clock.now()
    plan = JobPlan()
    async with services.db.session() as session:
        series = await session.get(MeetingSeries, int(series_id))
        if series is None:
            return
        community = await session.get(Community, series.community_id)
        if community is None:
            return
        await materialise(session, series, community, translator(community.language), now)
        await plan_series(session, plan, series, now, mirror=(services.outbox, community))
    await plan.apply(services.scheduler)


async def reconcile(services: Services) -> None:
    """At start: materialise every series and re-arm the jobs of meetings that have not ended."""
    now = services.clock.now()
    plan = JobPlan()
    async with services.db.session() as session:
        for series in (await session.execute(select(MeetingSeries))).scalars().all():
            community = await session.get(Community, series.community_id)
            if community is None:
                continue
            await materialise(session, series, community, translator(community.language), now)
            await plan_series(session, plan, series, now, mirror=(services.outbox, community))
    await plan.apply(services.scheduler)


async def topic_chosen(services: Services, community_id: int, title: str) -> None:
    """Voting chose a topic: put it on the next meeting that has none (else it waits)."""
    now = services.clock.now()
    async with services.db.session() as session:
        meeting = await next_meeting_without_topic(session, int(community_id), now)
        if meeting is None:
            return
        meeting.topic = title[:200]
        session.add(meeting)
        community = await session.get(Community, int(community_id))
        if community is not None and community.next_topic == title:
            community.next_topic = None
            session.add(community)
        log.info("community %s: chosen topic placed on meeting %s", community_id, meeting.id)
