"""A member's own data: their time zone, the export of everything circlebot holds about them,
and erasing it. Through the console on SQLite and PostgreSQL; reflection rows are written
with the storage models and the app's own sealer, as the check-in feature writes them.

Two members, cara and dan, each vote (an anonymous poll, a named one, an open one), answer
an RSVP, attend, agree to the agreements and have reflections with text only they wrote;
everything cara gets or erases is checked against dan's.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from adapters.console.adapter import ConsoleAdapter
from adapters.console.session import ConsoleSession
from bot.app import App
from bot.commands import Registry
from bot.events import ActionClicked, Actor, ConversationRef, Place, Respond, UserRef
from bot.features.mydata.gather import community_record
from bot.i18n import Translator
from bot.ports import FakeClock
from bot.sealed import Sealer
from bot.ui import ActionId
from storage.db import Database
from storage.meetings import MeetingAttendance, MeetingRsvp
from storage.models import Community, Member, OutboxMessage
from storage.reflections import (
    Checkin,
    CheckinAnswer,
    CheckinCommitment,
    CheckinDelivery,
    CheckinRound,
    ReflectionPreference,
)
from storage.voting import Ballot, Poll

NY = "America/New_York"
BOM = b"\xef\xbb\xbf"
CARA_SECRET = "cara-kestrel-7731 noticed the block corner calms Theo"
CARA_TRY = "cara-heron-4410 picture schedule at arrival"
CARA_NOTE = "cara-wren-2208 it worked on Tuesday"
DAN_SECRET = "dan-osprey-5120 lunch transitions are loud"
DAN_TRY = "dan-plover-6603 sing the clean-up song"

SETUP = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:in #cop2
/cop setup "Infant Care Circle" America/New_York
:as cara
/cop join
:in #cop
/cop join
:as dan
/cop join
:as ben
/cop poll new "Secret topic?" options="Outdoor play | Families" anonymous=yes
:as cara
:press Outdoor play
:as dan
:press Families
:as ben
/cop poll close 1
/cop poll new "Named topic?" options="Songs | Stories"
:as cara
:press Songs
:as dan
:press Stories
:as ben
/cop poll close 2
/cop agreements draft pick=1,2
/cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"
:as cara
:press Going
:as dan
:press Maybe
:at 2026-11-03T18:30
:as cara
:press I agree
:as dan
:press I agree
:at 2026-11-03T19:40
:as cara
/cop meeting attended 1
:as dan
/cop meeting attended 1
:as ben
/cop poll new "Still open?" options="Blocks | Water" anonymous=yes
:as cara
:press Blocks
:as dan
:press Water
"""


class Bot:
    """One database, one reflection key and one clock across several console runs."""

    def __init__(self, db: Database, files: Path) -> None:
        self.db = db
        self.files = files
        self.sealer = Sealer.generate()
        self.clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo(NY)))
        self.app: App | None = None
        self.adapter: ConsoleAdapter | None = None
        self.registry: Registry | None = None

    async def run(self, script: str) -> list[str]:
        lines: list[str] = []
        adapter = ConsoleAdapter(lines.append, self.files)
        app = App(
            self.db, self.clock, [adapter], manual=True, sealer=self.sealer, registry=self.registry
        )
        session = ConsoleSession(app, adapter, zone=NY)
        await app.start()
        await app.worker.drain()
        for line in script.strip().splitlines():
            await session.feed(line, echo=True)
        await app.stop()
        self.app, self.adapter = app, adapter
        return lines


async def member(db: Database, channel: str, user: str) -> tuple[Community, Member]:
    async with db.session() as s:
        row = (
            await s.execute(
                select(Community, Member)
                .join(Member, col(Member.community_id) == col(Community.id))
                .where(col(Community.channel_id) == channel, col(Member.user_id) == user)
            )
        ).one()
        return row[0], row[1]


