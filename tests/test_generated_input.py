"""Generated bad input (Hypothesis) for every command and every form the registry holds.

Command text is built from unicode of every category (control, bidi, surrogate, unassigned),
huge strings, unbalanced quotes and backslashes, ``key=value`` junk naming the command's own
parameters and made-up ones, numbers at the edges of every integer type, and dates and
schedules outside any calendar; it goes through the registry's parser (as Slack and the
console do) and then, as a real `CommandInvoked`, through the dispatcher, typed by a workspace
admin who facilitates the community (so every role check passes and the handlers themselves
read the values) or by a plain member. Forms get generated values for their inputs and
generated metadata. Whatever comes in: no unhandled exception (no apology, nothing logged as
an error) and every refusal one sentence (one line, not empty, not a wall of text).

By default each command and each form gets a few examples (the file runs in well under a
minute); ``-m long`` runs at least 10,000 examples per feature.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App
from bot.commands import Command, ParseError
from bot.events import (
    Actor,
    CommandInvoked,
    ConversationRef,
    FormErrors,
    FormSubmitted,
    Place,
    Reply,
    Respond,
    UserRef,
)
from bot.features import build_registry
from bot.i18n import Translator
from bot.ports import FakeClock
from storage.db import Database
from tests.support import RecordingAdapter, copy_sqlite, sqlite_template
from tests.test_cross_community import FORMS

T = Translator()
REGISTRY = build_registry()
COMMANDS = sorted(REGISTRY.commands.values(), key=lambda c: c.name)
FEATURES = sorted(set(REGISTRY.owners.values()))
APOLOGIES = {T("core.error.unexpected"), T("core.error.not_saved")}
CHANNEL = "C-GEN"
#: Longest refusal accepted as "one sentence" (a usage line can be long; a dump cannot).
MAX_REFUSAL = 400
FAST = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
#: Examples per feature in the long run: 10,000 (about 50 to 95 s a feature on 2 CPUs,
#: some 14 minutes for all 13). `CIRCLEBOT_GENERATED_EXAMPLES` sets another count.
LONG_EXAMPLES = int(os.environ.get("CIRCLEBOT_GENERATED_EXAMPLES", "10000"))
LONG = settings(
    max_examples=LONG_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# -- what is generated -----------------------------------------------------------------------

EDGE_NUMBERS = [
    "0",
    "-1",
    "1",
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775808",
    "9" * 40,
    "1e9",
    "NaN",
    "inf",
    "+1",
    "0_1",
    "0x10",
    "1.5",
    "\u0663",
    "\u00b2",
    "\uff11",
]
EDGE_WORDS = [
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "24:61",
    "in 99999999999 days",
    "every 0 weeks on monday at 10:00",
    "RRULE:FREQ=SECONDLY",
    "next",
    "last",
    "all",
    "none",
    "@",
    "<@>",
    "<@U1|>",
    "#",
    "|",
    " | | ",
    ";",
    "Etc/GMT+99",
    "../../etc/passwd",
    "'; DROP TABLE member; --",
    "%s%s%n",
    "{name}",
    "\u202eevil",
    "\x00",
    "\x1b[31m",
]
QUOTES = ['"', "'", "\\", '"unclosed', "'a b'", '"a \\" b"', "\\\\", '""', "a=b", "=x", "x="]
_ANY_CHAR = st.characters(codec=None, categories=None)


def _huge() -> st.SearchStrategy[str]:
    return st.builds(
        lambda c, n: c * n,
        st.sampled_from(["x", " ", "\u0301", "é", "<!", "="]),
        st.integers(250, 12_000),
    )


def words(names: list[str]) -> st.SearchStrategy[str]:
    """One word of command text: junk, or ``name=junk`` for one of `names` or a made-up one."""
    junk = st.one_of(
        st.text(_ANY_CHAR, max_size=30),
        st.sampled_from(EDGE_NUMBERS),
        st.sampled_from(EDGE_WORDS),
        st.sampled_from(QUOTES),
        _huge(),
    )
    key = st.one_of(
        st.sampled_from(names or ["x"]), st.from_regex(r"[a-z][a-z_-]{0,12}", fullmatch=True)
    )
    return st.one_of(junk, junk, st.builds(lambda k, v: f"{k}={v}", key, junk))


def command_text(cmd: Command) -> st.SearchStrategy[str]:
    names = [p.name for p in cmd.params]
    return st.lists(words(names), max_size=6).map(lambda ws: " ".join([cmd.name, *ws]))


def form_values(form_id: str) -> st.SearchStrategy[dict[str, str]]:
    names = list(FORMS[form_id][1]) if form_id in FORMS else []
    value = st.one_of(
        st.text(_ANY_CHAR, max_size=40),
        st.sampled_from(EDGE_NUMBERS + EDGE_WORDS + QUOTES),
        _huge(),
    )
    known = st.fixed_dictionaries({}, optional={n: value for n in names})
    extra = st.dictionaries(st.text(_ANY_CHAR, max_size=12), value, max_size=3)
    return st.builds(lambda a, b: {**b, **a}, known, extra)


METADATA = st.one_of(
    st.sampled_from([*EDGE_NUMBERS, "", "1:1:concern", "1:1", "1:99:block", "1:x", ":::"]),
    st.integers(1, 12).map(str),
    st.text(_ANY_CHAR, max_size=40),
)

# -- the harness -------------------------------------------------------------------------------


class Errors(logging.Handler):
    """Every record logged at ERROR or with a traceback while it is attached."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


