"""Everything circlebot holds about one person, read for their export.

One function per kind of record, each scoped to one community and one member row (or the
person's platform user id where a table keys people by it). Reflection text is opened here,
for the author's own file only; a token that does not open (the key was lost or replaced)
is reported as unreadable, never as an error that could name it.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.sealed import SealBroken, Sealer
from storage.agreements import (
    AgreementAck,
    AgreementPosition,
    AgreementProposal,
    AgreementVersion,
)
from storage.meetings import Meeting, MeetingAttendance, MeetingRsvp, MeetingSeries
from storage.models import Community, Member
from storage.reflections import (
    Checkin,
    CheckinAnswer,
    CheckinCommitment,
    CheckinDelivery,
    CheckinRound,
    ReflectionPreference,
)
from storage.reports import Certificate
from storage.voting import Ballot, Poll, PollOption, Topic, TopicIntake

log = logging.getLogger(__name__)

Record = dict[str, Any]


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def opened(sealer: Sealer, token: str | None, aad: str) -> str | None:
    """The text of a sealed token, or None when it does not open with this key and row."""
    if token is None:
        return None
    try:
        return sealer.open(token, aad)
    except SealBroken:
        return None


async def community_record(
    session: AsyncSession, sealer: Sealer, community: Community, member: Member
) -> Record:
    """Everything of one community about the person whose row `member` is."""
    return {
        "community": {
            "name": community.name,
            "channel": community.channel_name or community.channel_id,
            "time_zone": community.timezone,
        },
        "membership": {
            "name": member.display_name,
            "role": member.role,
            "time_zone": member.timezone,
            "joined_at": iso(member.joined_at),
            # The language they chose with /cop my language, when they chose one.
            **({"language": member.language} if member.language else {}),
            # What the platform said of them (Slack's zone and locale), when it said anything.
            **(
                {
                    "platform_time_zone": member.platform_timezone,
                    "platform_locale": member.platform_locale,
                }
                if member.platform_timezone or member.platform_locale
                else {}
            ),
        },
        "meetings": {
            "rsvps": await rsvps(session, member),
            "attendance": await attendance(session, community, member),
        },
        "votes": {
            "ballots": await ballots(session, member),
            "topics_proposed": await topics(session, community, member),
        },
        "agreements": await agreements(session, community, member),
        "certificates": await certificates(session, community, member),
        "reflections": await reflections(session, sealer, member),
        "created_for_the_community": await created(session, community, member),
    }


async def rsvps(session: AsyncSession, member: Member) -> list[Record]:
    found = await session.execute(
        select(MeetingRsvp, Meeting)
        .join(Meeting, col(Meeting.id) == col(MeetingRsvp.meeting_id))
        .where(col(MeetingRsvp.member_id) == member.id)
        .order_by(col(Meeting.starts_at))
    )
    return [
        {
            "meeting": meeting.number,
            "starts_at": iso(meeting.starts_at),
            "answer": rsvp.answer,
            "answered_at": iso(rsvp.updated_at),
        }
        for rsvp, meeting in found
    ]


def attendance_of(community: Community, member: Member) -> Any:
    """The attendance rows of the person in one community: by member row or by user id."""
    return (col(MeetingAttendance.community_id) == community.id) & or_(
        col(MeetingAttendance.member_id) == member.id,
        col(MeetingAttendance.user_id) == member.user_id,
    )


async def attendance(session: AsyncSession, community: Community, member: Member) -> list[Record]:
    found = await session.execute(
        select(MeetingAttendance, Meeting)
        .join(Meeting, col(Meeting.id) == col(MeetingAttendance.meeting_id))
        .where(attendance_of(community, member))
        .order_by(col(Meeting.starts_at))
    )
    return [
        {
            "meeting": meeting.number,
            "starts_at": iso(meeting.starts_at),
            "minutes": row.minutes,
            "name_recorded": row.display_name,
            "marked_at": iso(row.marked_at),
        }
        for row, meeting in found
    ]


async def certificates(session: AsyncSession, community: Community, member: Member) -> list[Record]:
    """The PD certificates issued to the person (`/cop my hours`), as a verifier sees them."""
    found = await session.execute(
        select(Certificate)
        .where(
            col(Certificate.community_id) == community.id,
            or_(
                col(Certificate.member_id) == member.id, col(Certificate.user_id) == member.user_id
            ),
        )
        .order_by(col(Certificate.id))
    )
    return [
        {
            "code": f"{c.code[:4]}-{c.code[4:8]}-{c.code[8:]}",
            "name": c.member_name,
            "from": c.period_from.isoformat(),
            "to": c.period_to.isoformat(),
            "minutes": c.minutes,
            "meetings": c.meetings,
            "issued_at": iso(c.issued_at),
        }
        for c in found.scalars()
    ]


async def ballots(session: AsyncSession, member: Member) -> list[Record]:
    """The person's ballots, anonymous polls included: the file goes to them alone."""
    found = list(
        await session.execute(
            select(Ballot, Poll)
            .join(Poll, col(Poll.id) == col(Ballot.poll_id))
            .where(col(Ballot.member_id) == member.id)
            .order_by(col(Ballot.cast_at))
        )
    )
    out = []
    for ballot, poll in found:
        labels = {
            o.id: o.label
            for o in (
                await session.execute(select(PollOption).where(col(PollOption.poll_id) == poll.id))
            ).scalars()
        }
        raw = json.loads(ballot.choices)
        if isinstance(raw, list):
            choices: Any = [labels.get(int(o), "?") for o in raw]  # a ranking, best first
        else:
            choices = {labels.get(int(o), "?"): int(w) for o, w in raw.items()}
        out.append(
            {
                "poll": poll.id,
                "question": poll.question,
                "anonymous": poll.anonymous,
                "poll_status": poll.status,
                "choices": choices,
                "cast_at": iso(ballot.cast_at),
                "changed_at": iso(ballot.updated_at),
            }
        )
    return out


