"""Communities and roles: setup in a channel, facilitators, members, help.

A workspace admin sets up a community in a channel and names facilitators; members
join explicitly or on their first interaction.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlmodel import col

from bot.commands import Command, Param, Role
from bot.context import Context, UserError, check_zone, find_member
from bot.events import Reply, Respond
from bot.i18n import available_languages, load_catalog
from bot.ui import Mention, Message, Section
from storage.models import Community, Member, MemberRole

log = logging.getLogger(__name__)


def check_language(ctx: Context, language: str) -> str:
    if language.lower() in available_languages():
        return language.lower()
    raise UserError(
        ctx.t(
            "communities.bad_language",
            languages=", ".join(available_languages()),
            language=language[:20],
        )
    )


async def setup(ctx: Context) -> Reply:
    if ctx.community is not None:
        raise UserError(ctx.t("communities.already", name=ctx.community.name))
    if ctx.place.is_dm:
        raise UserError(ctx.t("core.refuse.no_community_dm"))
    zone = check_zone(ctx.t, ctx.params.get("timezone") or ctx.services.default_timezone)
    language = check_language(ctx, ctx.params.get("language") or "en")
    conv = ctx.place.conversation
    community = Community(
        platform=conv.platform,
        workspace_id=conv.workspace_id,
        channel_id=conv.channel_id,
        channel_name=ctx.place.name[:100],
        name=ctx.params["name"][:100],
        timezone=zone,
        language=language,
        created_by=ctx.actor.user.user_id,
        created_at=ctx.now,
    )
    ctx.session.add(community)
    await ctx.session.flush()
    assert community.id is not None
    await ctx.enter(community.id, join=True)
    log.info("community %s set up on %s", community.id, conv.platform)
    text = ctx.t_channel(
        "communities.setup_done", name=community.name, timezone=zone, language=language
    )
    return Respond(Message(text=text), private=False)


async def settings(ctx: Context) -> Reply:
    community = ctx.require_community()
    wanted = {
        "name": ctx.params["name"][:100] if "name" in ctx.params else community.name,
        "timezone": check_zone(ctx.t, ctx.params["timezone"])
        if "timezone" in ctx.params
        else community.timezone,
        "language": check_language(ctx, ctx.params["language"])
        if "language" in ctx.params
        else community.language,
    }
    current = {
        "name": community.name,
        "timezone": community.timezone,
        "language": community.language,
    }
    if wanted == current:
        key = "communities.settings_same" if ctx.params else "communities.settings_nothing"
        raise UserError(ctx.t(key, **current))
    community.name = wanted["name"]
    community.timezone = wanted["timezone"]
    community.language = wanted["language"]
    ctx.session.add(community)
    ctx.speak_to_actor()
    return Respond(Message(text=ctx.t("communities.settings_done", **wanted)))


async def about(ctx: Context) -> Reply:
    community = ctx.require_community()
    count = (
        await ctx.session.execute(
            select(func.count())
            .select_from(Member)
            .where(col(Member.community_id) == community.id, col(Member.role) != MemberRole.LEFT)
        )
    ).scalar_one()
    facilitators = (
        (
            await ctx.session.execute(
                select(col(Member.display_name))
                .where(
                    col(Member.community_id) == community.id,
                    col(Member.role) == MemberRole.FACILITATOR,
                )
                .order_by(col(Member.display_name))
            )
        )
        .scalars()
        .all()
    )
    return Respond(
        Message(
            text=ctx.t(
                "communities.about",
                name=community.name,
                timezone=community.timezone,
                language=community.language,
                count=count,
                facilitators=", ".join(facilitators) or ctx.t("communities.nobody"),
            )
        )
    )


async def join(ctx: Context) -> Reply:
    community = ctx.require_community()
    if not ctx.just_joined:
        raise UserError(ctx.t("communities.already_member", name=community.name))
    text = ctx.t_channel("communities.joined", name=community.name, member=ctx.actor.name)
    return Respond(Message(text=text), private=False)


async def leave(ctx: Context) -> Reply:
    community = ctx.require_community()
    if ctx.member is None or ctx.member.role == MemberRole.LEFT:
        raise UserError(ctx.t("communities.not_member", name=community.name))
    # The row stays (role "left") so ballots and RSVPs stay attached: rejoining never
    # yields a second vote in a poll that is still open.
    ctx.member.role = MemberRole.LEFT
    ctx.session.add(ctx.member)
    log.info("member %s left community %s", ctx.member.id, community.id)
    return Respond(Message(text=ctx.t("communities.left", name=community.name)))


async def members(ctx: Context) -> Reply:
    community = ctx.require_community()
    rows = (
        (
            await ctx.session.execute(
                select(Member)
                .where(
                    col(Member.community_id) == community.id, col(Member.role) != MemberRole.LEFT
                )
                .order_by(col(Member.display_name))
            )
        )
        .scalars()
        .all()
    )
    rows = sorted(rows, key=lambda m: m.role != "facilitator")
    title = ctx.t("communities.members_title", name=community.name, count=len(rows))
    blocks = [Section.of(title)]
    lines = []
    for m in rows:
        role = ctx.t(f"communities.role_{m.role}")
        blocks.append(
            Section.of("• ", Mention(user_id=m.user_id, name=m.display_name), f" ({role})")
        )
        lines.append(f"{m.display_name} ({role})")
    return Respond(Message(text="\n".join([title, *lines]), blocks=blocks))


async def _target(ctx: Context) -> Member | None:
    community = ctx.require_community()
    return await find_member(ctx.session, community.id, ctx.params["user"])


async def facilitator_add(ctx: Context) -> Reply:
    community = ctx.require_community()
    user_id = ctx.params["user"]
    member = await _target(ctx)
    if member is None:
        member = Member(
            community_id=community.id,
            user_id=user_id,
            display_name=user_id,
            role="member",
            joined_at=ctx.now,
        )
    if member.role == MemberRole.FACILITATOR:
        raise UserError(
            ctx.t(
                "communities.facilitator_already", member=member.display_name, name=community.name
            )
        )
    member.role = MemberRole.FACILITATOR
    ctx.session.add(member)
    await ctx.session.flush()
    log.info("member %s made facilitator of community %s", member.id, community.id)
    text = ctx.t_channel(
        "communities.facilitator_added", member=member.display_name, name=community.name
    )
    return Respond(Message(text=text), private=False)


async def facilitator_remove(ctx: Context) -> Reply:
    community = ctx.require_community()
    member = await _target(ctx)
    if member is None or member.role != "facilitator":
        name = member.display_name if member else ctx.params["user"]
        raise UserError(ctx.t("communities.facilitator_not", member=name, name=community.name))
    member.role = MemberRole.MEMBER
    ctx.session.add(member)
    text = ctx.t_channel(
        "communities.facilitator_removed", member=member.display_name, name=community.name
    )
    return Respond(Message(text=text), private=False)


def _may_see(ctx: Context, cmd: Command, role: Role) -> bool:
    if cmd.role > role:
        return False
    if ctx.community is None:
        return not cmd.needs_community
    return cmd.path != ("setup",)


def _help_role(ctx: Context) -> Role:
    # Someone not yet a member joins on first use, so they see what members may do.
    if ctx.community is None:
        return Role.ADMIN if ctx.actor.is_admin else Role.ANYONE
    return max(ctx.role(), Role.MEMBER)


async def help_(ctx: Context) -> Reply:
    """Lists what the asker may run here by job, or one command (or group) in detail."""
    if "command" in ctx.params:
        text = _help_for(ctx, ctx.params["command"].split())
        return Respond(Message(text=text, blocks=[Section.of(text)]))
    role = _help_role(ctx)
    title = (
        ctx.t("core.help.title", community=ctx.community.name)
        if ctx.community
        else ctx.t("core.help.title_nowhere")
    )
    registry = ctx.services.registry
    by_feature: dict[str, list[Command]] = {}
    for cmd in registry.commands.values():
        if _may_see(ctx, cmd, role):
            by_feature.setdefault(registry.owners.get(cmd.path, ""), []).append(cmd)
    # One line a job, naming its commands only (what each does and its parameters are one
    # step away, /cop help GROUP): the whole list fits a phone's screen and one Discord
    # message (2,000 characters) even for an admin.
    lines = [title]
    for feature in registry.features:
        if feature not in by_feature:
            continue
        heading = f"core.help.feature_{feature}"
        # A feature added without a heading in the catalogs (a plugin's) shows its name.
        name = ctx.t(heading) if heading in load_catalog("en") else feature
        lines.append(
            ctx.t("core.help.feature_line", feature=name, commands=_compact(by_feature[feature]))
        )
    lines.append(ctx.t("core.help.overview_footer"))
    text = "\n".join(lines)
    return Respond(Message(text=text, blocks=[Section.of(text)]))


def _compact(cmds: list[Command]) -> str:
    """``/cop poll list, results · /cop topics propose, list``: commands by their group."""
    groups: dict[str, list[str]] = {}
    for cmd in cmds:
        head, *rest = cmd.path
        groups.setdefault(head, []).extend(rest[:1] if rest else [])
    return " · ".join(
        f"/cop {head} {', '.join(subs)}" if subs else f"/cop {head}"
        for head, subs in groups.items()
    )


def _help_for(ctx: Context, words: list[str]) -> str:
    """``/cop help poll new``: usage, who, each parameter and an example; a group lists all."""
    registry = ctx.services.registry
    words = [w.lower() for w in words if w.lower() != "/cop"][:2] or ["help"]
    cmd = registry.commands.get(tuple(words)) or registry.commands.get(tuple(words[:1]))
    if cmd is not None and len(cmd.path) == len(words):
        return "\n".join(_command_detail(ctx, cmd))
    group = registry.groups().get(words[0], [])
    if group and len(words) == 1:
        lines = [ctx.t("core.help.group_title", group=words[0])]
        for sub in group:
            lines.append(f"• {sub.usage()} — {ctx.t(sub.help)}")
            if sub.example:
                lines.append(f"    {ctx.t('core.help.example', example=ctx.t(sub.example))}")
        lines.append(ctx.t("core.help.group_footer", group=words[0]))
        return "\n".join(lines)
    near = registry.suggest(words)
    if near:
        raise UserError(ctx.t("core.help.unknown_near", word=" ".join(words)[:40], near=near))
    raise UserError(ctx.t("core.help.unknown", word=" ".join(words)[:40]))


def _command_detail(ctx: Context, cmd: Command) -> list[str]:
    lines = [f"{cmd.usage()} — {ctx.t(cmd.help)}", ctx.t(f"core.help.who_{cmd.role.name.lower()}")]
    for p in cmd.params:
        key = "core.help.param_required" if p.required else "core.help.param_optional"
        lines.append(ctx.t(key, name=p.name, help=ctx.t(p.help)))
    if cmd.example:
        lines.append(ctx.t("core.help.example", example=ctx.t(cmd.example)))
    return lines


def commands() -> tuple[Command, ...]:
    """Adds this feature's commands to the registry."""
    name = Param("name", "communities.param.name", max_length=100)
    zone = Param("timezone", "communities.param.timezone", kind="zone", required=False)
    lang = Param("language", "communities.param.language", required=False, max_length=8)
    user = Param("user", "communities.param.user", kind="user", max_length=100)
    return (
        Command(
            ("help",),
            "communities.help.help",
            help_,
            Role.ANYONE,
            (Param("command", "communities.param.command", required=False, rest=True),),
            "communities.example.help",
            needs_community=False,
        ),
        Command(
            ("setup",),
            "communities.help.setup",
            setup,
            Role.ADMIN,
            (name, zone, lang),
            "communities.example.setup",
            needs_community=False,
        ),
        Command(
            ("settings",),
            "communities.help.rename",
            settings,
            Role.ADMIN,
            (Param("name", "communities.param.name", required=False, max_length=100), zone, lang),
            "communities.example.rename",
        ),
        Command(("about",), "communities.help.about", about, Role.MEMBER),
        Command(("join",), "communities.help.join", join, Role.MEMBER),
        Command(("leave",), "communities.help.leave", leave, Role.ANYONE),
        Command(("members",), "communities.help.members", members, Role.FACILITATOR),
        Command(
            ("facilitator", "add"),
            "communities.help.facilitator_add",
            facilitator_add,
            Role.ADMIN,
            (user,),
            "communities.example.facilitator_add",
        ),
        Command(
            ("facilitator", "remove"),
            "communities.help.facilitator_remove",
            facilitator_remove,
            Role.ADMIN,
            (user,),
        ),
    )
