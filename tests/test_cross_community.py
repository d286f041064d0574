"""A button or form of one community is refused anywhere else, in one sentence, changing nothing.

The rule (DESIGN.md, `Context.enter`): a button of community A is only for members of A,
pressed where A lives (A's channel, or a DM); a press makes a newcomer a member only when its
action declares ``joins``, and only in A's own channel. Some go further: a commitment's
buttons and note form answer only its author, and the erase buttons of ``/cop my-data
erase`` belong to no community but to the person who asked (they carry a digest of them).
Every action kind and form the features register has a case here, so a new one without a
case fails.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.commands import Role
from bot.events import (
    ActionClicked,
    Actor,
    CommandInvoked,
    ConversationRef,
    Event,
    FormSubmitted,
    OpenForm,
    Place,
    Reply,
    Respond,
    UserRef,
)
from bot.features import build_registry
from bot.features.mydata.people import digest
from bot.i18n import Translator
from bot.ports import FakeClock
from bot.ui import ActionId
from storage.agreements import AgreementProposal
from storage.challenges import Challenge
from storage.conversation import PromptSuggestion
from storage.db import Database
from storage.meetings import Meeting, MeetingSeries
from storage.models import Community, Member, MemberRole
from storage.reflections import CheckinCommitment, CheckinRound, RoundStatus
from storage.survey import Survey
from storage.tables import metadata
from storage.voting import Poll, PollOption, TopicIntake
from tests.support import RecordingAdapter, schedule_job

T = Translator()
REGISTRY = build_registry()
ACTION_KINDS = sorted(f"{feature}:{verb}" for feature, verb in REGISTRY.actions)
FORM_IDS = sorted(REGISTRY.forms)
MISSING = 999_999  # an id no row has
COMMITMENT_NOTE = "reflections.commitment_note"
CHALLENGE_NOTE = "challenges.note"


@dataclass
class Side:
    """One community and the objects its buttons and forms point at."""

    id: int
    name: str
    channel: str
    single: int  # an open single-choice poll
    single_option: int
    approval: int  # an open approval poll (amy has approved `approval_option`)
    approval_option: int
    ranked: int
    dot: int
    score: int
    closed: int  # a closed poll with a winner
    closed_option: int
    intake: int  # an open topic intake
    meeting: int  # today's 10:00 meeting, still ahead: open for answers
    ended: int  # today's 09:15 meeting, over: its "I attended" button is out
    series: int  # the 10:00 series, whose end the facilitator was asked to confirm
    proposal: int = 0  # max's proposal to the agreements, in a consent check (round 1)
    round: int = 0  # the open round of check-in 1, asked of amy and max (max has answered)
    commitment: int = 0  # what max said he'd try in that round, asked back in his DM
    challenge: int = 0  # max's open challenge, up at the 09:15 meeting (facilitator decides)
    discussed: int = 0  # max's challenge marked discussed, asked back in his DM
    suggestion: int = 0  # max's suggested discussion prompt, sent to the facilitator
    survey: int = 0  # the open interest survey (two focus areas, one form)


# Each action kind's button, as the community's own messages carry it.
BUTTONS: dict[str, Callable[[Side], ActionId]] = {
    "vote:cast": lambda s: ActionId("vote", "cast", s.single, s.single_option),
    "vote:unapprove": lambda s: ActionId("vote", "unapprove", s.approval, s.approval_option),
    "vote:form": lambda s: ActionId("vote", "form", s.ranked),
    "vote:agenda": lambda s: ActionId("vote", "agenda", s.closed),
    "vote:delete": lambda s: ActionId("vote", "delete", s.closed),
    "vote:keep": lambda s: ActionId("vote", "keep", s.closed),
    "topics:propose": lambda s: ActionId("topics", "propose", s.intake),
    "rsvp:going": lambda s: ActionId("rsvp", "going", s.meeting),
    "rsvp:maybe": lambda s: ActionId("rsvp", "maybe", s.meeting),
    "rsvp:no": lambda s: ActionId("rsvp", "no", s.meeting),
    "role:take": lambda s: ActionId("role", "take", s.meeting, "share"),
    "attend:mark": lambda s: ActionId("attend", "mark", s.ended),
    "series:end": lambda s: ActionId("series", "end", s.series, "now"),
    "agree:ack": lambda s: ActionId("agree", "ack", s.id, 1),
    "agree:propose": lambda s: ActionId("agree", "propose", s.id),
    **{
        f"consent:{position}": (lambda s, p=position: ActionId("consent", p, s.proposal, 1))
        for position in ("agree", "abstain", "concern", "block")
    },
    "reflect:answer": lambda s: ActionId("reflect", "answer", s.round),
    "prompt:approve": lambda s: ActionId("prompt", "approve", s.suggestion),
    "prompt:decline": lambda s: ActionId("prompt", "decline", s.suggestion),
    "survey:rate": lambda s: ActionId("survey", "rate", s.survey, 1),
    "survey:propose": lambda s: ActionId("survey", "propose", s.survey),
    **{
        f"commit:{verb}": (lambda s, v=verb: ActionId("commit", v, s.commitment))
        for verb in ("tried", "notyet", "drop", "tell")
    },
    "challenge:bring": lambda s: ActionId("challenge", "bring", s.id),
    "challenge:done": lambda s: ActionId("challenge", "done", s.challenge),
    "challenge:carry": lambda s: ActionId("challenge", "carry", s.challenge),
    "challenge:tell": lambda s: ActionId("challenge", "tell", s.discussed),
}
#: Buttons and forms that answer only the author of their object (max): to anyone else of the
#: community they are buttons that no longer exist.
OWNED = {
    "commit:tried",
    "commit:notyet",
    "commit:drop",
    "commit:tell",
    COMMITMENT_NOTE,
    "challenge:tell",
    CHALLENGE_NOTE,
}
#: Buttons of a person, not of a community: max's Confirm and Cancel of `/cop my-data erase`.
PERSONAL = ("mydata:erase", "mydata:keep")

# Each form: the object its metadata names, and values a member would type.
FORMS: dict[str, tuple[Callable[[Side], int | str], dict[str, str]]] = {
    "vote.ranked": (lambda s: s.ranked, {"ballot": "2 1"}),
    "vote.dots": (lambda s: s.dot, {"ballot": "1x2 2"}),
    "vote.score": (lambda s: s.score, {"ballot": "1:5 2:3"}),
    "topics.propose": (lambda s: s.intake, {"title": "Outdoor play ({user})", "why": ""}),
    "agreements.reason": (lambda s: f"{s.proposal}:1:concern", {"reason": "Too soon ({user})"}),
    "agreements.propose": (
        lambda s: s.id,
        {"kind": "add", "number": "", "text": "Phones away ({user})", "why": ""},
    ),
    "reflections.answer": (
        lambda s: s.round,
        {
            "q1": "They asked about the rain ({user})",
            "p1": "private",
            "q2": "Name feelings at snack ({user})",
            "p2": "private",
        },
    ),
    "survey.rate": (lambda s: f"{s.survey}:1", {"a1": "4", "a2": "2"}),
    "survey.propose": (lambda s: s.survey, {"title": "Outdoor play ({user})"}),
    COMMITMENT_NOTE: (
        lambda s: s.commitment,
        {"how": "tried", "note": "The room was calmer ({user})", "privacy": "private"},
    ),
    "challenges.bring": (
        lambda s: s.id,
        {"text": "Biting at lunch ({user})", "visibility": "open"},
    ),
    CHALLENGE_NOTE: (lambda s: s.discussed, {"note": "It went well ({user})", "share": "me"}),
}


class World:
    """Two communities, Alpha (channel CA) and Beta (channel CB), in workspace W1.

    amy facilitates Alpha only, bob facilitates Beta only, max is a member of both, lee left
    Alpha, nia never joined anything; each community has one object for every kind of button.
    max has asked to erase his data and not confirmed yet: `personal` holds his two buttons.
    """

    a: Side
    b: Side

    def __init__(self, db: Database, clock: FakeClock) -> None:
        self.db = db
        self.fake = RecordingAdapter()
        self.app = App(db, clock, [self.fake], manual=True)
        self.shown: set[str] = set()  # every button the bot showed while the world was built
        self.personal: dict[str, str] = {}

    def actor(self, user: str, workspace: str = "W1", admin: bool = False) -> Actor:
        return Actor(UserRef("fake", workspace, user), user, admin)

    def where(self, user: str, channel: str, workspace: str = "W1") -> Place:
        if channel == "dm":
            return Place(ConversationRef("fake", workspace, f"D-{user}"), "", is_dm=True)
        return Place(ConversationRef("fake", workspace, channel), channel)

    async def handle(self, event: Event) -> Reply:
        reply = await self.app.dispatcher.handle(event)
        await self.app.worker.drain()
        if isinstance(reply, Respond):
            self.shown |= {b.action for b in reply.message.buttons()}
        return reply

    async def cmd(self, user: str, text: str, channel: str, *, admin: bool = False) -> str:
        command, params = self.app.registry.parse(text, T)
        event = CommandInvoked(
            self.actor(user, admin=admin), self.where(user, channel), command.path, params
        )
        reply = await self.handle(event)
        assert isinstance(reply, Respond), reply
        return reply.message.text

    async def press(self, user: str, action: str, channel: str, *, workspace: str = "W1") -> Reply:
        event = ActionClicked(
            self.actor(user, workspace),
            self.where(user, channel, workspace),
            ActionId.parse(action),
        )
        return await self.handle(event)

    async def submit(
        self,
        user: str,
        form_id: str,
        metadata: str,
        values: dict[str, str],
        channel: str,
        *,
        workspace: str = "W1",
    ) -> Reply:
        event = FormSubmitted(
            self.actor(user, workspace),
            self.where(user, channel, workspace),
            form_id,
            dict(values),
            metadata,
        )
        return await self.handle(event)

    async def build(self) -> None:
        await self.app.start()
        self.a = await self._community("Alpha", "CA", "amy")
        self.b = await self._community("Beta", "CB", "bob")
        # 08:05 New York: each check-in's round opens, and max answers it in his DM, saying
        # what he will try; it is asked back an hour later (the 09:15 meeting is that close).
        await self.app.advance(timedelta(minutes=5))
        for side in (self.a, self.b):
            await self._answer(side)
            # max's discussed challenge is asked back at 09:05 (as a week later would).
            when = self.app.services.clock.now() + timedelta(hours=1)
            await schedule_job(
                self.app,
                f"challenges.checkin:{side.discussed}",
                when,
                "challenges.checkin",
                [side.discussed],
            )
        await self.cmd("lee", "join", "CA")
        await self.cmd("lee", "leave", "CA")
        # 09:35 New York: the 09:15 meetings are over (they offer "I attended"), the 10:00 ahead;
        # max's commitments were asked back at 09:05.
        await self.app.advance(timedelta(minutes=90))
        self.shown |= {b.action for sent in self.fake.sent for b in sent.message.buttons()}
        # max asks to erase his data, and leaves its Confirm and Cancel buttons unpressed.
        asked = await self.handle(
            CommandInvoked(self.actor("max"), self.where("max", "dm"), ("my-data", "erase"), {})
        )
        assert isinstance(asked, Respond), asked
        for button in asked.message.buttons():
            feature, verb = button.action.split(":")[:2]
            self.personal[f"{feature}:{verb}"] = button.action
        assert sorted(self.personal) == sorted(PERSONAL), asked

    async def _answer(self, side: Side) -> None:
        """max answers the open round of `side`'s check-in, which keeps his commitment."""
        async with self.db.session() as s:
            side.round = (
                await s.execute(
                    select(CheckinRound.id).where(
                        CheckinRound.community_id == side.id,
                        CheckinRound.status == RoundStatus.OPEN,
                    )
                )
            ).scalar_one()
        answer = await self.works("max", ActionId("reflect", "answer", side.round), "dm")
        assert isinstance(answer, OpenForm), answer
        values = {"q1": "Puddles", "p1": "private", "q2": "Name feelings at snack"}
        saved = await self.submit("max", answer.form.form_id, answer.form.metadata, values, "dm")
        assert isinstance(saved, Respond), saved
        async with self.db.session() as s:
            side.commitment = (
                await s.execute(
                    select(CheckinCommitment.id).where(CheckinCommitment.community_id == side.id)
                )
            ).scalar_one()

    async def _community(self, name: str, channel: str, facilitator: str) -> Side:
        await self.cmd("ana", f'setup "{name}" America/New_York', channel, admin=True)
        await self.cmd("ana", f"facilitator add @{facilitator}", channel, admin=True)
        await self.cmd("max", "join", channel)
        f = facilitator
        for question, method in (
            ("Snack?", "single"),
            ("Which?", "approval"),
            ("Rank?", "ranked"),
            ("Dots?", "dot"),
            ("Score?", "score"),
            ("Done?", "single"),
        ):
            text = f'poll new "{question}" options="Apples | Pears" method={method}'
            await self.cmd(f, text, channel)
        await self.cmd(f, 'topics open "What next?"', channel)
        await self.cmd(f, "agreements draft pick=1,2", channel)
        await self.cmd("max", "agreements show", channel)  # its "Propose a change" button
        await self.cmd("max", "agreements propose We start on time.", channel)
        await self.cmd(f, "agreements check 1", channel)
        for at, minutes in (("09:15", 10), ("10:00", 60)):
            series = f'meeting series "weekly on Monday at {at}" duration={minutes} reminders=none'
            await self.cmd(f, series, channel)
        await self.cmd(f, "meeting end-series 2", channel)  # only asks: its buttons are shown
        # Approve and Decline reach the facilitator by DM.
        await self.cmd("max", "prompts suggest What helps at pickup time?", channel)
        # A check-in of two questions (the second a commitment), opening at 08:05.
        await self.cmd(
            f, 'checkins add Monday check timing=schedule:"every Monday at 08:05"', channel
        )
        await self.cmd(f, "checkins question 1 add What did the children notice?", channel)
        await self.cmd(f, "checkins question 1 add One thing to try commitment=yes", channel)
        # Two challenges of max: one for the 09:15 meeting, one already discussed.
        await self.cmd("max", "challenge add Biting at lunch", channel)
        await self.cmd("max", "challenge add Nap time private", channel)
        await self.cmd(f, "challenge done 2", channel)
        await self.cmd("max", "challenge list", channel)  # its "Bring a challenge" button
        await self.cmd(f, "survey areas add Relationships with families", channel)
        await self.cmd(f, "survey areas add Learning environments", channel)
        await self.cmd(f, "survey open", channel)
        async with self.db.session() as s:
            community = (
                await s.execute(select(Community).where(Community.channel_id == channel))
            ).scalar_one()
            polls = {
                p.question: p
                for p in (
                    await s.execute(select(Poll).where(Poll.community_id == community.id))
                ).scalars()
            }
            first = {
                p.id: (
                    await s.execute(
                        select(PollOption.id)
                        .where(PollOption.poll_id == p.id)
                        .order_by(PollOption.position)
                    )
                ).scalars()
                for p in polls.values()
            }
            options = {poll_id: list(rows) for poll_id, rows in first.items()}
            intake = (
                await s.execute(
                    select(TopicIntake.id).where(TopicIntake.community_id == community.id)
                )
            ).scalar_one()
            ended, meeting = (
                await s.execute(
                    select(Meeting.id)
                    .where(Meeting.community_id == community.id)
                    .order_by(Meeting.starts_at)
                    .limit(2)
                )
            ).scalars()
            proposal_id = (
                await s.execute(
                    select(AgreementProposal.id).where(
                        AgreementProposal.community_id == community.id
                    )
                )
            ).scalar_one()
            challenges = {
                c.number: c.id
                for c in (
                    await s.execute(select(Challenge).where(Challenge.community_id == community.id))
                ).scalars()
            }
            series_id = (
                await s.execute(
                    select(MeetingSeries.id).where(
                        MeetingSeries.community_id == community.id, MeetingSeries.number == 2
                    )
                )
            ).scalar_one()
            survey_id = (
                await s.execute(select(Survey.id).where(Survey.community_id == community.id))
            ).scalar_one()
            suggestion_id = (
                await s.execute(
                    select(PromptSuggestion.id).where(PromptSuggestion.community_id == community.id)
                )
            ).scalar_one()
        assert community.id is not None
        side = Side(
            id=community.id,
            name=name,
            channel=channel,
            single=polls["Snack?"].id or 0,
            single_option=options[polls["Snack?"].id][0],
            approval=polls["Which?"].id or 0,
            approval_option=options[polls["Which?"].id][0],
            ranked=polls["Rank?"].id or 0,
            dot=polls["Dots?"].id or 0,
            score=polls["Score?"].id or 0,
            closed=polls["Done?"].id or 0,
            closed_option=options[polls["Done?"].id][0],
            intake=intake,
            meeting=meeting,
            ended=ended,
            series=series_id,
            proposal=proposal_id,
            challenge=challenges[1],
            discussed=challenges[2],
            suggestion=suggestion_id,
            survey=survey_id,
        )
        # A winner for the closed poll, and approvals for the "remove" button to take back.
        await self.works(f, ActionId("vote", "cast", side.closed, side.closed_option), channel)
        await self.cmd(f, f"poll close {side.closed}", channel)
        await self.cmd(f, f"poll delete {side.closed}", channel)  # only asks: its buttons are shown
        for user in (f, "max"):
            await self.works(
                user, ActionId("vote", "cast", side.approval, side.approval_option), channel
            )
        return side

    async def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        return await snapshot(self.db)

    async def works(self, user: str, action: str, channel: str) -> Reply:
        """Press `action` and check it did something: opened a form, or changed rows.

        A refusal rolls its transaction back, so changed rows mean the press was accepted.
        """
        before = await self.snapshot()
        reply = await self.press(user, action, channel)
        did = isinstance(reply, OpenForm) or await self.snapshot() != before
        assert did, f"{action} by {user} in {channel} did nothing: {reply!r}"
        return reply

    async def member_role(self, side: Side, user: str) -> MemberRole | None:
        async with self.db.session() as s:
            row = (
                await s.execute(
                    select(Member).where(Member.community_id == side.id, Member.user_id == user)
                )
            ).scalar_one_or_none()
        return None if row is None else MemberRole(row.role)


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (members, ballots, RSVPs, topics, jobs, outbox...), in key order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with db.session() as s:
        for table in metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(row) for row in (await s.execute(query)).all()]
    assert out["member"] and out["outbox"], "a snapshot of an empty world proves nothing"
    return out