async def seed_reflections(bot: Bot) -> None:
    """A check-in round answered by cara and dan, as the check-in feature stores it."""
    community, cara = await member(bot.db, "cop", "cara")
    _, dan = await member(bot.db, "cop", "dan")
    now = bot.clock.now()
    questions = [{"text": "What did I notice?", "kind": "text"}, {"text": "What will I try?"}]
    async with bot.db.session() as s:
        checkin = Checkin(
            community_id=community.id,
            number=1,
            title="After our meeting",
            questions=json.dumps(questions),
            timing="after",
            days=2,
            tz=NY,
            open_minutes=7 * 24 * 60,
            created_by="ben",
        )
        s.add(checkin)
        await s.flush()
        round_ = CheckinRound(
            community_id=community.id,
            checkin_id=checkin.id,
            number=1,
            questions=json.dumps(questions),
            opens_at=now,
            closes_at=now + timedelta(days=7),
            status="open",
        )
        s.add(round_)
        await s.flush()
        for who, texts, privacy in (
            (cara, (CARA_SECRET, CARA_TRY), "private"),
            (dan, (DAN_SECRET, DAN_TRY), "facilitators"),
        ):
            s.add(
                CheckinDelivery(
                    community_id=community.id,
                    round_id=round_.id,
                    member_id=who.id,
                    dm_key=f"checkin:{round_.id}:member:{who.id}",
                    answered_at=now,
                )
            )
            for q, text in enumerate(texts):
                answer = CheckinAnswer(
                    community_id=community.id,
                    round_id=round_.id,
                    member_id=who.id,
                    question=q,
                    sealed="",
                    privacy=privacy,
                )
                s.add(answer)
                await s.flush()
                answer.sealed = bot.sealer.seal(text, f"reflection:{answer.id}:{q}")
            commitment = CheckinCommitment(
                community_id=community.id, member_id=who.id, answer_id=answer.id, sealed=""
            )
            s.add(commitment)
            await s.flush()
            commitment.sealed = bot.sealer.seal(texts[1], f"commitment:{commitment.id}")
            if who is cara:
                commitment.status = "tried"
                commitment.note_sealed = bot.sealer.seal(
                    CARA_NOTE, f"commitment-note:{commitment.id}"
                )
            s.add(
                ReflectionPreference(
                    community_id=community.id,
                    member_id=who.id,
                    quiet_from="21:00",
                    opted_out_checkins=" 1 ",
                )
            )


async def seeded(db: Database, tmp_path: Path) -> Bot:
    bot = Bot(db, tmp_path / "files")
    lines = await bot.run(SETUP)
    assert "[private @dan] Recorded as attended, meeting 1 (60 minutes): dan." in lines
    await seed_reflections(bot)
    return bot


async def snapshot(bot: Bot, channel: str, user: str) -> dict[str, object]:
    """Everything the export would hold for `user` in one community."""
    community, row = await member(bot.db, channel, user)
    async with bot.db.session() as s:
        return await community_record(s, bot.sealer, community, row)


# -- time zone ---------------------------------------------------------------------------------


async def test_timezone_is_shown_set_everywhere_cleared_and_refused(db: Database, tmp_path) -> None:
    bot = Bot(db, tmp_path)
    lines = await bot.run(
        """
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        :in #cop2
        /cop setup "Infant Care Circle" America/Denver
        :as cara
        :in dm
        /cop my timezone Europe/Madrid
        :in #cop2
        /cop join
        :in #cop
        /cop join
        /cop my timezone
        /cop my timezone EST
        /cop my timezone Mars/Olympus
        /cop my timezone america/chicago
        :in dm
        /cop my timezone
        :in #cop
        /cop my timezone none
        /cop my timezone
        """
    )
    said = [line for line in lines if line.startswith("[private @cara]")]
    assert said == [
        "[private @cara] You are not in a community here yet, so there is nowhere to keep a "
        "time zone; run /cop join in a community's channel first.",
        "[private @cara] You have not set a time zone, so Finger Lakes CoP's is used: "
        "America/New_York. Set yours with /cop my timezone ZONE.",
        "[private @cara] EST is a fixed offset; did you mean America/New_York?",
        '[private @cara] "Mars/Olympus" is not a time zone I know; use an IANA name such as '
        "America/New_York.",
        "[private @cara] Your time zone is now America/Chicago, in every community you belong "
        "to here.",
        "[private @cara] Your time zone is America/Chicago: you set it with /cop my timezone.",
        "[private @cara] You no longer have a time zone of your own; each community's is used.",
        "[private @cara] You have not set a time zone, so Finger Lakes CoP's is used: "
        "America/New_York. Set yours with /cop my timezone ZONE.",
    ]