async def topics(session: AsyncSession, community: Community, member: Member) -> list[Record]:
    found = await session.execute(
        select(Topic)
        .where(col(Topic.community_id) == community.id, col(Topic.proposer_id) == member.user_id)
        .order_by(col(Topic.id))
    )
    return [
        {
            "topic": t.id,
            "title": t.title,
            "why": t.why,
            "status": t.status,
            "proposed_at": iso(t.created_at),
        }
        for t in found.scalars()
    ]


def proposals_of(community: Community, member: Member) -> Any:
    return (col(AgreementProposal.community_id) == community.id) & or_(
        col(AgreementProposal.proposer_member_id) == member.id,
        col(AgreementProposal.proposer_id) == member.user_id,
    )


async def agreements(session: AsyncSession, community: Community, member: Member) -> Record:
    acks = await session.execute(
        select(AgreementAck)
        .where(col(AgreementAck.member_id) == member.id)
        .order_by(col(AgreementAck.version))
    )
    proposals = await session.execute(
        select(AgreementProposal)
        .where(proposals_of(community, member))
        .order_by(col(AgreementProposal.number))
    )
    positions = await session.execute(
        select(AgreementPosition, AgreementProposal)
        .join(AgreementProposal, col(AgreementProposal.id) == col(AgreementPosition.proposal_id))
        .where(col(AgreementPosition.member_id) == member.id)
        .order_by(col(AgreementProposal.number), col(AgreementPosition.round))
    )
    versions = await session.execute(
        select(AgreementVersion)
        .where(
            col(AgreementVersion.community_id) == community.id,
            col(AgreementVersion.proposed_by) == member.user_id,
        )
        .order_by(col(AgreementVersion.number))
    )
    return {
        "agreed_to": [{"version": a.version, "agreed_at": iso(a.acked_at)} for a in acks.scalars()],
        "proposals": [
            {
                "proposal": p.number,
                "kind": p.kind,
                "agreement": p.target,
                "text": p.text,
                "why": p.why,
                "status": p.status,
                "proposed_at": iso(p.created_at),
            }
            for p in proposals.scalars()
        ],
        "consent_positions": [
            {
                "proposal": proposal.number,
                "round": pos.round,
                "position": pos.position,
                "reason": pos.reason,
                "changed_at": iso(pos.updated_at),
            }
            for pos, proposal in positions
        ],
        "versions_proposed": [
            {"version": v.number, "decided": v.decided, "at": iso(v.created_at)}
            for v in versions.scalars()
        ],
    }


def question_text(round_: CheckinRound, index: int) -> str:
    """The question as it was asked in that round (rounds freeze their questions)."""
    try:
        asked = json.loads(round_.questions)
        item = asked[index]
    except (ValueError, IndexError, TypeError):
        return f"#{index + 1}"
    return str(item.get("text", "")) if isinstance(item, dict) else str(item)


