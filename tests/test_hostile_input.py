"""Hostile input, table-driven, on SQLite and PostgreSQL: every command parameter and every form
field (both read from the registry, so a new one is covered without editing this file) gets
whitespace-only text, NUL, control characters, bidi overrides, 10,000 characters, ids that are
not ids and dates outside any calendar circlebot uses; buttons and form metadata get ids that
are not ids. Each answer is a one-sentence refusal or the value is stored cleaned, and nothing
is logged as an error.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

import storage.tables
from bot.app import App
from bot.commands import Command, Param
from bot.events import (
    ActionClicked,
    Actor,
    CommandInvoked,
    ConversationRef,
    FormErrors,
    FormSubmitted,
    OpenForm,
    Place,
    Reply,
    Respond,
    UserRef,
)
from bot.i18n import Translator
from bot.ports import FakeClock
from bot.text import clean, is_clean
from bot.ui import ActionId, Form
from storage.agreements import AgreementProposal
from storage.challenges import Challenge
from storage.db import Database
from storage.meetings import MeetingSeries
from storage.models import Community, OutboxMessage
from storage.reflections import CheckinCommitment, CheckinRound, RoundStatus
from storage.survey import Survey
from storage.voting import Poll, Topic, TopicIntake
from tests.support import RecordingAdapter

T = Translator()
APOLOGIES = {T("core.error.unexpected"), T("core.error.not_saved")}

# -- the hostile strings ----------------------------------------------------------------------

TEXT = {
    "whitespace": " \t \u3000\u00a0 \n ",
    "invisible": "\u200b\u2060\ufeff\u3164",
    # NUL (which PostgreSQL refuses), an ANSI colour and a terminal-title escape, BEL, DEL, C1
    # controls, a right-to-left override and an isolate, a lone surrogate, a decomposed accent.
    "controls": (
        "Out\x00door \x1b[31mRed\x1b[0m \x1b]0;owned\x07 bell\x07 \x7f\x85\x9b"
        " abc\u202edcba \u2066isolated\u2069 \u200fmark \ud800 Cafe\u0301"
    ),
    "huge": "x" * 10_000,
}
IDS = {
    "20-digit": "99999999999999999999",
    "int-overflow": "2147483648",
    "plus": "+1",
    "underscore": "0_1",
    "arabic-indic": "\u0663",
    "superscript": "\u00b2",
}
DATES = {
    "far-future": "9999-12-31",
    "year-one": "0001-01-01",
    "far-future-time": "9999-12-31 23:30",
    "year-one-time": "0001-01-01 00:30",
}
SCHEDULES = {
    "once-far": "on 9999-12-31 at 23:30",
    "until-far": "weekly on monday at 10:00 until 9999-12-31",
    "rrule-until-far": "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=99991231T235959Z at 23:30",
    "huge-interval": "every 99999999999 weeks on monday at 10:00",
    "rrule-huge-interval": "RRULE:FREQ=WEEKLY;INTERVAL=\u00b2;BYDAY=MO at 10:00",
}
#: Text parameters that name an object by id, or a time: they get those hostile values as well
#: (an "int" parameter always gets the ids).
ID_PARAMS = {"meeting"}  # a meeting is "next", "last" or its id
DATE_PARAMS = {"closes", "when", "remind", "since", "duration"}
SCHEDULE_PARAMS = {"schedule"}


def hostile_values(param: Param) -> dict[str, str]:
    values = dict(TEXT)
    if param.kind == "int" or param.name in ID_PARAMS:
        values.update(IDS)
    if param.name in DATE_PARAMS:
        values.update(DATES)
    if param.name in SCHEDULE_PARAMS:
        values.update(SCHEDULES)
    return values


# A valid value for each parameter, so that each run changes one parameter only. A parameter
# missing here fails `test_every_parameter_has_a_valid_value`, not silently.
VALID: dict[str, str | Callable[[Fixtures], str]] = {
    "name": "Finger Lakes CoP",
    "timezone": "America/New_York",
    "language": "en",
    "user": "@ben",
    "question": "Snack?",
    "options": "Apples | Pears",
    "method": "single",
    "closes": "in 3 days",
    "anonymous": "no",
    "results": "live",
    "change": "yes",
    "quorum": "2",
    "max": "1",
    "dots": "3",
    "remind": "1 day before",
    "poll": lambda f: str(f.poll),
    "prompt": "What next?",
    "title": "Outdoor play",
    "why": "It matters",
    "topic": lambda f: str(f.topics[0]),
    "into": lambda f: str(f.topics[1]),
    "reason": "Covered already",
    "role": "share",
    "schedule": "monthly on the first Tuesday at 18:30",
    "duration": "90",
    "link": "https://example.org/join",
    "location": "Room 2",
    "zone": "America/New_York",
    "reminders": "7d 1d",
    "dm": "yes",
    "meeting": "next",
    "objectives": "Share one routine",
    "segments": "welcome; sharing",
    "series": lambda f: str(f.series),
    "when": "2026-12-08 18:30",
    "after": "2027-06-30",
    "users": "@ben",
    "which": "past",
    "command": "poll new",
    "pick": "1,2",
    "text": "We start on time.",
    "number": "1",
    "add": "What helps you most?",
    "remove": "1",
    "proposal": "1",
    "recap": "last-reminder",
    "timing": "before:5d",
    "open": "3d",
    "verb": "add",
    "kind": "text",
    "commitment": "yes",
    "community": "Hostile CoP",
    "hours": "21:00-07:30",
    "since": "2026-10-15",
    "months": "12",
    "url": "https://example.org/guide",
    "tags": "#outdoor",
    "tag": "#outdoor",
    "words": "outdoor play",
    "until": "2027-01-05",
    "area": "1",
    "month": "9",
    "day": "1",
    "at": "12:00",
    "days": "14",
    "top": "3",
    "score": "4",
    "private": "yes",
    "what": "settings",
    "offset": "3d",
    "code": "ABCDE-FGHJK",
    "start": "2026-01-01",
    "end": "2026-12-31",
    "certificate": "after-checkin",
    "minutes": "45",
}

#: Where one command's parameter takes other values than its namesakes: a meeting lasts
#: minutes, a pause weeks (or until a date).
VALID_FOR: dict[tuple[str, str], str] = {
    ("checkins pause", "duration"): "3w",
    ("network survey", "verb"): "results",
    ("report partial", "meeting"): "1",
}


@dataclass
class Fixtures:
    """The objects of one fresh community that a command's parameters may name."""

    channel: str
    community: int
    poll: int
    topics: list[int]
    series: int
    intake: int