async def test_a_zone_is_set_on_every_community_and_refusals_change_nothing(
    db: Database, tmp_path
) -> None:
    bot = Bot(db, tmp_path)
    await bot.run(
        """
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        :in #cop2
        /cop setup "Infant Care Circle" America/Denver
        :as cara
        /cop join
        :in #cop
        /cop join
        :as dan
        /cop join
        :as cara
        /cop my timezone America/Chicago
        /cop my timezone UTC+3
        """
    )
    async with db.session() as s:
        zones = dict(
            (
                await s.execute(
                    select(Community.channel_id, Member.timezone)
                    .join(Member, col(Member.community_id) == col(Community.id))
                    .where(col(Member.user_id) == "cara")
                )
            ).all()
        )
        dans = (
            await s.execute(select(Member.timezone).where(col(Member.user_id) == "dan"))
        ).scalar_one()
    assert zones == {"cop": "America/Chicago", "cop2": "America/Chicago"}
    assert dans is None


# -- export ------------------------------------------------------------------------------------


async def test_export_holds_the_members_data_and_nobody_elses(db: Database, tmp_path) -> None:
    bot = await seeded(db, tmp_path)
    lines = await bot.run(
        """
        :as cara
        :in #cop
        /cop my-data export
        """
    )
    assert "[private @cara] I've sent your data by direct message." in lines
    dm = lines.index(
        "[dm @cara] Your data from circlebot (2 communities): everything as JSON, and your "
        "reflections as a spreadsheet (CSV). Only you received this."
    )
    assert lines[dm + 1 : dm + 3] == [
        f"  [file: my-data.json, {(bot.files / 'my-data.json').stat().st_size} bytes]",
        f"  [file: my-reflections.csv, {(bot.files / 'my-reflections.csv').stat().st_size} bytes]",
    ]
    assert not any(line.startswith(("[#cop]", "[dm @dan]", "[dm @ben]")) for line in lines)
    raw = (bot.files / "my-data.json").read_bytes()
    data = json.loads(raw)
    assert data["person"] == {"platform": "console", "workspace": "console", "user_id": "cara"}
    by_name = {c["community"]["name"]: c for c in data["communities"]}
    assert set(by_name) == {"Finger Lakes CoP", "Infant Care Circle"}
    cop = by_name["Finger Lakes CoP"]
    assert cop["membership"]["role"] == "member"
    assert [r["answer"] for r in cop["meetings"]["rsvps"]] == ["going"]
    assert [(a["meeting"], a["minutes"]) for a in cop["meetings"]["attendance"]] == [(1, 60)]
    ballots = {b["question"]: (b["anonymous"], b["choices"]) for b in cop["votes"]["ballots"]}
    assert ballots == {
        "Secret topic?": (True, {"Outdoor play": 1}),
        "Named topic?": (False, {"Songs": 1}),
        "Still open?": (True, {"Blocks": 1}),
    }
    assert [a["version"] for a in cop["agreements"]["agreed_to"]] == [1]
    answers = cop["reflections"]["answers"]
    assert [(a["question"], a["answer"], a["who_can_read"]) for a in answers] == [
        ("What did I notice?", CARA_SECRET, "private"),
        ("What will I try?", CARA_TRY, "private"),
    ]
    [commitment] = cop["reflections"]["commitments"]
    assert (commitment["commitment"], commitment["how_it_went"]) == (CARA_TRY, CARA_NOTE)
    assert cop["reflections"]["preferences"]["quiet_from"] == "21:00"
    assert cop["reflections"]["preferences"]["opted_out_of_check_ins"] == [1]
    assert by_name["Infant Care Circle"]["votes"]["ballots"] == []
    # Nothing of dan's: not his text, not his choices, not even his name.
    for secret in (DAN_SECRET, DAN_TRY, "Families", "Stories", "Water", "maybe"):
        assert secret.encode() not in raw
    assert not re.search(rb"\bdan\b", raw)  # ("attendance" holds the letters)
    table = (bot.files / "my-reflections.csv").read_bytes()
    assert table.startswith(BOM) and not re.search(rb"\bdan\b", table)
    rows = list(csv.reader(io.StringIO(table.decode("utf-8-sig"))))
    assert rows[0] == [
        "community",
        "check_in",
        "round",
        "asked_at",
        "kind",
        "question",
        "answer",
        "who_can_read",
        "changed_at",
    ]
    assert [r[4:8] for r in rows[1:]] == [
        ["answer", "What did I notice?", CARA_SECRET, "only me"],
        ["answer", "What will I try?", CARA_TRY, "only me"],
        ["commitment", "", CARA_TRY, ""],
        ["how it went", CARA_TRY, CARA_NOTE, ""],
    ]
    # The queued copy was sealed and is blank now that it is delivered.
    async with db.session() as s:
        [row] = (
            await s.execute(select(OutboxMessage).where(col(OutboxMessage.key).like("mydata:%")))
        ).scalars()
        payloads = list((await s.execute(select(OutboxMessage.payload))).scalars())
    assert (row.sealed, row.status, row.payload, row.target) == (True, "sent", "", "cara")
    assert not any(CARA_SECRET in p or CARA_TRY in p for p in payloads)


