"""When prompts are posted: the schedule (the meetings' grammar, `bot.schedule`), pauses
around holidays, and the one durable job per community that posts at the next occurrence.

The job ``prompts.post:{community}`` always holds the next occurrence the community wants a
prompt at (none while paused or unscheduled); each run posts once for its occurrence and
writes the job for the following one in the same transaction. A run much later than its
occurrence (the bot was down for a day) posts nothing for it and moves on.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context, Services, UserError, background
from bot.features.conversation.prompts import listed, post, settings_of, tell_facilitators
from bot.schedule import Schedule, ScheduleError, parse_schedule
from bot.text import in_range
from bot.ui import Message
from storage.conversation import PromptSettings
from storage.models import Community

log = logging.getLogger(__name__)

POST_KIND = "prompts.post"
TOO_LATE = timedelta(hours=12)  # a prompt later than this after its time is skipped
#: `paused_until` of a pause with no end date ("until resumed").
INDEFINITE = datetime(9000, 1, 1, tzinfo=UTC)


def post_job(community_id: int) -> str:
    return f"prompts.post:{community_id}"


# "every other Wednesday at 12:00", as facilitators say it, is the grammar's "every other
# week on Wednesday at 12:00".
_EVERY_OTHER_DAY = re.compile(r"^every\s+other\s+(?!week\b)", re.IGNORECASE)


def read_schedule(text: str, tz: str) -> Schedule:
    """`bot.schedule.parse_schedule`, also taking "every other DAY"."""
    return parse_schedule(_EVERY_OTHER_DAY.sub("every other week on ", text.strip()), tz)


def schedule_of(settings: PromptSettings) -> Schedule | None:
    if settings.schedule is None:
        return None
    try:
        return read_schedule(settings.schedule, settings.tz)
    except ScheduleError:
        log.warning("community %s: its prompt schedule no longer reads", settings.community_id)
        return None


def paused(settings: PromptSettings, now: datetime) -> bool:
    return settings.paused_until is not None and settings.paused_until > now


async def plan(
    ctx: Context, settings: PromptSettings, after: datetime | None = None
) -> datetime | None:
    """Write (or cancel) the job for the next occurrence after `after` (now) that is not
    paused; returns its time."""
    job_id = post_job(settings.community_id)
    schedule = schedule_of(settings)
    start = max(after or ctx.now, ctx.now)
    if settings.paused_until is not None and settings.paused_until > start:
        if settings.paused_until >= INDEFINITE:
            schedule = None
        start = settings.paused_until - timedelta(microseconds=1)
    found = schedule.occurrences(start, 1) if schedule is not None else []
    if not found:
        await ctx.schedule.cancel(job_id)
        return None
    await ctx.schedule.at(
        job_id,
        found[0],
        POST_KIND,
        [settings.community_id, found[0].isoformat()],
        community_id=settings.community_id,
    )
    return found[0]


def parse_schedule_for(ctx: Context, text: str, tz: str) -> Schedule:
    try:
        schedule = read_schedule(text, tz)
    except ScheduleError as err:
        raise UserError(ctx.t(err.key, **err.values)) from None
    if not schedule.occurrences(ctx.now, 1):
        raise UserError(ctx.t("schedule.never"))
    return schedule


def parse_until(ctx: Context, raw: str, tz: str) -> datetime:
    """The start of day `raw` (YYYY-MM-DD) in `tz`, which must be a day after today there."""
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None or not in_range(day):
        raise UserError(ctx.t("conversation.bad_until", until=raw[:40]))
    zone = ZoneInfo(tz)
    if day <= ctx.now.astimezone(zone).date():
        raise UserError(ctx.t("conversation.past_until", until=day.isoformat()))
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


async def run_post(ctx: Context, community_id: int | str, at: str) -> None:
    """The ``prompts.post`` job: the next prompt for occurrence `at`, then the next job."""
    community = await ctx.session.get(Community, int(community_id))
    settings = await ctx.session.get(PromptSettings, int(community_id), with_for_update=True)
    if community is None or settings is None or settings.schedule is None:
        return
    occurrence = datetime.fromisoformat(at)
    if paused(settings, occurrence):
        log.info("community %s: prompts paused; nothing posted", community.id)
    elif ctx.now - occurrence > TOO_LATE:
        log.warning("community %s: prompt of %s skipped, too late", community.id, at)
    elif await post(ctx, community, settings, occurrence) is None:
        assert community.id is not None
        if not await listed(ctx, community.id) and not settings.told_empty:
            settings.told_empty = True
            ctx.session.add(settings)
            name = community.name
            await tell_facilitators(
                ctx,
                community,
                f"prompts:{community.id}:empty:{int(occurrence.timestamp())}",
                lambda t: Message(text=t("conversation.empty_told", community=name)),
            )
            log.info("community %s: prompt list empty at a scheduled time", community.id)
    await plan(ctx, settings, occurrence)


async def reconcile(services: Services) -> None:
    """After start: a community whose prompts are scheduled but has no post job (say, an
    operator removed it) gets one for its next occurrence (idempotent; a failed job is left
    for the operator to see and retry)."""
    async with background(services) as ctx:
        ids = list(
            (
                await ctx.session.execute(
                    select(col(PromptSettings.community_id)).where(
                        col(PromptSettings.schedule).is_not(None)
                    )
                )
            ).scalars()
        )
        have = await ctx.schedule.exists([post_job(i) for i in ids])
    for community_id in ids:
        if post_job(community_id) in have:
            continue
        async with background(services) as ctx:
            settings = await ctx.session.get(PromptSettings, community_id, with_for_update=True)
            if settings is None or await ctx.schedule.exists([post_job(community_id)]):
                continue
            ctx.community = await ctx.session.get(Community, community_id)
            when = await plan(ctx, settings)
            log.info("community %s: prompt job restored (%s)", community_id, when)
        await asyncio.sleep(0)


async def settings_for(ctx: Context) -> tuple[Community, PromptSettings]:
    community = ctx.require_community()
    return community, await settings_of(ctx, community, lock=True)