@dataclass
class Run:
    """One hostile value given to one parameter or field, and what came of it."""

    where: str
    case: str
    reply: Reply
    refused: bool
    errors: list[str] = field(default_factory=list)


class Hostile:
    """An App on the recording adapter, driven by events as an adapter hands them in."""

    def __init__(self, db: Database, caplog: pytest.LogCaptureFixture) -> None:
        self.db = db
        self.caplog = caplog
        self.app = App(db, FakeClock(_start()), [RecordingAdapter()], manual=True)
        self._n = 0

    def actor(self, user: str = "ana", admin: bool = True) -> Actor:
        return Actor(UserRef("fake", "W1", user), user, admin)

    def place(self, channel: str) -> Place:
        return Place(ConversationRef("fake", "W1", channel), channel)

    async def handle(self, event: Any) -> tuple[Reply, bool]:
        """The reply, and whether the dispatcher refused (a refusal commits nothing)."""
        start = len(self.caplog.records)
        reply = await self.app.dispatcher.handle(event)
        new = self.caplog.records[start:]
        refused = isinstance(reply, FormErrors) or any("refused" in r.getMessage() for r in new)
        return reply, refused

    async def command(self, channel: str, text: str, user: str = "ana") -> str:
        cmd, params = self.app.registry.parse(text, T)
        reply, refused = await self.handle(
            CommandInvoked(self.actor(user, user == "ana"), self.place(channel), cmd.path, params)
        )
        assert not refused, (text, _text(reply))
        return _text(reply)

    async def fresh(self, group: str = "") -> Fixtures:
        """A community of its own with what commands of `group` act on ("" for everything):
        an open poll, an intake with two topics, a meeting series."""
        self._n += 1
        channel = f"C{self._n}"
        await self.command(channel, 'setup "Hostile CoP" America/New_York')
        await self.command(channel, "facilitator add @ben")
        if group in ("", "topics"):
            await self.command(channel, 'topics open "What next?"')
            await self.command(channel, 'topics propose "Outdoor play"')
            await self.command(channel, 'topics propose "Routines"')
        if group in ("", "poll"):
            await self.command(channel, 'poll new "Snack?" options="Apples | Pears"')
        if group in ("", "meeting"):
            await self.command(channel, 'meeting series "monthly on the first Tuesday at 18:30"')
        if group in ("", "agreements"):
            await self.command(channel, "agreements draft pick=1,2")
            await self.command(channel, "agreements propose We start on time.")
        if group in ("", "checkins", "journal"):
            # Check-in 1, of two questions (the second a commitment); with the series above,
            # its first round opens at once (five days before the meeting) when jobs run.
            await self.command(channel, "checkins add Before we meet timing=before:5d open=3d")
            await self.command(channel, "checkins question 1 add What did you notice?")
            await self.command(channel, "checkins question 1 add One thing to try commitment=yes")
        if group in ("", "challenge"):
            await self.command(channel, "challenge add Biting at lunch", user="ben")
        if group == "network":
            await self.command(channel, 'network create "Hostile network"')
        if group in ("", "survey"):
            # An open interest survey of two areas, with a member's proposed area waiting.
            await self.command(channel, "survey areas add Relationships with families")
            await self.command(channel, "survey areas add Learning environments")
            await self.command(channel, "survey open")
            await self.command(channel, "survey propose Outdoor play")
        async with self.db.session() as s:
            community = (
                await s.execute(select(Community).where(Community.channel_id == channel))
            ).scalar_one()
            cid = community.id

            async def ids(model: Any) -> list[int]:
                rows = await s.execute(
                    select(model.id).where(model.community_id == cid).order_by(model.id)
                )
                return list(rows.scalars()) or [0, 0]

            return Fixtures(
                channel,
                cid,
                (await ids(Poll))[-1],
                await ids(Topic),
                (await ids(MeetingSeries))[-1],
                (await ids(TopicIntake))[-1],
            )

    def check(self, run: Run, start: int) -> None:
        """No error logged, no apology, no raw control text shown; a refusal is one sentence."""
        for record in self.caplog.records[start:]:
            if record.levelno >= logging.ERROR or record.exc_info:
                run.errors.append(f"logged {record.levelname}: {record.getMessage()[:200]}")
        shown = _text(run.reply)
        if shown in APOLOGIES:
            run.errors.append(f"apologised: {shown}")
        if not is_clean(shown):
            run.errors.append(f"showed raw control text: {shown[:120]!r}")
        if run.refused:
            texts = (
                list(run.reply.errors.values()) if isinstance(run.reply, FormErrors) else [shown]
            )
            for text in texts:
                if "\n" in text or len(text) > 400 or not text:
                    run.errors.append(f"refusal is not one sentence: {text[:200]!r}")


