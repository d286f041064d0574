"""Resources through the console, on SQLite and PostgreSQL: links added with tags, listed,
searched, refused in one sentence when unsafe (changing nothing), removed only by the adder or
a facilitator, attached to a meeting's agenda, and in the digest only when new."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import App
from bot.context import background
from bot.events import Actor, CommandInvoked, ConversationRef, Place, Respond, UserRef
from bot.features.resources.sections import digest_section
from bot.hooks import DigestSections
from bot.ports import FakeClock
from bot.ui import Section, plain
from storage.db import Database
from storage.meetings import Meeting
from storage.models import Community
from storage.resources import Resource, ResourceMeeting, ResourceTag
from tests.support import RecordingAdapter, transcript

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
"""
OUTDOOR = "https://example.org/outdoor-play"


def ny(*args: int) -> FakeClock:
    return FakeClock(datetime(*args, tzinfo=ZoneInfo(NY)))


def answer(lines: list[str], command: str) -> list[str]:
    """What the console printed for `command` (its first line and the indented ones)."""
    at = next(i for i, line in enumerate(lines) if line.endswith(f"> {command}"))
    out = [lines[at + 1]]
    for line in lines[at + 2 :]:
        if not line.startswith("  "):
            break
        out.append(line)
    return out


async def resources(db: Database) -> list[tuple[int, str, str, str, bool]]:
    async with db.session() as s:
        rows = await s.execute(
            select(
                Resource.number, Resource.url, Resource.host, Resource.title, Resource.removed_at
            ).order_by(Resource.number)
        )
        return [(n, url, host, title, removed is not None) for n, url, host, title, removed in rows]


async def test_add_with_tags_then_list_by_tag_and_search(db: Database) -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as cara
        /cop resources add {OUTDOOR} title="Outdoor play ideas" #outdoor #Toddlers #outdoor
        /cop resources add https://Example.ORG/Infant-Sleep #infants
        :as dan
        /cop resources add https://bücher.example/lesen title="Cuentos para niños" #lectura
        /cop resources list
        /cop resources list #outdoor
        /cop resources list infants
        /cop resources list #nothing
        /cop resources search TODDLERS play
        /cop resources search #infants
        /cop resources search xn--bcher
        /cop resources search niños
        /cop resources search painting
        /cop resources add https://example.org/outdoor-play
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    assert answer(
        lines,
        f'/cop resources add {OUTDOOR} title="Outdoor play ideas" #outdoor #Toddlers #outdoor',
    ) == [
        "[private @cara] Saved as resource 1 for the community:",
        f"  1. Outdoor play ideas — {OUTDOOR}  #outdoor #toddlers",
        "  (Attach it to a meeting with /cop resources attach 1 meeting=next; remove it with "
        "/cop resources remove 1.)",
    ]
    everything = [
        "[private @dan] Our resources (3), newest first:",
        "  3. Cuentos para niños — https://xn--bcher-kva.example/lesen  #lectura",
        "  2. https://example.org/Infant-Sleep  #infants",
        f"  1. Outdoor play ideas — {OUTDOOR}  #outdoor #toddlers",
    ]
    assert answer(lines, "/cop resources list") == everything
    assert answer(lines, "/cop resources list #outdoor") == [
        "[private @dan] Resources tagged #outdoor (1), newest first:",
        f"  1. Outdoor play ideas — {OUTDOOR}  #outdoor #toddlers",
    ]
    assert answer(lines, "/cop resources list infants")[1] == (
        "  2. https://example.org/Infant-Sleep  #infants"
    )
    assert answer(lines, "/cop resources list #nothing") == [
        "[private @dan] No resources are tagged #nothing; /cop resources list shows them all."
    ]
    assert answer(lines, "/cop resources search TODDLERS play") == [
        "[private @dan] Resources matching “TODDLERS play” (1):",
        f"  1. Outdoor play ideas — {OUTDOOR}  #outdoor #toddlers",
    ]
    assert answer(lines, "/cop resources search #infants")[1:] == [everything[2]]
    assert answer(lines, "/cop resources search xn--bcher")[1:] == [everything[1]]
    assert answer(lines, "/cop resources search niños")[1:] == [everything[1]]
    assert answer(lines, "/cop resources search painting") == [
        "[private @dan] No resource matches “painting” in its title, tags or site."
    ]
    assert answer(lines, "/cop resources add https://example.org/outdoor-play") == [
        "[private @dan] That link is already resource 1."
    ]
    # Nothing about resources went to the channel: the digest carries them to the group.
    assert not any(line.startswith("[#cop]") and "example" in line for line in lines)
    async with db.session() as s:
        tags = (await s.execute(select(ResourceTag.tag).order_by(ResourceTag.id))).scalars()
        assert list(tags) == ["outdoor", "toddlers", "infants", "lectura"]


