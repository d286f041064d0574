"""The network-wide topic survey: every community of the network runs its interest survey at
once, and the results are shown for each community and for the network.

Starting reuses the voting feature's survey through the ``survey.wanted`` hook (features never
import each other): each community opens a survey of its own focus areas, posted in its
channel, rated and closed by the usual machinery; a community with one open already takes
part with that one, one without focus areas is named in the answer. Results read the survey
tables: a closed survey's stored totals, an open one's ratings so far. The network ranks the
areas by all communities' ratings together, an area being the same when its title is (case
and spacing aside).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import col

from bot.commands import Role
from bot.context import Context, UserError
from bot.events import Reply, Respond
from bot.features.networks.access import (
    communities_of,
    is_coordinator,
    my_network,
    require_coordinator,
)
from bot.hooks import SurveyStarted, SurveyWanted
from bot.ui import Message, Section
from storage.models import Community
from storage.networks import Network, NetworkSurvey, NetworkSurveyPart
from storage.survey import Survey, SurveyItem, SurveyRating, SurveyStatus

log = logging.getLogger(__name__)

MAX_DAYS = 90
SHOWN = 10  # areas listed per community and for the network


@dataclass
class Area:
    title: str
    total: int = 0
    ratings: int = 0


async def start(ctx: Context) -> Reply:
    network = await require_coordinator(ctx)
    days = None
    if "days" in ctx.params:
        days = int(ctx.params["days"])
        if not 1 <= days <= MAX_DAYS:
            raise UserError(ctx.t("network.refuse.survey_days", max=MAX_DAYS))
    last = await ctx.session.scalar(
        select(func.max(col(NetworkSurvey.number))).where(
            col(NetworkSurvey.network_id) == network.id
        )
    )
    round_ = NetworkSurvey(
        network_id=network.id,
        number=(last or 0) + 1,
        started_by=ctx.actor.user.user_id,
        started_at=ctx.now,
    )
    ctx.session.add(round_)
    await ctx.session.flush()
    lines = [ctx.t("network.survey_started", network=network.name, number=round_.number)]
    for community in await communities_of(ctx.session, network.id):
        answers = await ctx.emit(
            "survey.wanted", SurveyWanted(community.id, ctx.actor.user.user_id, days)
        )
        started = next((a for a in answers if isinstance(a, SurveyStarted)), None)
        outcome = started.outcome if started else "no_areas"
        ctx.session.add(
            NetworkSurveyPart(
                network_survey_id=round_.id,
                community_id=community.id,
                survey_id=started.survey_id if started else None,
                outcome=outcome,
            )
        )
        lines.append(ctx.t(f"network.survey_{outcome}", community=community.name))
    log.info("network %s: survey %s started", network.id, round_.number)
    text = "\n".join(lines)
    return Respond(Message(text=text, blocks=[Section.of(text)]))


async def _areas(ctx: Context, survey: Survey) -> list[Area]:
    """The survey's areas with their totals (stored once closed, counted while open)."""
    items = list(
        (
            await ctx.session.execute(
                select(SurveyItem)
                .where(col(SurveyItem.survey_id) == survey.id)
                .order_by(col(SurveyItem.position))
            )
        ).scalars()
    )
    if survey.status == SurveyStatus.CLOSED:
        return [Area(i.title, i.total or 0, i.ratings or 0) for i in items]
    live = {
        item_id: (int(total), int(count))
        for item_id, total, count in await ctx.session.execute(
            select(col(SurveyRating.item_id), func.sum(col(SurveyRating.score)), func.count())
            .where(col(SurveyRating.survey_id) == survey.id)
            .group_by(col(SurveyRating.item_id))
        )
    }
    return [Area(i.title, *live.get(i.id, (0, 0))) for i in items]


def _ranked(areas: list[Area]) -> list[tuple[int, Area]]:
    """Best total first; tied areas share a rank (1, 2, 2, 4)."""
    ordered = sorted(areas, key=lambda a: (-a.total, a.title.casefold()))
    out: list[tuple[int, Area]] = []
    for i, area in enumerate(ordered):
        rank = out[-1][0] if out and out[-1][1].total == area.total else i + 1
        out.append((rank, area))
    return out


def _lines(ctx: Context, areas: list[Area]) -> list[str]:
    return [
        ctx.t.n("network.survey_area", a.ratings, rank=rank, area=a.title, total=a.total)
        for rank, a in _ranked(areas)[:SHOWN]
    ]


async def results(ctx: Context) -> Reply:
    """Coordinators see every community and the network; a community's members see theirs."""
    network = await my_network(ctx)
    community = ctx.require_community()
    coordinator = await is_coordinator(ctx, network)
    if not coordinator and not ctx.is_member() and ctx.role() < Role.FACILITATOR:
        raise UserError(ctx.t("core.refuse.members_only"))
    round_ = (
        await ctx.session.execute(
            select(NetworkSurvey)
            .where(col(NetworkSurvey.network_id) == network.id)
            .order_by(col(NetworkSurvey.number).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if round_ is None:
        raise UserError(ctx.t("network.refuse.no_survey", network=network.name))
    text = "\n".join(await _results(ctx, network, round_, community, coordinator))
    return Respond(Message(text=text, blocks=[Section.of(text)]))


async def _results(
    ctx: Context, network: Network, round_: NetworkSurvey, here: Community, everyone: bool
) -> list[str]:
    parts = list(
        (
            await ctx.session.execute(
                select(NetworkSurveyPart, Community, Survey)
                .join(Community, col(Community.id) == col(NetworkSurveyPart.community_id))
                .outerjoin(Survey, col(Survey.id) == col(NetworkSurveyPart.survey_id))
                .where(col(NetworkSurveyPart.network_survey_id) == round_.id)
                .order_by(col(NetworkSurveyPart.id))
            )
        ).all()
    )
    merged: dict[str, Area] = {}
    shown: list[str] = []
    for row in parts:
        community: Community = row[1]
        survey: Survey | None = row[2]  # None: the community had no focus areas (outer join)
        areas = await _areas(ctx, survey) if survey is not None else []
        for area in areas:
            key = " ".join(area.title.casefold().split())
            into = merged.setdefault(key, Area(area.title))
            into.total += area.total
            into.ratings += area.ratings
        if not (everyone or community.id == here.id):
            continue
        if survey is None:
            shown.append(ctx.t("network.survey_result_none", community=community.name))
            continue
        key = (
            "network.survey_result_open"
            if survey.status == SurveyStatus.OPEN
            else ("network.survey_result_closed")
        )
        shown.append(ctx.t(key, community=community.name))
        shown += _lines(ctx, areas) or [ctx.t("network.survey_result_empty")]
    head = ctx.t.n(
        "network.survey_result_network", len(parts), network=network.name, number=round_.number
    )
    network_lines = _lines(ctx, list(merged.values())) or [ctx.t("network.survey_result_empty")]
    return [*shown, head, *network_lines]
