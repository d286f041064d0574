"""The digest before each meeting, through the console on SQLite and PostgreSQL.

Most tests run a bot whose only news comes from a small test feature (``/cop news TEXT``
records a line; its ``digest.sections`` answer is the lines of that community written between
`since` and `until`), so the test can say exactly what the digest holds: the headline, the
meeting's topic (the meetings feature's frame), the news, since when, and the RSVP buttons.
One test runs the whole bot for the reflections part: names of those who shared with their
name, a count of the anonymous ones, nothing of a private answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.commands import Command, Param, Registry, Role
from bot.context import Context
from bot.events import Reply, Respond
from bot.feature import Feature
from bot.features import communities, digest, meetings
from bot.hooks import DigestSections
from bot.ports import FakeClock
from bot.ui import Block, Message, Section
from storage.db import Database
from storage.digest import Digest
from tests.support import job_ids, transcript

NY = "America/New_York"
SETUP = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:in #other
/cop setup "Other CoP" America/New_York
/cop facilitator add @ben
:in #cop
:as cara
/cop join
:as ben
/cop meeting series "monthly on the first Tuesday at 16:00" title="Monthly CoP"
:in #other
/cop meeting series "monthly on the first Tuesday at 16:00" title="Other meeting"
:in #cop
"""


def ny(*args: int) -> FakeClock:
    return FakeClock(datetime(*args, tzinfo=ZoneInfo(NY)))


def newsdesk() -> Feature:
    """A feature whose news is whatever ``/cop news TEXT`` recorded (a list in memory)."""
    lines: list[tuple[int, datetime, str]] = []

    async def add(ctx: Context) -> Reply:
        community = ctx.require_community()
        lines.append((community.id, ctx.now, ctx.params["text"]))
        return Respond(Message(text="noted"), private=True)

    async def sections(ctx: Context, asked: DigestSections) -> list[Block]:
        return [
            Section.of(f"news: {text}")
            for community_id, at, text in lines
            if community_id == asked.community_id and asked.since <= at < asked.until
        ]

    return Feature(
        name="newsdesk",
        commands=[
            Command(
                ("news",), "core.help.title", add, Role.MEMBER, (Param("text", "x", rest=True),)
            )
        ],
        hooks={"digest.sections": sections},
    )


def registry() -> Registry:
    return Registry.of([communities.FEATURE, meetings.FEATURE, digest.FEATURE, newsdesk()])


async def run(
    script: str, db: Database, clock: FakeClock, bot: Registry | None = None
) -> list[str]:
    from adapters.console import run_script

    lines: list[str] = []
    await run_script(
        script.strip().splitlines(),
        db,
        clock,
        zone=NY,
        write=lines.append,
        registry=bot or registry(),
    )
    return lines


def posts(lines: list[str], head: str) -> list[list[str]]:
    """Each channel post starting with `head`, with its indented lines, and the clock line
    (``~ ...``) it came after."""
    out = []
    clock = ""
    for i, line in enumerate(lines):
        if line.startswith("~ "):
            clock = line
        if line.startswith(head):
            body = [line]
            for more in lines[i + 1 :]:
                if not more.startswith("  "):
                    break
                body.append(more)
            out.append([clock, *body])
    return out


async def digests(db: Database) -> list[tuple[int, str]]:
    """(community id, status) of each digest drawn, in order."""
    async with db.session() as session:
        rows = await session.execute(select(Digest).order_by(Digest.id))
        return [(d.community_id, d.status) for d in rows.scalars()]


async def test_digest_once_at_the_chosen_offset_with_exactly_what_features_gave(
    db: Database,
) -> None:
    lines = await run(
        SETUP
        + """
        /cop digest settings offset=2d
        /cop meeting agenda next topic="Outdoor play"
        :at 2026-11-12T10:00
        /cop news "A new resource: the outdoor play guide"
        :at 2026-11-20T10:00
        :as cara
        /cop news "An open challenge: biting at drop-off"
        :at 2026-12-02T09:00
        """,
        db,
        ny(2026, 11, 10, 9, 0),
    )
    found = posts(lines, "[#cop] What's new in")
    assert found == [
        [
            "~ Sun 29 Nov 2026, 16:00 EST",
            "[#cop] What's new in Finger Lakes CoP before Monthly CoP on Tue 1 Dec 2026, "
            "16:00 EST:",
            "  Topic: Outdoor play",
            "  news: A new resource: the outdoor play guide",
            "  news: An open challenge: biting at drop-off",
            "  (New since Tue 10 Nov 2026, 09:00 EST.)",
            "  1) Going · 2) Maybe · 3) Can't go",
            found[0][-1],
        ]
    ]
    assert found[0][-1].startswith("  (message ")
    # The other community had nothing new: no digest there, only a record that it was empty.
    assert not any(line.startswith("[#other] What's new") for line in lines)
    assert sorted(await digests(db)) == [(1, "posted"), (2, "empty")]