REFUSED = {
    "/cop resources add ftp://example.org/guide.pdf": (
        "Only http:// and https:// links can be saved as resources."
    ),
    "/cop resources add javascript:alert(document.cookie)": (
        "Only http:// and https:// links can be saved as resources."
    ),
    "/cop resources add JavaScript://example.org/%0Aalert(1)": (
        "A link can't contain control characters; paste it again as the site shows it."
    ),
    "/cop resources add https://example.org/a%00b": (
        "A link can't contain control characters; paste it again as the site shows it."
    ),
    f"/cop resources add https://example.org/{'x' * 10_000}": (
        "url is too long; keep it under 2000 characters."
    ),
    # Short enough as typed, too long once its "<" are percent-encoded to be shown whole.
    f"/cop resources add https://example.org/?q={'<' * 700}": (
        "That link is too long; keep it under 2000 characters."
    ),
    '/cop resources add "https://example.org/outdoor play"': (
        "A link can't contain spaces; paste it again without them."
    ),
    '/cop resources add "   "': "url can't be empty.",
    f'/cop resources add {OUTDOOR} title="  \t "': "title can't be empty.",
    f'/cop resources add {OUTDOOR} title="Read this @everyone"': (
        "A resource's title can't mention anyone (@everyone, @here, @channel or a person)."
    ),
    f'/cop resources add {OUTDOOR} title="<!here> new stuff"': (
        "A resource's title can't mention anyone (@everyone, @here, @channel or a person)."
    ),
    f'/cop resources add {OUTDOOR} title="Click https://evil.example"': (
        "Put the link first and leave it out of the title."
    ),
    "/cop resources add https://ana:secret@example.org/guide": (
        "That link carries a password or token; share a link without it."
    ),
    "/cop resources add https://example.org/guide?access_token=abc123": (
        "That link carries a password or token; share a link without it."
    ),
    "/cop resources add https://example.org/guide Outdoor play": (
        'Tags start with # (you wrote “Outdoor”); put a title in title="...".'
    ),
    "/cop resources add https://example.org/guide #out/door": (
        "“#out/door” isn't a tag: use letters, digits, - and _, at most 30 characters after the #."
    ),
    "/cop resources add https://exa_mple.org/guide": (
        "That doesn't look like a web link; give it whole, such as https://example.org/guide."
    ),
    "/cop resources add example.org/guide": (
        "Only http:// and https:// links can be saved as resources."
    ),
}


async def test_unsafe_links_and_titles_are_refused_in_one_sentence_and_change_nothing(
    db: Database,
) -> None:
    script = "\n".join(REFUSED)
    lines = await transcript(
        SETUP + f":as cara\n/cop resources add {OUTDOOR} #outdoor\n:as dan\n{script}\n"
        "/cop resources remove 1\n/cop resources attach 1 meeting=next\n/cop resources remove 7",
        db=db,
    )
    for command, sentence in REFUSED.items():
        assert answer(lines, command.strip()) == [f"[private @dan] {sentence}"], command
    assert answer(lines, "/cop resources remove 1") == [
        "[private @dan] Only the member who added resource 1 or a facilitator can remove it."
    ]
    assert answer(lines, "/cop resources attach 1 meeting=next") == [
        "[private @dan] Only the member who added resource 1 or a facilitator can attach it to "
        "a meeting or detach it."
    ]
    assert answer(lines, "/cop resources remove 7") == [
        "[private @dan] There is no resource 7; /cop resources list shows their numbers."
    ]
    assert await resources(db) == [(1, OUTDOOR, "example.org", "", False)]


