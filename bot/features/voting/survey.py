"""The annual interest survey: members rate the focus areas a facilitator keeps, propose new
ones, and the best-rated areas go to the topic backlog, compared with last year's survey.

A facilitator keeps the list (``/cop survey areas add|remove|list``) and a plan: a schedule
such as "every September" (a small yearly grammar turned into an RRULE that
`bot.schedule.parse_schedule` reads, or anything that grammar reads itself), how many days a
survey stays open and how many areas go to the backlog. A survey freezes the list when it
opens and posts it with buttons; each button opens a form of at most `PAGE` areas with one
0-5 select each. Closing counts score voting (`tally.count_totals`): areas rank by total,
tied areas share a place (said in the result), the areas within the top places go to the
backlog once ever (`SurveyArea.topic_id`), and each area is compared with the previous survey.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.commands import Command, Param, Role
from bot.context import Context, Services, UserError, background, channel_of, require
from bot.events import FormErrors, FormSubmitted, OpenForm, Reply, Respond, UserRef
from bot.features.voting.tally import Method, count_totals
from bot.hooks import DigestSections, MemberErasing, SurveyStarted, SurveyWanted
from bot.i18n import Translator, translator
from bot.languages import member_t
from bot.schedule import ScheduleError, parse_schedule
from bot.text import clean, parse_id
from bot.time_words import schedule_words
from bot.ui import (
    ActionId,
    Actions,
    Block,
    Button,
    Form,
    Input,
    Message,
    Option,
    Section,
    Time,
    check_form,
    plain,
)
from storage.models import Community, Member
from storage.survey import (
    AreaStatus,
    ProposalStatus,
    Survey,
    SurveyArea,
    SurveyItem,
    SurveyPlan,
    SurveyProposal,
    SurveyRating,
    SurveyStatus,
)
from storage.voting import Topic

log = logging.getLogger(__name__)

LOW, HIGH = 0, 5  # a rating: 0 "not for us" to 5 "we need it most" (score voting's range)
# Areas per rating form: the smallest modal a platform offers holds 5 components (Discord's
# modal limit; Slack's 100 blocks would take all of them), so a longer list is split into
# forms of 5, one button each.
PAGE = 5
MAX_AREAS = 20  # 4 forms of 5 and the propose button: 5 buttons, one row on every platform
MAX_TITLE = 100
MAX_PROPOSALS = 5  # new areas one member may propose in one survey
MAX_DAYS = 90
MAX_TOP = 10
DEFAULT_TIME = "12:00"
OPEN_KIND, CLOSE_KIND = "survey.open", "survey.close"
BACKLOG_STATUSES = ("proposed", "voting", "backlog")  # topics still waiting to be discussed

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_YEARLY = re.compile(
    r"(?:every|each|yearly\s+in|annually\s+in|every\s+year\s+in)\s+(?P<month>[a-z]+)"
    r"(?:\s+(?:on\s+)?(?:the\s+)?(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?)?"
    r"(?:\s+at\s+(?P<at>.+))?"
)
_STORED_YEARLY = re.compile(r"RRULE:FREQ=YEARLY;BYMONTH=(\d+);BYMONTHDAY=(\d+) at (\S+)")


def open_job_id(community_id: int) -> str:
    return f"survey-open:{community_id}"


def close_job_id(survey_id: int) -> str:
    return f"survey-close:{survey_id}"


# -- queries ----------------------------------------------------------------------------------


async def plan_of(session: AsyncSession, community_id: int) -> SurveyPlan | None:
    return (
        await session.execute(
            select(SurveyPlan).where(col(SurveyPlan.community_id) == community_id)
        )
    ).scalar_one_or_none()


async def active_areas(session: AsyncSession, community_id: int) -> list[SurveyArea]:
    rows = await session.execute(
        select(SurveyArea)
        .where(
            col(SurveyArea.community_id) == community_id,
            col(SurveyArea.status) == AreaStatus.ACTIVE,
        )
        .order_by(col(SurveyArea.number))
    )
    return list(rows.scalars())


async def open_survey(session: AsyncSession, community_id: int) -> Survey | None:
    return (
        await session.execute(
            select(Survey)
            .where(col(Survey.community_id) == community_id, col(Survey.status) == "open")
            .order_by(col(Survey.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def items_of(session: AsyncSession, survey: Survey) -> list[SurveyItem]:
    rows = await session.execute(
        select(SurveyItem)
        .where(
            col(SurveyItem.community_id) == survey.community_id,
            col(SurveyItem.survey_id) == survey.id,
        )
        .order_by(col(SurveyItem.position))
    )
    return list(rows.scalars())


async def closed_before(session: AsyncSession, survey: Survey) -> Survey | None:
    """The community's last closed survey before `survey`: the one results compare with."""
    return (
        await session.execute(
            select(Survey)
            .where(
                col(Survey.community_id) == survey.community_id,
                col(Survey.status) == SurveyStatus.CLOSED,
                col(Survey.number) < survey.number,
            )
            .order_by(col(Survey.number).desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def proposals_of(session: AsyncSession, community_id: int) -> list[SurveyProposal]:
    rows = await session.execute(
        select(SurveyProposal)
        .where(
            col(SurveyProposal.community_id) == community_id,
            col(SurveyProposal.status) == ProposalStatus.NEW,
        )
        .order_by(col(SurveyProposal.id))
    )
    return list(rows.scalars())


def year_of(survey: Survey, zone: str) -> int:
    return survey.opened_at.astimezone(ZoneInfo(zone)).year


# -- the schedule -----------------------------------------------------------------------------


def read_schedule(t: Translator, text: str, params: dict[str, str], tz: str) -> str:
    """What the plan stores for `bot.schedule.parse_schedule`, or a one-sentence refusal.

    ``every September [on the 1st] [at 9:00]`` and ``month=9 [day=1] [at=9:00]`` become a
    yearly RRULE (the 1st at 12:00 unless said); anything else is read as a meeting schedule.
    """
    keyed = [k for k in ("month", "day", "at") if params.get(k)]
    if keyed and text:
        raise UserError(t("survey.refuse.schedule_twice"))
    if keyed:
        if not params.get("month"):
            raise UserError(t("survey.refuse.month_needed"))
        month, day, at = int(params["month"]), params.get("day") or "1", params.get("at") or ""
    elif m := _YEARLY.fullmatch(schedule_words(text)):  # Spanish too: "cada septiembre"
        if m["month"] not in _MONTHS:
            raise UserError(t("survey.refuse.month_name", month=m["month"][:20]))
        month, day, at = _MONTHS[m["month"]], m["day"] or "1", m["at"] or ""
    else:
        _check(t, text, tz)
        return text
    if not 1 <= month <= 12:
        raise UserError(t("survey.refuse.month", month=month))
    if not 1 <= int(day) <= 31:
        raise UserError(t("survey.refuse.day", day=day))
    rule = f"RRULE:FREQ=YEARLY;BYMONTH={month};BYMONTHDAY={int(day)} at {at or DEFAULT_TIME}"
    _check(t, rule, tz)
    return rule


def _check(t: Translator, text: str, tz: str) -> None:
    try:
        parse_schedule(text, tz)
    except ScheduleError as err:
        raise UserError(t(err.key, **err.values)) from None


def describe(t: Translator, plan: SurveyPlan) -> str:
    if not plan.schedule:
        return t("survey.schedule.none")
    m = _STORED_YEARLY.fullmatch(plan.schedule)
    if m:
        month = calendar.month_name[int(m[1])]
        return t("survey.schedule.yearly", day=int(m[2]), month=month, time=m[3], zone=plan.tz)
    return t("survey.schedule.custom", schedule=plan.schedule, zone=plan.tz)


def next_opening(plan: SurveyPlan, after: datetime) -> datetime | None:
    if not plan.schedule:
        return None
    try:
        found = parse_schedule(plan.schedule, plan.tz).occurrences(after, 1)
    except ScheduleError:
        log.warning("survey plan %s: its schedule no longer reads", plan.id)
        return None
    return found[0] if found else None


async def arm(ctx: Context, plan: SurveyPlan, after: datetime) -> datetime | None:
    """(Re)write the plan's one opening job for its next occurrence after `after`."""
    when = next_opening(plan, after)
    if when is None:
        await ctx.schedule.cancel(open_job_id(plan.community_id))
        return None
    await ctx.schedule.at(
        open_job_id(plan.community_id),
        when,
        OPEN_KIND,
        [plan.community_id],
        community_id=plan.community_id,
    )
    return when


# -- rendering --------------------------------------------------------------------------------


def _timed(template: str, at: Time) -> tuple[Section, str]:
    """A catalog sentence whose ``{when}`` is a `Time`: the block and its plain text."""
    before, _, after = template.partition("\x00")
    parts: list[str | Time] = [p for p in (before, at, after) if p != ""]
    return Section(parts=parts), plain(parts)


def rate_buttons(t: Translator, survey: Survey, count: int) -> Actions:
    pages = max(1, -(-count // PAGE))
    buttons = []
    for page in range(1, pages + 1):
        first, last = (page - 1) * PAGE + 1, min(page * PAGE, count)
        if pages == 1:
            label = t("survey.button.rate")
        elif first == last:
            label = t("survey.button.rate_one", first=first)
        else:
            label = t("survey.button.rate_page", first=first, last=last)
        buttons.append(
            Button(action=ActionId("survey", "rate", survey.id, page), label=label, style="primary")
        )
    buttons.append(
        Button(action=ActionId("survey", "propose", survey.id), label=t("survey.button.propose"))
    )
    return Actions(elements=buttons)


def survey_post(
    t: Translator, community: Community, survey: Survey, items: Sequence[SurveyItem]
) -> Message:
    year = year_of(survey, community.timezone)
    if survey.status == SurveyStatus.CLOSED:
        text = t("survey.post.closed", year=year)
        return Message(text=text, blocks=[Section.of(text)])
    head = t("survey.post.open", year=year, name=community.name, count=len(items))
    how = t("survey.post.how", low=LOW, high=HIGH)
    listing = "\n".join(f"{i.position}. {i.title}" for i in items)
    until, until_text = _timed(
        t("survey.post.until", when="\x00"),
        Time(at=survey.closes_at, zone=community.timezone),
    )
    text = "\n".join([head, how, listing, until_text])
    blocks: list[Block] = [
        Section.of(head),
        Section.of(how),
        Section.of(listing),
        until,
        rate_buttons(t, survey, len(items)),
    ]
    return Message(text=text, blocks=blocks)


def _average(total: int | None, ratings: int | None) -> float:
    return (total or 0) / ratings if ratings else 0.0


def result_lines(
    t: Translator,
    items: Sequence[SurveyItem],
    previous: Sequence[SurveyItem] | None,
    previous_year: int | None,
) -> list[str]:
    """One line per area, best first, with its change since the previous survey."""
    before = {i.area_id: i for i in previous or () if i.area_id is not None}
    lines = []
    for item in sorted(items, key=lambda i: (i.rank or 0, i.position)):
        average = _average(item.total, item.ratings)
        line = t(
            "survey.result.line" if item.ratings else "survey.result.unrated",
            rank=item.rank,
            title=item.title,
            total=item.total or 0,
            ratings=item.ratings or 0,
            average=f"{average:.1f}",
        )
        if previous is not None:
            was = before.get(item.area_id) if item.area_id is not None else None
            if was is None:
                line += " " + t("survey.result.new")
            else:
                moved = (was.rank or 0) - (item.rank or 0)
                key = "up" if moved > 0 else "down" if moved < 0 else "same"
                line += " " + t(
                    f"survey.result.{key}",
                    places=abs(moved),
                    was=was.rank,
                    year=previous_year,
                    before=f"{_average(was.total, was.ratings):.1f}",
                    average=f"{average:.1f}",
                )
        lines.append(line)
    return lines


def tie_lines(t: Translator, items: Sequence[SurveyItem]) -> list[str]:
    by_rank: dict[int, list[SurveyItem]] = {}
    for item in items:
        by_rank.setdefault(item.rank or 0, []).append(item)
    lines = []
    for rank, tied in sorted(by_rank.items()):
        if len(tied) > 1:
            names = ", ".join(i.title for i in sorted(tied, key=lambda i: i.position))
            lines.append(t("survey.result.tie", areas=names, points=tied[0].total or 0, rank=rank))
    return lines


# -- the list of areas ------------------------------------------------------------------------


async def _next_number(session: AsyncSession, model: type[SurveyArea], community_id: int) -> int:
    last = await session.scalar(
        select(func.max(col(model.number))).where(col(model.community_id) == community_id)
    )
    return (last or 0) + 1


async def add_area(ctx: Context, title: str) -> SurveyArea:
    community = ctx.require_community()
    title = clean(title)
    if not title:
        raise UserError(ctx.t("survey.refuse.no_title"))
    if len(title) > MAX_TITLE:
        raise UserError(ctx.t("core.parse.too_long", name="area", max=MAX_TITLE))
    areas = await active_areas(ctx.session, community.id)
    for area in areas:
        if area.title.casefold() == title.casefold():
            raise UserError(ctx.t("survey.refuse.area_twice", number=area.number, title=area.title))
    if len(areas) >= MAX_AREAS:
        raise UserError(ctx.t("survey.refuse.too_many", max=MAX_AREAS))
    area = SurveyArea(
        community_id=community.id,
        number=await _next_number(ctx.session, SurveyArea, community.id),
        title=title,
        created_by=ctx.actor.user.user_id,
        created_at=ctx.now,
    )
    ctx.session.add(area)
    await ctx.session.flush()
    log.info("survey area %s added in community %s", area.id, community.id)
    return area


async def _added(ctx: Context, area: SurveyArea) -> Reply:
    said = ctx.t("survey.areas.added", number=area.number, title=area.title)
    if await open_survey(ctx.session, area.community_id) is not None:
        said += " " + ctx.t("survey.areas.next_survey")
    return Respond(Message(text=said))


async def areas_command(ctx: Context) -> Reply:
    verb = ctx.params.get("verb") or "list"
    if verb == "list":
        return await list_areas(ctx)
    require(ctx, Role.FACILITATOR)
    community = ctx.require_community()
    text = ctx.params.get("area", "")
    if verb == "add":
        return await _added(ctx, await add_area(ctx, text))
    number = parse_id(text)
    found = None
    if number is not None:
        found = (
            await ctx.session.execute(
                select(SurveyArea).where(
                    col(SurveyArea.community_id) == community.id,
                    col(SurveyArea.number) == number,
                    col(SurveyArea.status) == AreaStatus.ACTIVE,
                )
            )
        ).scalar_one_or_none()
    if found is None:
        raise UserError(ctx.t("survey.refuse.no_area", number=text[:20] or "?"))
    area = found
    area.status = AreaStatus.REMOVED
    ctx.session.add(area)
    log.info("survey area %s removed in community %s", area.id, community.id)
    return Respond(
        Message(text=ctx.t("survey.areas.removed", number=area.number, title=area.title))
    )


async def list_areas(ctx: Context) -> Reply:
    community = ctx.require_community()
    areas = await active_areas(ctx.session, community.id)
    lines = [ctx.t("survey.areas.head", name=community.name)]
    lines += [ctx.t("survey.areas.line", number=a.number, title=a.title) for a in areas]
    if not areas:
        lines.append(ctx.t("survey.areas.empty"))
    plan = await plan_of(ctx.session, community.id)
    if plan is not None:
        lines.append(describe(ctx.t, plan))
    survey = await open_survey(ctx.session, community.id)
    if survey is not None:
        lines.append(ctx.t("survey.areas.open", number=survey.number))
    if ctx.role() >= Role.FACILITATOR:
        waiting = await proposals_of(ctx.session, community.id)
        if waiting:
            lines.append(ctx.t("survey.areas.proposals"))
            lines += [
                ctx.t("survey.areas.proposal", id=p.id, title=p.title, proposer=p.proposer_name)
                for p in waiting
            ]
    text = "\n".join(lines)
    return Respond(Message(text=text, blocks=[Section.of(text)]))


# -- the plan ---------------------------------------------------------------------------------


async def _plan(ctx: Context) -> SurveyPlan:
    community = ctx.require_community()
    plan = await plan_of(ctx.session, community.id)
    if plan is None:
        plan = SurveyPlan(
            community_id=community.id,
            tz=community.timezone,
            created_by=ctx.actor.user.user_id,
            updated_at=ctx.now,
        )
    return plan


def _bounded(ctx: Context, name: str, low: int, high: int) -> int | None:
    raw = ctx.params.get(name)
    if not raw:
        return None
    value = int(raw)
    if not low <= value <= high:
        raise UserError(ctx.t("survey.refuse.bounds", name=name, low=low, high=high))
    return value


async def schedule_command(ctx: Context) -> Reply:
    community = ctx.require_community()
    plan = await _plan(ctx)
    days = _bounded(ctx, "days", 1, MAX_DAYS)
    top = _bounded(ctx, "top", 1, MAX_TOP)
    text = ctx.params.get("when", "")
    given = any(ctx.params.get(k) for k in ("when", "month", "day", "at", "days", "top"))
    if not given:
        return Respond(
            Message(text=describe(ctx.t, plan) if plan.id else ctx.t("survey.schedule.none"))
        )
    plan.tz = community.timezone
    if text.strip().lower() == "off":
        plan.schedule = None
    elif text or any(ctx.params.get(k) for k in ("month", "day", "at")):
        plan.schedule = read_schedule(ctx.t, text, ctx.params, community.timezone)
    if days is not None:
        plan.open_days = days
    if top is not None:
        plan.top = top
    plan.created_by = ctx.actor.user.user_id
    plan.updated_at = ctx.now
    ctx.session.add(plan)
    await ctx.session.flush()
    when = await arm(ctx, plan, ctx.now)
    said = [
        describe(ctx.t, plan),
        ctx.t("survey.schedule.terms", days=plan.open_days, top=plan.top),
    ]
    if when is not None:
        _, next_text = _timed(
            ctx.t("survey.schedule.next", when="\x00"), Time(at=when, zone=community.timezone)
        )
        said.append(next_text)
    log.info("survey plan of community %s set", community.id)
    return Respond(Message(text="\n".join(said)))


# -- opening and closing ----------------------------------------------------------------------


async def start_survey(
    ctx: Context,
    community: Community,
    *,
    opened_by: str,
    days: int,
    top: int,
    scheduled_for: datetime | None = None,
) -> Survey | None:
    """Open a survey of the community's current areas and post it; None when it has none."""
    areas = await active_areas(ctx.session, community.id)
    if not areas:
        return None
    last = await ctx.session.scalar(
        select(func.max(col(Survey.number))).where(col(Survey.community_id) == community.id)
    )
    survey = Survey(
        community_id=community.id,
        number=(last or 0) + 1,
        scheduled_for=scheduled_for,
        opened_at=ctx.now,
        closes_at=ctx.now + timedelta(days=days),
        top=top,
        opened_by=opened_by,
    )
    ctx.session.add(survey)
    await ctx.session.flush()
    items = [
        SurveyItem(
            community_id=community.id,
            survey_id=survey.id,
            area_id=area.id,
            position=i,
            title=area.title,
        )
        for i, area in enumerate(areas, 1)
    ]
    ctx.session.add_all(items)
    await ctx.session.flush()
    t = translator(community.language)
    await ctx.outbox.enqueue(
        key=f"survey:{survey.id}:post",
        to=channel_of(community),
        message=survey_post(t, community, survey, items),
        community_id=community.id,
    )
    await ctx.schedule.at(
        close_job_id(survey.id),
        survey.closes_at,
        CLOSE_KIND,
        [survey.id],
        community_id=community.id,
    )
    log.info("survey %s opened in community %s with %d areas", survey.id, community.id, len(items))
    return survey


async def open_command(ctx: Context) -> Reply:
    community = ctx.require_community()
    if await open_survey(ctx.session, community.id) is not None:
        raise UserError(ctx.t("survey.refuse.already_open"))
    plan = await plan_of(ctx.session, community.id)
    days = _bounded(ctx, "days", 1, MAX_DAYS) or (plan.open_days if plan else 14)
    top = _bounded(ctx, "top", 1, MAX_TOP) or (plan.top if plan else 3)
    survey = await start_survey(
        ctx, community, opened_by=ctx.actor.user.user_id, days=days, top=top
    )
    if survey is None:
        raise UserError(ctx.t("survey.refuse.no_areas"))
    return Respond(Message(text=ctx.t("survey.opened", number=survey.number, days=days)))


async def open_job(ctx: Context, community_id: int) -> None:
    """The ``survey.open`` job: open this year's survey, then arm the next opening."""
    community = await ctx.session.get(Community, int(community_id))
    if community is None:
        return
    plan = await plan_of(ctx.session, community.id)
    if plan is None or not plan.schedule:
        return
    due = ctx.job.due_at if ctx.job is not None else ctx.now
    done = await ctx.session.scalar(
        select(func.count())
        .select_from(Survey)
        .where(col(Survey.community_id) == community.id, col(Survey.scheduled_for) == due)
    )
    if done:
        log.info("survey opening of community %s at %s already done", community.id, due)
    elif await open_survey(ctx.session, community.id) is not None:
        log.info("survey opening of community %s skipped: one is still open", community.id)
    elif (
        await start_survey(
            ctx,
            community,
            opened_by=plan.created_by,
            days=plan.open_days,
            top=plan.top,
            scheduled_for=due,
        )
        is None
    ):
        log.warning("survey opening of community %s skipped: no focus areas", community.id)
    await arm(ctx, plan, max(due, ctx.now))


async def close_survey(ctx: Context, community: Community, survey: Survey) -> Message:
    """Rank the areas, feed the backlog, post the result; returns the posted message."""
    t = translator(community.language)
    items = await items_of(ctx.session, survey)
    ratings = list(
        (
            await ctx.session.execute(
                select(SurveyRating).where(
                    col(SurveyRating.community_id) == community.id,
                    col(SurveyRating.survey_id) == survey.id,
                )
            )
        ).scalars()
    )
    ballots: dict[int, dict[int, int]] = {}
    for rating in ratings:
        ballots.setdefault(rating.member_id, {})[rating.item_id] = rating.score
    result = count_totals(Method.SCORE, [i.id for i in items], list(ballots.values()))
    counted = {i.id: sum(1 for b in ballots.values() if i.id in b) for i in items}
    rank, previous_total = 0, None
    ranks: dict[int, int] = {}
    for place, item_id in enumerate(result.ranking, 1):
        if result.totals[item_id] != previous_total:
            rank, previous_total = place, result.totals[item_id]
        ranks[item_id] = rank
    for item in items:
        item.total, item.ratings, item.rank = (
            result.totals[item.id],
            counted[item.id],
            ranks[item.id],
        )
    survey.status = SurveyStatus.CLOSED
    survey.closed_at = ctx.now
    survey.turnout = len(ballots)
    ctx.session.add_all([survey, *items])
    await ctx.session.flush()
    await ctx.schedule.cancel(close_job_id(survey.id))

    year = year_of(survey, community.timezone)
    earlier = await closed_before(ctx.session, survey)
    earlier_items = await items_of(ctx.session, earlier) if earlier is not None else None
    earlier_year = year_of(earlier, community.timezone) if earlier is not None else None
    lines = [t("survey.result.head", year=year, name=community.name, turnout=survey.turnout)]
    top: list[SurveyItem] = []
    if survey.turnout == 0:
        lines.append(t("survey.result.nobody"))
    else:
        lines += result_lines(t, items, earlier_items, earlier_year)
        lines += tie_lines(t, items)
        top = [i for i in items if (i.rank or 0) <= survey.top and (i.total or 0) > 0]
        if len(top) > survey.top:
            lines.append(t("survey.result.top_tie", count=len(top), top=survey.top))
        if earlier is not None and earlier_items is not None:
            now_on = {i.area_id for i in items}
            gone = [i.title for i in earlier_items if i.area_id not in now_on]
            if gone:
                lines.append(t("survey.result.gone", year=earlier_year, areas=", ".join(gone)))
    added, known = await feed_backlog(ctx, community, survey, top, year)
    if added:
        lines.append(t("survey.result.added", areas=", ".join(added)))
    if known:
        lines.append(t("survey.result.known", areas=", ".join(known)))
    waiting = await ctx.session.scalar(
        select(func.count())
        .select_from(SurveyProposal)
        .where(
            col(SurveyProposal.community_id) == community.id,
            col(SurveyProposal.survey_id) == survey.id,
            col(SurveyProposal.status) == ProposalStatus.NEW,
        )
    )
    if waiting:
        lines.append(t("survey.result.proposals", count=waiting))
    text = "\n".join(lines)
    message = Message(text=text, blocks=[Section.of(line) for line in lines])
    await ctx.outbox.enqueue(
        key=f"survey:{survey.id}:results",
        to=channel_of(community),
        message=message,
        community_id=community.id,
    )
    await ctx.outbox.enqueue_edit(
        edit_of=f"survey:{survey.id}:post",
        platform=community.platform,
        workspace_id=community.workspace_id,
        message=survey_post(t, community, survey, items),
        community_id=community.id,
    )
    log.info(
        "survey %s closed: %d members rated, %d areas to the backlog",
        survey.id,
        survey.turnout,
        len(added),
    )
    return message


async def feed_backlog(
    ctx: Context, community: Community, survey: Survey, top: Sequence[SurveyItem], year: int
) -> tuple[list[str], list[str]]:
    """Put the top areas in the topic backlog, each area once ever and no title twice.

    Returns the titles added and those already there (from an earlier survey or proposed).
    """
    t = translator(community.language)
    waiting = list(
        (
            await ctx.session.execute(
                select(Topic).where(
                    col(Topic.community_id) == community.id,
                    col(Topic.status).in_(BACKLOG_STATUSES),
                )
            )
        ).scalars()
    )
    by_title = {topic.title.casefold(): topic for topic in waiting}
    added: list[str] = []
    known: list[str] = []
    for item in sorted(top, key=lambda i: (i.rank or 0, i.position)):
        area = await ctx.session.get(SurveyArea, item.area_id) if item.area_id else None
        if area is None or area.community_id != community.id:
            continue
        if area.topic_id is not None:
            known.append(item.title)
            continue
        same = by_title.get(item.title.casefold())
        if same is not None:
            area.topic_id = same.id
            ctx.session.add(area)
            known.append(item.title)
            continue
        topic = Topic(
            community_id=community.id,
            title=item.title,
            why=t(
                "survey.topic.why",
                year=year,
                rank=item.rank,
                average=f"{_average(item.total, item.ratings):.1f}",
            )[:500],
            proposer_id=survey.opened_by,
            proposer_name=t("survey.topic.proposer", year=year)[:100],
            status="backlog",
            support=item.total or 0,
            created_at=ctx.now,
        )
        ctx.session.add(topic)
        await ctx.session.flush()
        area.topic_id = topic.id
        ctx.session.add(area)
        by_title[item.title.casefold()] = topic
        added.append(item.title)
    await ctx.session.flush()
    return added, known


async def close_command(ctx: Context) -> Reply:
    community = ctx.require_community()
    survey = await open_survey(ctx.session, community.id)
    if survey is None:
        raise UserError(ctx.t("survey.refuse.none_open"))
    await close_survey(ctx, community, survey)
    return Respond(Message(text=ctx.t("survey.closed", number=survey.number)))


async def close_job(ctx: Context, survey_id: int) -> None:
    """The ``survey.close`` job: close the survey at its deadline (once)."""
    survey = await ctx.session.get(Survey, int(survey_id))
    if survey is None or survey.status != SurveyStatus.OPEN or survey.closes_at > ctx.now:
        return
    community = await ctx.session.get(Community, survey.community_id)
    if community is not None:
        await close_survey(ctx, community, survey)


async def reconcile(services: Services) -> None:
    """After start: re-arm missing opening jobs of plans and closing jobs of open surveys."""
    async with background(services) as ctx:
        plans = list(
            (
                await ctx.session.execute(
                    select(SurveyPlan).where(col(SurveyPlan.schedule).is_not(None))
                )
            ).scalars()
        )
        surveys = list(
            (
                await ctx.session.execute(
                    select(Survey).where(col(Survey.status) == SurveyStatus.OPEN)
                )
            ).scalars()
        )
        ids = [open_job_id(p.community_id) for p in plans] + [close_job_id(s.id) for s in surveys]
        have = await ctx.schedule.exists(ids)
        for plan in plans:
            if open_job_id(plan.community_id) not in have:
                await arm(ctx, plan, ctx.now)
        for survey in surveys:
            if close_job_id(survey.id) not in have:
                await ctx.schedule.at(
                    close_job_id(survey.id),
                    survey.closes_at,
                    CLOSE_KIND,
                    [survey.id],
                    community_id=survey.community_id,
                )


# -- rating -----------------------------------------------------------------------------------


def _accepting(ctx: Context, survey: Survey | None) -> Survey:
    if survey is None:
        raise UserError(ctx.t("survey.refuse.none_open"))
    if survey.status != SurveyStatus.OPEN or survey.closes_at <= ctx.now:
        raise UserError(ctx.t("survey.refuse.closed", number=survey.number))
    return survey


def _score(ctx: Context, raw: str, title: str) -> int | None:
    """A typed or picked rating: None when left blank, else LOW..HIGH or a refusal."""
    value = clean(raw)
    if not value:
        return None
    if not re.fullmatch(r"[0-9]{1,2}", value) or not LOW <= int(value) <= HIGH:
        raise UserError(ctx.t("survey.refuse.score", area=title, low=LOW, high=HIGH))
    return int(value)


async def _mine(ctx: Context, survey: Survey) -> dict[int, SurveyRating]:
    if ctx.member is None:
        return {}
    rows = await ctx.session.execute(
        select(SurveyRating).where(
            col(SurveyRating.community_id) == survey.community_id,
            col(SurveyRating.survey_id) == survey.id,
            col(SurveyRating.member_id) == ctx.member.id,
        )
    )
    return {r.item_id: r for r in rows.scalars()}


async def _save(ctx: Context, survey: Survey, scores: list[tuple[SurveyItem, int]]) -> None:
    if ctx.member is None:  # a workspace admin who is not a member rates nothing
        raise UserError(ctx.t("core.refuse.members_only"))
    mine = await _mine(ctx, survey)
    for item, score in scores:
        row = mine.get(item.id)
        if row is None:
            row = SurveyRating(
                community_id=survey.community_id,
                survey_id=survey.id,
                item_id=item.id,
                member_id=ctx.member.id,
                score=score,
                updated_at=ctx.now,
            )
        else:
            row.score, row.updated_at = score, ctx.now
        ctx.session.add(row)
    await ctx.session.flush()
    log.info("survey %s: %d ratings saved", survey.id, len(scores))


def _saved(ctx: Context, survey: Survey, count: int) -> Reply:
    community = ctx.require_community()
    _, text = _timed(
        ctx.t("survey.rated", count=count, when="\x00"),
        Time(at=survey.closes_at, zone=community.timezone),
    )
    return Respond(Message(text=text))


async def rate_command(ctx: Context) -> Reply:
    """``/cop survey rate AREA SCORE``: the typed way to rate one area of the open survey."""
    community = ctx.require_community()
    survey = _accepting(ctx, await open_survey(ctx.session, community.id))
    position = int(ctx.params["area"])
    item = next((i for i in await items_of(ctx.session, survey) if i.position == position), None)
    if item is None:
        raise UserError(ctx.t("survey.refuse.no_item", number=position))
    score = _score(ctx, ctx.params["score"], item.title)
    assert score is not None  # a required parameter is never blank
    await _save(ctx, survey, [(item, score)])
    return _saved(ctx, survey, 1)


def _page(items: Sequence[SurveyItem], page: int) -> list[SurveyItem]:
    return list(items[(page - 1) * PAGE : page * PAGE])


def rate_form(
    ctx: Context,
    survey: Survey,
    page: int,
    items: Sequence[SurveyItem],
    mine: dict[int, SurveyRating],
) -> OpenForm:
    options = [
        Option(value=str(s), label=ctx.t(f"survey.form.score_{s}")) for s in range(LOW, HIGH + 1)
    ]
    inputs = []
    fallback = []
    for item in items:
        name, label = f"a{item.position}", f"{item.position}. {item.title}"
        had = str(mine[item.id].score) if item.id in mine else ""
        inputs.append(
            Input(
                name=name, label=label, kind="select", required=False, options=options, initial=had
            )
        )
        fallback.append(
            Input(
                name=name,
                label=label,
                required=False,
                max_length=2,
                initial=had,
                hint=ctx.t("survey.form.hint", low=LOW, high=HIGH),
            )
        )
    return OpenForm(
        Form(
            form_id="survey.rate",
            title=ctx.t("survey.form.title"),
            inputs=inputs,
            fallback=fallback,
            submit_label=ctx.t("survey.form.submit"),
            metadata=f"{survey.id}:{page}",
        )
    )


async def _survey_of_button(ctx: Context) -> Survey:
    survey = await ctx.session.get(Survey, ctx.action.int_arg(0))
    if survey is None:
        raise UserError(ctx.t("core.refuse.stale_button"))
    await ctx.enter(survey.community_id)
    require(ctx, Role.MEMBER)
    return survey


async def rate_button(ctx: Context) -> Reply:
    survey = _accepting(ctx, await _survey_of_button(ctx))
    page = ctx.action.int_arg(1)
    items = _page(await items_of(ctx.session, survey), page)
    if not items:
        raise UserError(ctx.t("core.refuse.stale_button"))
    return rate_form(ctx, survey, page, items, await _mine(ctx, survey))


async def _survey_of_form(ctx: Context) -> tuple[Survey, list[str]]:
    event = ctx.event
    assert isinstance(event, FormSubmitted)
    parts = event.metadata.split(":")
    ids = [parse_id(p) for p in parts]
    if not parts or any(i is None for i in ids):
        raise UserError(ctx.t("core.refuse.stale_form"))
    survey = await ctx.session.get(Survey, ids[0])
    if survey is None:
        raise UserError(ctx.t("core.refuse.stale_form"))
    await ctx.enter(survey.community_id, join=False)
    require(ctx, Role.MEMBER)
    return survey, parts


async def rate_submitted(ctx: Context) -> Reply:
    survey, parts = await _survey_of_form(ctx)
    if len(parts) != 2:
        raise UserError(ctx.t("core.refuse.stale_form"))
    _accepting(ctx, survey)
    items = _page(await items_of(ctx.session, survey), int(parts[1]))
    if not items:
        raise UserError(ctx.t("core.refuse.stale_form"))
    event = ctx.event
    assert isinstance(event, FormSubmitted)
    scores: list[tuple[SurveyItem, int]] = []
    errors: dict[str, str] = {}
    for item in items:
        name = f"a{item.position}"
        try:
            score = _score(ctx, event.values.get(name, ""), item.title)
        except UserError as refused:
            errors[name] = str(refused)
            continue
        if score is not None:
            scores.append((item, score))
    if errors:
        return FormErrors(errors)
    if not scores:
        raise UserError(ctx.t("survey.refuse.nothing_rated"))
    await _save(ctx, survey, scores)
    return _saved(ctx, survey, len(scores))


# -- proposing new areas ----------------------------------------------------------------------


def propose_inputs(ctx: Context) -> list[Input]:
    return [Input(name="title", label=ctx.t("survey.form.propose_label"), max_length=MAX_TITLE)]


async def add_proposal(ctx: Context, survey: Survey, title: str) -> Reply:
    _accepting(ctx, survey)
    if ctx.member is None:  # a workspace admin who is not a member proposes nothing
        raise UserError(ctx.t("core.refuse.members_only"))
    title = clean(title)
    if not title:
        raise UserError(ctx.t("survey.refuse.no_title"))
    if len(title) > MAX_TITLE:
        raise UserError(ctx.t("core.parse.too_long", name="title", max=MAX_TITLE))
    for area in await active_areas(ctx.session, survey.community_id):
        if area.title.casefold() == title.casefold():
            raise UserError(ctx.t("survey.refuse.area_twice", number=area.number, title=area.title))
    waiting = await proposals_of(ctx.session, survey.community_id)
    if any(p.title.casefold() == title.casefold() for p in waiting):
        raise UserError(ctx.t("survey.refuse.proposed_twice", title=title))
    if (
        sum(1 for p in waiting if p.member_id == ctx.member.id and p.survey_id == survey.id)
        >= MAX_PROPOSALS
    ):
        raise UserError(ctx.t("survey.refuse.proposal_limit", max=MAX_PROPOSALS))
    proposal = SurveyProposal(
        community_id=survey.community_id,
        survey_id=survey.id,
        member_id=ctx.member.id,
        proposer_name=ctx.actor.name[:100],
        title=title,
        created_at=ctx.now,
    )
    ctx.session.add(proposal)
    await ctx.session.flush()
    log.info("survey %s: area proposal %s", survey.id, proposal.id)
    return Respond(Message(text=ctx.t("survey.proposed", title=title)))


async def propose_command(ctx: Context) -> Reply:
    community = ctx.require_community()
    survey = _accepting(ctx, await open_survey(ctx.session, community.id))
    return await add_proposal(ctx, survey, ctx.params["title"])


async def propose_button(ctx: Context) -> Reply:
    survey = _accepting(ctx, await _survey_of_button(ctx))
    return OpenForm(
        Form(
            form_id="survey.propose",
            title=ctx.t("survey.form.propose_title"),
            inputs=propose_inputs(ctx),
            submit_label=ctx.t("survey.form.propose_submit"),
            metadata=str(survey.id),
        )
    )


async def propose_submitted(ctx: Context) -> Reply:
    survey, parts = await _survey_of_form(ctx)
    if len(parts) != 1:
        raise UserError(ctx.t("core.refuse.stale_form"))
    event = ctx.event
    assert isinstance(event, FormSubmitted)
    values, errors = check_form(propose_inputs(ctx), event.values, ctx.t)
    if errors:
        return FormErrors(errors)
    return await add_proposal(ctx, survey, values.get("title", ""))


async def adopt_command(ctx: Context) -> Reply:
    """``/cop survey adopt N``: a member's proposed area goes on the list."""
    community = ctx.require_community()
    proposal = await ctx.session.get(SurveyProposal, int(ctx.params["proposal"]))
    if (
        proposal is None
        or proposal.community_id != community.id
        or proposal.status != ProposalStatus.NEW
    ):
        raise UserError(ctx.t("survey.refuse.no_proposal", id=ctx.params["proposal"]))
    area = await add_area(ctx, proposal.title)
    proposal.status = ProposalStatus.ADDED
    proposal.area_id = area.id
    ctx.session.add(proposal)
    if proposal.member_id is not None:
        member = await ctx.session.get(Member, proposal.member_id)
        if member is not None:
            await ctx.outbox.enqueue(
                key=f"survey-proposal:{proposal.id}:added",
                to=UserRef(community.platform, community.workspace_id, member.user_id),
                # A DM: in the proposer's own language.
                message=Message(
                    text=member_t(member, community, ctx)(
                        "survey.adopted_note", title=area.title, name=community.name
                    )
                ),
                community_id=community.id,
            )
    return await _added(ctx, area)


# -- results ----------------------------------------------------------------------------------


async def results_command(ctx: Context) -> Reply:
    community = ctx.require_community()
    wanted = ctx.params.get("number")
    query = select(Survey).where(
        col(Survey.community_id) == community.id, col(Survey.status) == SurveyStatus.CLOSED
    )
    if wanted:
        query = query.where(col(Survey.number) == int(wanted))
    survey = (
        await ctx.session.execute(query.order_by(col(Survey.number).desc()).limit(1))
    ).scalar_one_or_none()
    if survey is None:
        raise UserError(ctx.t("survey.refuse.no_results"))
    items = await items_of(ctx.session, survey)
    earlier = await closed_before(ctx.session, survey)
    earlier_items = await items_of(ctx.session, earlier) if earlier is not None else None
    earlier_year = year_of(earlier, community.timezone) if earlier is not None else None
    lines = [
        ctx.t(
            "survey.result.head",
            year=year_of(survey, community.timezone),
            name=community.name,
            turnout=survey.turnout,
        )
    ]
    if survey.turnout:
        lines += result_lines(ctx.t, items, earlier_items, earlier_year)
        lines += tie_lines(ctx.t, items)
    else:
        lines.append(ctx.t("survey.result.nobody"))
    text = "\n".join(lines)
    return Respond(Message(text=text, blocks=[Section.of(text)]))


# -- hooks ------------------------------------------------------------------------------------


async def digest_section(ctx: Context, payload: DigestSections) -> list[Block]:
    """The ``digest.sections`` hook: an open survey, with its buttons (nothing otherwise)."""
    survey = await open_survey(ctx.session, payload.community_id)
    if survey is None or survey.opened_at > payload.until or survey.closes_at <= payload.until:
        return []
    community = await ctx.session.get(Community, payload.community_id)
    if community is None:
        return []
    t = translator(payload.language)
    items = await items_of(ctx.session, survey)
    section, _ = _timed(
        t("survey.digest", year=year_of(survey, community.timezone), count=len(items), when="\x00"),
        Time(at=survey.closes_at, zone=community.timezone),
    )
    blocks: list[Block] = [section]
    if payload.private_to is not None:
        rated = await ctx.session.scalar(
            select(func.count())
            .select_from(SurveyRating)
            .where(
                col(SurveyRating.community_id) == community.id,
                col(SurveyRating.survey_id) == survey.id,
                col(SurveyRating.member_id) == payload.private_to,
            )
        )
        blocks.append(Section.of(t("survey.digest_mine", rated=rated or 0, count=len(items))))
    blocks.append(rate_buttons(t, survey, len(items)))
    return blocks


async def on_survey_wanted(ctx: Context, payload: SurveyWanted) -> SurveyStarted:
    """The ``survey.wanted`` hook (a network survey): open this community's survey of its own
    areas now, as ``/cop survey open`` would, or name the one already open."""
    community = await ctx.session.get(Community, payload.community_id)
    if community is None:
        return SurveyStarted(None, "no_areas")
    running = await open_survey(ctx.session, community.id)
    if running is not None:
        return SurveyStarted(running.id, "already_open")
    plan = await plan_of(ctx.session, community.id)
    days = payload.days or (plan.open_days if plan else 14)
    survey = await start_survey(
        ctx, community, opened_by=payload.opened_by, days=days, top=plan.top if plan else 3
    )
    if survey is None:
        return SurveyStarted(None, "no_areas")
    return SurveyStarted(survey.id, "opened")


async def on_member_erasing(ctx: Context, payload: MemberErasing) -> None:
    """The ``member.erasing`` hook: a member's ratings and proposals go with them.

    Closed surveys keep their totals (`SurveyItem`), which name nobody.
    """
    for model in (SurveyRating, SurveyProposal):
        await ctx.session.execute(
            delete(model).where(
                col(model.community_id) == payload.community_id,
                col(model.member_id) == payload.member_id,
            )
        )


# -- commands ---------------------------------------------------------------------------------


def commands() -> tuple[Command, ...]:
    days = Param("days", "survey.param.days", kind="int", required=False, keyword=True)
    top = Param("top", "survey.param.top", kind="int", required=False, keyword=True)
    return (
        Command(
            ("survey", "areas"),
            "survey.help.areas",
            areas_command,
            Role.MEMBER,
            (
                Param(
                    "verb",
                    "survey.param.verb",
                    kind="choice",
                    choices=("add", "remove", "list"),
                    required=False,
                ),
                Param("area", "survey.param.area", required=False, rest=True, max_length=MAX_TITLE),
            ),
            "survey.example.areas",
        ),
        Command(
            ("survey", "schedule"),
            "survey.help.schedule",
            schedule_command,
            Role.FACILITATOR,
            (
                Param("when", "survey.param.when", required=False, rest=True, max_length=200),
                Param("month", "survey.param.month", kind="int", required=False, keyword=True),
                Param("day", "survey.param.day", kind="int", required=False, keyword=True),
                Param("at", "survey.param.at", required=False, keyword=True, max_length=20),
                days,
                top,
            ),
            "survey.example.schedule",
        ),
        Command(
            ("survey", "open"),
            "survey.help.open",
            open_command,
            Role.FACILITATOR,
            (days, top),
            "survey.example.open",
        ),
        Command(
            ("survey", "close"),
            "survey.help.close",
            close_command,
            Role.FACILITATOR,
            (),
            "survey.example.close",
        ),
        Command(
            ("survey", "rate"),
            "survey.help.rate",
            rate_command,
            Role.MEMBER,
            (
                Param("area", "survey.param.item", kind="int"),
                Param("score", "survey.param.score", kind="int"),
            ),
            "survey.example.rate",
        ),
        Command(
            ("survey", "propose"),
            "survey.help.propose",
            propose_command,
            Role.MEMBER,
            (Param("title", "survey.param.title", rest=True, max_length=MAX_TITLE),),
            "survey.example.propose",
        ),
        Command(
            ("survey", "adopt"),
            "survey.help.adopt",
            adopt_command,
            Role.FACILITATOR,
            (Param("proposal", "survey.param.proposal", kind="int"),),
            "survey.example.adopt",
        ),
        Command(
            ("survey", "results"),
            "survey.help.results",
            results_command,
            Role.MEMBER,
            (Param("number", "survey.param.number", kind="int", required=False),),
            "survey.example.results",
        ),
    )
