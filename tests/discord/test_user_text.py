"""Member text on Discord is shown as typed: masked links, headings, quotes, lists, emphasis,
spoilers and mention syntax never format; circlebot's own formatting stays."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from adapters.discord.render import escape, render
from bot.ui import Context, Field_, Fields, Mention, Message, Section, Time
from tests.discord.helpers import ADMIN_PERMISSIONS, running_bot, shown_text
from tests.fakes.discord_fake import FakeDiscord

HOSTILE = [
    "[click](https://evil.example)",
    "# Heading",
    "## Smaller heading",
    "-# small print",
    "> a quote",
    ">>> a long quote",
    "- a list\n* another\n1. numbered",
    "**bold** *it* __under__ ~~strike~~ ||spoiler|| `code`",
    "```a code block```",
    "@everyone @here <@123456789012345678> <@&123456789012345678> <#123456789012345678>",
    "<t:1700000000:R> <:emoji:123456789012345678>",
    "back\\slash \\*",
]

# What Discord would render as markup if it were left unescaped, at a line start or anywhere.
LIVE = [
    r"(?<!\\)\[[^\]]*\]\(",  # a masked link
    r"(?m)^(?:#{1,3} |-# |>|\s*[-*] |\s*\d+\. )",  # heading, small print, quote, list item
    r"(?<!\\)(?:\*|__|~~|\|\||`)",  # emphasis, strike, spoiler, code
    r"(?<!\\)<[@#:t]",  # a mention, channel, time or emoji pill
    r"@(?:everyone|here)",
]


def shown(markdown: str) -> str:
    """What a reader sees once Discord has applied the backslash escapes."""
    return re.sub(r"\\(.)", r"\1", markdown, flags=re.S).replace("\u200b", "")


@pytest.mark.parametrize("typed", HOSTILE)
def test_member_text_renders_as_text_in_content_embeds_and_fields(typed: str) -> None:
    [plain] = render(Message(text=typed, blocks=[Section.of(typed)]))
    [embed] = render(
        Message(
            text=typed,
            blocks=[Section.of(typed), Fields(fields=[Field_(label=typed, value=[typed])])],
        )
    )
    field = embed.embeds[-1].fields[0]
    for text in (plain.content, embed.embeds[0].description, field.name, field.value):
        assert text is not None
        for live in LIVE:
            assert not re.search(live, text), (live, text)
        assert shown(text) == typed  # as typed, nothing lost
    assert plain.allowed_mentions().to_dict() == {"parse": []}


def test_circlebot_formatting_links_mentions_and_times_stay() -> None:
    at = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    [part] = render(
        Message(
            text="x",
            blocks=[
                Section.of(
                    "Join: https://meet.example.org/a_b*c ",
                    Mention(user_id="42", name="ana"),
                    " ",
                    Time(at=at),
                ),
                Context(parts=["Going 3 · meeting 1"]),
            ],
        )
    )
    assert part.content == (
        f"Join: https://meet.example.org/a_b*c <@42> <t:{int(at.timestamp())}:F>\n"
        "-# Going 3 · meeting 1"
    )
    assert part.mentions == [42]
    # A name shown without a ping (not a Discord id) is text like any other.
    [named] = render(Message(text="x", blocks=[Section.of(Mention(user_id="x", name="**ana**"))]))
    assert named.content == "@" + escape("**ana**")


async def test_a_community_name_topic_title_and_poll_question_typed_with_markup_show_as_text(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    name = "# Heading [click](https://evil.example)"
    title = "[free CEUs](https://evil.example) > **now**"
    question = "## Which topic? ||spoiler||"
    posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, memory_db, clock) as (app, _adapter):
        set_up = await fake.interact(
            fake.slash_command_interaction(
                "cop setup",
                {"name": name, "timezone": "America/New_York"},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        opened = await fake.interact(
            fake.slash_command_interaction(
                "cop poll new",
                {"question": question, "options": "-# tiny | > quoted"},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        await app.worker.drain()
        await fake.interact(fake.slash_command_interaction("cop join", user=bob))
        await fake.interact(
            fake.slash_command_interaction(
                "cop topics open", {"prompt": "What next?"}, member_permissions=ADMIN_PERMISSIONS
            )
        )
        proposed = await fake.interact(
            fake.slash_command_interaction("cop topics propose", {"title": title}, user=bob)
        )
        listed = await fake.interact(fake.slash_command_interaction("cop topics list", user=bob))
        await app.worker.drain()

    assert "is posted" in shown_text(opened.json), opened.json
    texts = {
        name: shown_text(set_up.json),
        title: shown_text(proposed.json) + "\n" + shown_text(listed.json),
    }
    [poll] = [c for c in fake.calls_to("POST", posts) if "Which topic" in shown_text(c.json)]
    texts[question] = shown_text(poll.json)
    for typed, text in texts.items():
        assert shown(text).count(typed) >= 1, (typed, text)
        own = re.sub(r"(?m)^-# ", "", text)  # circlebot's own small print
        for live in LIVE:
            assert not re.search(live, own), (live, text)
    poll_text = shown(shown_text(poll.json))
    assert "-# tiny" in poll_text and "> quoted" in poll_text  # the options, shown as typed
