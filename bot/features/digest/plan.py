"""When each meeting's digest is drawn: a daily plan per community, one durable job per meeting.

Meetings emit no hook when one is scheduled, moved or cancelled, so the digest plans the way
"before" check-ins do (`reflections.rounds`): the ``digest.plan`` job (job id
``digest-plan:{community_id}``) looks at the community's next meetings once a day and makes
sure each has its ``digest.post`` job (job id ``digest:{meeting_id}``, one per meeting, so a
second plan only moves it) at the chosen offset before the meeting starts. The plan starts (or
runs again at once) when a facilitator changes the settings, when someone asks for the digest,
when a meeting's reminder goes out, a meeting starts or ends, or a vote chooses a topic; the
reconciler starts it after a restart for any community with meetings ahead and no plan.

The post job checks the meeting again when it runs: a cancelled or past meeting gets no digest,
one moved later gets its job moved to the new time, and one whose `Digest` row exists (drawn
already) gets nothing more, so a digest is never posted twice, whichever job runs twice. A
meeting moved earlier is found by the next daily plan (its digest goes out then if its time
has passed, still before the meeting).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context, Services, background, channel_of
from bot.features.digest.draw import digest_message, draw, since_for
from bot.hooks import (
    MeetingEnded,
    MeetingReminded,
    MeetingsChanged,
    MeetingStarted,
    TopicChosen,
)
from bot.i18n import translator
from storage.digest import DEFAULT_OFFSET_MINUTES, Digest, DigestSettings
from storage.meetings import Meeting, MeetingSeries
from storage.models import Community, Job, JobStatus

log = logging.getLogger(__name__)

PLAN_KIND, POST_KIND = "digest.plan", "digest.post"
PLAN_EVERY = timedelta(days=1)  # a moved meeting is found within a day at the latest
PLAN_AHEAD = 3  # meetings planned ahead per community
EARLY = timedelta(minutes=1)  # a post job this early is still on time
LATE = timedelta(minutes=30)  # a digest posted this long after its time says so
RECONCILE_BATCH = 200


def plan_job(community_id: int) -> str:
    return f"digest-plan:{community_id}"


def post_job(meeting_id: int) -> str:
    return f"digest:{meeting_id}"


def post_key(meeting_id: int) -> str:
    """The outbox key of a meeting's digest post: one per meeting, whatever runs twice."""
    return f"digest:{meeting_id}"


async def settings_of(ctx: Context, community_id: int) -> DigestSettings:
    """The community's digest settings (the defaults when it has no row)."""
    row = await ctx.session.get(DigestSettings, community_id)
    return row or DigestSettings(community_id=community_id, offset_minutes=DEFAULT_OFFSET_MINUTES)


def digest_time(meeting: Meeting, zone: str, offset_minutes: int) -> datetime:
    """When the digest before `meeting` goes out: whole days before keep the wall-clock time
    in the meeting's zone (a digest three days before a 16:00 meeting goes out at 16:00, also
    across a change of summer time); the hours that remain are counted as they pass."""
    days, minutes = divmod(offset_minutes, 24 * 60)
    local = meeting.starts_at.astimezone(ZoneInfo(zone))
    # Aware arithmetic with a ZoneInfo is wall-clock arithmetic: the offset is looked up anew.
    return (local - timedelta(days=days)).astimezone(UTC) - timedelta(minutes=minutes)


async def _upcoming(ctx: Context, community_id: int) -> list[tuple[Meeting, MeetingSeries]]:
    rows = await ctx.session.execute(
        select(Meeting, MeetingSeries)
        .join(MeetingSeries, col(MeetingSeries.id) == col(Meeting.series_id))
        .where(
            col(Meeting.community_id) == community_id,
            col(Meeting.status) == "scheduled",
            col(Meeting.starts_at) > ctx.now,
        )
        .order_by(col(Meeting.starts_at))
        .limit(PLAN_AHEAD)
    )
    return [(m, s) for m, s in rows.all()]


async def _post_jobs(ctx: Context, community_id: int) -> set[str]:
    """The community's waiting digest post jobs."""
    rows = await ctx.session.execute(
        select(col(Job.id)).where(
            col(Job.community_id) == community_id,
            col(Job.kind) == POST_KIND,
            col(Job.status) == JobStatus.PENDING,
        )
    )
    return set(rows.scalars())


async def _drawn(ctx: Context, community_id: int, meeting_ids: list[int]) -> set[int]:
    if not meeting_ids:
        return set()
    rows = await ctx.session.execute(
        select(col(Digest.meeting_id)).where(
            col(Digest.community_id) == community_id, col(Digest.meeting_id).in_(meeting_ids)
        )
    )
    return {m for m in rows.scalars() if m is not None}


