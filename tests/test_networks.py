"""Networks of communities through the console and the real App, on SQLite and PostgreSQL: a
network of three communities made with single-use join codes; one announcement reaches each
channel exactly once (also when the command is replayed and a delivery is retried); the
network report sums the communities' figures (hand-computed); the network survey runs in every
community and ranks the areas for each and for the network; refusals are one private sentence
and change nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.app import App
from bot.events import Actor, CommandInvoked, ConversationRef, Place, Respond, UserRef
from bot.ports import DeliveryError, FakeClock
from storage.db import Database
from storage.meetings import Meeting, MeetingAttendance, MeetingSeries
from storage.models import Community, OutboxMessage
from storage.networks import NetworkCommunity, NetworkInvite, NetworkPost
from storage.reflections import Checkin, CheckinRound, RoundStatus
from storage.voting import Ballot, Poll
from tests.support import RecordingAdapter, transcript

NY = "America/New_York"
CODE = re.compile(r"Join code for the Hudson Valley network: ([A-Z0-9]{5}-[A-Z0-9]{5})")
SETUP = """
:as ana admin
:in #a
/cop setup "Alpha CoP" America/New_York
/cop facilitator add @ben
:in #b
/cop setup "Beta CoP" America/New_York
/cop facilitator add @cara
:in #c
/cop setup "Gamma CoP" America/New_York
/cop facilitator add @dan
:in #d
/cop setup "Delta CoP" America/New_York
/cop facilitator add @fay
:as eve
:in #a
/cop join
:as ben
:in #a
/cop network create "Hudson Valley"
/cop network invite
/cop network invite
"""


def ny(*args: int) -> FakeClock:
    return FakeClock(datetime(*args, tzinfo=ZoneInfo(NY)))


def answer_to(lines: list[str], typed: str, nth: int = 0) -> list[str]:
    """What the bot said right after the `nth` line `typed` (until the next prompt)."""
    starts = [i for i, line in enumerate(lines) if line == typed]
    out = []
    for line in lines[starts[nth] + 1 :]:
        if re.match(r"^\S+> ", line):
            break
        out.append(line)
    return out


async def count(db: Database, model: type) -> int:
    async with db.session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def three_communities(db: Database, clock: FakeClock) -> list[str]:
    """Alpha makes the network; Beta and Gamma join it with one code each (Delta stays out)."""
    lines = await transcript(SETUP, db=db, clock=clock, zone=NY)
    codes = [m.group(1) for line in lines if (m := CODE.search(line))]
    assert len(codes) == 2 and codes[0] != codes[1]
    joined = await transcript(
        f"""
        :as cara
        :in #b
        /cop network join {codes[0]}
        :as dan
        :in #c
        /cop network join {codes[1].lower().replace("-", "")}
        :as fay
        :in #d
        /cop network join {codes[0]}
        """,
        db=db,
        clock=clock,
        zone=NY,
    )
    assert answer_to(joined, f"cara> /cop network join {codes[0]}") == [
        "[#b] Beta CoP joined the Hudson Valley network."
    ]
    # A code is single-use (the normalised spelling of the second one works too).
    assert answer_to(joined, f"fay> /cop network join {codes[0]}") == [
        "[private @fay] That join code was already used; please ask the network's coordinator "
        "for a new one."
    ]
    assert await count(db, NetworkCommunity) == 3
    return [*lines, *joined]


async def test_a_network_of_three_gets_one_announcement_in_each_channel(db: Database) -> None:
    clock = ny(2026, 11, 2, 9, 0)
    setup = await three_communities(db, clock)
    assert answer_to(setup, 'ben> /cop network create "Hudson Valley"') == [
        "[#a] ben created the Hudson Valley network, with Alpha CoP as its first community, "
        "and coordinates it. Invite other communities with /cop network invite."
    ]
    lines = await transcript(
        """
        :as ben
        :in #a
        /cop network show
        /cop network announce Leadership academy: registration opens Monday. @everyone <!channel>
        :as eve
        /cop network announce I am not a coordinator
        /cop network report
        /cop network invite
        :as cara
        :in #b
        /cop network announce Nor am I
        /cop network create "Another network"
        :as ben
        :in #a
        /cop network coordinator add @cara
        :as cara
        :in #b
        /cop network event "Annual conference" when="2027-03-15 10:00"
        """,
        db=db,
        clock=clock,
        zone=NY,
    )
    assert answer_to(lines, "ben> /cop network show") == [
        "[private @ben] The Hudson Valley network has 3 communities:",
        "  • Alpha CoP (console)",
        "  • Beta CoP (console)",
        "  • Gamma CoP (console)",
        "  Coordinator: ben",
    ]
    posted = [line for line in lines if "Announcement from the Hudson Valley network" in line]
    assert posted == [
        f"[#{c}] Announcement from the Hudson Valley network (ben):" for c in ("a", "b", "c")
    ]
    i = lines.index(posted[0])
    assert lines[i + 1] == ("  Leadership academy: registration opens Monday. @everyone <!channel>")
    # Refusals: one private sentence each, nothing queued.
    refusal = "Only a coordinator of the Hudson Valley network can do that."
    for typed in (
        "eve> /cop network announce I am not a coordinator",
        "eve> /cop network report",
        "eve> /cop network invite",
        "cara> /cop network announce Nor am I",
    ):
        who = typed.split(">")[0]
        assert answer_to(lines, typed) == [f"[private @{who}] {refusal}"], typed
    assert answer_to(lines, 'cara> /cop network create "Another network"') == [
        "[private @cara] Beta CoP is already in the Hudson Valley network; a community is in one "
        "network at a time (leave it first with /cop network leave)."
    ]
    assert await count(db, NetworkPost) == 2
    # A new coordinator may announce an event; each channel shows it in its own zone.
    events = [line for line in lines if line.startswith("[#") and "Event of the" in line]
    assert events == [f"[#{c}] Event of the Hudson Valley network (cara):" for c in ("a", "b", "c")]
    j = lines.index(events[0])
    assert lines[j + 1 : j + 3] == ["  Annual conference", "  When: Mon 15 Mar 2027, 10:00 EDT"]
    async with db.session() as s:
        keys = sorted((await s.execute(select(OutboxMessage.key))).scalars())
    network_keys = [k for k in keys if k.startswith("network:")]
    assert len(network_keys) == 6 and len(set(network_keys)) == 6


async def test_forged_expired_and_taken_codes_are_refused(db: Database) -> None:
    clock = ny(2026, 11, 2, 9, 0)
    lines = await transcript(SETUP, db=db, clock=clock, zone=NY)
    code = next(m.group(1) for line in lines if (m := CODE.search(line)))
    forged = "ABCDE-FGHJK" if code != "ABCDE-FGHJK" else "ABCDE-FGHJM"
    clock.advance(timedelta(days=8))
    later = await transcript(
        f"""
        :as cara
        :in #b
        /cop network join {forged}
        /cop network join {code}
        :as eve
        :in #a
        /cop network join {code}
        :as ben
        /cop network join {code}
        :as cara
        :in #b
        /cop network leave
        /cop network show
        """,
        db=db,
        clock=clock,
        zone=NY,
    )
    assert answer_to(later, f"cara> /cop network join {forged}") == [
        "[private @cara] That join code is not valid; please check it with the network's "
        "coordinator."
    ]
    assert answer_to(later, f"cara> /cop network join {code}") == [
        "[private @cara] That join code has expired; please ask the network's coordinator for a "
        "new one."
    ]
    assert answer_to(later, f"eve> /cop network join {code}") == [
        "[private @eve] Only a facilitator of Alpha CoP can do that."
    ]
    assert answer_to(later, f"ben> /cop network join {code}")[0].startswith(
        "[private @ben] Alpha CoP is already in the Hudson Valley network;"
    )
    assert answer_to(later, "cara> /cop network leave") == [
        "[private @cara] Beta CoP is not in a network."
    ]
    assert await count(db, NetworkCommunity) == 1
    async with db.session() as s:
        used = await s.execute(select(func.count()).where(NetworkInvite.used_at.is_not(None)))  # type: ignore[union-attr]
        assert used.scalar_one() == 0


def _actor(user: str, admin: bool = False) -> Actor:
    return Actor(UserRef("fake", "W1", user), user, admin)


def _in(channel: str) -> Place:
    return Place(ConversationRef("fake", "W1", channel), channel)


async def test_a_replayed_command_and_a_retried_delivery_post_once_per_channel(
    db: Database,
) -> None:
    clock = FakeClock(datetime(2026, 11, 2, 14, 0, tzinfo=UTC))
    fake = RecordingAdapter()
    app = App(db, clock, [fake], manual=True)
    await app.start()

    async def run(
        who: str,
        channel: str,
        path: tuple[str, ...],
        delivery: str | None = None,
        admin: bool = False,
        **params: str,
    ) -> str:
        event = CommandInvoked(_actor(who, admin), _in(channel), path, params, delivery=delivery)
        reply = await app.dispatcher.handle(event)
        await app.worker.drain()
        return reply.message.text if isinstance(reply, Respond) else ""

    try:
        for channel, name, facilitator in (
            ("C1", "Alpha", "U2"),
            ("C2", "Beta", "U3"),
            ("C3", "Gamma", "U4"),
        ):
            await run("U1", channel, ("setup",), admin=True, name=name)
            await run("U1", channel, ("facilitator", "add"), admin=True, user=facilitator)
        await run("U2", "C1", ("network", "create"), name="Hudson Valley")
        for facilitator, channel in (("U3", "C2"), ("U4", "C3")):
            said = await run("U2", "C1", ("network", "invite"))
            code = CODE.search(said).group(1)  # type: ignore[union-attr]
            await run(facilitator, channel, ("network", "join"), code=code)
        fake.sent.clear()
        # The first delivery to one channel fails for a moment; the platform then sends the
        # command twice (a retry, or a replay of the captured request).
        fake.failures.append(DeliveryError("server_error", transient=True))
        text = "Registration opens Monday."
        first = await run("U2", "C1", ("network", "announce"), delivery="fake:cmd:77", text=text)
        assert first == "Your announcement goes to the 3 communities of the Hudson Valley network."
        await run("U2", "C1", ("network", "announce"), delivery="fake:cmd:77", text=text)
        for _ in range(5):
            clock.advance(timedelta(minutes=1))
            await app.worker.drain()
        sent = sorted(x.target for x in fake.sent if text in x.message.text)
        assert sent == ["C1", "C2", "C3"]
        assert await count(db, NetworkPost) == 1
    finally:
        await app.stop()


async def _seed_figures(db: Database) -> None:
    """Hand-made figures for Alpha, Beta and Gamma between 1 and 31 October 2026 (New York).

    Alpha: meetings 1 Oct (90 min: ana 90, eve 45) and 15 Oct (60 min: ana 60), one cancelled
    on 20 Oct with an attendance row that must not count, one on 5 Sep (outside); a poll with
    3 ballots; a closed check-in round that asked 4 and heard from 3.
    Beta: one meeting on 10 Oct (120 min: two people, 120 and 30); a poll with 2 ballots and
    one opened on 2 Nov (outside); an open round (not counted).
    Gamma: nothing.
    Expected — Alpha: 2 meetings, 3 attendances, 195 min = 3.25 h, 1 poll, 3 ballots, 3 of 4.
    Beta: 1, 2, 150 min = 2.5 h, 1, 2, 0 of 0. Total: 3, 5, 5.75 h, 2, 5, 3 of 4.
    """
    tz = ZoneInfo(NY)

    def at(month: int, day: int, hour: int = 18) -> datetime:
        return datetime(2026, month, day, hour, 0, tzinfo=tz).astimezone(UTC)

    async with db.session() as s:
        ids = {c.name: c.id for c in (await s.execute(select(Community))).scalars()}
        for name in ("Alpha CoP", "Beta CoP"):
            cid = ids[name]
            series = MeetingSeries(
                community_id=cid,
                number=1,
                title="Monthly",
                schedule="monthly",
                tz=NY,
                first_start=at(9, 1),
                created_by="x",
            )
            s.add(series)
            await s.flush()
            if name == "Alpha CoP":
                meetings = [
                    (at(10, 1), 90, "scheduled", [90, 45]),
                    (at(10, 15), 60, "scheduled", [60]),
                    (at(10, 20), 60, "cancelled", [60]),
                    (at(9, 5), 60, "scheduled", [60]),
                ]
                ballots, outside_poll, round_ = 3, False, (RoundStatus.CLOSED, 4, 3)
            else:
                meetings = [(at(10, 10), 120, "scheduled", [120, 30])]
                ballots, outside_poll, round_ = 2, True, (RoundStatus.OPEN, 5, 0)
            for n, (start, minutes, status, attended) in enumerate(meetings, 1):
                meeting = Meeting(
                    community_id=cid,
                    number=n,
                    series_id=series.id,
                    occurrence_start=start,
                    starts_at=start,
                    duration_minutes=minutes,
                    status=status,
                )
                s.add(meeting)
                await s.flush()
                for k, got in enumerate(attended):
                    s.add(
                        MeetingAttendance(
                            community_id=cid,
                            meeting_id=meeting.id,
                            user_id=f"U{k}",
                            display_name=f"p{k}",
                            minutes=got,
                            marked_by="x",
                        )
                    )
            poll = Poll(
                community_id=cid,
                question="Next?",
                method="single",
                created_by="x",
                created_at=at(10, 3),
            )
            s.add(poll)
            if outside_poll:
                s.add(
                    Poll(
                        community_id=cid,
                        question="Later?",
                        method="single",
                        created_by="x",
                        created_at=at(11, 2, 8),
                    )
                )
            await s.flush()
            for _ in range(ballots):
                s.add(Ballot(poll_id=poll.id, community_id=cid, choices="[1]"))
            checkin = Checkin(
                community_id=cid,
                number=1,
                title="After",
                questions="[]",
                timing="after",
                tz=NY,
                open_minutes=60,
                created_by="x",
            )
            s.add(checkin)
            await s.flush()
            status, asked, answered = round_
            s.add(
                CheckinRound(
                    community_id=cid,
                    checkin_id=checkin.id,
                    number=1,
                    questions="[]",
                    opens_at=at(10, 2),
                    closes_at=at(10, 4),
                    status=status,
                    asked=asked,
                    answered=answered,
                )
            )
        await s.commit()


async def test_the_network_report_sums_the_communities(db: Database) -> None:
    clock = ny(2026, 11, 2, 9, 0)
    await three_communities(db, clock)
    await _seed_figures(db)
    lines = await transcript(
        """
        :as ben
        :in #a
        /cop network report 2026-10-01 2026-10-31
        /cop network report 2026-10-31 2026-10-01
        /cop network report 2026-13-01
        """,
        db=db,
        clock=clock,
        zone=NY,
    )
    assert answer_to(lines, "ben> /cop network report 2026-10-01 2026-10-31") == [
        "[private @ben] Report of the Hudson Valley network from 2026-10-01 to 2026-10-31:",
        "  Alpha CoP: meetings held 2, attendances 3, PD hours 3.25, polls 1 with 3 ballots, "
        "check-ins answered 3 of 4.",
        "  Beta CoP: meetings held 1, attendances 2, PD hours 2.5, polls 1 with 2 ballots, "
        "check-ins answered 0 of 0.",
        "  Gamma CoP: meetings held 0, attendances 0, PD hours 0, polls 0 with 0 ballots, "
        "check-ins answered 0 of 0.",
        "  Network total (3 communities): meetings held 3, attendances 5, PD hours 5.75, "
        "polls 2 with 5 ballots, check-ins answered 3 of 4.",
    ]
    assert answer_to(lines, "ben> /cop network report 2026-10-31 2026-10-01") == [
        "[private @ben] The first day, 2026-10-31, comes after the last day, 2026-10-01; "
        "please swap them."
    ]
    assert answer_to(lines, "ben> /cop network report 2026-13-01") == [
        '[private @ben] "2026-13-01" is not a date; please write it as YYYY-MM-DD, like 2027-01-31.'
    ]


async def test_the_network_survey_runs_everywhere_and_ranks_for_each_and_all(
    db: Database,
) -> None:
    clock = ny(2026, 11, 2, 9, 0)
    await three_communities(db, clock)
    lines = await transcript(
        """
        :as ben
        :in #a
        /cop survey areas add Outdoor play
        /cop survey areas add Family partnerships
        :as cara
        :in #b
        /cop survey areas add outdoor  play
        /cop survey areas add Infant sleep
        /cop survey open
        :as ben
        :in #a
        /cop network survey results
        /cop network survey start days=7
        :as eve
        /cop survey rate 1 5
        /cop survey rate 2 2
        :as cara
        :in #b
        /cop survey rate 1 4
        /cop survey rate 2 5
        :as ben
        :in #a
        /cop network survey results
        :as eve
        /cop network survey results
        :as ben
        /cop network survey start days=120
        """,
        db=db,
        clock=clock,
        zone=NY,
    )
    assert answer_to(lines, "ben> /cop network survey results") == [
        "[private @ben] The Hudson Valley network has not run a survey yet; a coordinator "
        "starts one with /cop network survey start."
    ]
    started = answer_to(lines, "ben> /cop network survey start days=7")
    assert started[:4] == [
        "[private @ben] Network survey 1 of the Hudson Valley network:",
        "  • Alpha CoP: its survey is open.",
        "  • Beta CoP: takes part with the survey it already had open.",
        "  • Gamma CoP: has no focus areas yet, so no survey (a facilitator adds them with "
        "/cop survey areas add).",
    ]
    # Alpha's survey is the voting feature's own, posted in its channel for the days asked.
    assert (
        started[4] == "[#a] The 2026 interest survey of Alpha CoP is open: 2 focus areas to rate."
    )
    assert "  Open until Mon 9 Nov 2026, 09:00 EST." in started
    assert answer_to(lines, "ben> /cop network survey results", 1) == [
        "[private @ben] Alpha CoP (still open, results so far):",
        "  1. Outdoor play: 5 points from 1 rating",
        "  2. Family partnerships: 2 points from 1 rating",
        "  Beta CoP (still open, results so far):",
        "  1. Infant sleep: 5 points from 1 rating",
        "  2. outdoor play: 4 points from 1 rating",
        "  Gamma CoP: no survey (it had no focus areas).",
        "  The Hudson Valley network, survey 1, its 3 communities together:",
        "  1. Outdoor play: 9 points from 2 ratings",
        "  2. Infant sleep: 5 points from 1 rating",
        "  3. Family partnerships: 2 points from 1 rating",
    ]
    # A member sees their own community and the network, not the others one by one.
    assert answer_to(lines, "eve> /cop network survey results") == [
        "[private @eve] Alpha CoP (still open, results so far):",
        "  1. Outdoor play: 5 points from 1 rating",
        "  2. Family partnerships: 2 points from 1 rating",
        "  The Hudson Valley network, survey 1, its 3 communities together:",
        "  1. Outdoor play: 9 points from 2 ratings",
        "  2. Infant sleep: 5 points from 1 rating",
        "  3. Family partnerships: 2 points from 1 rating",
    ]
    assert answer_to(lines, "ben> /cop network survey start days=120") == [
        "[private @ben] A network survey stays open from 1 to 90 days."
    ]


async def test_erasing_ones_data_ends_coordinating(db: Database) -> None:
    clock = ny(2026, 11, 2, 9, 0)
    await three_communities(db, clock)
    lines = await transcript(
        """
        :as ben
        :in #a
        /cop network coordinator add @eve
        /cop network announce Hello from ben
        :as eve
        /cop network announce Hello from eve
        /cop my-data erase
        :press Erase my data
        /cop network announce Hello again
        :as ben
        /cop network show
        /cop network coordinator remove @ben
        """,
        db=db,
        clock=clock,
        zone=NY,
    )
    assert answer_to(lines, "ben> /cop network coordinator add @eve") == [
        "[private @ben] eve now coordinates the Hudson Valley network."
    ]
    assert answer_to(lines, "eve> /cop network announce Hello from eve")[0] == (
        "[private @eve] Your announcement goes to the 3 communities of the Hudson Valley network."
    )
    assert answer_to(lines, "eve> /cop network announce Hello again") == [
        "[private @eve] Only a coordinator of the Hudson Valley network can do that."
    ]
    assert answer_to(lines, "ben> /cop network show")[-1] == "  Coordinator: ben"
    assert answer_to(lines, "ben> /cop network coordinator remove @ben") == [
        "[private @ben] The Hudson Valley network needs at least one coordinator; add another "
        "one before removing this one."
    ]
    async with db.session() as s:
        authors = sorted((await s.execute(select(NetworkPost.author))).scalars())
    assert authors == ["", "ben"]