async def reflections(session: AsyncSession, sealer: Sealer, member: Member) -> Record:
    answers = await session.execute(
        select(CheckinAnswer, CheckinRound, Checkin)
        .join(CheckinRound, col(CheckinRound.id) == col(CheckinAnswer.round_id))
        .join(Checkin, col(Checkin.id) == col(CheckinRound.checkin_id))
        .where(col(CheckinAnswer.member_id) == member.id)
        .order_by(col(CheckinRound.opens_at), col(CheckinAnswer.question))
    )
    answer_records = []
    for answer, round_, checkin in answers:
        text = opened(sealer, answer.sealed, f"reflection:{answer.id}:{answer.question}")
        answer_records.append(
            {
                "check_in": checkin.title,
                "round": round_.number,
                "asked_at": iso(round_.opens_at),
                "question": question_text(round_, answer.question),
                "answer": text,
                "unreadable": text is None,
                "who_can_read": answer.privacy,
                "written_at": iso(answer.created_at),
                "changed_at": iso(answer.updated_at),
                "shared_at": iso(answer.shared_at),
            }
        )
    commitments = await session.execute(
        select(CheckinCommitment)
        .where(col(CheckinCommitment.member_id) == member.id)
        .order_by(col(CheckinCommitment.created_at))
    )
    commitment_records = []
    for c in commitments.scalars():
        text = opened(sealer, c.sealed, f"commitment:{c.id}")
        note = opened(sealer, c.note_sealed, f"commitment-note:{c.id}")
        commitment_records.append(
            {
                "commitment": text,
                "unreadable": text is None or (c.note_sealed is not None and note is None),
                "status": c.status,
                "how_it_went": note,
                "check_back_at": iso(c.check_at),
                "made_at": iso(c.created_at),
                "checked_at": iso(c.checked_at),
            }
        )
    deliveries = await session.execute(
        select(CheckinDelivery, CheckinRound, Checkin)
        .join(CheckinRound, col(CheckinRound.id) == col(CheckinDelivery.round_id))
        .join(Checkin, col(Checkin.id) == col(CheckinRound.checkin_id))
        .where(col(CheckinDelivery.member_id) == member.id)
        .order_by(col(CheckinDelivery.asked_at))
    )
    prefs = (
        await session.execute(
            select(ReflectionPreference).where(col(ReflectionPreference.member_id) == member.id)
        )
    ).scalar_one_or_none()
    return {
        "answers": answer_records,
        "commitments": commitment_records,
        "asked": [
            {
                "check_in": checkin.title,
                "round": round_.number,
                "asked_at": iso(d.asked_at),
                "answered_at": iso(d.answered_at),
                "nudges": d.nudges,
            }
            for d, round_, checkin in deliveries
        ],
        "preferences": None
        if prefs is None
        else {
            "paused_until": iso(prefs.paused_until),
            "opted_out_at": iso(prefs.opted_out_at),
            "opted_out_of_check_ins": [
                int(n) for n in (prefs.opted_out_checkins or "").split() if n.isdigit()
            ],
            "quiet_from": prefs.quiet_from,
            "quiet_to": prefs.quiet_to,
        },
    }


async def created(session: AsyncSession, community: Community, member: Member) -> Record:
    """What the person made for the community (kept when they erase their data: it is the
    community's), listed so they know their user id is on it."""
    user, cid = member.user_id, community.id
    polls = await session.execute(
        select(Poll).where(col(Poll.community_id) == cid, col(Poll.created_by) == user)
    )
    intakes = await session.execute(
        select(TopicIntake).where(
            col(TopicIntake.community_id) == cid, col(TopicIntake.opened_by) == user
        )
    )
    series = await session.execute(
        select(MeetingSeries).where(
            col(MeetingSeries.community_id) == cid, col(MeetingSeries.created_by) == user
        )
    )
    checkins = await session.execute(
        select(Checkin).where(col(Checkin.community_id) == cid, col(Checkin.created_by) == user)
    )
    return {
        "set_up_the_community": community.created_by == user,
        "polls": [{"poll": p.id, "question": p.question} for p in polls.scalars()],
        "topic_intakes": [{"intake": i.id, "prompt": i.prompt} for i in intakes.scalars()],
        "meeting_series": [{"series": s.number, "title": s.title} for s in series.scalars()],
        "check_ins": [{"check_in": c.number, "title": c.title} for c in checkins.scalars()],
    }