async def test_control_characters_sent_as_an_option_are_refused_not_stripped(
    db: Database,
) -> None:
    """A link that reaches the core with a control character still in it is refused, never
    saved with the character taken out (a different link than the one given). The adapters
    clean every parameter at the edge first; this is the core's own check behind them."""
    await transcript(SETUP, db=db)
    app = App(
        db, FakeClock(datetime(2026, 11, 2, 14, 0, tzinfo=UTC)), [RecordingAdapter()], manual=True
    )
    async with db.session() as s:
        community = (await s.execute(select(Community))).scalar_one()
    place = Place(ConversationRef(community.platform, community.workspace_id, "cop"), "cop")
    actor = Actor(UserRef(community.platform, community.workspace_id, "cara"), "cara", False)
    replies = []
    for url in (
        "https://example.org/a\x00b",
        "https://exa\u202emple.org/",
        "https://x.org/\x1b[31m",
    ):
        event = CommandInvoked(actor, place, ("resources", "add"), {"url": url})
        replies.append(await app.dispatcher.handle(event))
    assert all(isinstance(r, Respond) for r in replies)
    assert {r.message.text for r in replies if isinstance(r, Respond)} == {
        "A link can't contain control characters; paste it again as the site shows it."
    }
    assert await resources(db) == []