async def test_export_with_an_unreadable_reflection_says_so(db: Database, tmp_path) -> None:
    bot = await seeded(db, tmp_path)
    bot.sealer = Sealer.generate()  # the key was replaced: old reflections no longer open
    await bot.run(":as cara\n:in dm\n/cop my-data export")
    data = json.loads((bot.files / "my-data.json").read_bytes())
    cop = next(c for c in data["communities"] if c["community"]["name"] == "Finger Lakes CoP")
    assert [(a["answer"], a["unreadable"]) for a in cop["reflections"]["answers"]] == [
        (None, True),
        (None, True),
    ]
    rows = (bot.files / "my-reflections.csv").read_bytes().decode("utf-8-sig")
    assert "(unreadable: the reflection key has changed)" in rows


async def test_export_for_someone_in_no_community(db: Database, tmp_path) -> None:
    bot = Bot(db, tmp_path)
    lines = await bot.run(":as zoe\n:in dm\n/cop my-data export\n/cop my-data erase")
    assert [line for line in lines if ":" not in line.split(" ")[1][:1]] == [
        "zoe> /cop my-data export",
        "[private @zoe] circlebot holds nothing about you here: you are not in a community on "
        "this workspace.",
        "zoe> /cop my-data erase",
        "[private @zoe] circlebot holds nothing about you here, so there is nothing to erase.",
    ]


# -- erase -------------------------------------------------------------------------------------


async def counts(db: Database) -> dict[str, object]:
    async with db.session() as s:
        ballots = dict(
            (
                await s.execute(
                    select(Poll.question, func.count(col(Ballot.id)))
                    .join(Ballot, col(Ballot.poll_id) == col(Poll.id))
                    .group_by(col(Poll.question))
                )
            ).all()
        )
        attended = (
            await s.execute(select(func.count(), func.sum(MeetingAttendance.minutes)))
        ).one()
        return {"ballots": ballots, "attended": tuple(attended)}


