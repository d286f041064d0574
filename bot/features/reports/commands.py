"""Reports, hours and certificates: what facilitators and members type.

    /cop report summary [FROM] [TO]              facilitator: summary, CSV and charts by DM
    /cop report settings [certificate=always|after-checkin]
    /cop report verify CODE                     anyone: is this certificate genuine?
    /cop my hours [FROM] [TO]                   a member's own statement and PDF certificate

Files never go in a channel: from a DM they are the answer; from a channel the answer is
private and the files follow by DM (a private reply cannot carry files on Slack). Both DMs
are sealed in the outbox (names and hours are personal) and blanked once delivered.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from sqlalchemy import select
from sqlmodel import col

from bot.commands import Command, Param, Role, normalise_user
from bot.context import Context, UserError, find_member
from bot.events import Reply, Respond
from bot.features.reports.codes import new_code, normalise, shown
from bot.features.reports.files import report_files
from bot.features.reports.gather import Line, facilitator_names, season, statement
from bot.features.reports.pdf import CertificateLine, CertificateText, certificate_pdf
from bot.features.reports.period import Period, PeriodError, parse_period
from bot.hooks import MemberErasing
from bot.i18n import Translator
from bot.text import parse_id
from bot.ui import File, Message, Section
from storage.meetings import Meeting, MeetingAttendance
from storage.models import Community, Member
from storage.reports import Certificate, CertificateRule, ReportSettings

log = logging.getLogger(__name__)


def fmt_hours(t: Translator, minutes: int) -> str:
    """90 minutes -> ``1.5`` (English) / ``1,5`` (Spanish); at most two decimals."""
    return format_decimal(minutes / 60, format="#,##0.##", locale=t.lang)


def hours_count(minutes: int) -> int:
    """The number that picks the plural of "hours": one for exactly one hour, else many
    (1.5 hours, 0.75 hours; ngettext takes whole numbers)."""
    return 1 if minutes == 60 else 2


def fmt_date(t: Translator, day: date) -> str:
    return format_date(day, format="medium", locale=t.lang)


def fmt_percent(t: Translator, part: int, whole: int) -> str:
    return format_percent(part / whole if whole else 0, locale=t.lang)


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, OSError):
        return None


def member_zone(member: Member | None, community: Community) -> ZoneInfo:
    """The member's own zone, else their platform's, else the community's, else UTC."""
    names = [community.timezone]
    if member is not None:
        names = [member.timezone or "", member.platform_timezone or "", *names]
    for name in names:
        zone = _zone(name)
        if zone is not None:
            return zone
    return ZoneInfo("UTC")


def _period(ctx: Context, zone: ZoneInfo) -> Period:
    try:
        return parse_period(ctx.params.get("start"), ctx.params.get("end"), zone, ctx.now)
    except PeriodError as err:
        raise UserError(ctx.t(err.key, **err.values)) from None


async def _private(ctx: Context, key: str, message: Message, notice: str) -> Reply:
    """`message` (with files) to the actor only: the answer in a DM, else by DM."""
    if ctx.place.is_dm:
        return Respond(message, private=False)  # a DM: nobody else is there to see it
    user = ctx.actor.user
    await ctx.outbox.enqueue(
        key=f"{key}:{user.platform}:{user.workspace_id}:{user.user_id}:{ctx.now.isoformat()}",
        to=user,
        message=message,
        community_id=ctx.require_community().id,
        sealed=True,
    )
    return Respond(Message(text=notice))


async def rule_of(ctx: Context, community: Community) -> CertificateRule:
    row = await ctx.session.get(ReportSettings, community.id)
    return CertificateRule(row.certificate) if row else CertificateRule.ALWAYS


# -- the facilitator's report -----------------------------------------------------------------


