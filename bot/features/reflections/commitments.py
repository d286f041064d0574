""" "Try it" commitments: what a member said they will try, asked back privately before the
next meeting, with an optional note on how it went shared by the author's own choice.

The core calls `commitment_from_answer` when an answer to a question marked
``"commitment": true`` is stored (again when it is edited: the same row is updated while
it waits). The check-back, job ``reflections.commitment`` with ``[commitment_id]``, runs
`CHECK_BEFORE` before the community's next meeting (or `NO_MEETING_WAIT` after the answer
when none is planned), outside the author's quiet hours, and not while they paused or
opted out. The buttons and the note form answer only the author.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlmodel import col

from bot.context import Context, UserError, channel_of, find_member
from bot.events import FormErrors, FormSubmitted, OpenForm, Reply, Respond, UserRef
from bot.features.reflections.member_prefs import (
    asks,
    member_zone,
    preference,
    quiet_hours,
    quiet_until,
)
from bot.features.reflections.share import facilitators
from bot.i18n import Translator, translator
from bot.languages import fan_out_each, member_t
from bot.text import parse_id
from bot.ui import ActionId, Actions, Button, Form, Input, Message, Option, Section, check_form
from bot.ui import Context as Small
from storage.meetings import Meeting
from storage.models import Community, Member, MemberRole, OutboxMessage
from storage.reflections import (
    Checkin,
    CheckinAnswer,
    CheckinCommitment,
    CheckinRound,
    CommitmentStatus,
    Privacy,
)

log = logging.getLogger(__name__)

CHECK_BEFORE = timedelta(days=2)  # "a few days before the next meeting"
NO_MEETING_WAIT = timedelta(days=21)  # no meeting planned: ask three weeks after the answer
SOONEST = timedelta(hours=1)  # a meeting very soon: ask an hour after the answer
ANONYMOUS_LEAD = timedelta(hours=1)  # anonymous notes go out an hour before the next meeting
ANONYMOUS_AT = time(9, 0)  # ...or, with none planned, the next morning
ANONYMOUS_SPREAD = timedelta(minutes=10)
MAX_NOTE = 1000
FORM_ID = "reflections.commitment_note"
ANSWERS = {"tried": CommitmentStatus.TRIED, "notyet": CommitmentStatus.NOT_YET}
PRIVACIES = (Privacy.PRIVATE, Privacy.FACILITATORS, Privacy.NAMED, Privacy.ANONYMOUS)


def job_id(commitment_id: int) -> str:
    return f"reflections.commitment:{commitment_id}"


def opened(ctx: Context, c: CheckinCommitment) -> str:
    return ctx.services.sealer.open(c.sealed, f"commitment:{c.id}")


async def _next_meeting(ctx: Context, community_id: int, after: datetime) -> Meeting | None:
    return (
        await ctx.session.execute(
            select(Meeting)
            .where(
                col(Meeting.community_id) == community_id,
                col(Meeting.status) == "scheduled",
                col(Meeting.starts_at) > after,
            )
            .order_by(col(Meeting.starts_at))
            .limit(1)
        )
    ).scalar_one_or_none()


def _check_time(now: datetime, meeting: Meeting | None) -> datetime:
    if meeting is None:
        return now + NO_MEETING_WAIT
    return max(meeting.starts_at - CHECK_BEFORE, now + SOONEST)


async def commitment_from_answer(ctx: Context, answer: CheckinAnswer, text: str) -> None:
    """Keep `text` (the answer to a commitment question) as a commitment to check back on.

    Called by the core in the transaction that stores the answer; an edited answer updates
    the commitment while it has not been asked back yet. Empty text withdraws it.
    """
    assert answer.id is not None
    existing = (
        await ctx.session.execute(
            select(CheckinCommitment).where(
                col(CheckinCommitment.community_id) == answer.community_id,
                col(CheckinCommitment.answer_id) == answer.id,
            )
        )
    ).scalar_one_or_none()
    text = text.strip()
    if existing is not None:
        if existing.status != CommitmentStatus.OPEN:
            return
        if not text:
            await ctx.session.delete(existing)
            await ctx.schedule.cancel(job_id(existing.id))
            return
        existing.sealed = ctx.services.sealer.seal(text, f"commitment:{existing.id}")
        ctx.session.add(existing)
        return
    if not text:
        return
    meeting = await _next_meeting(ctx, answer.community_id, ctx.now)
    row = CheckinCommitment(
        community_id=answer.community_id,
        member_id=answer.member_id,
        answer_id=answer.id,
        round_id=answer.round_id,
        meeting_id=meeting.id if meeting else None,
        sealed="",
        check_at=_check_time(ctx.now, meeting),
        created_at=ctx.now,
    )
    ctx.session.add(row)
    await ctx.session.flush()
    row.sealed = ctx.services.sealer.seal(text, f"commitment:{row.id}")
    ctx.session.add(row)
    assert row.check_at is not None
    await ctx.schedule.at(
        job_id(row.id),
        row.check_at,
        "reflections.commitment",
        [row.id],
        community_id=row.community_id,
    )
    log.info("commitment %s kept for a check-back", row.id)


async def checkback_job(ctx: Context, commitment_id: int) -> None:
    """The ``reflections.commitment`` job: ask the author, privately, whether they tried it."""
    c = await ctx.session.get(CheckinCommitment, int(commitment_id))
    if c is None or c.status != CommitmentStatus.OPEN:
        return
    community = await ctx.session.get(Community, c.community_id)
    member = await ctx.session.get(Member, c.member_id)
    if community is None or member is None or member.role == MemberRole.LEFT:
        return
    # The meeting moved later since the answer: ask before its new time instead.
    meeting = await ctx.session.get(Meeting, c.meeting_id) if c.meeting_id else None
    if meeting is not None and meeting.status == "scheduled":
        wanted = meeting.starts_at - CHECK_BEFORE
        if wanted > ctx.now + SOONEST:
            await _reschedule(ctx, c, wanted)
            return
    rnd = await ctx.session.get(CheckinRound, c.round_id) if c.round_id else None
    checkin = await ctx.session.get(Checkin, rnd.checkin_id) if rnd else None
    pref = await preference(ctx.session, community.id, member.id)
    if not asks(pref, ctx.now, checkin.number if checkin else None):
        log.info("commitment %s not asked back: its author paused or opted out", c.id)
        return
    zone = member_zone(member, community)
    until = quiet_until(ctx.now, zone, *quiet_hours(pref))
    if until is not None:
        await _reschedule(ctx, c, until)
        return
    t = member_t(member, community)  # a DM: in the member's own language
    await ctx.outbox.enqueue(
        key=f"reflections:commitment:{c.id}:ask",
        to=UserRef(community.platform, community.workspace_id, member.user_id),
        message=checkback_message(t, c, opened(ctx, c), community, checkin),
        community_id=community.id,
        sealed=True,
    )
    c.status = CommitmentStatus.ASKED
    ctx.session.add(c)
    log.info("commitment %s asked back", c.id)


async def _reschedule(ctx: Context, c: CheckinCommitment, when: datetime) -> None:
    c.check_at = when
    ctx.session.add(c)
    await ctx.schedule.at(
        job_id(c.id), when, "reflections.commitment", [c.id], community_id=c.community_id
    )


def checkback_message(
    t: Translator, c: CheckinCommitment, text: str, community: Community, checkin: Checkin | None
) -> Message:
    head = t("reflections.member.checkback", text=text)
    where = (
        t("reflections.member.checkback_from", title=checkin.title, community=community.name)
        if checkin
        else t("reflections.member.checkback_from_community", community=community.name)
    )
    buttons = [
        Button(
            action=ActionId("commit", "tried", c.id),
            label=t("reflections.member.button.tried"),
            style="primary",
        ),
        Button(
            action=ActionId("commit", "notyet", c.id), label=t("reflections.member.button.notyet")
        ),
        Button(action=ActionId("commit", "drop", c.id), label=t("reflections.member.button.drop")),
        Button(action=ActionId("commit", "tell", c.id), label=t("reflections.member.button.tell")),
    ]
    foot = t("reflections.member.checkback_private")
    return Message(
        text="\n".join([head, where, foot]),
        blocks=[
            Section.of(head),
            Small(parts=[where]),
            Actions(elements=buttons),
            Small(parts=[foot]),
        ],
    )


async def _own(
    ctx: Context, raw_id: int | None, stale: str = "core.refuse.stale_button"
) -> tuple[CheckinCommitment, Community]:
    """The author's own commitment a button or form names; `stale` is the refusal for one
    that does not exist (a button's, or ``core.refuse.stale_form`` for the note form)."""
    c = await ctx.session.get(CheckinCommitment, raw_id) if raw_id is not None else None
    if c is None:
        raise UserError(ctx.t(stale))
    community = await ctx.enter(c.community_id, join=False)
    if ctx.member is None or ctx.member.id != c.member_id:
        # Someone else's commitment: answered exactly as one that no longer exists.
        raise UserError(ctx.t(stale))
    return c, community


async def press(ctx: Context) -> Reply:
    """Tried it / Not yet / Drop it, or Tell how it went (opens the note form)."""
    verb = ctx.action.verb
    c, _community = await _own(ctx, ctx.action.int_arg(0))
    if verb == "tell":
        return note_form(ctx, c)
    if verb == "drop":
        c.status = CommitmentStatus.DROPPED
    elif verb in ANSWERS:
        c.status = ANSWERS[verb]
    else:
        raise UserError(ctx.t("core.refuse.stale_button"))
    c.checked_at = ctx.now
    ctx.session.add(c)
    await ctx.schedule.cancel(job_id(c.id))
    return Respond(Message(text=ctx.t(f"reflections.member.checked.{verb}")), private=True)


def note_inputs(t: Translator) -> list[Input]:
    return [
        Input(
            name="how",
            label=t("reflections.member.note.how"),
            kind="select",
            options=[Option(value=k, label=t(f"reflections.member.button.{k}")) for k in ANSWERS],
            initial="tried",
        ),
        Input(
            name="note",
            label=t("reflections.member.note.label"),
            kind="long",
            max_length=MAX_NOTE,
        ),
        Input(
            name="privacy",
            label=t("reflections.member.note.privacy"),
            kind="select",
            options=[
                Option(value=p, label=t(f"reflections.member.privacy.{p}")) for p in PRIVACIES
            ],
            initial=Privacy.PRIVATE,
        ),
    ]


def note_form(ctx: Context, c: CheckinCommitment) -> OpenForm:
    return OpenForm(
        Form(
            form_id=FORM_ID,
            title=ctx.t("reflections.member.note.title"),
            inputs=note_inputs(ctx.t),
            submit_label=ctx.t("reflections.member.note.submit"),
            metadata=str(c.id),
        )
    )


async def note_submitted(ctx: Context) -> Reply:
    """The note on how it went: sealed, then shared only as its author chose."""
    event = ctx.event
    assert isinstance(event, FormSubmitted)
    c, community = await _own(ctx, parse_id(event.metadata), "core.refuse.stale_form")
    if c.status == CommitmentStatus.DROPPED:
        raise UserError(ctx.t("reflections.member.dropped_already"))
    values, errors = check_form(note_inputs(ctx.t), event.values, ctx.t)
    if errors:
        return FormErrors(errors)
    note = values["note"]
    first = c.note_sealed is None
    c.status = ANSWERS[values["how"]]
    c.note_sealed = ctx.services.sealer.seal(note, f"commitment-note:{c.id}")
    c.checked_at = ctx.now
    ctx.session.add(c)
    await ctx.schedule.cancel(job_id(c.id))
    privacy = values["privacy"]
    assert ctx.member is not None
    # Never the privacy choice: with the time, it would tie an anonymous note to its author.
    log.info("commitment %s noted", c.id)
    if privacy == Privacy.PRIVATE:
        return Respond(Message(text=ctx.t("reflections.member.noted.private")), private=True)
    if not first:  # shared once already: a second note stays with its author
        return Respond(Message(text=ctx.t("reflections.member.noted.again")), private=True)
    await share(ctx, community, c, ctx.member, opened(ctx, c), note, privacy, values["how"])
    return Respond(Message(text=ctx.t(f"reflections.member.noted.{privacy}")), private=True)


async def share(
    ctx: Context,
    community: Community,
    c: CheckinCommitment,
    author: Member,
    text: str,
    note: str,
    privacy: str,
    how: str,
) -> None:
    """Send the note where its author chose: the facilitators by DM, or the channel (in the
    thread under the round's post when the platform has threads), named or anonymous."""
    t = translator(community.language)
    values = {"status": t(f"reflections.member.shared_status.{how}"), "text": text, "note": note}
    if privacy == Privacy.FACILITATORS:

        def compose(t: Translator) -> Message:
            body = t(
                "reflections.member.shared_facilitators",
                name=author.display_name,
                community=community.name,
                status=t(f"reflections.member.shared_status.{how}"),
                text=text,
                note=note,
            )
            return Message(text=body, blocks=[Section.of(body)])

        key = note_key(c.id)
        named = await facilitators(ctx, community)
        others = [m for m in named if m.id != author.id]
        # DMs: each in the facilitator's own language.
        if others:
            await fan_out_each(
                ctx, key=key, community=community, members=others, compose=compose, sealed=True
            )
        elif not named and community.created_by != author.user_id:
            # No facilitator named yet: the admin who set the community up, as for answers.
            assert community.id is not None
            creator = await find_member(ctx.session, community.id, community.created_by)
            await ctx.outbox.enqueue(
                key=f"{key}:creator",
                to=UserRef(community.platform, community.workspace_id, community.created_by),
                message=compose(member_t(creator, community)),
                community_id=community.id,
                sealed=True,
            )
        return
    rnd = await ctx.session.get(CheckinRound, c.round_id) if c.round_id else None
    thread = rnd.post_key if rnd is not None else None
    if privacy == Privacy.NAMED:
        body = t("reflections.member.shared_named", name=author.display_name, **values)
        await ctx.outbox.enqueue(
            key=named_note_key(c.id),
            to=channel_of(community),
            message=Message(text=body, blocks=[Section.of(body)]),
            community_id=community.id,
            thread_of=thread,
            sealed=True,
        )
        return
    # Anonymous: a key with nothing of the commitment or its author, and a time that is not
    # when it was written (before the next meeting, in a random order among the others).
    body = t("reflections.member.shared_anonymous", **values)
    await ctx.outbox.enqueue(
        key=f"reflections:commitment-anonymous:{secrets.token_hex(12)}",
        to=channel_of(community),
        message=Message(text=body, blocks=[Section.of(body)]),
        community_id=community.id,
        thread_of=thread,
        sealed=True,
        not_before=await anonymous_time(ctx, community),
    )


def named_note_key(commitment_id: int) -> str:
    """The outbox key of a note on a commitment shared with the group under its author's name."""
    return f"reflections:commitment:{commitment_id}:shared"


def note_key(commitment_id: int) -> str:
    """The outbox key a note shared with the facilitators is fanned out under."""
    return f"reflections:commitment:{commitment_id}:note"


async def withdraw_notes(ctx: Context, community: Community, member_id: int) -> int:
    """The member's notes shared with their name say they were withdrawn (for
    `/cop my-data erase`, before the commitments are deleted): in the thread, and in the
    facilitators' DMs. Returns how many messages."""
    notes = await ctx.session.execute(
        select(col(CheckinCommitment.id)).where(
            col(CheckinCommitment.community_id) == community.id,
            col(CheckinCommitment.member_id) == member_id,
            col(CheckinCommitment.note_sealed).is_not(None),
        )
    )
    ids = list(notes.scalars())
    if not ids:
        return 0
    posted = await ctx.session.execute(
        select(col(OutboxMessage.key), col(OutboxMessage.thread_of), col(OutboxMessage.kind)).where(
            col(OutboxMessage.community_id) == community.id,
            col(OutboxMessage.kind).in_(("channel", "dm")),
            or_(
                *(col(OutboxMessage.key) == named_note_key(c_id) for c_id in ids),
                *(col(OutboxMessage.key).like(f"{note_key(c_id)}:%") for c_id in ids),
            ),
        )
    )
    note = translator(community.language)("reflections.member.note_withdrawn")
    message = Message(text=note, blocks=[Section.of(note)])
    withdrawn = 0
    for key, thread, kind in posted.all():
        if ctx.capabilities.edit:
            await ctx.outbox.enqueue_edit(
                edit_of=key,
                platform=community.platform,
                workspace_id=community.workspace_id,
                message=message,
                community_id=community.id,
            )
        elif kind == "channel":  # where posts cannot be edited, a note follows in the thread
            await ctx.outbox.enqueue(
                key=f"{key}:withdrawn",
                to=channel_of(community),
                message=message,
                community_id=community.id,
                thread_of=thread,
            )
        else:
            continue  # a DM that cannot be edited stays as it was read
        withdrawn += 1
    return withdrawn


async def anonymous_time(ctx: Context, community: Community) -> datetime:
    """When an anonymous note goes out: `ANONYMOUS_LEAD` before the next meeting, else at
    `ANONYMOUS_AT` tomorrow in the community's zone; plus up to `ANONYMOUS_SPREAD` at random,
    so notes waiting together go out in no telling order."""
    meeting = await _next_meeting(ctx, community.id, ctx.now + ANONYMOUS_LEAD)
    if meeting is not None:
        base = meeting.starts_at - ANONYMOUS_LEAD
    else:
        zone = ZoneInfo(community.timezone)
        tomorrow = ctx.now.astimezone(zone).date() + timedelta(days=1)
        base = datetime.combine(tomorrow, ANONYMOUS_AT, tzinfo=zone).astimezone(UTC)
    return base + timedelta(seconds=secrets.randbelow(int(ANONYMOUS_SPREAD.total_seconds())))


def questions_of(rnd: CheckinRound) -> list[dict[str, object]]:
    try:
        loaded = json.loads(rnd.questions)
    except ValueError:
        return []
    return [q for q in loaded if isinstance(q, dict)] if isinstance(loaded, list) else []
