"""Authorization matrix: every facilitator-, host- and admin-only command and button, read from
the registry with its declared `Role` (so a new one is covered without editing this file),
tried by a plain member, an outsider, someone who left and a facilitator of another community;
facilitator buttons also with forged, cross-community, replayed and malformed ids. Each is
refused in one private sentence and changes nothing: every row of every table is dumped before
and after and compared (only ``seen_request``, the record of requests already handled, is left
out: a copy's mark is the point of a replay, and a refusal rolls its mark back anyway).

Forms declare no role: every registered form is a member's form, and who may submit one is
`tests/test_cross_community.py`'s matrix (outsiders, other communities, forged metadata).
The two communities are that file's `World` (amy facilitates Alpha, bob Beta, max is a member
of both, lee left Alpha, nia never joined, ana is a workspace admin).

By default the matrix runs whole on SQLite and a representative part of it on PostgreSQL;
``-m long`` runs the rest on PostgreSQL, and every guarded button by every person in every
channel on both.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.commands import Command, Role
from bot.events import Ack, ActionClicked, CommandInvoked, Reply, Respond
from bot.features import build_registry
from bot.i18n import Translator
from bot.ports import FakeClock
from bot.ui import ActionId, ActionIdError
from storage.db import Database
from tests.slack import conftest as slack_fixtures
from tests.test_cross_community import (
    BUTTONS,
    MISSING,
    Built,
    Side,
    World,
    _build,
    _pg_create,
    _pg_drop,
)
from tests.test_hostile_input import VALID, VALID_FOR

T = Translator()
REGISTRY = build_registry()
#: Every command some role above member is required for, by the registry's own declaration.
GUARDED = sorted(
    (c for c in REGISTRY.commands.values() if c.role >= Role.HOST), key=lambda c: c.name
)
#: Every button kind only a facilitator (or more) may press.
GUARDED_BUTTONS = sorted(
    f"{f}:{v}" for (f, v), a in REGISTRY.actions.items() if a.role >= Role.HOST
)
#: Tables whose rows may differ after a refused request for a reason that is not an effect.
UNCOMPARED = {"seen_request"}
#: Member commands whose handler checks a higher role for some of its arguments (these are
#: not in the registry's role, so they are listed): text, and the sentence expected.
GUARDED_INSIDE = {
    "survey areas add Play outdoors": "facilitator_only",
    "survey areas remove 1": "facilitator_only",
    "digest settings offset=3d": "facilitator_only",
}
#: Network commands only the network's coordinators may run (checked inside the feature),
#: tried by a member of a community in the network who coordinates nothing.
COORDINATOR_ONLY = (
    "network invite",
    "network coordinator add @max",
    "network announce Come to the spring meeting",
    'network event "Spring meeting" when="2026-12-08 18:30"',
    "network survey start",
)
#: Words that would mean an exception's text reached a person.
TRACEBACK_WORDS = ("Traceback", "Exception", "Error", "error:", 'File "', "line ")


def valid_params(cmd: Command, side: Side) -> dict[str, str]:
    """A value for each required parameter (from the hostile-input suite's table), so a
    refusal can only be the role's; objects are `side`'s."""
    objects = SimpleNamespace(
        poll=side.single, topics=[MISSING, MISSING], series=side.series, intake=side.intake
    )
    out: dict[str, str] = {}
    for p in cmd.params:
        if not p.required:
            continue
        value = VALID_FOR.get((cmd.name, p.name), VALID.get(p.name, "1"))
        out[p.name] = value if isinstance(value, str) else value(objects)
    return out


def role_sentence(role: Role, community: str = "Alpha") -> str:
    if role == Role.ADMIN:
        return T("core.refuse.admin_only")
    if role == Role.HOST:
        return T("core.refuse.host_only")
    return T("core.refuse.facilitator_only", community=community)


def one_private_sentence(reply: Reply) -> str | None:
    """What is wrong with `reply` as a refusal, or None: private, one line, one sentence ending
    with a period, and no word of a traceback."""
    if not isinstance(reply, Respond):
        return f"not a refusal: {reply!r}"
    text = reply.message.text
    if not reply.private:
        return f"public: {text!r}"
    if "\n" in text or not text.endswith(".") or ". " in text.rstrip("."):
        return f"not one sentence: {text!r}"
    if any(word in text for word in TRACEBACK_WORDS):
        return f"reads like a traceback: {text!r}"
    return None


def comparable(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    return {name: value for name, value in rows.items() if name not in UNCOMPARED}


@dataclass
class Matrix:
    """Runs cases on one world, collecting every failure so one run reports them all.

    Each reply is checked as it comes; the tables are compared once per group of cases
    (`settled`), since dumping every table after each of hundreds of cases would take minutes.
    A refusal rolls back its whole transaction, so a change anywhere in a group is a failure.
    """

    world: World
    failures: list[str] = field(default_factory=list)
    count: int = 0
    before: dict[str, list[tuple[Any, ...]]] | None = None
    sent: int = 0

    async def refused(self, case: str, event: Any, sentence: str | None) -> None:
        """`event` is refused (with exactly `sentence`, when given) and sends nothing."""
        if self.before is None:
            self.before = comparable(await self.world.snapshot())
            self.sent = len(self.world.fake.sent)
        reply = await self.world.handle(event)
        self.count += 1
        wrong = one_private_sentence(reply)
        if wrong is None and sentence is not None:
            assert isinstance(reply, Respond)
            if reply.message.text != sentence:
                wrong = f"{reply.message.text!r}, expected {sentence!r}"
        if wrong is None and len(self.world.fake.sent) != self.sent:
            wrong = f"sent {self.world.fake.sent[self.sent :]!r}"
            self.sent = len(self.world.fake.sent)
        if wrong is not None:
            self.failures.append(f"{case}: {wrong}")

    async def settled(self, group: str) -> None:
        """Every table holds what it held before the group's first case."""
        if self.before is None:
            return
        after = comparable(await self.world.snapshot())
        if after != self.before:
            tables = sorted(n for n in self.before if self.before[n] != after.get(n))
            self.failures.append(f"{group}: changed {tables}")
        self.before = None

    def command(
        self, user: str, channel: str, cmd: Command, params: dict[str, str]
    ) -> CommandInvoked:
        w = self.world
        return CommandInvoked(w.actor(user), w.where(user, channel), cmd.path, params)

    def press(
        self, user: str, channel: str, action: str, delivery: str | None = None
    ) -> ActionClicked:
        w = self.world
        return ActionClicked(
            w.actor(user), w.where(user, channel), ActionId.parse(action), delivery=delivery
        )

    def check(self) -> None:
        assert self.count, "no case ran"
        assert not self.failures, f"{len(self.failures)} of {self.count}:\n" + "\n".join(
            self.failures
        )


# -- the worlds ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    """The two communities, built through the real app once per backend and module."""
    from datetime import UTC, datetime

    clock = FakeClock(datetime(2026, 11, 2, 13, 0, tzinfo=UTC))  # 08:00 in New York
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("authz") / "template.db"
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
    """A private copy of the built world (a copied SQLite file or a PostgreSQL TEMPLATE)."""
    if built.url.startswith("sqlite"):
        shutil.copyfile(Path(built.url.removeprefix("sqlite:///")), tmp_path / "circlebot.db")
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


def sqlite_only(request: pytest.FixtureRequest, whole: bool) -> None:
    """Run a part of the matrix on PostgreSQL only within the long test (see the end)."""
    if request.node.callspec.params["built"] != "sqlite" and not whole:
        pytest.skip("on PostgreSQL in test_the_whole_matrix_on_postgresql (-m long)")


def whole_or_part(
    request: pytest.FixtureRequest, items: list[Any], part: int, whole: bool
) -> list[Any]:
    """All `items` on SQLite (or when `whole`); every `part`-th one on PostgreSQL otherwise."""
    if request.node.callspec.params["built"] == "sqlite" or whole:
        return items
    return items[::part]


# -- the registry side --------------------------------------------------------------------------


def test_the_matrix_covers_every_guarded_command_and_button() -> None:
    """The matrix reads the registry: it finds the facilitator and admin commands that exist
    today, and every guarded button kind has a button of the world to press."""
    names = {c.name for c in GUARDED}
    assert {"setup", "facilitator add", "poll new", "meeting cancel", "agreements recap"} <= names
    assert {c.role for c in GUARDED} == {Role.HOST, Role.FACILITATOR, Role.ADMIN}
    assert set(GUARDED_BUTTONS) <= set(BUTTONS), set(GUARDED_BUTTONS) - set(BUTTONS)
    assert "vote:agenda" in GUARDED_BUTTONS and "series:end" in GUARDED_BUTTONS


# -- commands -----------------------------------------------------------------------------------


async def test_every_guarded_command_is_refused_to_anyone_below_its_role(
    world: World, request: pytest.FixtureRequest, whole: bool = False
) -> None:
    m = Matrix(world)
    a = world.a
    for cmd in whole_or_part(request, GUARDED, 4, whole):
        params = valid_params(cmd, a)
        refusal = role_sentence(cmd.role)
        in_dm = T("core.refuse.no_community_dm") if cmd.needs_community else refusal
        cases = [
            ("member max in Alpha's channel", "max", "CA", refusal),
            ("outsider nia in Alpha's channel", "nia", "CA", refusal),
            ("outsider nia in a DM", "nia", "dm", in_dm),
            ("Beta's facilitator bob in Alpha's channel", "bob", "CA", refusal),
            ("lee, who left Alpha, in its channel", "lee", "CA", T("core.refuse.left")),
            ("amy of another workspace", "amy", "CA", None),
        ]
        if cmd.role == Role.ADMIN:
            cases += [
                ("Alpha's facilitator amy in its channel", "amy", "CA", refusal),
                ("Beta's facilitator bob in his DM", "bob", "dm", refusal),
            ]
        for case, user, channel, sentence in cases:
            workspace = "W2" if "another workspace" in case else "W1"
            event = CommandInvoked(
                world.actor(user, workspace),
                world.where(user, channel, workspace),
                cmd.path,
                params,
            )
            await m.refused(f"/cop {cmd.name} by {case}", event, sentence)
        await m.settled(f"/cop {cmd.name}")
    m.check()


async def test_the_refusals_are_the_roles_a_facilitator_and_an_admin_get_past_them(
    world: World, request: pytest.FixtureRequest, whole: bool = False
) -> None:
    """The control of the matrix: with the same parameters, Alpha's facilitator (and for admin
    commands a workspace admin) is not refused for their role, so the refusals above are."""
    sqlite_only(request, whole)
    wrong: list[str] = []
    for cmd in whole_or_part(request, GUARDED, 4, whole):
        admin = cmd.role == Role.ADMIN
        user = "ana" if admin else "amy"
        event = CommandInvoked(
            world.actor(user, admin=admin),
            world.where(user, "CA"),
            cmd.path,
            valid_params(cmd, world.a),
        )
        reply = await world.handle(event)
        text = reply.message.text if isinstance(reply, Respond) else ""
        if text in {role_sentence(r) for r in (Role.HOST, Role.FACILITATOR, Role.ADMIN)}:
            wrong.append(f"/cop {cmd.name} by {user}: {text!r}")
    assert not wrong, wrong


async def test_a_facilitator_of_another_community_cannot_reach_its_objects_by_id(
    world: World, request: pytest.FixtureRequest, whole: bool = False
) -> None:
    """bob facilitates Beta: in Beta's channel, commands naming one of Alpha's polls by id are
    refused and change nothing (ids are the database's, shared by all communities)."""
    sqlite_only(request, whole)
    m = Matrix(world)
    for cmd in (c for c in GUARDED if any(p.name == "poll" for p in c.params)):
        for poll in (world.a.single, world.a.closed, world.a.ranked):
            params = {**valid_params(cmd, world.a), "poll": str(poll)}
            event = m.command("bob", "CB", cmd, params)
            await m.refused(f"/cop {cmd.name} poll={poll} by bob in Beta", event, None)
        await m.settled(f"/cop {cmd.name}")
    m.check()


async def test_member_commands_that_check_a_higher_role_inside_refuse_members(
    world: World, request: pytest.FixtureRequest, whole: bool = False
) -> None:
    sqlite_only(request, whole)
    m = Matrix(world)
    for text, key in GUARDED_INSIDE.items():
        cmd, params = REGISTRY.parse(text, T)
        for user, channel in (("max", "CA"), ("bob", "CA"), ("nia", "CA")):
            sentence = T(f"core.refuse.{key}", community="Alpha")
            event = m.command(user, channel, cmd, params)
            await m.refused(f"/cop {text} by {user} in {channel}", event, sentence)
        await m.settled(f"/cop {text}")
    m.check()


async def test_network_commands_refuse_anyone_but_its_coordinators(
    world: World, request: pytest.FixtureRequest, whole: bool = False
) -> None:
    """Alpha's facilitator starts a network; a member of Alpha, Beta's facilitator and an
    outsider may not run its coordinators' commands."""
    sqlite_only(request, whole)
    created = await world.cmd("amy", 'network create "Lakes network"', "CA")
    assert "Lakes network" in created, created
    m = Matrix(world)
    for text in COORDINATOR_ONLY:
        cmd, params = REGISTRY.parse(text, T)
        for user, channel in (("max", "CA"), ("bob", "CB"), ("nia", "CA"), ("max", "CB")):
            event = m.command(user, channel, cmd, params)
            await m.refused(f"/cop {text} by {user} in {channel}", event, None)
        await m.settled(f"/cop {text}")
    m.check()


# -- buttons ------------------------------------------------------------------------------------


async def test_every_guarded_button_is_refused_to_anyone_below_its_role(world: World) -> None:
    m = Matrix(world)
    a, b = world.a, world.b
    facilitator_only = role_sentence(Role.FACILITATOR)
    not_member = T("core.refuse.not_member", community="Alpha")
    for kind in GUARDED_BUTTONS:
        button, theirs = BUTTONS[kind](a), BUTTONS[kind](b)
        cases = [
            ("member max in Alpha's channel", "max", "CA", button, facilitator_only),
            ("member max in a DM", "max", "dm", button, facilitator_only),
            ("outsider nia in Alpha's channel", "nia", "CA", button, not_member),
            ("outsider nia in a DM", "nia", "dm", button, not_member),
            ("Beta's facilitator bob in Alpha's channel", "bob", "CA", button, not_member),
            ("Beta's facilitator bob in his DM", "bob", "dm", button, not_member),
            ("lee, who left Alpha, in a DM", "lee", "dm", button, T("core.refuse.left")),
            # Forged across communities: Beta's object, pressed by Alpha's facilitator.
            (
                "amy, Beta's button, in Alpha's channel",
                "amy",
                "CA",
                theirs,
                T("core.refuse.other_place", community="Beta"),
            ),
            (
                "amy, Beta's button, in a DM",
                "amy",
                "dm",
                theirs,
                T("core.refuse.not_member", community="Beta"),
            ),
            # Beta's button pressed in Beta's channel by a member of both who is no
            # facilitator there either.
            ("max, Beta's button, in Beta's channel", "max", "CB", theirs, None),
        ]
        for case, user, channel, action, sentence in cases:
            await m.refused(f"{kind} by {case}", m.press(user, channel, action), sentence)
        await m.settled(kind)
    m.check()


def malformed(button: str, theirs: str) -> dict[str, str]:
    """Ids a client could send that parse as action ids but name nothing usable."""
    feature, verb, first, *rest = button.split(":")
    return {
        "no arguments": f"{feature}:{verb}",
        "a word for the id": ":".join([feature, verb, "first", *rest]),
        "zero": ":".join([feature, verb, "0", *rest]),
        "negative": ":".join([feature, verb, "-1", *rest]),
        "beyond the integer range": ":".join([feature, verb, "2147483648", *rest]),
        "20 digits": ":".join([feature, verb, "9" * 20, *rest]),
        "no such object": ":".join([feature, verb, str(MISSING), *rest]),
        "Beta's id with Alpha's rest": ":".join([feature, verb, theirs.split(":")[2], *rest]),
        "Arabic-Indic digits": ":".join([feature, verb, "\u0663", *rest]),
    }


async def test_guarded_buttons_with_malformed_ids_are_refused(
    world: World, request: pytest.FixtureRequest, whole: bool = False
) -> None:
    """Alpha's own facilitator presses ids edited by hand: one sentence each, no change."""
    sqlite_only(request, whole)
    m = Matrix(world)
    for kind in GUARDED_BUTTONS:
        button, theirs = BUTTONS[kind](world.a), BUTTONS[kind](world.b)
        for what, action in malformed(button, theirs).items():
            # Beta's id pressed by amy in Alpha's channel is Beta's button: refused as such.
            await m.refused(f"{kind} ({what}) by amy", m.press("amy", "CA", action), None)
        await m.settled(kind)
    m.check()


@pytest.mark.parametrize(
    "raw",
    [
        "vote:agenda:" + "1" * 100,
        "series:end:" + "9" * 90 + ":now",
        "vote::1",
        "vote",
        "",
        ":agenda:1",
        "vote:agenda:1 2",
        "vote:agenda:\t1",
    ],
)
def test_overlong_and_unparseable_ids_never_become_an_action(raw: str) -> None:
    """These never reach the core: the adapters answer `ActionIdError` with the stale-button
    sentence (adapters/slack/adapter.py, adapters/discord/adapter.py, the console)."""
    with pytest.raises(ActionIdError):
        ActionId.parse(raw)


async def test_a_replayed_guarded_button_has_one_effect_and_others_stay_refused(
    world: World, request: pytest.FixtureRequest, whole: bool = False
) -> None:
    """amy's press delivered again with the same request id: a copy of a press that had its
    effect is a silent no-op, a copy of one refused (nothing was done, nothing remembered)
    gets the same answer; pressed again by max (a new request), it is refused for his role."""
    sqlite_only(request, whole)
    m = Matrix(world)
    wrong: list[str] = []
    for n, kind in enumerate(GUARDED_BUTTONS):
        button = BUTTONS[kind](world.a)
        key = f"fake:action:replay-{n}"
        start = comparable(await world.snapshot())
        first = await world.handle(m.press("amy", "CA", button, delivery=key))
        before = comparable(await world.snapshot())
        sent = len(world.fake.sent)
        again = await world.handle(m.press("amy", "CA", button, delivery=key))
        expected = first if before == start and isinstance(first, Respond) else Ack()
        if again != expected:
            wrong.append(f"{kind}: the copy answered {again!r} after {first!r}")
        if comparable(await world.snapshot()) != before or len(world.fake.sent) != sent:
            wrong.append(f"{kind}: the copy had an effect")
        await m.refused(
            f"{kind} by max after amy's press",
            m.press("max", "CA", button, delivery=f"{key}-max"),
            None,
        )
        await m.settled(kind)
    assert not wrong, wrong
    m.check()


# -- the whole matrix on both backends ------------------------------------------------------------


@pytest.mark.long
async def test_the_whole_matrix_on_postgresql(world: World, request: pytest.FixtureRequest) -> None:
    """The parts the default run leaves out on PostgreSQL, in one world: the refusals first,
    then what changes the world (a network, replayed presses, the facilitator's control)."""
    if request.node.callspec.params["built"] == "sqlite":
        pytest.skip("the default run is whole on SQLite")
    for part in (
        test_every_guarded_command_is_refused_to_anyone_below_its_role,
        test_a_facilitator_of_another_community_cannot_reach_its_objects_by_id,
        test_member_commands_that_check_a_higher_role_inside_refuse_members,
        test_guarded_buttons_with_malformed_ids_are_refused,
        test_network_commands_refuse_anyone_but_its_coordinators,
        test_a_replayed_guarded_button_has_one_effect_and_others_stay_refused,
        test_the_refusals_are_the_roles_a_facilitator_and_an_admin_get_past_them,
    ):
        await part(world, request, whole=True)


@pytest.mark.long
async def test_the_whole_matrix_on_this_backend(
    world: World, request: pytest.FixtureRequest
) -> None:
    """Every guarded button by every person of the world in every channel of it."""
    m = Matrix(world)
    users = ("max", "nia", "bob", "lee")
    channels = ("CA", "CB", "dm", "C-lobby")
    for kind in GUARDED_BUTTONS:
        button = BUTTONS[kind](world.a)
        for user in users:
            for channel in channels:
                event = m.press(user, channel, button)
                await m.refused(f"{kind} by {user} in {channel}", event, None)
        await m.settled(kind)
    m.check()


# -- ids no core would make, through the real Slack adapter -------------------------------------

slack_api = slack_fixtures.slack_api  # the loopback Web API's fixture, for the test below


@pytest.mark.parametrize(
    "raw",
    ["vote:agenda:" + "1" * 100, "vote::1", "vote:agenda:1:", ":agenda:1", "vote", "x" * 250],
)
async def test_slack_answers_an_overlong_or_malformed_facilitator_id_in_one_sentence(
    slack_api: Any, raw: str
) -> None:
    from sqlalchemy import func, select

    from storage.tables import metadata
    from tests.fakes.slack_fake import block_actions_payload, slash_command_payload
    from tests.slack.helpers import running_bot

    admin = "U0ADMIN001"
    slack_api.add_user(admin, is_admin=True, profile={"display_name": "ana"})

    async def counts(db: Database) -> dict[str, int]:
        async with db.session() as s:
            return {
                t.name: int((await s.execute(select(func.count()).select_from(t))).scalar_one())
                for t in metadata.sorted_tables
                if t.name not in UNCOMPARED
            }

    async with running_bot(slack_api) as bot:
        for text in ('setup "Alpha" America/New_York', 'poll new "Snack?" options="A | B"'):
            status, _ = await bot.post(slash_command_payload(text, fake=slack_api, user_id=admin))
            assert status == 200
        await bot.app.worker.drain()
        before = await counts(bot.db)
        status, body = await bot.post(block_actions_payload(raw, "", user_id=admin, fake=slack_api))
        [answer] = await slack_api.wait_for("@response_url")
        after = await counts(bot.db)

    assert (status, body) == (200, "")
    assert answer.params["text"] == T("core.refuse.stale_button")
    assert answer.params.get("response_type", "ephemeral") == "ephemeral"
    assert after == before