def _start() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def _text(reply: Reply) -> str:
    if isinstance(reply, Respond):
        return reply.message.text
    if isinstance(reply, FormErrors):
        return " ".join(reply.errors.values())
    return ""


def _strings(value: Any) -> Iterator[str]:
    """Every string in a stored value, JSON columns (outbox messages, job args) unpacked."""
    if isinstance(value, str):
        yield value
        if value[:1] in "[{":
            try:
                yield from _strings(json.loads(value))
            except ValueError:
                pass
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


async def dirty(db: Database) -> list[str]:
    """Stored strings that `clean` would have changed: controls, bidi, non-NFC, blank columns."""
    found: list[str] = []
    async with db.session() as s:
        for table in storage.tables.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings():
                for column, value in row.items():
                    # A column never holds blank text; inside a stored message, spaces
                    # between inline parts are circlebot's own.
                    if isinstance(value, str) and value and not value.strip():
                        found.append(f"{table.name}.{column} = {value[:60]!r}")
                    for text in _strings(value):
                        if not is_clean(text):
                            found.append(f"{table.name}.{column} = {text[:60]!r}")
    return found


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    async with db.session() as s:
        return {
            table.name: sorted(
                (tuple(map(repr, row)) for row in await s.execute(select(table))), key=repr
            )
            for table in storage.tables.metadata.sorted_tables
        }


