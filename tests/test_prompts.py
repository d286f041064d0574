"""Discussion prompts through the console: a list, a schedule, rotation, pauses, suggestions.

Each scheduled time posts the next prompt in the channel with a first line in its thread;
none repeats until every prompt was posted once; a pause skips the holidays and the schedule
picks up after it; suggestions reach the facilitators with Approve and Decline. Run on both
databases; the jobs and posts outlive a restart of the bot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from bot.app import App
from bot.context import background
from bot.features.conversation.timing import run_post
from bot.hooks import DigestSections
from bot.ports import FakeClock
from bot.ui import Section, plain
from storage.conversation import Prompt, PromptPost, PromptSettings, PromptSuggestion
from storage.db import Database
from storage.models import Community, Job, OutboxMessage
from tests.support import RecordingAdapter, job_ids, transcript

NY = "America/New_York"
SETUP = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:as cara
/cop join
:as dan
/cop join
:as ben
"""
HEAD = "[#cop] A question to talk about until we meet:"
PROMPTS = (
    "What is one thing a child taught you this week?",
    "How do you welcome a new family?",
    "Which song works best at clean-up time?",
)


def ny(*args: int) -> FakeClock:
    return FakeClock(datetime(*args, tzinfo=ZoneInfo(NY)))


def posted(lines: list[str]) -> list[str]:
    """The text of each prompt posted in the channel, in order."""
    return [lines[i + 1].strip() for i, line in enumerate(lines) if line == HEAD]


def adds(*texts: str) -> str:
    return "\n".join(f"/cop prompts add {t}" for t in texts)