async def test_no_digest_when_only_the_topic_and_buttons_would_show(db: Database) -> None:
    lines = await run(
        SETUP
        + """
        /cop meeting agenda next topic="Outdoor play"
        :at 2026-12-02T09:00
        """,
        db,
        ny(2026, 11, 10, 9, 0),
    )
    assert not any("What's new" in line for line in lines)
    assert sorted(await digests(db)) == [(1, "empty"), (2, "empty")]


async def test_the_next_digest_covers_only_what_came_after_the_last_one(db: Database) -> None:
    lines = await run(
        SETUP
        + """
        /cop news "first month"
        :at 2026-11-30T09:00
        /cop news "second month"
        :at 2027-01-06T09:00
        """,
        db,
        ny(2026, 11, 10, 9, 0),
    )
    first, second = posts(lines, "[#cop] What's new in")
    assert first[0] == "~ Sat 28 Nov 2026, 16:00 EST"
    assert "  news: first month" in first and "  news: second month" not in first
    assert second[0] == "~ Sat 2 Jan 2027, 16:00 EST"
    assert "  news: second month" in second and "  news: first month" not in second
    assert "  (New since Sat 28 Nov 2026, 16:00 EST.)" in second


async def test_a_moved_meeting_digest_follows_it_and_a_cancelled_one_gets_none(
    db: Database,
) -> None:
    lines = await run(
        SETUP
        + """
        /cop news "something new"
        :in #other
        /cop news "something new there"
        /cop meeting move 1 2026-12-08 16:00
        :in #cop
        /cop meeting cancel 1
        :at 2026-12-10T09:00
        """,
        db,
        ny(2026, 11, 10, 9, 0),
    )
    assert not any(line.startswith("[#cop] What's new") for line in lines)
    [other] = posts(lines, "[#other] What's new in")
    assert other[0] == "~ Sat 5 Dec 2026, 16:00 EST"  # three days before the new time
    assert other[1].endswith("before Other meeting on Tue 8 Dec 2026, 16:00 EST:")
    assert "  news: something new there" in other
    assert "digest:1" not in await job_ids(db)
    assert sorted(await digests(db)) == [(2, "posted")]


async def test_a_meeting_moved_later_after_its_digest_was_planned(db: Database) -> None:
    """The job planned for the old time wakes, sees the meeting has moved and follows it."""
    lines = await run(
        SETUP
        + """
        /cop news "something new"
        /cop digest settings
        :at 2026-11-27T09:00
        /cop meeting move 1 2026-12-15 16:00
        :at 2026-12-20T09:00
        """,
        db,
        ny(2026, 11, 10, 9, 0),
    )
    [post] = posts(lines, "[#cop] What's new in")
    assert post[0] == "~ Sat 12 Dec 2026, 16:00 EST"
    assert post[1].endswith("before Monthly CoP on Tue 15 Dec 2026, 16:00 EST:")


async def test_off_posts_nothing_and_bad_offsets_change_nothing(db: Database) -> None:
    lines = await run(
        SETUP
        + """
        /cop news "something new"
        /cop digest settings offset=off
        /cop digest settings offset=20d
        /cop digest settings offset=soon
        :as cara
        /cop digest settings offset=1d
        :at 2026-12-02T09:00
        """,
        db,
        ny(2026, 11, 10, 9, 0),
    )
    assert "[private @ben] Saved." in lines
    assert (
        "  The digest is off: nothing is posted before meetings (members can still ask with "
        "/cop digest)." in lines
    )
    bad = (
        "[private @ben] I couldn't read offset={}: give days or hours before the meeting, such "
        "as 3d, 2d12h or 36h (between 1h and 14d), or off."
    )
    assert bad.format("20d") in lines and bad.format("soon") in lines
    assert "[private @cara] Only a facilitator of Finger Lakes CoP can do that." in lines
    assert not any(line.startswith("[#cop] What's new") for line in lines)
    assert await digests(db) == [(2, "empty")]


async def test_cop_digest_by_dm_for_each_community_privately(db: Database) -> None:
    lines = await run(
        SETUP
        + """
        :at 2026-11-11T09:00
        :as cara
        /cop news "for cop"
        :at 2026-11-12T09:00
        :in #other
        /cop join
        :in dm
        /cop digest
        :press Going
        :as dan
        /cop digest
        """,
        db,
        ny(2026, 11, 10, 9, 0),
    )
    start = lines.index("cara> /cop digest")
    answer = lines[start + 1 : lines.index("cara> :press Going")]
    assert answer[0] == (
        "[private @cara] What's new in Finger Lakes CoP before Monthly CoP on Tue 1 Dec 2026, "
        "16:00 EST:"
    )
    assert "  news: for cop" in answer
    assert "  Nothing new in Other CoP since Tue 10 Nov 2026, 09:00 EST." in answer
    assert "  1) Going · 2) Maybe · 3) Can't go" in answer
    pressed = lines[lines.index("cara> :press Going") + 1]
    assert pressed.startswith("[private @cara] Your answer for Monthly CoP")
    assert lines[-1] == (
        "[private @dan] You are not in a community here yet; run /cop join in a community's "
        "channel."
    )
    assert "(Going 1 · Maybe 0 · Can't go 0 · meeting 1)" in "\n".join(lines)
    assert not any(line.startswith("[#cop] What's new") for line in lines)
    assert await digests(db) == []  # asking does not use up the channel's digest