async def report(ctx: Context) -> Reply:
    community = ctx.require_community()
    zone = _zone(community.timezone) or ZoneInfo("UTC")
    period = _period(ctx, zone)
    t = ctx.t
    s = await season(ctx.session, community, period, ctx.now)
    start, end = fmt_date(t, period.start), fmt_date(t, period.end)
    lines = [
        t("reports.summary.title", community=community.name, start=start, end=end),
        t.n("reports.summary.meetings", len(s.meetings)),
    ]
    if s.cancelled:
        lines.append(t.n("reports.summary.cancelled", s.cancelled))
    attendees = [p for p in s.people if s.meetings_of(p.user_id)]
    if attendees:
        lines.append(t("reports.summary.people"))
        lines.extend(
            t.n(
                "reports.summary.person",
                s.meetings_of(p.user_id),
                name=p.name,
                hours=fmt_hours(t, s.minutes_of(p.user_id)),
            )
            for p in attendees
        )
        total = sum(s.attended.values())
        lines.append(t("reports.summary.total", hours=fmt_hours(t, total)))
    else:
        lines.append(t("reports.summary.nobody"))
    if s.polls:
        lines.append(
            t.n(
                "reports.summary.polls",
                len(s.polls),
                ballots=s.ballots,
                members=s.members,
                turnout=fmt_percent(t, s.ballots, len(s.polls) * s.members),
            )
        )
    else:
        lines.append(t("reports.summary.no_polls"))
    if s.asked:
        lines.append(
            t.n(
                "reports.summary.checkins",
                s.rounds,
                answered=s.answered,
                asked=s.asked,
                rate=fmt_percent(t, s.answered, s.asked),
            )
        )
    else:
        lines.append(t("reports.summary.no_checkins"))
    if s.version is None:
        lines.append(t("reports.summary.no_agreements"))
    else:
        lines.append(
            t.n(
                "reports.summary.agreements",
                s.acks,
                agreed=s.agreed_current,
                members=s.members,
                version=s.version,
            )
        )
    # Drawing and encoding take CPU for a while: off the event loop, which keeps acking others.
    files = await asyncio.to_thread(report_files, t, s, period)
    lines.append(t("reports.summary.files"))
    text = "\n".join(lines)
    log.info(
        "report for community %s: %d meetings, %d people",
        community.id,
        len(s.meetings),
        len(s.people),
    )
    message = Message(text=text, blocks=[Section.of(text), *files])
    summary = "\n".join(lines[:-1])
    notice = f"{summary}\n{t('reports.summary.sent')}"
    return await _private(ctx, f"report:{community.id}", message, notice)


async def settings(ctx: Context) -> Reply:
    community = ctx.require_community()
    chosen = ctx.params.get("certificate")
    row = await ctx.session.get(ReportSettings, community.id)
    if chosen is None:
        current = row.certificate if row else CertificateRule.ALWAYS
        return Respond(Message(text=ctx.t(f"reports.settings.now.{current}")))
    if row is None:
        row = ReportSettings(community_id=community.id, updated_by=ctx.actor.user.user_id)
    row.certificate = CertificateRule(chosen)
    row.updated_by, row.updated_at = ctx.actor.user.user_id, ctx.now
    ctx.session.add(row)
    log.info("community %s: certificates count %s", community.id, chosen)
    return Respond(Message(text=ctx.t(f"reports.settings.done.{chosen}")))