async def test_erase_removes_the_members_data_keeps_counts_and_leaves_others_alone(
    db: Database, tmp_path
) -> None:
    bot = await seeded(db, tmp_path)
    dan_before = await snapshot(bot, "cop", "dan")
    before = await counts(db)
    lines = await bot.run(
        """
        :as cara
        :in #cop
        /cop my timezone America/Chicago
        /cop my-data erase
        :press Erase my data
        :press Erase my data
        :as ben
        /cop meeting attendance 1
        """
    )
    ask = next(line for line in lines if line.startswith("[private @cara] Erase your data in"))
    assert "Finger Lakes CoP, Infant Care Circle" in ask
    for promise in (
        "Your reflections, commitments, check-in preferences, RSVPs",
        "your ballots in anonymous polls (and in any closed poll) stay counted but no longer "
        "linked to you",
        "attendance stays as counts",
    ):
        assert promise in ask
    assert (
        lines.count("[private @cara] Your data is erased: nothing of it is linked to you any more.")
        == 1
    )
    assert "[private @cara] There was nothing of yours left to erase; nothing changed." in lines
    at = lines.index("[private @ben] Attendance of meeting 1 (Monthly CoP, 60 minutes): 2 people.")
    assert sorted(lines[at + 1 : at + 3]) == ["  • a former member (60 min)", "  • dan (60 min)"]

    after = await counts(db)
    assert after["attended"] == before["attended"] == (2, 120)
    assert before["ballots"] == {"Secret topic?": 2, "Named topic?": 2, "Still open?": 2}
    # Closed polls count the same; in the open one cara's ballot is withdrawn.
    assert after["ballots"] == {"Secret topic?": 2, "Named topic?": 2, "Still open?": 1}
    cara = await snapshot(bot, "cop", "cara")
    assert cara["membership"] == {
        "name": "cara",
        "role": "member",
        "time_zone": None,
        "joined_at": cara["membership"]["joined_at"],  # type: ignore[index]
    }
    assert cara["meetings"] == {"rsvps": [], "attendance": []}
    assert cara["votes"] == {"ballots": [], "topics_proposed": []}
    assert cara["agreements"] == {
        "agreed_to": [],
        "proposals": [],
        "consent_positions": [],
        "versions_proposed": [],
    }
    assert cara["reflections"] == {
        "answers": [],
        "commitments": [],
        "asked": [],
        "preferences": None,
    }
    assert await snapshot(bot, "cop", "dan") == dan_before
    cara_id = (await member(db, "cop", "cara"))[1].id
    async with db.session() as s:
        for model in (CheckinAnswer, CheckinCommitment, CheckinDelivery, MeetingRsvp):
            left = await s.execute(
                select(func.count()).select_from(model).where(col(model.member_id) == cara_id)
            )
            assert left.scalar_one() == 0, model
        names = list((await s.execute(select(MeetingAttendance.user_id))).scalars())
    assert "cara" not in names and "dan" in names


async def press(bot: Bot, user: str, action: str) -> str:
    """Press `action` as `user` in their DM, the way a crafted click would arrive."""
    assert bot.app is not None
    app = App(bot.db, bot.clock, [ConsoleAdapter(lambda _: None)], manual=True, sealer=bot.sealer)
    await app.start()
    conv = ConversationRef("console", "console", f"dm-{user}")
    event = ActionClicked(
        actor=Actor(UserRef("console", "console", user), user),
        place=Place(conv, conv.channel_id, is_dm=True),
        action=ActionId.parse(action),
    )
    reply = await app.dispatcher.handle(event)
    await app.stop()
    assert isinstance(reply, Respond) and reply.private
    return reply.message.text


async def test_the_erase_button_works_only_for_its_owner_and_only_for_a_while(
    db: Database, tmp_path
) -> None:
    bot = await seeded(db, tmp_path)
    await bot.run(":as cara\n:in #cop\n/cop my-data erase")
    assert bot.adapter is not None
    [asked] = [p for p in bot.adapter.posted.values() if p.private_to == "cara"]
    erase, keep = (b.action for b in asked.message.buttons())
    assert erase.startswith("mydata:erase:") and keep.startswith("mydata:keep:")
    cara_before = await snapshot(bot, "cop", "cara")

    refused = "This button is for the person who asked to erase their own data; nothing changed."
    assert await press(bot, "dan", erase) == refused
    assert await press(bot, "dan", keep) == refused
    stale = Translator()("core.refuse.stale_button")
    for forged in ("mydata:erase:1", f"{erase}:1", "mydata:keep:cara", f"{keep}:x"):
        assert await press(bot, "cara", forged) == stale, forged
    assert await press(bot, "cara", keep) == "Nothing was erased."
    bot.clock.set(bot.clock.now() + timedelta(hours=2))
    assert await press(bot, "cara", erase) == (
        "This confirmation has expired, so nothing changed: run /cop my-data erase again."
    )
    assert await snapshot(bot, "cop", "cara") == cara_before