async def test_a_schedule_posts_each_prompt_once_per_round_with_its_thread(db: Database) -> None:
    lines = await transcript(
        SETUP
        + f"""
        /cop prompts schedule "every other Wednesday at 12:00"
        {adds(*PROMPTS)}
        :at 2026-11-04T12:00
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    assert "[private @ben] Prompts will be posted every other Wednesday at 12:00." in lines
    assert "  The next one is posted on Wed 4 Nov 2026, 12:00 EST." in lines
    # The post, its invitation to reply in the thread, and the thread's first line.
    at = lines.index(HEAD)
    assert lines[at + 1 : at + 4] == [
        f"  {PROMPTS[0]}",
        "  (Reply in this message's thread, so the conversation stays together.)",
        "  ↳ [#cop] Replies here ↓",
    ]
    assert "prompts.post:1" in await job_ids(db)

    # A restart: the next occurrence's job was in the database all along.
    later = await transcript(
        """
        :as ben
        :in #cop
        /cop prompts remove 3
        /cop prompts add What do you do when it rains all week?
        :at 2026-11-18T12:00
        :at 2026-12-02T12:00
        :at 2026-12-16T12:00
        :at 2026-12-30T12:00
        /cop prompts list
        """,
        db=db,
        clock=ny(2026, 11, 5, 9, 0),
        zone=NY,
    )
    rains = "What do you do when it rains all week?"
    # Prompt 3 left the rotation; prompt 4 joined this round; a new round starts after all.
    assert posted(later) == [PROMPTS[1], rains, PROMPTS[0], PROMPTS[1]]
    listing = later[later.index("ben> /cop prompts list") + 1 :]
    assert listing[:4] == [
        "[private @ben] Our discussion prompts, posted in turn (none twice until all were posted):",
        "  1. What is one thing a child taught you this week? (posted this round)",
        "  2. How do you welcome a new family? (posted this round)",
        "  4. What do you do when it rains all week?",
    ]
    async with db.session() as session:
        posts = list((await session.execute(select(PromptPost).order_by(PromptPost.id))).scalars())
        keys = set(
            (
                await session.execute(
                    select(OutboxMessage.key).where(OutboxMessage.key.like("prompts:%"))
                )
            ).scalars()
        )
    # One post per community and occurrence, under a key naming both, each with its thread.
    assert [p.occurrence.date().isoformat() for p in posts if p.occurrence] == [
        "2026-11-04",
        "2026-11-18",
        "2026-12-02",
        "2026-12-16",
        "2026-12-30",
    ]
    for p in posts:
        assert p.key == f"prompts:1:{int(p.occurrence.timestamp())}"  # type: ignore[union-attr]
        assert {p.key, f"{p.key}:thread"} <= keys


async def test_a_job_run_twice_posts_once(db: Database) -> None:
    clock = ny(2026, 11, 2, 9, 0)
    await transcript(
        SETUP + f'/cop prompts schedule "weekly on Wednesday at 12:00"\n{adds(*PROMPTS)}\n',
        db=db,
        clock=clock,
        zone=NY,
    )
    app = App(db, clock, [RecordingAdapter()], manual=True)
    when = datetime(2026, 11, 4, 12, 0, tzinfo=ZoneInfo(NY))
    clock.set(when)

    for _ in range(2):  # a runner that lost its lease: the same occurrence runs again
        async with background(app.services) as ctx:
            community = await ctx.session.get(Community, 1)
            ctx.community = community
            await run_post(ctx, 1, when.astimezone(ZoneInfo("UTC")).isoformat())
    async with db.session() as session:
        posts = list((await session.execute(select(PromptPost))).scalars())
        rows = list((await session.execute(select(Prompt).order_by(Prompt.number))).scalars())
    assert [p.text for p in posts] == [PROMPTS[0]]
    assert [r.last_round for r in rows] == [1, 0, 0]


async def test_a_pause_skips_the_holidays_and_the_schedule_picks_up(db: Database) -> None:
    lines = await transcript(
        SETUP
        + f"""
        /cop prompts schedule "weekly on Wednesday at 12:00"
        {adds(*PROMPTS)}
        :at 2026-12-16T12:00
        /cop prompts pause until=2027-01-05
        /cop prompts list
        :at 2027-01-04T23:00
        :as cara
        /cop prompts list
        :at 2027-01-13T12:00
        :as ben
        /cop prompts pause
        :at 2027-01-27T12:00
        /cop prompts resume
        :at 2027-02-03T12:00
        """,
        db=db,
        clock=ny(2026, 12, 14, 9, 0),
        zone=NY,
    )
    assert "[private @ben] Prompts are paused; they start again on Tue 5 Jan 2027." in lines
    assert "  The next one is posted on Wed 6 Jan 2027, 12:00 EST." in lines
    assert "  (Paused until Tue 5 Jan 2027.)" in lines
    # Posted on 16 Dec; nothing over the holidays; 6 and 13 Jan; nothing while paused with no
    # end (20 and 27 Jan); 3 Feb after resuming.
    heads = [i for i, line in enumerate(lines) if line == HEAD]
    ticks = [line for line in lines if line.startswith("~ ")]
    assert [lines[i + 1].strip() for i in heads] == [PROMPTS[0], PROMPTS[1], PROMPTS[2], PROMPTS[0]]
    assert ticks == [
        "~ Wed 16 Dec 2026, 12:00 EST",
        "~ Wed 6 Jan 2027, 12:00 EST",
        "~ Wed 13 Jan 2027, 12:00 EST",
        "~ Wed 3 Feb 2027, 12:00 EST",
    ]
    assert (
        "[private @ben] Prompts are paused until you resume them with /cop prompts resume." in lines
    )
    assert "[private @ben] Prompts are back on their schedule." in lines


async def test_suggestions_are_approved_into_the_list_or_declined_privately(db: Database) -> None:
    lines = await transcript(
        SETUP
        + """
        /cop prompts add What is one thing a child taught you this week?
        :as cara
        /cop prompts suggest Which song works best at clean-up time?
        :as dan
        /cop prompts suggest Who has the best snack ideas?
        :as ben
        :press 7 Approve
        :press 9 Decline
        :press 7 Decline
        /cop prompts list
        """,
        db=db,
    )
    sent = "Thank you — your suggestion went to the facilitators, who will add it or tell you privately."
    assert f"[private @cara] {sent}" in lines and f"[private @dan] {sent}" in lines
    assert "[dm @ben] cara suggests a discussion prompt for Finger Lakes CoP:" in lines
    assert "[dm @ben] dan suggests a discussion prompt for Finger Lakes CoP:" in lines
    assert "[private @ben] Approved: it is prompt 2 in the list." in lines
    assert (
        "[dm @cara] Your suggested prompt was added to the discussion prompts of Finger Lakes CoP:"
    ) in lines
    assert "[private @ben] Declined; dan is told privately." in lines
    told = lines.index(
        "[dm @dan] The facilitators of Finger Lakes CoP decided not to add your suggested prompt "
        "this time:"
    )
    assert lines[told + 1] == "  (Who has the best snack ideas?)"
    # The first suggestion's button again: decided already, nothing changes.
    assert "[private @ben] This suggestion was approved already (by ben)." in lines
    # The decline went to dan alone; nobody saw it in the channel.
    assert not [ln for ln in lines if ln.startswith("[#cop]") and "snack" in ln]
    assert "  2. Which song works best at clean-up time?" in lines
    assert not [ln for ln in lines if "snack" in ln and ln.startswith("  3.")]
    async with db.session() as session:
        rows = list(
            (
                await session.execute(select(PromptSuggestion).order_by(PromptSuggestion.id))
            ).scalars()
        )
    assert [(r.suggester_name, r.status, r.decided_by) for r in rows] == [
        ("cara", "approved", "ben"),
        ("dan", "declined", "ben"),
    ]


async def test_an_empty_list_posts_nothing_and_tells_the_facilitator_once(db: Database) -> None:
    lines = await transcript(
        SETUP
        + """
        /cop prompts schedule "weekly on Wednesday at 12:00"
        :at 2026-11-18T12:00
        /cop prompts add What is one thing a child taught you this week?
        /cop prompts remove 1
        :at 2026-11-25T12:00
        """,
        clock=ny(2026, 11, 2, 9, 0),
        db=db,
        zone=NY,
    )
    assert HEAD not in lines
    empty = [ln for ln in lines if "but the list is empty" in ln]
    # Told on 4 Nov only; told again once the list ran empty again after an addition.
    assert (
        empty
        == [
            "[dm @ben] It was time for a discussion prompt in Finger Lakes CoP, but the list is empty: "
            "add some with /cop prompts add TEXT (I won't say this again until the list runs empty "
            "again)."
        ]
        * 2
    )
    assert "prompts.post:1" in await job_ids(db)


async def test_refusals_are_one_sentence_and_change_nothing(db: Database) -> None:
    lines = await transcript(
        SETUP
        + """
        /cop prompts post
        /cop prompts add How do you welcome a new family?
        /cop prompts add how do you  welcome a new family?
        /cop prompts edit 1 How do you welcome a new family?
        /cop prompts edit 7 Anything?
        /cop prompts remove 7
        /cop prompts schedule "whenever we like"
        /cop prompts schedule off
        /cop prompts pause until=2027-01-05
        /cop prompts schedule "weekly on Wednesday at 12:00"
        /cop prompts pause until=soon
        /cop prompts pause until=2026-11-01
        /cop prompts resume
        :as cara
        /cop prompts add Mine?
        /cop prompts remove 1
        /cop prompts schedule off
        /cop prompts post
        /cop prompts suggest One?
        /cop prompts suggest Two?
        /cop prompts suggest Three?
        /cop prompts suggest Four?
        """,
        db=db,
    )
    refusals = [ln for ln in lines if ln.startswith("[private")]
    facilitator_only = "[private @cara] Only a facilitator of Finger Lakes CoP can do that."
    assert refusals == [
        "[private @ben] The list has no prompts yet; a facilitator adds them with /cop prompts add TEXT.",  # noqa: E501
        "[private @ben] Prompt 1 is in the list.",
        "[private @ben] Prompt 1 already says that.",
        "[private @ben] Prompt 1 already says that; nothing changed.",
        "[private @ben] There is no prompt 7; /cop prompts list shows them with their numbers.",
        "[private @ben] There is no prompt 7; /cop prompts list shows them with their numbers.",
        refusals[6],  # the schedule grammar's own sentence
        '[private @ben] Prompts have no schedule; set one with /cop prompts schedule, for example "every other Wednesday at 12:00".',  # noqa: E501
        '[private @ben] Prompts have no schedule; set one with /cop prompts schedule, for example "every other Wednesday at 12:00".',  # noqa: E501
        "[private @ben] Prompts will be posted weekly on Wednesday at 12:00.",
        "[private @ben] I couldn't read until=soon: give the day prompts start again as YYYY-MM-DD, for example until=2027-01-05.",  # noqa: E501
        "[private @ben] until=2026-11-01 is not after today; give a later day.",
        "[private @ben] Prompts aren't paused, so there is nothing to resume.",
        facilitator_only,
        facilitator_only,
        facilitator_only,
        facilitator_only,
        refusals[17],
        refusals[18],
        refusals[19],
        "[private @cara] You have 3 suggestions waiting already; the facilitators will answer those first.",  # noqa: E501
    ]
    assert refusals[6].startswith("[private @ben] I couldn't read that schedule")
    for line in refusals:
        sentence = line.split("] ", 1)[1]
        assert sentence.count(". ") == 0 or "e.g. " in sentence, line
    async with db.session() as session:
        prompts = list((await session.execute(select(Prompt))).scalars())
        settings = list((await session.execute(select(PromptSettings))).scalars())
        suggestions = list((await session.execute(select(PromptSuggestion))).scalars())
    assert [(p.number, p.text, p.removed) for p in prompts] == [
        (1, "How do you welcome a new family?", False)
    ]
    assert [(s.schedule, s.paused_until) for s in settings] == [
        ("weekly on Wednesday at 12:00", None)
    ]
    assert [s.text for s in suggestions] == ["One?", "Two?", "Three?"]


async def test_the_digest_lists_the_prompts_posted_since(db: Database) -> None:
    clock = ny(2026, 11, 2, 9, 0)
    await transcript(
        SETUP
        + f"""
        /cop prompts schedule "weekly on Wednesday at 12:00"
        {adds(*PROMPTS)}
        :at 2026-11-11T12:00
        """,
        db=db,
        clock=clock,
        zone=NY,
    )
    app = App(db, clock, [RecordingAdapter()], manual=True)
    since = datetime(2026, 11, 5, tzinfo=ZoneInfo(NY))
    async with background(app.services) as ctx:
        section = await ctx.emit(
            "digest.sections", DigestSections(1, None, since, since + timedelta(days=7), "en")
        )
        nothing = await ctx.emit(
            "digest.sections",
            DigestSections(1, None, since - timedelta(days=30), since - timedelta(days=5), "en"),
        )
        other = await ctx.emit(
            "digest.sections", DigestSections(2, None, since, since + timedelta(days=7), "en")
        )
    ours = [blocks for blocks in section if blocks and "prompts" in plain(blocks[0].parts)]
    assert len(ours) == 1
    shown = [plain(b.parts) for b in ours[0] if isinstance(b, Section)]
    assert shown[0] == "Discussion prompts since we last met (reply in their threads):"
    assert [s.split(" — ")[0] for s in shown[1:]] == [f"• {PROMPTS[1]}"]
    assert not [b for b in nothing if b and "prompts" in plain(b[0].parts)]
    assert not [b for b in other if b and "prompts" in plain(b[0].parts)]


async def test_erasing_ones_data_takes_ones_suggestions(db: Database) -> None:
    lines = await transcript(
        SETUP
        + """
        :as cara
        /cop prompts suggest Which song works best at clean-up time?
        :as dan
        /cop prompts suggest Who has the best snack ideas?
        :as cara
        /cop my-data erase
        :press Erase my data
        :as ben
        :press 6 Approve
        """,
        db=db,
    )
    # cara's suggestion went with her data: its button is one that no longer exists.
    assert lines[-1] == "[private @ben] That button no longer works; please use the latest message."
    async with db.session() as session:
        left = list((await session.execute(select(PromptSuggestion))).scalars())
    assert [(s.suggester_name, s.status) for s in left] == [("dan", "open")]


async def test_a_missing_post_job_is_restored_at_start(db: Database) -> None:
    clock = ny(2026, 11, 2, 9, 0)
    await transcript(
        SETUP + f'/cop prompts schedule "weekly on Wednesday at 12:00"\n{adds(*PROMPTS)}\n',
        db=db,
        clock=clock,
        zone=NY,
    )
    async with db.session() as session:
        await session.execute(delete(Job).where(Job.id == "prompts.post:1"))
    assert "prompts.post:1" not in await job_ids(db)
    lines = await transcript(
        ":as ben\n:in #cop\n:at 2026-11-04T12:00\n", db=db, clock=clock, zone=NY
    )
    assert posted(lines) == [PROMPTS[0]]
    async with db.session() as session:
        due = (await session.execute(select(Job.due_at).where(Job.id == "prompts.post:1"))).scalar()
    assert due == datetime(2026, 11, 11, 12, 0, tzinfo=ZoneInfo(NY))


async def test_no_prompt_repeats_until_all_were_posted() -> None:
    posts = "\n".join(["/cop prompts post"] * 8)
    lines = await transcript(SETUP + f"{adds(*PROMPTS)}\n{posts}\n")
    shown = posted(lines)
    assert len(shown) == 8
    # Each round of three posts holds every prompt once; the third round starts over.
    for start in range(0, 6, 3):
        assert sorted(shown[start : start + 3]) == sorted(PROMPTS)
    assert shown == [*PROMPTS, *PROMPTS, *PROMPTS[:2]]