async def plan(ctx: Context, community_id: int) -> datetime | None:
    """Make sure each of the community's next meetings has its digest job at the right time
    (or none, when the digest is off); returns when the next digest is due, if any."""
    settings = await settings_of(ctx, community_id)
    upcoming = await _upcoming(ctx, community_id)
    drawn = await _drawn(ctx, community_id, [m.id for m, _ in upcoming])
    # A meeting cancelled, deleted with its series or moved out of reach keeps no digest job.
    wanted = {post_job(m.id) for m, _ in upcoming}
    for stale in await _post_jobs(ctx, community_id) - wanted:
        await ctx.schedule.cancel(stale)
    if not upcoming:
        await ctx.schedule.cancel(plan_job(community_id))
    first: datetime | None = None
    for meeting, series in upcoming:
        job = post_job(meeting.id)
        if meeting.id in drawn:
            continue
        if not settings.enabled:
            await ctx.schedule.cancel(job)
            continue
        due = max(digest_time(meeting, series.tz, settings.offset_minutes), ctx.now)
        if await ctx.schedule.next_run(job) != due:
            await ctx.schedule.at(job, due, POST_KIND, [meeting.id], community_id=community_id)
        first = due if first is None else min(first, due)
    if upcoming:
        await ctx.schedule.at(
            plan_job(community_id),
            ctx.now + PLAN_EVERY,
            PLAN_KIND,
            [community_id],
            community_id=community_id,
        )
    return first


async def make_sure_planned(ctx: Context, community_id: int) -> None:
    """Plan now unless the community's daily plan is already waiting."""
    if await ctx.schedule.next_run(plan_job(community_id)) is None:
        await plan(ctx, community_id)


async def plan_job_run(ctx: Context, community_id: int) -> None:
    """The ``digest.plan`` job."""
    if await ctx.session.get(Community, int(community_id)) is not None:
        await plan(ctx, int(community_id))


async def post(ctx: Context, meeting_id: int) -> None:
    """The ``digest.post`` job: draw the digest before one meeting and post it when anything
    in it is new (see the module docstring for what it checks first)."""
    meeting = await ctx.session.get(Meeting, int(meeting_id), with_for_update=True)
    if meeting is None:
        return
    community = await ctx.session.get(Community, meeting.community_id)
    series = await ctx.session.get(MeetingSeries, meeting.series_id)
    if community is None or series is None:
        return
    if meeting.status != "scheduled" or meeting.starts_at <= ctx.now:
        log.info("digest for meeting %s skipped: cancelled or past", meeting.id)
        return
    if await _drawn(ctx, community.id, [meeting.id]):
        return
    settings = await settings_of(ctx, community.id)
    if not settings.enabled:
        return
    due = digest_time(meeting, series.tz, settings.offset_minutes)
    if due > ctx.now + EARLY:  # the meeting moved later (or the offset shrank): so does this
        await ctx.schedule.at(
            post_job(meeting.id), due, POST_KIND, [meeting.id], community_id=community.id
        )
        log.info("digest for meeting %s follows it: due %s", meeting.id, due.isoformat())
        return
    since = await since_for(ctx, community)
    t = translator(community.language)
    drawn = await draw(ctx, community, meeting.id, since, ctx.now, t.lang)
    row = Digest(
        community_id=community.id,
        meeting_id=meeting.id,
        status="empty",
        since=since,
        until=ctx.now,
        created_at=ctx.now,
    )
    if drawn.news:
        row.status, row.post_key = "posted", post_key(meeting.id)
        await ctx.outbox.enqueue(
            key=row.post_key,
            to=channel_of(community),
            message=digest_message(
                t, community, drawn, since, meeting, series, late=ctx.now - due > LATE
            ),
            community_id=community.id,
        )
    ctx.session.add(row)
    log.info("digest for meeting %s: %s (%d news blocks)", meeting.id, row.status, len(drawn.news))


# -- what starts the plan -----------------------------------------------------------------------


async def on_meetings_changed(ctx: Context, changed: MeetingsChanged) -> None:
    """A series made or edited, a meeting moved: the digests follow at once."""
    await plan(ctx, changed.community_id)


async def on_reminder(ctx: Context, reminded: MeetingReminded) -> None:
    await make_sure_planned(ctx, reminded.community_id)


async def on_start(ctx: Context, started: MeetingStarted) -> None:
    await make_sure_planned(ctx, started.community_id)


async def on_end(ctx: Context, ended: MeetingEnded) -> None:
    await make_sure_planned(ctx, ended.community_id)


async def on_topic(ctx: Context, chosen: TopicChosen) -> None:
    await make_sure_planned(ctx, chosen.community_id)


async def reconcile(services: Services) -> None:
    """After start: a community with meetings ahead and no waiting plan gets one (after an
    upgrade, or a plan job that failed for good). Idempotent; one community per transaction."""
    last_id, repaired = 0, 0
    while True:
        async with background(services) as ctx:
            ids = list(
                (
                    await ctx.session.execute(
                        select(col(Meeting.community_id))
                        .where(
                            col(Meeting.community_id) > last_id,
                            col(Meeting.status) == "scheduled",
                            col(Meeting.starts_at) > ctx.now,
                        )
                        .group_by(col(Meeting.community_id))
                        .order_by(col(Meeting.community_id))
                        .limit(RECONCILE_BATCH)
                    )
                ).scalars()
            )
            have = await ctx.schedule.exists([plan_job(i) for i in ids])
        if not ids:
            break
        last_id = ids[-1]
        for community_id in ids:
            if plan_job(community_id) in have:
                continue
            async with background(services) as ctx:
                await plan(ctx, community_id)
                repaired += 1
    if repaired:
        log.info("digest: planned %d communities", repaired)