@pytest.mark.parametrize("status", ["open", "dropped", "adopted"])
async def test_erase_deletes_a_proposal_only_when_nothing_depends_on_it(
    db: Database, tmp_path, status: str
) -> None:
    from storage.agreements import AgreementProposal

    bot = await seeded(db, tmp_path)
    community, cara = await member(db, "cop", "cara")
    async with db.session() as s:
        s.add(
            AgreementProposal(
                community_id=community.id,
                number=1,
                kind="add",
                text="We start on time.",
                why="cara-why-9931",
                proposer_member_id=cara.id,
                proposer_id="cara",
                proposer_name="cara",
                status=status,
            )
        )
    await bot.run(":as cara\n:in dm\n/cop my-data erase\n:press Erase my data")
    async with db.session() as s:
        left = list((await s.execute(select(AgreementProposal))).scalars())
    if status == "adopted":
        [kept] = left
        assert (kept.proposer_member_id, kept.proposer_id, kept.why) == (None, "", "")
        assert (kept.proposer_name, kept.text) == ("a former member", "We start on time.")
    else:
        assert left == []


async def test_quiet_hours_follow_the_zone_the_member_set(db: Database, tmp_path) -> None:
    """Nudges come at 19:30 in New York; for dan, who set Madrid, that is 01:30, so his waits
    for the end of his quiet hours (08:00 in Madrid, 02:00 in New York)."""
    bot = Bot(db, tmp_path)
    lines = await bot.run(
        """
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        /cop facilitator add @ben
        :as cara
        /cop join
        :as dan
        /cop join
        /cop my timezone Europe/Madrid
        :as ben
        /cop checkins default
        /cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"
        :at 2026-11-09T12:00
        """
    )
    nudge = "A gentle reminder: the check-in"

    def when(who: str) -> str:
        at = next(i for i, line in enumerate(lines) if line.startswith(f"[dm @{who}] {nudge}"))
        return next(line for line in reversed(lines[:at]) if line.startswith("~ "))

    assert when("cara") == "~ Sat 7 Nov 2026, 19:30 EST"
    assert when("dan") == "~ Sun 8 Nov 2026, 02:00 EST"


async def test_features_hear_of_an_erase_before_the_rows_go(db: Database, tmp_path) -> None:
    """``member.erasing`` reaches subscribers once per community, while the answers they may
    have shown somewhere are still there to take back."""
    from bot.context import Context
    from bot.feature import Feature
    from bot.features import FEATURES
    from bot.hooks import MemberErasing

    heard: list[tuple[int, int, int]] = []

    async def on_erasing(ctx: Context, payload: MemberErasing) -> None:
        answers = await ctx.session.execute(
            select(func.count())
            .select_from(CheckinAnswer)
            .where(col(CheckinAnswer.member_id) == payload.member_id)
        )
        heard.append((payload.community_id, payload.member_id, answers.scalar_one()))

    bot = await seeded(db, tmp_path)
    bot.registry = Registry.of(
        [*FEATURES, Feature(name="probe", hooks={"member.erasing": on_erasing})]
    )
    await bot.run(":as cara\n:in dm\n/cop my-data erase\n:press Erase my data")
    cop, cara = await member(db, "cop", "cara")
    cop2, cara2 = await member(db, "cop2", "cara")
    assert sorted(heard) == sorted([(cop.id, cara.id, 2), (cop2.id, cara2.id, 0)])