def changed(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    """The tables whose rows differ between two snapshots."""
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


def refused(reply: Reply, sentence: str, case: str) -> None:
    """The answer is exactly `sentence`, privately: one sentence from the catalog."""
    assert isinstance(reply, Respond), f"{case}: {reply!r}"
    assert reply.private, case
    assert reply.message.text == sentence, f"{case}: {reply.message.text!r}"
    assert sentence.count(". ") == 0 and sentence.endswith("."), sentence  # one sentence


@dataclass
class Built:
    """The two communities as built once per backend; each test works on a copy."""

    url: str
    a: Side
    b: Side
    now: datetime
    shown: set[str]
    personal: dict[str, str]


async def _build(url: str, clock: FakeClock) -> Built:
    db = Database(url)
    await db.upgrade()
    world = World(db, clock)
    try:
        await world.build()
    finally:
        await world.app.stop()
        await db.dispose()
    return Built(url, world.a, world.b, clock.now(), world.shown, world.personal)


def _pg_create(admin_url: str, template: str | None = None) -> str:
    import psycopg

    name = f"circlebot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    return name


def _pg_drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    """Build the world through the real app once per backend (it takes a few dozen commands)."""
    clock = FakeClock(datetime(2026, 11, 2, 13, 0, tzinfo=UTC))  # 08:00 in New York
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("cross") / "template.db"
        yield asyncio.run(_build(f"sqlite:///{path}", clock))
        return
    admin = request.getfixturevalue("postgres_admin_url")
    name = _pg_create(admin)
    try:
        yield asyncio.run(_build(admin.rsplit("/", 1)[0] + f"/{name}", clock))
    finally:
        _pg_drop(admin, name)


@pytest.fixture
async def world(built: Built, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """A private copy of the built world: a copied SQLite file, or a PostgreSQL TEMPLATE copy."""
    if built.url.startswith("sqlite"):
        source = Path(built.url.removeprefix("sqlite:///"))
        shutil.copyfile(source, tmp_path / "circlebot.db")
        url = f"sqlite:///{tmp_path / 'circlebot.db'}"
    else:
        admin = request.getfixturevalue("postgres_admin_url")
        name = _pg_create(admin, template=built.url.rsplit("/", 1)[1])
        request.addfinalizer(lambda: _pg_drop(admin, name))
        url = built.url.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    w = World(db, FakeClock(built.now))
    w.a, w.b, w.personal = built.a, built.b, built.personal
    await w.app.start()
    yield w
    await w.app.stop()
    await db.dispose()


def test_every_action_kind_and_form_has_a_case() -> None:
    assert sorted([*BUTTONS, *PERSONAL]) == ACTION_KINDS
    assert sorted(FORMS) == FORM_IDS
    assert OWNED <= {*BUTTONS, *FORMS}


def test_the_cases_press_buttons_the_bot_really_shows(built: Built) -> None:
    for side in (built.a, built.b):
        assert {kind: BUTTONS[kind](side) in built.shown for kind in BUTTONS} == dict.fromkeys(
            BUTTONS, True
        )
    assert set(built.personal.values()) <= built.shown


async def _refuses_all(world: World, cases: list[tuple[str, Callable[[], Any], str]]) -> None:
    """Run each hostile interaction in turn; each is refused and leaves every row as it was."""
    before = await world.snapshot()
    sent = len(world.fake.sent)
    for case, interact, sentence in cases:
        refused(await interact(), sentence, case)
        assert changed(before, await world.snapshot()) == [], case
        assert len(world.fake.sent) == sent, f"{case} sent a message"


@pytest.mark.parametrize("kind", sorted(BUTTONS))
async def test_a_button_is_refused_outside_its_community(world: World, kind: str) -> None:
    a, b = world.a, world.b
    button, forged = BUTTONS[kind](a), BUTTONS[kind](b)
    feature, verb, *args = button.split(":")
    joins = REGISTRY.actions[(feature, verb)].joins
    missing = ActionId(feature, verb, MISSING, *args[1:])
    mangled = ":".join([feature, verb, "first", *args[1:]])

    def press(user: str, action: str, channel: str, workspace: str = "W1") -> Callable[[], Any]:
        return lambda: world.press(user, action, channel, workspace=workspace)

    other_place = T("core.refuse.other_place", community="Alpha")
    not_member = T("core.refuse.not_member", community="Alpha")
    cases = [
        # (a) in Beta's channel, by members of Beta (max is in Alpha too: the place decides)
        ("bob in Beta's channel", press("bob", button, "CB"), other_place),
        ("max in Beta's channel", press("max", button, "CB"), other_place),
        ("amy in a channel of no community", press("amy", button, "C-lobby"), other_place),
        # (b) in a DM, by people who are not members of Alpha
        ("nia in a DM", press("nia", button, "dm"), not_member),
        ("bob in a DM", press("bob", button, "dm"), not_member),
        ("lee (left Alpha) in a DM", press("lee", button, "dm"), T("core.refuse.left")),
        # another workspace of the same platform
        (
            "amy of workspace W2",
            press("amy", button, "CA", "W2"),
            T("core.refuse.other_community"),
        ),
        # (d) edited ids: Beta's object on Alpha's button, an object that does not exist
        (
            "amy, Beta's object, Alpha's channel",
            press("amy", forged, "CA"),
            T("core.refuse.other_place", community="Beta"),
        ),
        (
            "max, Beta's object, Alpha's channel",
            press("max", forged, "CA"),
            T("core.refuse.other_place", community="Beta"),
        ),
        (
            "amy, Beta's object, a DM",
            press("amy", forged, "dm"),
            T("core.refuse.not_member", community="Beta"),
        ),
        ("amy, no such object", press("amy", missing, "CA"), T("core.refuse.stale_button")),
        (
            "amy, a word for an id",
            press("amy", mangled, "CA"),
            T("core.refuse.stale_button"),
        ),
    ]
    if len(args) > 1 and feature == "vote":  # a poll of Alpha with an option of Beta's poll
        mixed = ":".join([feature, verb, args[0], forged.split(":")[3]])
        cases.append(
            (
                "amy, Beta's option",
                press("amy", mixed, "CA"),
                T("voting.refuse.other_poll"),
            )
        )
    if not joins:
        # (c) in Alpha's channel by non-members: this button never makes a member
        cases += [
            ("bob in Alpha's channel", press("bob", button, "CA"), not_member),
            ("nia in Alpha's channel", press("nia", button, "CA"), not_member),
        ]
    if kind in OWNED:
        # (e) max's commitment, by another member of Alpha (its facilitator, even)
        cases += [
            ("amy in Alpha's channel", press("amy", button, "CA"), T("core.refuse.stale_button")),
            ("amy in a DM", press("amy", button, "dm"), T("core.refuse.stale_button")),
        ]
    await _refuses_all(world, cases)

    if kind in OWNED:  # its author answers it, from the DM it was asked in
        await world.works("max", button, "dm")
        return

    # (c) a joining button pressed in Alpha's channel makes bob (Beta's) a member of Alpha.
    if joins:
        await world.works("bob", button, "CA")
        assert await world.member_role(a, "bob") == MemberRole.MEMBER
    # The same button works for members of Alpha: amy in her DM, and max (in Beta too) in
    # Alpha's channel; sending a winner to the agenda is for facilitators, and happens once.
    if kind == "vote:keep":  # "Keep it" is accepted by changing nothing, and says so
        kept = await world.press("amy", button, "dm")
        assert isinstance(kept, Respond) and kept.message.text.endswith("nothing changed.")
    else:
        await world.works("amy", button, "dm")
    if REGISTRY.actions[(feature, verb)].role < Role.FACILITATOR:
        await world.works("max", button, "CA")


@pytest.mark.parametrize("form_id", FORM_IDS)
async def test_a_form_is_refused_outside_its_community(world: World, form_id: str) -> None:
    a, b = world.a, world.b
    target, values = FORMS[form_id]
    mine, theirs = str(target(a)), str(target(b))

    def submit(
        user: str, metadata: str, channel: str, workspace: str = "W1", form: str = form_id
    ) -> Callable[[], Any]:
        return lambda: world.submit(user, form, metadata, values, channel, workspace=workspace)

    other_place = T("core.refuse.form_other_place", community="Alpha")
    not_member = T("core.refuse.form_not_member", community="Alpha")
    stale = T("core.refuse.stale_form")
    cases = [
        # (a) Alpha's form sent from Beta's channel by members of Beta
        ("bob in Beta's channel", submit("bob", mine, "CB"), other_place),
        ("max in Beta's channel", submit("max", mine, "CB"), other_place),
        # (b) from a DM by people who are not members of Alpha
        ("nia in a DM", submit("nia", mine, "dm"), not_member),
        ("bob in a DM", submit("bob", mine, "dm"), not_member),
        ("lee (left Alpha) in a DM", submit("lee", mine, "dm"), T("core.refuse.left")),
        # (c) from Alpha's channel by non-members: a form never makes a member
        ("bob in Alpha's channel", submit("bob", mine, "CA"), not_member),
        ("nia in Alpha's channel", submit("nia", mine, "CA"), not_member),
        (
            "amy of workspace W2",
            submit("amy", mine, "CA", "W2"),
            T("core.refuse.other_community"),
        ),
        # (d) metadata edited to name Beta's object, or nothing at all
        (
            "amy, Beta's object, Alpha's channel",
            submit("amy", theirs, "CA"),
            T("core.refuse.form_other_place", community="Beta"),
        ),
        (
            "max, Beta's object, Alpha's channel",
            submit("max", theirs, "CA"),
            T("core.refuse.form_other_place", community="Beta"),
        ),
        (
            "amy, Beta's object, a DM",
            submit("amy", theirs, "dm"),
            T("core.refuse.form_not_member", community="Beta"),
        ),
        ("amy, no such object", submit("amy", str(MISSING), "CA"), stale),
        ("amy, a word for an id", submit("amy", "first", "CA"), stale),
        ("amy, no metadata", submit("amy", "", "CA"), stale),
    ]
    others = [f for f in FORM_IDS if f.startswith("vote.") and f != form_id]
    if form_id.startswith("vote."):  # the poll of another method (its form was never opened)
        cases.append(
            ("amy, another method's form", submit("amy", mine, "CA", form=others[0]), stale)
        )
    if form_id in OWNED:  # max's commitment, by another member of Alpha
        cases += [
            ("amy in Alpha's channel", submit("amy", mine, "CA"), stale),
            ("amy in a DM", submit("amy", mine, "dm"), stale),
        ]
    await _refuses_all(world, cases)

    # The same form from members of Alpha is saved, from its channel and from a DM (one
    # answering only its author: from him, both ways).
    people = (("max", "CA"), ("max", "dm")) if form_id in OWNED else (("amy", "CA"), ("max", "dm"))
    for user, channel in people:
        before = await world.snapshot()
        typed = {k: v.replace("{user}", f"{user} in {channel}") for k, v in values.items()}
        reply = await world.submit(user, form_id, mine, typed, channel)
        assert await world.snapshot() != before, f"{user} in {channel}: {reply!r}"


@pytest.mark.parametrize("kind", PERSONAL)
async def test_a_personal_button_is_refused_to_anyone_else(world: World, kind: str) -> None:
    """max's Confirm and Cancel of `/cop my-data erase` answer max alone, wherever pressed;
    forged or mangled ones are stale, an old Confirm has expired; nothing changes."""
    button = world.personal[kind]
    feature, verb, who, *rest = button.split(":")
    bobs = ":".join([feature, verb, digest(UserRef("fake", "W1", "bob")), *rest])

    def press(user: str, action: str, channel: str, workspace: str = "W1") -> Callable[[], Any]:
        return lambda: world.press(user, action, channel, workspace=workspace)

    not_yours, stale = T("mydata.erase.not_yours"), T("core.refuse.stale_button")
    cases = [
        ("bob in Beta's channel", press("bob", button, "CB"), not_yours),
        ("amy in Alpha's channel", press("amy", button, "CA"), not_yours),
        ("nia (never joined) in a DM", press("nia", button, "dm"), not_yours),
        ("lee (left Alpha) in a DM", press("lee", button, "dm"), not_yours),
        ("bob in a DM", press("bob", button, "dm"), not_yours),
        ("max of workspace W2", press("max", button, "dm", "W2"), not_yours),
        ("max, bob's digest", press("max", bobs, "dm"), not_yours),
        ("max, a word for the digest", press("max", button.replace(who, "first"), "dm"), stale),
        ("max, a digest cut short", press("max", button.replace(who, who[:8]), "dm"), stale),
        ("max, an argument too many", press("max", f"{button}:1", "dm"), stale),
    ]
    if verb == "erase":
        issued = int(rest[0])
        cases += [
            ("max, no time", press("max", f"{feature}:{verb}:{who}", "dm"), stale),
            (
                "max, a word for the time",
                press("max", f"{feature}:{verb}:{who}:first", "dm"),
                stale,
            ),
            (
                "max, a time past any calendar",
                press("max", f"{feature}:{verb}:{who}:99999999999999999999", "dm"),
                stale,
            ),
            (
                "max, a Confirm of two hours ago",
                press("max", f"{feature}:{verb}:{who}:{issued - 7200}", "dm"),
                T("mydata.erase.expired"),
            ),
        ]
    await _refuses_all(world, cases)

    # max himself: Cancel says so and changes nothing; Confirm erases, wherever he presses it.
    if verb == "keep":
        before = await world.snapshot()
        kept = await world.press("max", button, "CB")
        assert isinstance(kept, Respond) and kept.message.text == T("mydata.erase.kept")
        assert changed(before, await world.snapshot()) == []
    else:
        await world.works("max", button, "CB")
        assert await world.member_role(world.a, "max") == MemberRole.MEMBER  # a tombstone stays
