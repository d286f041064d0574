"""`/cop agreements settings`: when the recap goes out, chosen per community by a facilitator.

``recap=start`` (the default) posts it as each meeting starts; ``recap=first-reminder`` with
the first reminder that goes out before a meeting (a day before, say, so members think about
the question ahead); ``recap=last-reminder`` with the reminder nearest the start. Whatever
the choice, a meeting whose reminder never went out still gets its recap at the start.
"""

from __future__ import annotations

import logging

from bot.context import Context, UserError
from bot.events import Reply, Respond
from bot.ui import Message, Section
from storage.agreements import AgreementSettings

log = logging.getLogger(__name__)

RECAP_CHOICES = ("start", "first-reminder", "last-reminder")


async def settings(ctx: Context) -> Reply:
    """Show the community's agreements settings, or change them with ``recap=``."""
    community = ctx.require_community()
    assert community.id is not None
    row = await ctx.session.get(AgreementSettings, community.id, with_for_update=True)
    chosen = ctx.params.get("recap")
    lines: list[str] = []
    if chosen is not None:
        chosen = chosen.strip().lower()
        if chosen not in RECAP_CHOICES:
            choices = ", ".join(RECAP_CHOICES)
            raise UserError(
                ctx.t("core.parse.choice", name="recap", choices=choices, value=chosen[:40])
            )
        if row is None:
            row = AgreementSettings(community_id=community.id)
        row.recap_at, row.updated_at = chosen, ctx.now
        ctx.session.add(row)
        lines.append(ctx.t("agreements.settings.saved"))
        log.info("community %s: agreements recap at %s", community.id, chosen)
    now = row.recap_at if row is not None else "start"
    lines.append(ctx.t(f"agreements.settings.recap.{now}"))
    lines.append(ctx.t("agreements.settings.how"))
    return Respond(
        Message(text="\n".join(lines), blocks=[Section.of(line) for line in lines]),
        private=True,
    )