async def partial(ctx: Context) -> Reply:
    """Record that someone attended part of a meeting: their attended minutes (1 to its
    length), replacing a full mark. Hours in reports and certificates use these minutes."""
    community = ctx.require_community()
    number = parse_id(ctx.params["meeting"].lstrip("#"))
    meeting = None
    if number is not None:
        meeting = (
            await ctx.session.execute(
                select(Meeting).where(
                    col(Meeting.community_id) == community.id, col(Meeting.number) == number
                )
            )
        ).scalar_one_or_none()
    if meeting is None:
        raise UserError(ctx.t("reports.partial.no_meeting", value=ctx.params["meeting"][:20]))
    if meeting.status == "cancelled":
        raise UserError(ctx.t("reports.partial.cancelled", id=meeting.number))
    if ctx.now < meeting.starts_at:
        raise UserError(ctx.t("reports.partial.not_started", id=meeting.number))
    minutes = int(ctx.params["minutes"])
    if not 1 <= minutes <= meeting.duration_minutes:
        raise UserError(
            ctx.t("reports.partial.minutes", most=meeting.duration_minutes, id=meeting.number)
        )
    typed = ctx.params["user"]
    member = await find_member(ctx.session, community.id, normalise_user(typed))
    if member is None:
        raise UserError(ctx.t("reports.partial.no_member", member=typed[:40]))
    row = (
        await ctx.session.execute(
            select(MeetingAttendance).where(
                col(MeetingAttendance.meeting_id) == meeting.id,
                col(MeetingAttendance.user_id) == member.user_id,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        row = MeetingAttendance(
            community_id=community.id,
            meeting_id=meeting.id,
            member_id=member.id,
            user_id=member.user_id,
            display_name=member.display_name,
            minutes=minutes,
            marked_by=ctx.actor.user.user_id,
        )
    row.minutes, row.marked_by, row.marked_at = minutes, ctx.actor.user.user_id, ctx.now
    ctx.session.add(row)
    log.info("meeting %s: partial attendance of %s recorded", meeting.id, member.id)
    text = ctx.t(
        "reports.partial.done",
        name=member.display_name,
        id=meeting.number,
        minutes=minutes,
        length=meeting.duration_minutes,
    )
    return Respond(Message(text=text))


# -- a member's statement and certificate -----------------------------------------------------


async def _issue(
    ctx: Context, community: Community, member: Member, period: Period, counted: list[Line]
) -> Certificate:
    """The certificate for these hours: the one issued before for the very same figures, else
    a new one with a fresh random code (asking twice does not mint a second code)."""
    minutes = sum(line.minutes for line in counted)
    found = (
        await ctx.session.execute(
            select(Certificate).where(
                col(Certificate.community_id) == community.id,
                col(Certificate.user_id) == member.user_id,
                col(Certificate.period_from) == period.start,
                col(Certificate.period_to) == period.end,
                col(Certificate.minutes) == minutes,
                col(Certificate.meetings) == len(counted),
                col(Certificate.member_name) == member.display_name,
            )
        )
    ).scalar_one_or_none()
    if found is not None:
        return found
    taken = True
    code = new_code()
    while taken:  # 50 random bits: a clash is next to impossible, but never issue one twice
        taken = (
            await ctx.session.execute(
                select(col(Certificate.id)).where(col(Certificate.code) == code)
            )
        ).first() is not None
        if taken:
            code = new_code()
    names = await facilitator_names(ctx.session, community.id)
    cert = Certificate(
        code=code,
        community_id=community.id,
        community_name=community.name,
        facilitators=", ".join(names)[:300],
        member_id=member.id,
        user_id=member.user_id,
        member_name=member.display_name,
        period_from=period.start,
        period_to=period.end,
        minutes=minutes,
        meetings=len(counted),
        language=ctx.t.lang,
        issued_at=ctx.now,
    )
    ctx.session.add(cert)
    await ctx.session.flush()
    log.info("certificate %s issued in community %s", cert.id, community.id)
    return cert


async def my_hours(ctx: Context) -> Reply:
    community = ctx.require_community()
    member = ctx.member
    if member is None:
        raise UserError(ctx.t("core.refuse.no_community"))
    zone = member_zone(member, community)
    period = _period(ctx, zone)
    t = ctx.t
    rule = await rule_of(ctx, community)
    lines_ = await statement(
        ctx.session,
        community,
        member,
        period,
        ctx.now,
        after_checkin=rule is CertificateRule.AFTER_CHECKIN,
    )
    start, end = fmt_date(t, period.start), fmt_date(t, period.end)
    if not lines_:
        raise UserError(t("reports.hours.none", community=community.name, start=start, end=end))
    text_lines = [t("reports.hours.title", community=community.name, start=start, end=end)]
    for line in lines_:
        day = fmt_date(t, line.meeting.starts_at.astimezone(zone).date())
        key = "reports.hours.line" if line.counts else "reports.hours.waiting"
        text_lines.append(
            t(key, day=day, subject=line.meeting.subject, hours=fmt_hours(t, line.minutes))
        )
        if line.meeting.objectives:
            text_lines.append(
                t("reports.hours.objectives", objectives="; ".join(line.meeting.objectives))
            )
    total = sum(line.minutes for line in lines_)
    text_lines.append(t.n("reports.hours.total", len(lines_), hours=fmt_hours(t, total)))
    counted = [line for line in lines_ if line.counts]
    files: list[File] = []
    if not counted:
        text_lines.append(t("reports.hours.no_certificate"))
    else:
        if len(counted) != len(lines_):
            certified = sum(line.minutes for line in counted)
            text_lines.append(
                t.n("reports.hours.certified", len(counted), hours=fmt_hours(t, certified))
            )
        cert = await _issue(ctx, community, member, period, counted)
        code = shown(cert.code)
        pdf = await asyncio.to_thread(
            certificate_pdf,
            t,
            CertificateText(
                community=cert.community_name,
                facilitators=cert.facilitators,
                member=cert.member_name,
                start=start,
                end=end,
                hours=fmt_hours(t, cert.minutes),
                count=hours_count(cert.minutes),
                code=code,
                issued=fmt_date(t, cert.issued_at.astimezone(zone).date()),
                lines=[
                    CertificateLine(
                        day=fmt_date(t, line.meeting.starts_at.astimezone(zone).date()),
                        subject=line.meeting.subject,
                        objectives=line.meeting.objectives,
                        hours=fmt_hours(t, line.minutes),
                    )
                    for line in counted
                ],
            ),
            cert.issued_at,
        )
        text_lines.append(t("reports.hours.code", code=code))
        files.append(
            File(
                filename=f"certificate-{code}.pdf",
                content=pdf,
                title=t("reports.file.certificate"),
                mime="application/pdf",
            )
        )
    text = "\n".join(text_lines)
    message = Message(text=text, blocks=[Section.of(text), *files])
    notice = t("reports.hours.sent") if files else text
    if not files:
        return Respond(Message(text=text))
    return await _private(ctx, f"hours:{community.id}", message, notice)


# -- verification -----------------------------------------------------------------------------


async def verify(ctx: Context) -> Reply:
    typed = ctx.params["code"]
    code = normalise(typed)
    if code is None:
        raise UserError(ctx.t("reports.verify.malformed", value=typed[:40]))
    cert = (
        await ctx.session.execute(select(Certificate).where(col(Certificate.code) == code))
    ).scalar_one_or_none()
    if cert is None:
        log.info("verification of an unknown code")
        raise UserError(ctx.t("reports.verify.unknown", code=shown(code)))
    t = ctx.t
    log.info("certificate %s verified", cert.id)
    text = t.n(
        "reports.verify.ok",
        hours_count(cert.minutes),
        code=shown(code),
        name=cert.member_name,
        community=cert.community_name,
        start=fmt_date(t, cert.period_from),
        end=fmt_date(t, cert.period_to),
        hours=fmt_hours(t, cert.minutes),
        issued=fmt_date(t, cert.issued_at.date()),
    )
    return Respond(Message(text=text))


async def on_member_erasing(ctx: Context, payload: MemberErasing) -> None:
    """The ``member.erasing`` hook: the person's certificates go (a code no longer verifies)."""
    rows = await ctx.session.execute(
        select(Certificate).where(
            col(Certificate.community_id) == payload.community_id,
            col(Certificate.member_id) == payload.member_id,
        )
    )
    for cert in rows.scalars():
        await ctx.session.delete(cert)


def commands() -> tuple[Command, ...]:
    start = Param("start", "reports.param.start", required=False, max_length=40)
    end = Param("end", "reports.param.end", required=False, max_length=40)
    return (
        Command(
            ("report", "summary"),
            "reports.help.summary",
            report,
            Role.FACILITATOR,
            (start, end),
            "reports.example.summary",
        ),
        Command(
            ("report", "settings"),
            "reports.help.settings",
            settings,
            Role.FACILITATOR,
            (
                Param(
                    "certificate",
                    "reports.param.certificate",
                    kind="choice",
                    required=False,
                    choices=tuple(r.value for r in CertificateRule),
                    max_length=20,
                ),
            ),
            "reports.example.settings",
        ),
        Command(
            ("report", "partial"),
            "reports.help.partial",
            partial,
            Role.FACILITATOR,
            (
                Param("meeting", "reports.param.meeting", max_length=12),
                Param("user", "reports.param.user", kind="user", max_length=100),
                Param("minutes", "reports.param.minutes", kind="int", max_length=9),
            ),
            "reports.example.partial",
        ),
        Command(
            ("report", "verify"),
            "reports.help.verify",
            verify,
            Role.ANYONE,
            (Param("code", "reports.param.code", rest=True, max_length=40),),
            "reports.example.verify",
            needs_community=False,
        ),
        Command(
            ("my", "hours"),
            "reports.help.hours",
            my_hours,
            Role.MEMBER,
            (start, end),
            "reports.example.hours",
        ),
    )