class Harness:
    """One community on the recording adapter in its own event loop, shared by the examples:
    an open poll, a topic intake, a meeting series, agreements with a proposal, a check-in, a
    challenge, an open survey and a network, so handlers meet objects to act on."""

    def __init__(self, path: Path) -> None:
        self.runner = asyncio.Runner()
        self.db = Database(f"sqlite:///{path}")
        self.clock = FakeClock(datetime(2026, 11, 2, 14, 0, tzinfo=UTC))
        self.app = App(self.db, self.clock, [RecordingAdapter()], manual=True)
        self.errors = Errors()
        self.examples = 0

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.runner.run(coro)

    def actor(self, user: str) -> Actor:
        return Actor(UserRef("fake", "W1", user), user, user == "ana")

    def place(self, user: str, dm: bool = False) -> Place:
        if dm:
            return Place(ConversationRef("fake", "W1", f"D-{user}"), "", is_dm=True)
        return Place(ConversationRef("fake", "W1", CHANNEL), "general")

    async def setup(self) -> None:
        await self.app.start()
        for user, text in (
            ("ana", 'setup "Generated CoP" America/New_York'),
            ("ana", "facilitator add @ana"),
            ("max", "join"),
            ("ana", 'poll new "Snack?" options="Apples | Pears"'),
            ("ana", 'poll new "Rank?" options="A | B | C" method=ranked'),
            ("ana", 'topics open "What next?"'),
            ("max", 'topics propose "Outdoor play"'),
            ("ana", 'meeting series "weekly on Tuesday at 10:00"'),
            ("ana", "agreements draft pick=1,2"),
            ("max", "agreements propose We start on time."),
            ("ana", "checkins add Before timing=before:5d open=3d"),
            ("ana", "checkins question 1 add What did you notice?"),
            ("max", "challenge add Biting at lunch"),
            ("ana", "survey areas add Families"),
            ("ana", "survey open"),
            ("ana", 'network create "Generated network"'),
            ("max", "resources add https://example.org/guide title=Guide"),
        ):
            cmd, params = REGISTRY.parse(text, T)
            reply = await self.dispatch(
                CommandInvoked(self.actor(user), self.place(user), cmd.path, params)
            )
            assert self.refusals() == 0, (text, reply)
        await self.app.advance(timedelta(minutes=1))

    def count(self, result: str, kind: str) -> float:
        value = self.app.services.metrics.registry.get_sample_value(
            "circlebot_events_handled_total", {"kind": kind, "result": result}
        )
        return value or 0.0

    def refusals(self) -> float:
        return sum(self.count("refused", k) for k in ("CommandInvoked", "FormSubmitted"))

    async def dispatch(self, event: Any) -> Reply:
        reply = await self.app.dispatcher.handle(event)
        await self.app.worker.drain()
        return reply

    def check(self, what: str, event: Any) -> None:
        """Dispatch `event`: no unhandled error, and a refusal in one sentence."""
        kind = type(event).__name__
        before = {r: self.count(r, kind) for r in ("refused", "error", "not_saved")}
        logged = len(self.errors.records)
        reply = self.run(self.dispatch(event))
        after = {r: self.count(r, kind) for r in before}
        assert after["error"] == before["error"], f"{what}: unhandled error: {_text(reply)!r}"
        assert after["not_saved"] == before["not_saved"], what
        assert len(self.errors.records) == logged, (
            what,
            [r.getMessage()[:200] for r in self.errors.records[logged:]],
        )
        assert _text(reply) not in APOLOGIES, what
        if isinstance(reply, FormErrors):
            for sentence in reply.errors.values():
                one_sentence(what, sentence)
        elif after["refused"] > before["refused"]:
            assert isinstance(reply, Respond) and reply.private, (what, reply)
            one_sentence(what, reply.message.text)

    def command(self, text: str, user: str, dm: bool) -> None:
        self.examples += 1
        try:
            cmd, params = REGISTRY.parse(text, T)
        except ParseError as refusal:
            one_sentence(repr(text[:80]), str(refusal))
            return
        event = CommandInvoked(self.actor(user), self.place(user, dm), cmd.path, params)
        self.check(repr(text[:120]), event)

    def form(
        self, form_id: str, values: dict[str, str], metadata: str, user: str, dm: bool
    ) -> None:
        self.examples += 1
        event = FormSubmitted(self.actor(user), self.place(user, dm), form_id, values, metadata)
        self.check(f"{form_id} {metadata[:40]!r} {list(values)[:4]}", event)

    def close(self) -> None:
        try:
            self.run(self.app.stop())
            self.run(self.db.dispose())
        finally:
            self.runner.close()


