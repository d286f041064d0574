"""Member text on Slack is shown as typed: mrkdwn markers, block quotes, Slack's own link syntax
and broadcast tokens never format, hide a link or ping; circlebot's own formatting stays."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from adapters.slack.render import ZWSP, escape, inline, render_blocks, render_message
from bot.ui import Context, Field_, Fields, Mention, Message, Section, Time
from tests.fakes.slack_fake import CHANNEL_ID, slash_command_payload
from tests.slack.helpers import running_bot

ADMIN = "U0ADMIN001"

HOSTILE = [
    "*bold* _italic_ ~strike~ `code`",
    "```a code block```",
    "> a block quote",
    "two lines\n> the second quoted",
    "<https://evil.example|click here>",
    "[click](https://evil.example)",
    "# Heading",
    "<!channel> <!here> <!subteam^S0TEACHERS> <@U0OTHER01>",
    "a & b < c > d",
]


def shown(mrkdwn: str) -> str:
    """What a reader sees, once Slack has decoded entities (zero-width spaces are invisible)."""
    return mrkdwn.replace(ZWSP, "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def assert_inert(mrkdwn: str) -> None:
    """Nothing in `mrkdwn` formats, links or pings: every marker is fenced by zero-width
    spaces, no line opens a quote, and no ``<...>`` token exists."""
    assert "<" not in mrkdwn and ">" not in mrkdwn
    for m in re.finditer(r"[*_~`]", mrkdwn):
        assert mrkdwn[m.start() - 1 : m.start()] == ZWSP, (mrkdwn, m.start())
        assert mrkdwn[m.end() : m.end() + 1] == ZWSP, (mrkdwn, m.start())
    assert not re.search(r"(?m)^\s*&gt;", mrkdwn)


@pytest.mark.parametrize("typed", HOSTILE)
def test_member_text_renders_as_text_everywhere_it_is_shown(typed: str) -> None:
    rendered = render_message(
        Message(
            text=typed,
            blocks=[
                Section.of(typed),
                Context(parts=[typed]),
                Fields(fields=[Field_(label="Topic", value=[typed])]),
                Fields(fields=[Field_(label=typed, value=["1 vote"])]),
            ],
        )
    )
    section, context, value_field, label_field = rendered.blocks
    value = value_field["fields"][0]["text"].removeprefix("*Topic*\n")
    label = label_field["fields"][0]["text"].removesuffix("\n1 vote")
    # circlebot's own bold around a label, unless the label starts or ends with a marker.
    label = label[1:-1] if label.startswith("*") and label.endswith("*") else label
    for text in (rendered.text, section["text"]["text"], context["elements"][0]["text"], value):
        assert_inert(text)
        assert shown(text) == typed  # as typed, nothing lost
    assert_inert(label)
    assert shown(label) == typed


def test_circlebot_formatting_links_emoji_mentions_and_times_stay() -> None:
    at = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    text = inline(
        [
            "Join: https://zoom.us/j/1?pwd=a_b*c ",
            ":deciduous_tree: ",
            Mention(user_id="U012A3CDE", name="*ana*"),
            " ",
            Time(at=at, zone="America/New_York"),
        ]
    )
    assert text.startswith("Join: https://zoom.us/j/1?pwd=a_b*c :deciduous_tree: <@U012A3CDE> ")
    assert f"<!date^{int(at.timestamp())}^" in text
    [block], _ = render_blocks([Fields(fields=[Field_(label="When", value=["soon"])])])
    assert block["fields"][0]["text"] == "*When*\nsoon"
    # A name shown without a ping (not a Slack id) is text like any other.
    assert inline([Mention(user_id="console", name="*ana*")]) == "@" + escape("*ana*")


async def test_a_poll_question_and_community_name_typed_with_markup_are_posted_as_text(
    slack_api,
) -> None:
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    name = "*Big* Circle"
    question = "> [click](https://evil.example) _now_"
    async with running_bot(slack_api) as bot:
        status, text = await bot.post(
            slash_command_payload(f'setup "{name}" America/New_York', fake=slack_api, user_id=ADMIN)
        )
        assert status == 200, text
        reply = json.loads(text)["text"]
        assert escape(name) in reply and "*Big*" not in reply
        status, text = await bot.post(
            slash_command_payload(
                f'poll new "{question}" options="~Outdoor~ play | `Transitions`"',
                fake=slack_api,
                user_id=ADMIN,
            )
        )
        assert status == 200, text
        await bot.app.worker.drain()

    [posted] = slack_api.calls_to("chat.postMessage")
    assert posted.params["channel"] == CHANNEL_ID
    blocks = posted.json_param("blocks")
    mrkdwn = [
        t["text"]
        for b in blocks
        for t in [b.get("text"), *b.get("fields", []), *b.get("elements", [])]
        if isinstance(t, dict) and t.get("type") == "mrkdwn"
    ]
    with_question = [t for t in mrkdwn if "evil.example" in t]
    assert with_question, mrkdwn
    for t in [*with_question, posted.params["text"]]:  # the notification text, too
        assert_inert(t)
        assert question in shown(t)
    options = [t for t in mrkdwn if "Outdoor" in t]
    assert options and all(
        assert_inert(t) is None and "~Outdoor~ play" in shown(t) for t in options
    )
