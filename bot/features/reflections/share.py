"""Sharing answers by their author's choice: with a name in the round's thread, with the
facilitators by private message, or anonymously in the thread when the round closes.

What never happens here: a private answer leaves its row only for its author's own form;
an anonymous answer is posted without its author, in a shuffled order, with outbox keys
that hold the round and the question but no member or answer id; nothing is logged but
kinds and ids. Messages carrying answer text are queued ``sealed`` (the outbox keeps them
encrypted until delivery).
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context, channel_of, find_member
from bot.events import UserRef
from bot.i18n import Translator, translator
from bot.languages import fan_out_each, member_t
from bot.sealed import SealBroken
from bot.ui import Context as Small
from bot.ui import Message, Section
from storage.models import Community, Member, MemberRole, OutboxMessage
from storage.reflections import Checkin, CheckinAnswer, CheckinRound, Privacy

log = logging.getLogger(__name__)

_shuffle = secrets.SystemRandom().shuffle


def aad(answer: CheckinAnswer) -> str:
    """What an answer's token is bound to (storage.reflections): its row and question."""
    return f"reflection:{answer.id}:{answer.question}"


def readable(ctx: Context, answer: CheckinAnswer) -> str | None:
    """The answer's text, or None when it does not open (sealed under an earlier key)."""
    try:
        return ctx.services.sealer.open(answer.sealed, aad(answer))
    except SealBroken:
        log.warning("answer %s does not open with the current reflection key", answer.id)
        return None


def open_answer(ctx: Context, answer: CheckinAnswer) -> str:
    """The answer's text for showing, or a note that it can no longer be read."""
    text = readable(ctx, answer)
    return ctx.t("reflections.unreadable") if text is None else text