async def test_attached_to_a_meeting_it_shows_on_the_agenda_until_detached(db: Database) -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        /cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"
        :as cara
        /cop resources add {OUTDOOR} title="Our breakout's play map" #breakout
        /cop resources add https://example.org/handout
        /cop resources attach 1 meeting=1
        /cop resources attach 1 meeting=#1
        /cop resources attach 1 meeting=9
        :as ben
        /cop resources attach 2 meeting=next
        :as dan
        /cop meeting agenda 1
        /cop meeting agenda 2
        :as cara
        /cop resources detach 1
        /cop resources detach 1
        /cop resources attach 1 meeting=1
        /cop resources attach 1 meeting=2
        /cop resources detach 1
        /cop resources detach 1 meeting=2
        /cop resources detach 1 meeting=2
        :as ben
        /cop resources remove 2
        :as dan
        /cop meeting agenda 1
        /cop resources list
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    assert answer(lines, "/cop resources attach 1 meeting=1") == [
        "[private @cara] Resource 1 is attached to meeting #1, on Tue 3 Nov 2026."
    ]
    assert answer(lines, "/cop resources attach 1 meeting=#1") == [
        "[private @cara] Resource 1 is already attached to meeting #1."
    ]
    assert answer(lines, "/cop resources attach 1 meeting=9") == [
        "[private @cara] There is no meeting “9”; give its number (/cop meeting list shows "
        "them), next or last."
    ]
    # A facilitator attaches a resource someone else added.
    assert answer(lines, "/cop resources attach 2 meeting=next") == [
        "[private @ben] Resource 2 is attached to meeting #1, on Tue 3 Nov 2026."
    ]
    agenda = lines.index("dan> /cop meeting agenda 1")
    shown = lines[agenda + 1 : agenda + 12]
    sharing = shown.index("  2. Sharing")
    assert shown[sharing + 1 : sharing + 5] == [
        "  Resources for this meeting:",
        f"  • Our breakout's play map — {OUTDOOR} (resource 1)  #breakout",
        "  • https://example.org/handout (resource 2)",
        "  3. Topic discussion",
    ]
    assert not any(
        "Resources for this meeting" in line for line in answer(lines, "/cop meeting agenda 2")
    )
    assert answer(lines, "/cop resources detach 1")[0] == (
        "[private @cara] Resource 1 is no longer attached to meeting #1."
    )
    detaches = [i for i, line in enumerate(lines) if line == "cara> /cop resources detach 1"]
    assert [lines[i + 1] for i in detaches[1:]] == [
        "[private @cara] Resource 1 isn't attached to any meeting.",
        "[private @cara] Resource 1 is attached to meetings #1, #2; say which with meeting=.",
    ]
    after = [i for i, line in enumerate(lines) if line == "cara> /cop resources detach 1 meeting=2"]
    assert lines[after[0] + 1] == "[private @cara] Resource 1 is no longer attached to meeting #2."
    assert lines[after[1] + 1] == "[private @cara] Resource 1 isn't attached to meeting #2."
    assert answer(lines, "/cop resources remove 2") == ["[private @ben] Resource 2 is removed."]
    last_agenda = max(i for i, line in enumerate(lines) if line == "dan> /cop meeting agenda 1")
    still = lines[last_agenda + 1 : last_agenda + 12]
    sharing = still.index("  2. Sharing")
    assert still[sharing + 1 : sharing + 4] == [
        "  Resources for this meeting:",
        f"  • Our breakout's play map — {OUTDOOR} (resource 1)  #breakout",
        "  3. Topic discussion",
    ]
    assert answer(lines, "/cop resources list")[1:] == [
        f"  1. Our breakout's play map — {OUTDOOR}  #breakout"
    ]
    # The removed resource is a tombstone: its number stays taken, its link is gone.
    assert await resources(db) == [
        (1, OUTDOOR, "example.org", "Our breakout's play map", False),
        (2, "", "", "", True),
    ]
    async with db.session() as s:
        attached = await s.execute(select(ResourceMeeting.resource_id, ResourceMeeting.meeting_id))
        [(resource_id, meeting_id)] = attached.all()
        assert await s.get(Resource, resource_id) is not None
        meeting = await s.get(Meeting, meeting_id)
        assert meeting is not None and meeting.number == 1


async def test_links_are_normalised_to_show_whole_and_where_they_lead(db: Database) -> None:
    typed = {
        "HTTPS://Example.ORG": "https://example.org/",
        "https://en.wikipedia.org/wiki/Play_(activity)": (
            "https://en.wikipedia.org/wiki/Play_(activity%29"
        ),
        "https://example.org/a?q=<b>&x={1}|2": "https://example.org/a?q=%3Cb%3E&x=%7B1%7D%7C2",
        "https://bücher.example/lesen": "https://xn--bcher-kva.example/lesen",
        "<https://example.org/from-slack|example.org/from-slack>": (
            "https://example.org/from-slack"
        ),
        "http://[2001:db8::1]:8080/slides": "http://[2001:db8::1]:8080/slides",
    }
    script = "\n".join(f"/cop resources add {url}" for url in typed)
    lines = await transcript(SETUP + f":as cara\n{script}\n", db=db)
    saved = [line for line in lines if line.startswith("[private @cara] Saved as resource")]
    assert len(saved) == len(typed), lines
    assert [url for _n, url, *_rest in await resources(db)] == list(typed.values())