CANARY = "canary-digest-5521 my private note"


async def test_the_reflections_part_names_who_shared_and_counts_the_anonymous(
    db: Database,
) -> None:
    """The whole bot: cara shares with her name, fay anonymously, dan with the facilitators
    only, eve keeps hers private; the digest names cara, counts one anonymous answer, and
    holds no answer's text (the thread has them)."""
    lines = await transcript(
        f"""
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        /cop facilitator add @ben
        :as cara
        /cop join
        :as dan
        /cop join
        :as eve
        /cop join
        :as fay
        /cop join
        :as ben
        /cop meeting series "monthly on the first Tuesday at 16:00" title="Monthly CoP"
        /cop checkins default
        :at 2026-11-05T17:01
        :as cara
        :in dm
        :press Answer
        :submit q1="The toddlers stayed with water play." privacy=named
        :as eve
        :press Answer
        :submit q1="{CANARY}" privacy=private
        :as fay
        :press Answer
        :submit q3="More planning time" privacy=anonymous
        :as dan
        :press Answer
        :submit q3="{CANARY} for facilitators" privacy=facilitators
        :at 2026-11-29T09:00
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    [post] = posts(lines, "[#cop] What's new in")
    assert post[:2] == [
        "~ Sat 28 Nov 2026, 16:00 EST",
        "[#cop] What's new in Finger Lakes CoP before Monthly CoP on Tue 1 Dec 2026, 16:00 EST:",
    ]
    body = "\n".join(post)
    assert "Reflections shared with the group (read them in each check-in's thread):" in body
    assert "• Individual reflection, round 1: shared by cara, and 1 anonymously." in body
    assert "water play" not in body and "planning time" not in body
    assert CANARY not in body and "eve" not in body and "dan" not in body
    assert "  1) Going · 2) Maybe · 3) Can't go" in post


async def test_a_restart_loses_nothing_and_a_second_run_of_the_job_posts_nothing(
    db: Database,
) -> None:
    from bot.app import App
    from bot.context import background
    from bot.features.digest.plan import post
    from tests.support import RecordingAdapter

    bot = registry()  # the test feature's news lives in it, across the restart
    first = await run(
        SETUP + '/cop news "before the restart"\n/cop digest settings',
        db,
        ny(2026, 11, 10, 9, 0),
        bot,
    )
    assert "  The next digest is due Sat 28 Nov 2026, 16:00 EST." in first
    # The bot is down; it comes back a day after the digest was due (still before the meeting).
    lines = await run(":as ben\n:in #cop\n:at 2026-11-30T09:00\n", db, ny(2026, 11, 29, 16, 0), bot)
    [digest] = posts(lines, "[#cop] What's new in")
    assert digest[:2] == [
        "~ Sun 29 Nov 2026, 16:00 EST",
        "[#cop] What's new in Finger Lakes CoP before Monthly CoP on Tue 1 Dec 2026, 16:00 EST "
        "(sent later than planned, because circlebot was offline or the meeting moved):",
    ]
    assert "  news: before the restart" in digest
    # The job run again (a lost lease) finds the meeting's digest drawn and posts nothing.
    clock = ny(2026, 11, 30, 10, 0)
    adapter = RecordingAdapter()
    app = App(db, clock, [adapter], manual=True, registry=bot)
    await app.start()
    try:
        async with background(app.services) as ctx:
            await post(ctx, 1)
        await app.worker.drain()
    finally:
        await app.stop()
    assert adapter.sent == []
    assert sorted(await digests(db)) == [(1, "posted"), (2, "empty")]


def test_whole_days_before_keep_the_meetings_wall_clock_time_across_summer_time() -> None:
    from bot.features.digest.plan import digest_time
    from storage.meetings import Meeting

    # Tue 3 Nov 2026 16:00 EST; summer time ended on Sunday 1 November.
    meeting = Meeting(
        community_id=1,
        number=1,
        series_id=1,
        occurrence_start=datetime(2026, 11, 3, 21, 0, tzinfo=UTC),
        starts_at=datetime(2026, 11, 3, 21, 0, tzinfo=UTC),
    )
    three_days = digest_time(meeting, NY, 3 * 1440)
    assert three_days.astimezone(ZoneInfo(NY)) == datetime(2026, 10, 31, 16, 0, tzinfo=ZoneInfo(NY))
    assert three_days == datetime(2026, 10, 31, 20, 0, tzinfo=UTC)  # 16:00 EDT
    # Hours beyond whole days are elapsed time: 36h is a day (Mon 2 Nov, 16:00 EST), then 12 h.
    assert digest_time(meeting, NY, 36 * 60) == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