def version(token: str) -> str:
    """A short name for one version of an answer: a digest of its sealed token (each sealing
    draws a fresh nonce, so every version differs; the digest says nothing of the text)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()[:16]


def named_key(answer: CheckinAnswer, token: str) -> str:
    """The outbox key of the post of one version (`token`: its sealed text) of a named answer."""
    return f"reflections:named:{answer.id}:{version(token)}"


async def facilitators(ctx: Context, community: Community) -> list[Member]:
    rows = await ctx.session.execute(
        select(Member).where(
            col(Member.community_id) == community.id,
            col(Member.role) == MemberRole.FACILITATOR,
        )
    )
    return list(rows.scalars())


def _message(head: str, body: str, foot: str = "") -> Message:
    blocks: list[Section | Small] = [Section.of(head), Section.of(body)]
    if foot:
        blocks.append(Small(parts=[foot]))
    return Message(text="\n".join(x for x in (head, body, foot) if x), blocks=blocks)


def named_message(
    t: Translator, author: Member, question: str, text: str, *, edited: bool = False
) -> Message:
    head = t("reflections.share.named", name=author.display_name, question=question)
    return _message(head, text, t("reflections.share.edited") if edited else "")


async def share_named(
    ctx: Context,
    community: Community,
    rnd: CheckinRound,
    answer: CheckinAnswer,
    author: Member,
    question: str,
    text: str,
    *,
    replaces: str | None,
) -> None:
    """Post the answer under the round's channel post, with its author's name.

    `replaces` is the sealed token of the version whose post is still in the thread.
    The outbox cannot seal an edit, so a changed answer goes out as a new sealed reply
    marked "edited", and the earlier post, where it can be edited, only says so.
    """
    t = translator(community.language)
    if replaces is not None:
        await _replace(ctx, community, rnd, answer, replaces, t("reflections.share.replaced"))
    await ctx.outbox.enqueue(
        key=named_key(answer, answer.sealed),
        to=channel_of(community),
        message=named_message(t, author, question, text, edited=replaces is not None),
        community_id=community.id,
        thread_of=rnd.post_key,
        sealed=True,
    )
    log.info("round %s: answer %s shared with its name", rnd.id, answer.id)


async def _replace(
    ctx: Context,
    community: Community,
    rnd: CheckinRound,
    answer: CheckinAnswer,
    token: str,
    note: str,
) -> None:
    """Edit an earlier post of a named answer to `note` (no answer text), where edits exist."""
    if not ctx.capabilities.edit:
        return
    await ctx.outbox.enqueue_edit(
        edit_of=named_key(answer, token),
        platform=community.platform,
        workspace_id=community.workspace_id,
        message=Message(text=note, blocks=[Section.of(note)]),
        community_id=community.id,
    )


async def withdraw_named(
    ctx: Context, community: Community, rnd: CheckinRound, answer: CheckinAnswer, token: str
) -> None:
    """The author took back an answer they had shared with their name: its post says so
    (edited in place; where messages cannot be edited, a note follows in the thread)."""
    t = translator(community.language)
    note = t("reflections.share.withdrawn")
    if ctx.capabilities.edit:
        await _replace(ctx, community, rnd, answer, token, note)
    else:
        await ctx.outbox.enqueue(
            key=f"{named_key(answer, token)}:withdrawn",
            to=channel_of(community),
            message=Message(text=note, blocks=[Section.of(note)]),
            community_id=community.id,
            thread_of=rnd.post_key,
        )
    log.info("round %s: answer %s withdrawn from the thread", rnd.id, answer.id)


async def withdraw_all(ctx: Context, community: Community, member_id: int) -> int:
    """Everything the member shared with their name is withdrawn (for `/cop my-data erase`,
    before their answers are deleted): named posts in the threads, and the DMs that took
    their answers to the facilitators (every version). Returns how many answers."""
    rows = await ctx.session.execute(
        select(CheckinAnswer).where(
            col(CheckinAnswer.community_id) == community.id,
            col(CheckinAnswer.member_id) == member_id,
        )
    )
    withdrawn = 0
    for answer in rows.scalars():
        rnd = await ctx.session.get(CheckinRound, answer.round_id)
        named = answer.privacy == Privacy.NAMED and answer.shared_at is not None
        if rnd is not None and named:
            await withdraw_named(ctx, community, rnd, answer, answer.sealed)
        sent = await _withdraw_dms(ctx, community, f"reflections:fac:{answer.id}:%")
        withdrawn += int(named or sent > 0)
    return withdrawn


async def _withdraw_dms(ctx: Context, community: Community, keys_like: str) -> int:
    """Edit each DM whose outbox key matches `keys_like` to say it was withdrawn (where
    messages can be edited; a DM already read cannot be unsent); returns how many."""
    if not ctx.capabilities.edit:
        return 0
    keys = list(
        (
            await ctx.session.execute(
                select(col(OutboxMessage.key)).where(
                    col(OutboxMessage.community_id) == community.id,
                    col(OutboxMessage.kind) == "dm",
                    col(OutboxMessage.key).like(keys_like),
                )
            )
        ).scalars()
    )
    note = translator(community.language)("reflections.share.withdrawn")
    for key in keys:
        await ctx.outbox.enqueue_edit(
            edit_of=key,
            platform=community.platform,
            workspace_id=community.workspace_id,
            message=Message(text=note, blocks=[Section.of(note)]),
            community_id=community.id,
        )
    return len(keys)


async def share_with_facilitators(
    ctx: Context,
    community: Community,
    checkin: Checkin,
    rnd: CheckinRound,
    answer: CheckinAnswer,
    author: Member,
    question: str,
    text: str,
    *,
    edited: bool,
) -> None:
    """DM the answer to the community's facilitators (the admin who set it up when none),
    each in their own language."""

    def compose(t: Translator) -> Message:
        head = t(
            "reflections.share.to_facilitators",
            name=author.display_name,
            community=community.name,
            checkin=checkin.number,
            round=rnd.number,
            question=question,
        )
        return _message(head, text, t("reflections.share.edited") if edited else "")

    key = f"reflections:fac:{answer.id}:{version(answer.sealed)}"
    named = await facilitators(ctx, community)
    others = [m for m in named if m.id != author.id]
    if others:
        await fan_out_each(
            ctx, key=key, community=community, members=others, compose=compose, sealed=True
        )
    elif not named and community.created_by != author.user_id:
        assert community.id is not None
        creator = await find_member(ctx.session, community.id, community.created_by)
        await ctx.outbox.enqueue(
            key=f"{key}:creator",
            to=UserRef(community.platform, community.workspace_id, community.created_by),
            message=compose(member_t(creator, community)),
            community_id=community.id,
            sealed=True,
        )
    log.info("round %s: answer %s shared with the facilitators", rnd.id, answer.id)


#: The facilitators see who answered a round (never what). With fewer answerers than this,
#: an anonymous answer could be told apart by elimination, so it is not posted at all.
MIN_ANONYMOUS = 3


async def _hold_anonymous(
    ctx: Context, community: Community, rnd: CheckinRound, rows: list[CheckinAnswer]
) -> None:
    """Too few answered to keep an anonymous answer anonymous: each of its authors is told
    privately that it stays theirs (in their journal), and nothing goes to the channel."""
    checkin = await ctx.session.get(Checkin, rnd.checkin_id)
    for member_id in sorted({a.member_id for a in rows}):
        person = await ctx.session.get(Member, member_id)
        if person is None:
            continue
        t = member_t(person, community)  # a DM: in the member's own language
        text = t(
            "reflections.share.anonymous_held",
            checkin=checkin.number if checkin else "",
            minimum=MIN_ANONYMOUS,
        )
        await ctx.outbox.enqueue(
            key=f"reflections:anon-held:{rnd.id}:member:{member_id}",
            to=UserRef(community.platform, community.workspace_id, person.user_id),
            message=Message(text=text, blocks=[Section.of(text)]),
            community_id=community.id,
        )
    log.info("round %s: anonymous answers held back (too few answered)", rnd.id)


async def post_anonymous(
    ctx: Context, community: Community, rnd: CheckinRound, questions: list[str]
) -> int:
    """At close: the round's anonymous answers, shuffled, one message per question, no names.

    Returns how many answers were posted. Keys name the round and question only.
    """
    rows = list(
        (
            await ctx.session.execute(
                select(CheckinAnswer).where(
                    col(CheckinAnswer.round_id) == rnd.id,
                    col(CheckinAnswer.community_id) == community.id,
                    col(CheckinAnswer.privacy) == Privacy.ANONYMOUS,
                )
            )
        ).scalars()
    )
    if rows and rnd.answered < MIN_ANONYMOUS:
        await _hold_anonymous(ctx, community, rnd, rows)
        return 0
    t = translator(community.language)
    posted = 0
    for index, question in enumerate(questions):
        found = (readable(ctx, a) for a in rows if a.question == index)
        texts = [text for text in found if text is not None]
        if not texts:
            continue
        _shuffle(texts)
        head = t("reflections.share.anonymous", question=question, count=len(texts))
        body = "\n".join(f"• {text}" for text in texts)
        await ctx.outbox.enqueue(
            key=f"reflections:anon:{rnd.id}:{index}",
            to=channel_of(community),
            message=_message(head, body),
            community_id=community.id,
            thread_of=rnd.post_key,
            sealed=True,
        )
        posted += len(texts)
    for answer in rows:
        answer.shared_at = ctx.now
        ctx.session.add(answer)
    log.info("round %s: %d anonymous answers posted", rnd.id, posted)
    return posted
