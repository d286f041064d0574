"""Retention: reflection text older than a community's chosen number of months is deleted.

`/cop checkins retention 12` (facilitator) sets `Checkin.retention_months` on every
check-in of the community (``off`` clears it) and keeps one job per community,
``reflections.retention:{community}``, which runs daily at `RUN_AT` in the community's
zone while any of its check-ins has a retention: it deletes the answers and commitments of
rounds that closed more than N months ago. The rounds keep their counts (asked, answered),
and deliveries stay, so response rates over time do not change. The job re-plans itself
before it returns, and `reconcile` repairs a missing one after start.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.context import Context, Services, UserError, background
from bot.events import Reply, Respond
from bot.ui import Message
from storage.models import Community
from storage.reflections import Checkin, CheckinAnswer, CheckinCommitment, CheckinRound

log = logging.getLogger(__name__)

MAX_MONTHS = 120
RUN_AT = time(3, 0)  # local night: the sweep runs while nobody is answering


def job_id(community_id: int) -> str:
    return f"reflections.retention:{community_id}"


def months_before(now: datetime, months: int) -> datetime:
    """`now` moved back `months` calendar months (31 March - 1 month is 28/29 February)."""
    years, index = divmod(now.month - 1 - months, 12)
    year, month = now.year + years, index + 1
    return now.replace(
        year=year, month=month, day=min(now.day, calendar.monthrange(year, month)[1])
    )


def next_run(now: datetime, zone: str) -> datetime:
    """The next `RUN_AT` in the community's zone, strictly after `now`."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), RUN_AT, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), RUN_AT, tzinfo=tz)
    return candidate.astimezone(now.tzinfo)


async def community_retention(session: AsyncSession, community_id: int) -> int | None:
    """The community's retention (months) as its newest check-in holds it, for new check-ins."""
    return (
        await session.execute(
            select(col(Checkin.retention_months))
            .where(col(Checkin.community_id) == community_id)
            .order_by(col(Checkin.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def set_retention(ctx: Context) -> Reply:
    """``/cop checkins retention MONTHS|off``."""
    community = ctx.require_community()
    raw = (ctx.params.get("months") or "").strip().lower()
    months: int | None
    if raw == "off":
        months = None
    elif raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_MONTHS:
        months = int(raw)
    else:
        raise UserError(ctx.t("reflections.member.bad_retention", value=raw[:40], max=MAX_MONTHS))
    checkins = list(
        (
            await ctx.session.execute(
                select(Checkin).where(col(Checkin.community_id) == community.id)
            )
        ).scalars()
    )
    if not checkins:
        raise UserError(ctx.t("reflections.member.retention_no_checkin"))
    for checkin in checkins:
        checkin.retention_months = months
        ctx.session.add(checkin)
    if months is None:
        await ctx.schedule.cancel(job_id(community.id))
        text = ctx.t("reflections.member.retention_off")
    else:
        await ctx.schedule.at(
            job_id(community.id),
            next_run(ctx.now, community.timezone),
            "reflections.retention",
            [community.id],
            community_id=community.id,
        )
        text = ctx.t("reflections.member.retention_set", months=months)
    log.info("community %s: retention %s", community.id, months)
    return Respond(Message(text=text), private=True)


async def retention_job(ctx: Context, community_id: int) -> None:
    """The ``reflections.retention`` job: delete text past each check-in's retention."""
    community = await ctx.session.get(Community, int(community_id))
    if community is None:
        return
    kept = list(
        (
            await ctx.session.execute(
                select(Checkin).where(
                    col(Checkin.community_id) == community.id,
                    col(Checkin.retention_months).is_not(None),
                )
            )
        ).scalars()
    )
    answers = commitments = 0
    for checkin in kept:
        assert checkin.retention_months is not None
        cutoff = months_before(ctx.now, checkin.retention_months)
        old_rounds = (
            select(col(CheckinRound.id))
            .where(
                col(CheckinRound.community_id) == community.id,
                col(CheckinRound.checkin_id) == checkin.id,
                col(CheckinRound.closes_at) < cutoff,
            )
            .scalar_subquery()
        )
        answers += await _count_delete(ctx, CheckinAnswer, community.id, old_rounds)
        commitments += await _count_delete(ctx, CheckinCommitment, community.id, old_rounds)
    if kept:
        await ctx.schedule.at(
            job_id(community.id),
            next_run(ctx.now, community.timezone),
            "reflections.retention",
            [community.id],
            community_id=community.id,
        )
    log.info(
        "community %s: retention deleted %d answers and %d commitments",
        community.id,
        answers,
        commitments,
    )


async def _count_delete(
    ctx: Context,
    model: type[CheckinAnswer] | type[CheckinCommitment],
    community_id: int,
    rounds: object,
) -> int:
    where = (col(model.community_id) == community_id, col(model.round_id).in_(rounds))  # type: ignore[arg-type]
    n = await ctx.session.scalar(select(func.count()).select_from(model).where(*where))
    if n:
        await ctx.session.execute(delete(model).where(*where))
    return int(n or 0)


async def reconcile(services: Services) -> None:
    """After start: a community with a retention but no sweep job gets one (idempotent)."""
    async with background(services) as ctx:
        ids = sorted(
            set(
                (
                    await ctx.session.execute(
                        select(col(Checkin.community_id)).where(
                            col(Checkin.retention_months).is_not(None)
                        )
                    )
                ).scalars()
            )
        )
        have = await ctx.schedule.exists([job_id(i) for i in ids])
    for community_id in ids:
        if job_id(community_id) in have:
            continue
        async with background(services) as ctx:
            community = await ctx.session.get(Community, community_id)
            if community is None or await ctx.schedule.exists([job_id(community_id)]):
                continue
            await ctx.schedule.at(
                job_id(community_id),
                next_run(ctx.now, community.timezone),
                "reflections.retention",
                [community_id],
                community_id=community_id,
            )
        await asyncio.sleep(0)