def _valid(cmd: Command, param: Param, fx: Fixtures) -> str:
    value = VALID_FOR.get((" ".join(cmd.path), param.name)) or VALID[param.name]
    return value(fx) if callable(value) else value


def _params(cmd: Command, fx: Fixtures, name: str, hostile: str) -> dict[str, str]:
    params = {p.name: _valid(cmd, p, fx) for p in cmd.params if p.required}
    params[name] = hostile
    return params


# -- commands ---------------------------------------------------------------------------------


def test_every_parameter_has_a_valid_value() -> None:
    from bot.features import build_registry

    names = {p.name for cmd in build_registry().commands.values() for p in cmd.params}
    assert sorted(names - set(VALID)) == []


async def test_every_command_parameter_refuses_or_cleans_hostile_text(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = Hostile(db, caplog)
    await bot.app.start()
    failures: list[str] = []
    runs = stored = 0
    try:
        for cmd in bot.app.registry.commands.values():
            fx: Fixtures | None = None
            for param in cmd.params:
                for case, hostile in hostile_values(param).items():
                    # A fresh community after anything that may have changed it, so each value
                    # meets the state its command needs (an open intake, an open poll, ...).
                    fx = fx or await bot.fresh(cmd.path[0])
                    start = len(caplog.records)
                    event = CommandInvoked(
                        bot.actor(),
                        bot.place(fx.channel),
                        cmd.path,
                        _params(cmd, fx, param.name, hostile),
                    )
                    reply, refused = await bot.handle(event)
                    run = Run(f"/cop {cmd.name} {param.name}=", case, reply, refused)
                    bot.check(run, start)
                    # No id, date or schedule among these exists, and nothing is that long.
                    if case not in TEXT or case == "huge":
                        if not refused:
                            run.errors.append(f"accepted: {_text(reply)[:120]!r}")
                    failures.extend(f"{run.where}<{case}>: {e}" for e in run.errors)
                    runs += 1
                    if not refused:
                        stored += 1
                        fx = None
        failures.extend(await dirty(db))
    finally:
        await bot.app.stop()
    assert failures == []
    # Both outcomes happened: refusals, and hostile text stored cleaned.
    assert runs > 300 and 0 < stored < runs


# -- forms ------------------------------------------------------------------------------------

Opener = Callable[[Hostile, Fixtures], Awaitable[tuple[Form, dict[str, str]]]]


async def _open(bot: Hostile, fx: Fixtures, action: str) -> Form:
    reply, refused = await bot.handle(
        ActionClicked(bot.actor("ben", False), bot.place(fx.channel), ActionId.parse(action))
    )
    assert isinstance(reply, OpenForm), _text(reply)
    return reply.form


async def _ballot_form(bot: Hostile, fx: Fixtures, method: str) -> Form:
    await bot.command(fx.channel, f'poll new "Rank?" options="Apples | Pears" method={method}')
    async with bot.db.session() as s:
        poll = (
            await s.execute(
                select(Poll.id).where(Poll.community_id == fx.community).order_by(Poll.id.desc())
            )
        ).scalar()
    return await _open(bot, fx, f"vote:form:{poll}")


def _ballot(method: str, typed: str) -> Opener:
    async def opener(bot: Hostile, fx: Fixtures) -> tuple[Form, dict[str, str]]:
        return await _ballot_form(bot, fx, method), {"ballot": typed}

    return opener


async def _propose(bot: Hostile, fx: Fixtures) -> tuple[Form, dict[str, str]]:
    form = await _open(bot, fx, f"topics:propose:{fx.intake}")
    return form, {"title": "Sand play", "why": "Children love it"}


async def _consent_reason(bot: Hostile, fx: Fixtures) -> tuple[Form, dict[str, str]]:
    await bot.command(fx.channel, "agreements propose Phones away while we talk.")
    async with bot.db.session() as s:
        proposal = (
            (
                await s.execute(
                    select(AgreementProposal)
                    .where(AgreementProposal.community_id == fx.community)
                    .order_by(AgreementProposal.id.desc())
                )
            )
            .scalars()
            .first()
        )
    assert proposal is not None
    await bot.command(fx.channel, f"agreements check {proposal.number}")
    form = await _open(bot, fx, f"consent:block:{proposal.id}:1")
    return form, {"reason": "It asks too much of us"}


async def _agreements_propose(bot: Hostile, fx: Fixtures) -> tuple[Form, dict[str, str]]:
    form = await _open(bot, fx, f"agree:propose:{fx.community}")
    return form, {"kind": "add", "number": "", "text": "Phones away", "why": "We drift"}


async def _open_round(bot: Hostile, fx: Fixtures) -> int:
    """Check-in 1's round, opened by its job (which DMs ben its Answer button)."""
    await bot.app.run_due()
    async with bot.db.session() as s:
        return (
            await s.execute(
                select(CheckinRound.id).where(
                    CheckinRound.community_id == fx.community,
                    CheckinRound.status == RoundStatus.OPEN,
                )
            )
        ).scalar_one()


async def _reflection(bot: Hostile, fx: Fixtures) -> tuple[Form, dict[str, str]]:
    form = await _open(bot, fx, f"reflect:answer:{await _open_round(bot, fx)}")
    return form, {"q1": "They noticed the rain", "p1": "private", "q2": "", "p2": "private"}


async def _commitment_note(bot: Hostile, fx: Fixtures) -> tuple[Form, dict[str, str]]:
    """ben says what he will try in the round, then presses "Tell how it went" on it."""
    answer = await _open(bot, fx, f"reflect:answer:{await _open_round(bot, fx)}")
    values = {"q1": "Puddles", "q2": "Name feelings at snack"}
    reply, refused = await bot.handle(
        FormSubmitted(
            bot.actor("ben", False), bot.place(fx.channel), answer.form_id, values, answer.metadata
        )
    )
    assert not refused, _text(reply)
    async with bot.db.session() as s:
        commitment = (
            await s.execute(
                select(CheckinCommitment.id)
                .where(CheckinCommitment.community_id == fx.community)
                .order_by(CheckinCommitment.id.desc())
            )
        ).scalar()
    form = await _open(bot, fx, f"commit:tell:{commitment}")
    return form, {"how": "tried", "note": "The room was calmer", "privacy": "private"}


async def _survey_id(bot: Hostile, fx: Fixtures) -> int:
    async with bot.db.session() as s:
        return (
            await s.execute(select(Survey.id).where(Survey.community_id == fx.community))
        ).scalar_one()


async def _survey_rate(bot: Hostile, fx: Fixtures) -> tuple[Form, dict[str, str]]:
    form = await _open(bot, fx, f"survey:rate:{await _survey_id(bot, fx)}:1")
    return form, {"a1": "4", "a2": "2"}


async def _survey_propose(bot: Hostile, fx: Fixtures) -> tuple[Form, dict[str, str]]:
    form = await _open(bot, fx, f"survey:propose:{await _survey_id(bot, fx)}")
    return form, {"title": "Transitions"}


async def _bring_challenge(bot: Hostile, fx: Fixtures) -> tuple[Form, dict[str, str]]:
    form = await _open(bot, fx, f"challenge:bring:{fx.community}")
    return form, {"text": "Biting at lunch", "visibility": "private"}


async def _challenge_note(bot: Hostile, fx: Fixtures) -> tuple[Form, dict[str, str]]:
    """ben's challenge, marked discussed; he presses "Tell how it went" on it."""
    await bot.command(fx.channel, "challenge add Nap time private", user="ben")
    async with bot.db.session() as s:
        challenge = (
            (
                await s.execute(
                    select(Challenge)
                    .where(Challenge.community_id == fx.community)
                    .order_by(Challenge.id.desc())
                )
            )
            .scalars()
            .first()
        )
    assert challenge is not None
    await bot.command(fx.channel, f"challenge done {challenge.number}")
    form = await _open(bot, fx, f"challenge:tell:{challenge.id}")
    return form, {"note": "We moved nap earlier", "share": "facilitators"}


#: How to open each registered form, with valid values for its fields.
FORMS: dict[str, Opener] = {
    "challenges.bring": _bring_challenge,
    "challenges.note": _challenge_note,
    "survey.rate": _survey_rate,
    "survey.propose": _survey_propose,
    "reflections.answer": _reflection,
    "reflections.commitment_note": _commitment_note,
    "agreements.propose": _agreements_propose,
    "agreements.reason": _consent_reason,
    "vote.ranked": _ballot("ranked", "1 2"),
    "vote.dots": _ballot("dot", "1 1 2"),
    "vote.score": _ballot("score", "1:3 2:5"),
    "topics.propose": _propose,
}


def test_every_form_can_be_opened_here() -> None:
    from bot.features import build_registry

    assert sorted(build_registry().forms) == sorted(FORMS)


async def test_every_form_field_refuses_or_cleans_hostile_text(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = Hostile(db, caplog)
    await bot.app.start()
    failures: list[str] = []
    runs = stored = 0
    try:
        fx = await bot.fresh()
        for form_id, opener in FORMS.items():
            form, valid = await opener(bot, fx)
            assert form.form_id == form_id
            for field_ in form.inputs:
                for case, hostile in {**TEXT, **IDS}.items():
                    start = len(caplog.records)
                    values = {**valid, field_.name: hostile}
                    event = FormSubmitted(
                        bot.actor("ben", False),
                        bot.place(fx.channel),
                        form_id,
                        values,
                        form.metadata,
                    )
                    reply, refused = await bot.handle(event)
                    run = Run(f"form {form_id} {field_.name}", case, reply, refused)
                    bot.check(run, start)
                    failures.extend(f"{run.where}<{case}>: {e}" for e in run.errors)
                    runs += 1
                    stored += not refused
                    if not refused and form_id == "topics.propose":
                        fx = await bot.fresh()  # a second identical title would be refused
                        form, valid = await opener(bot, fx)
            # Hostile metadata: the form's object id is not an id; refused, nothing changes.
            before = await snapshot(db)
            for case, hostile in {**IDS, **TEXT}.items():
                start = len(caplog.records)
                event = FormSubmitted(
                    bot.actor("ben", False), bot.place(fx.channel), form_id, valid, hostile
                )
                reply, refused = await bot.handle(event)
                run = Run(f"form {form_id} metadata", case, reply, refused)
                bot.check(run, start)
                if not refused or _text(reply) != T("core.refuse.stale_form"):
                    run.errors.append(f"not refused as a stale form: {_text(reply)[:120]!r}")
                failures.extend(f"{run.where}<{case}>: {e}" for e in run.errors)
            if await snapshot(db) != before:
                failures.append(f"form {form_id}: hostile metadata changed the database")
        failures.extend(await dirty(db))
    finally:
        await bot.app.stop()
    assert failures == []
    assert runs > 10 and 0 < stored < runs


# -- buttons ----------------------------------------------------------------------------------


async def test_buttons_with_ids_that_are_not_ids_are_refused_and_change_nothing(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = Hostile(db, caplog)
    await bot.app.start()
    failures: list[str] = []
    try:
        fx = await bot.fresh()
        # The buttons circlebot rendered (every argument of an action id is an id), and one
        # bare id for every registered action, rendered or not.
        async with db.session() as s:
            payloads = (await s.execute(select(OutboxMessage.payload))).scalars().all()
        rendered = {
            text
            for payload in payloads
            for text in _strings(payload)
            if re.fullmatch(r"[a-z]+:[a-z]+(:[0-9]+)+", text)
            and tuple(text.split(":")[:2]) in bot.app.registry.actions
        }
        assert any(text.count(":") >= 3 for text in rendered)  # vote:cast:POLL:OPTION
        shapes = [f"{feature}:{verb}:{{}}" for feature, verb in bot.app.registry.actions]
        for text in sorted(rendered):
            parts = text.split(":")
            for i in range(2, len(parts)):
                shapes.append(":".join([*parts[:i], "{}", *parts[i + 1 :]]))
        stale = T("core.refuse.stale_button")
        before = await snapshot(db)
        for shape in shapes:
            for case, hostile in IDS.items():
                raw = shape.format(hostile)
                start = len(caplog.records)
                event = ActionClicked(
                    bot.actor("ben", False), bot.place(fx.channel), ActionId.parse(raw)
                )
                reply, refused = await bot.handle(event)
                run = Run(raw, case, reply, refused)
                bot.check(run, start)
                if not refused or _text(reply) != stale:
                    run.errors.append(f"not refused as stale: {_text(reply)[:120]!r}")
                failures.extend(f"{raw}<{case}>: {e}" for e in run.errors)
        if await snapshot(db) != before:
            failures.append("a hostile button changed the database")
    finally:
        await bot.app.stop()
    assert failures == []


# -- the cleaning itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "single", "multi"),
    [
        (TEXT["whitespace"], "", ""),
        (TEXT["invisible"], "", ""),
        ("Out\x00door play", "Outdoor play", None),
        ("\x1b[31mRed\x1b[0m \x1b]0;owned\x07alert\x07\x1b", "Red alert", None),
        ("tab\x7fbed\x9bend\x85new", "tabbedend new", "tabbedend\nnew"),
        ("abc\u202edcba \u2066isolated\u2069 \u200fmark\u061c", "abcdcba isolated mark", None),
        ("half \ud800 pair", "half pair", "half  pair"),
        ("Cafe\u0301 au lait", "Caf\u00e9 au lait", None),
        ("one\r\ntwo\u2028three\tfour  ", "one two three four", "one\ntwo\nthree\tfour"),
        ("a\n\n\n\n\nb", "a b", "a\n\nb"),
        (
            "\u014csaka \U0001f469\u200d\U0001f3eb circle",
            "\u014csaka \U0001f469\u200d\U0001f3eb circle",
            None,
        ),
    ],
)
def test_clean(raw: str, single: str, multi: str | None) -> None:
    assert clean(raw) == single
    assert clean(raw, multiline=True) == (single if multi is None else multi)
    assert is_clean(clean(raw)) and is_clean(clean(raw, multiline=True))


async def test_a_form_field_and_its_command_twin_share_one_limit(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = Hostile(db, caplog)
    await bot.app.start()
    try:
        fx = await bot.fresh("topics")
        form = await _open(bot, fx, f"topics:propose:{fx.intake}")
        [limit] = [i.max_length for i in form.inputs if i.name == "title"]
        cmd = bot.app.registry.commands[("topics", "propose")]
        [param] = [p for p in cmd.params if p.name == "title"]
        assert param.max_length == limit

        async def by_form(title: str) -> tuple[Reply, bool]:
            return await bot.handle(
                FormSubmitted(
                    bot.actor("ben", False),
                    bot.place(fx.channel),
                    form.form_id,
                    {"title": title},
                    form.metadata,
                )
            )

        async def by_command(title: str) -> tuple[Reply, bool]:
            return await bot.handle(
                CommandInvoked(bot.actor(), bot.place(fx.channel), cmd.path, {"title": title})
            )

        too_long = "a" * (limit + 1)
        form_reply, form_refused = await by_form(too_long)
        command_reply, command_refused = await by_command(too_long)
        assert form_refused and command_refused
        assert isinstance(form_reply, FormErrors) and list(form_reply.errors) == ["title"]
        assert str(limit) in form_reply.errors["title"] and str(limit) in _text(command_reply)
        # Exactly the limit is fine both ways, and is stored whole.
        assert not (await by_form("b" * limit))[1]
        assert not (await by_command("c" * limit))[1]
        async with db.session() as s:
            titles = set(
                (
                    await s.execute(select(Topic.title).where(Topic.community_id == fx.community))
                ).scalars()
            )
        assert {"b" * limit, "c" * limit} <= titles and too_long not in titles
    finally:
        await bot.app.stop()