async def test_numbers_are_per_community_and_never_reused(db: Database) -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as cara
        /cop resources add {OUTDOOR}
        /cop resources add https://example.org/two
        /cop resources remove 2
        /cop resources add https://example.org/three
        :as eve admin
        :in #other
        /cop setup "Other CoP" UTC
        /cop resources add https://example.org/elsewhere
        /cop resources remove 1
        /cop resources list
        """,
        db=db,
    )
    assert answer(lines, "/cop resources add https://example.org/three")[0] == (
        "[private @cara] Saved as resource 3 for the community:"
    )
    assert answer(lines, "/cop resources add https://example.org/elsewhere")[0] == (
        "[private @eve] Saved as resource 1 for the community:"
    )
    # eve's "remove 1" is her own community's resource 1, never the first community's.
    assert answer(lines, "/cop resources remove 1") == ["[private @eve] Resource 1 is removed."]
    assert answer(lines, "/cop resources list") == [
        "[private @eve] No resources yet; add one with /cop resources add "
        'https://example.org/guide title="A title" #tag.'
    ]
    assert [r[:2] for r in await resources(db) if not r[4]] == [
        (1, OUTDOOR),
        (3, "https://example.org/three"),
    ]


async def test_the_digest_shows_only_what_is_new_and_what_the_meeting_has(db: Database) -> None:
    clock = ny(2026, 11, 2, 9, 0)
    await transcript(
        SETUP
        + f"""
        :as ben
        /cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"
        :as cara
        /cop resources add {OUTDOOR} title="Outdoor play ideas" #outdoor
        /cop resources add https://example.org/old-handout
        /cop resources attach 2 meeting=2
        :at 2026-11-10T12:00
        /cop resources add https://example.org/new-webinar title="Webinar: infant sleep" #infants
        """,
        db=db,
        clock=clock,
        zone=NY,
    )
    app = App(db, clock, [RecordingAdapter()], manual=True)
    async with db.session() as s:
        meeting2 = (await s.execute(select(Meeting).where(Meeting.number == 2))).scalar_one()
        meeting3 = (await s.execute(select(Meeting).where(Meeting.number == 3))).scalar_one()
    since = datetime(2026, 11, 4, tzinfo=UTC)  # after the first meeting
    now = clock.now()

    async def digest(meeting_id: int | None, start: datetime, end: datetime) -> list[str]:
        async with background(app.services) as ctx:
            blocks = await digest_section(ctx, DigestSections(1, meeting_id, start, end, "en"))
        assert all(isinstance(b, Section) for b in blocks)
        return [plain(b.parts) for b in blocks if isinstance(b, Section)]

    assert await digest(meeting2.id, since, now) == [
        "New resources (1):\n"
        "• Webinar: infant sleep — https://example.org/new-webinar (resource 3)  #infants",
        "Resources for the coming meeting:\n• https://example.org/old-handout (resource 2)",
    ]
    # Since the start: all three, the attached one once (under the meeting).
    [new, _attached] = await digest(meeting2.id, datetime(2026, 11, 1, tzinfo=UTC), now)
    assert new.splitlines()[0] == "New resources (2):"
    assert "(resource 2)" not in new
    # Another meeting with nothing attached, nothing added since: nothing at all.
    assert await digest(meeting3.id, now, now + timedelta(days=20)) == []
    assert await digest(None, now, now + timedelta(days=20)) == []
    # Added after `until`: not yet in this digest.
    assert await digest(None, since, datetime(2026, 11, 9, tzinfo=UTC)) == []


async def test_the_channel_digest_before_a_meeting_carries_new_and_attached_resources(
    db: Database,
) -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        /cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"
        :as cara
        /cop resources add https://example.org/handout
        /cop resources attach 1 meeting=2
        :at 2026-11-10T12:00
        /cop resources add {OUTDOOR} title="Outdoor play *ideas*" #outdoor
        :at 2026-11-29T00:00
        """,
        db=db,
        clock=ny(2026, 11, 2, 9, 0),
        zone=NY,
    )
    [start] = [
        i
        for i, line in enumerate(lines)
        if line.startswith("[#cop] What's new in Finger Lakes CoP before Monthly CoP on Tue 1 Dec")
    ]
    assert lines[start + 1 : start + 5] == [
        "  New resources (1):",
        f"  • Outdoor play *ideas* — {OUTDOOR} (resource 2)  #outdoor",
        "  Resources for the coming meeting:",
        "  • https://example.org/handout (resource 1)",
    ]