def _text(reply: Reply) -> str:
    if isinstance(reply, Respond):
        return reply.message.text
    if isinstance(reply, FormErrors):
        return " ".join(reply.errors.values())
    return ""


def one_sentence(what: str, text: str) -> None:
    assert text and "\n" not in text and len(text) <= MAX_REFUSAL, f"{what}: {text[:300]!r}"
    assert "Traceback" not in text and "Error(" not in text, f"{what}: {text[:300]!r}"


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    path = tmp_path_factory.mktemp("generated") / "circlebot.db"
    copy_sqlite(asyncio.run(sqlite_template()), path)
    h = Harness(path)
    root = logging.getLogger()
    root.addHandler(h.errors)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        h.run(h.setup())
        yield h
    finally:
        root.removeHandler(h.errors)
        root.setLevel(level)
        h.close()


USERS = st.sampled_from([("ana", False), ("max", False), ("ana", True), ("nia", False)])


def _command_test(cmd: Command, harness: Harness, config: settings) -> None:
    @config
    @given(command_text(cmd), USERS)
    def run(text: str, who: tuple[str, bool]) -> None:
        harness.command(text, *who)

    run()


# -- commands ----------------------------------------------------------------------------------


def test_the_generators_reach_every_command_and_form() -> None:
    assert len(COMMANDS) > 100 and set(REGISTRY.forms) <= set(FORMS)


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c.name)
def test_generated_command_text_is_answered_or_refused_in_one_sentence(
    harness: Harness, cmd: Command
) -> None:
    _command_test(cmd, harness, FAST)


@pytest.mark.parametrize("form_id", sorted(REGISTRY.forms))
def test_generated_form_values_are_answered_or_refused_in_one_sentence(
    harness: Harness, form_id: str
) -> None:
    @FAST
    @given(form_values(form_id), METADATA, USERS)
    def run(values: dict[str, str], metadata: str, who: tuple[str, bool]) -> None:
        harness.form(form_id, values, metadata, *who)

    run()


# -- the long run: at least 10,000 examples per feature --------------------------------------


def _feature_events(feature: str) -> st.SearchStrategy[Callable[[Harness], None]]:
    """An example of `feature`: one of its commands with generated text, or one of its forms."""
    commands = [c for c in COMMANDS if REGISTRY.owners[c.path] == feature]
    forms = sorted(f for f in REGISTRY.forms if f.split(".")[0] in _form_prefixes(feature))
    choices: list[st.SearchStrategy[Callable[[Harness], None]]] = [
        st.builds(
            lambda text, who: lambda h: h.command(text, *who),
            st.sampled_from(commands).flatmap(command_text),
            USERS,
        )
    ]
    if forms:
        choices.append(
            st.sampled_from(forms).flatmap(
                lambda f: st.builds(
                    lambda values, metadata, who: lambda h: h.form(f, values, metadata, *who),
                    form_values(f),
                    METADATA,
                    USERS,
                )
            )
        )
    return st.one_of(*choices)


def _form_prefixes(feature: str) -> set[str]:
    """Which form ids a feature registers (its forms' first word)."""
    from bot.features import FEATURES

    [declared] = [f for f in FEATURES if f.name == feature]
    return {form_id.split(".")[0] for form_id in declared.forms}


@pytest.mark.long
@pytest.mark.parametrize("feature", FEATURES)
def test_thousands_of_generated_inputs_per_feature(harness: Harness, feature: str) -> None:
    start = harness.examples

    @LONG
    @given(_feature_events(feature))
    def run(example: Callable[[Harness], None]) -> None:
        example(harness)

    run()
    assert harness.examples - start >= LONG_EXAMPLES


def test_the_examples_reach_the_handlers(harness: Harness) -> None:
    """Not all refused by the parser: generated text gets through to handlers, which accept
    some of it and refuse some, in every way the counters tell apart."""

    @FAST
    @given(st.sampled_from(COMMANDS).flatmap(command_text), USERS)
    def run(text: str, who: tuple[str, bool]) -> None:
        harness.command(text, *who)

    ok = harness.count("ok", "CommandInvoked")
    refused = harness.count("refused", "CommandInvoked")
    run()
    harness.command("poll list", "ana", False)
    harness.command("poll new Hypothesis? options=a|b closes=9999-12-31", "ana", False)
    assert harness.count("ok", "CommandInvoked") > ok
    assert harness.count("refused", "CommandInvoked") > refused


@pytest.mark.parametrize(
    "text",
    ["poll list \\\r0", "\\\nfoo", 'poll new Q options=a method="x\ny"', 'poll close "1\n2"'],
)
def test_a_line_break_inside_a_word_is_quoted_on_one_line(text: str) -> None:
    """Found by the long run: a backslash or quotes keep a line break inside a word, and the
    refusal quoting that word was two lines (bot.commands.excerpt makes it one)."""
    with pytest.raises(ParseError) as refusal:
        REGISTRY.parse(text, T)
    one_sentence(repr(text), str(refusal.value))
