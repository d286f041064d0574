"""Neutral blocks -> Block Kit: every block type, every limit, escaping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.slack.render import (
    MAX_MESSAGE_BLOCKS,
    RenderError,
    escape,
    render_blocks,
    render_form,
    render_home,
    render_message,
    split_mrkdwn,
)
from bot.ui import (
    Actions,
    Button,
    Context,
    Divider,
    Field_,
    Fields,
    File,
    Form,
    Image,
    Input,
    Mention,
    Message,
    Option,
    Section,
    Select,
    Time,
)

AT = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)


def one(block):  # type: ignore[no-untyped-def]
    [rendered], _ = render_blocks([block])
    return rendered


def test_section_with_mention_and_time():
    block = one(
        Section.of(
            "Hi ",
            Mention(user_id="U012A3CDE", name="ada"),
            ", we meet ",
            Time(at=AT, zone="America/New_York"),
        )
    )
    assert block == {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "verbatim": True,
            "text": "Hi <@U012A3CDE>, we meet "
            f"<!date^{int(AT.timestamp())}^{{date_short_pretty}} at {{time}}|Tue 1 Dec 2026, 18:30 EST>",
        },
    }


@pytest.mark.parametrize(
    ("style", "tokens", "fallback"),
    [
        ("date", "{date_short_pretty}", "Tue 1 Dec 2026"),
        ("time", "{time}", "18:30 EST"),
        ("relative", "{ago}", "Tue 1 Dec 2026, 18:30 EST"),
    ],
)
def test_time_styles(style, tokens, fallback):
    text = one(Section.of(Time(at=AT, style=style, zone="America/New_York")))["text"]["text"]
    assert text == f"<!date^{int(AT.timestamp())}^{tokens}|{fallback}>"


@pytest.mark.parametrize(
    "hostile",
    ["<!channel>", "<!here>", "<!subteam^S0TEACHERS>", "<!everyone>", "<@U0OTHER01>", "a & b"],
)
def test_user_text_never_pings(hostile):
    rendered = render_message(
        Message(text=hostile, blocks=[Section.of(hostile), Context(parts=[hostile])])
    )
    for text in (
        rendered.text,
        rendered.blocks[0]["text"]["text"],
        rendered.blocks[1]["elements"][0]["text"],
    ):
        assert "<" not in text and ">" not in text
        assert text == escape(hostile)
    assert escape("a & b <!here>") == "a &amp; b &lt;!here&gt;"


def test_mention_with_a_non_slack_id_shows_the_name_without_pinging():
    text = one(Section.of(Mention(user_id="!channel", name="<everyone>")))["text"]["text"]
    assert text == "@&lt;everyone&gt;"


def test_fields_become_section_fields_ten_at_a_time():
    fields = Fields(fields=[Field_(label=f"L{i}", value=[f"v{i} & co"]) for i in range(12)])
    blocks, _ = render_blocks([fields])
    assert [len(b["fields"]) for b in blocks] == [10, 2]
    assert blocks[0]["fields"][0]["text"] == "*L0*\nv0 &amp; co"


def test_field_text_is_capped_at_2000_characters():
    [block], _ = render_blocks([Fields(fields=[Field_(label="Long", value=["x" * 5000])])])
    text = block["fields"][0]["text"]
    assert len(text) == 2000 and text.endswith("…")


def test_buttons_in_an_actions_block():
    block = one(
        Actions(
            elements=[
                Button(action="vote:cast:1:1", label="Outdoor play", style="primary"),
                Button(action="vote:cast:1:2", label="Transitions"),
            ]
        )
    )
    assert block == {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "vote:cast:1:1",
                "text": {"type": "plain_text", "text": "Outdoor play", "emoji": True},
                "style": "primary",
            },
            {
                "type": "button",
                "action_id": "vote:cast:1:2",
                "text": {"type": "plain_text", "text": "Transitions", "emoji": True},
            },
        ],
    }


def test_button_text_is_capped_at_75_characters():
    button = one(Actions(elements=[Button(action="a:b", label="x" * 100)]))["elements"][0]
    assert len(button["text"]["text"]) == 75 and button["text"]["text"].endswith("…")


def test_a_30_option_poll_keeps_every_option_in_rows_of_25():
    buttons = [Button(action=f"vote:cast:9:{i}", label=f"Topic {i}") for i in range(30)]
    blocks, _ = render_blocks([Section.of("Vote"), Actions(elements=buttons)])
    assert [b["type"] for b in blocks] == ["section", "actions", "actions"]
    assert [len(b["elements"]) for b in blocks[1:]] == [25, 5]
    ids = [e["action_id"] for b in blocks[1:] for e in b["elements"]]
    assert ids == [f"vote:cast:9:{i}" for i in range(30)]


def test_more_than_50_blocks_end_with_a_visible_note():
    blocks = [Section.of(f"Option {i}") for i in range(60)]
    rendered, _ = render_blocks(blocks)
    assert len(rendered) == MAX_MESSAGE_BLOCKS
    assert rendered[48]["text"]["text"] == "Option 48"
    note = rendered[-1]["elements"][0]["text"]
    assert note.startswith("…and 11 more parts not shown")


def test_select_with_options_and_overflow_note():
    select = Select(
        action="vote:rank:1",
        placeholder="Pick",
        options=[Option(value=str(i), label=f"Choice {i}") for i in range(103)],
    )
    blocks, _ = render_blocks([Actions(elements=[select])])
    element = blocks[0]["elements"][0]
    assert element["type"] == "static_select" and element["action_id"] == "vote:rank:1"
    assert len(element["options"]) == 100
    assert element["options"][0] == {
        "text": {"type": "plain_text", "text": "Choice 0", "emoji": True},
        "value": "0",
    }
    assert blocks[1]["elements"][0]["text"] == "…and 3 more choices not shown here."


def test_long_section_is_split_not_cut():
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(60))
    blocks, _ = render_blocks([Section.of(text)])
    assert len(blocks) == 2
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)
    assert "\n".join(b["text"]["text"] for b in blocks) == text


def test_split_never_cuts_a_token_or_entity():
    text = "a" * 2995 + "<@U012A3CDE>" + "&amp;" * 3
    chunks = split_mrkdwn(text, 3000)
    assert chunks[0] == "a" * 2995 and chunks[1].startswith("<@U012A3CDE>")
    assert "".join(chunks) == text
    entity = split_mrkdwn("b" * 2998 + "&amp;", 3000)
    assert entity == ["b" * 2998, "&amp;"]


def test_context_divider_image():
    assert one(Divider()) == {"type": "divider"}
    assert one(Context(parts=["closes ", Time(at=AT, style="date")]))["type"] == "context"
    assert one(Image(url="https://example.org/chart.png", alt="chart")) == {
        "type": "image",
        "image_url": "https://example.org/chart.png",
        "alt_text": "chart",
    }
    local = one(Image(url="file:///tmp/x.png", alt="chart <b>"))
    assert local["elements"][0]["text"] == "[image: chart &lt;b&gt;]"


def test_files_are_collected_for_upload_or_named_where_they_cannot_go():
    f = File(filename="agenda.ics", content=b"x", title="Agenda")
    rendered = render_message(Message(text="t", blocks=[f]))
    assert rendered.files == [f]
    assert rendered.blocks[0]["elements"][0]["text"] == ":paperclip: *agenda.ics* (attached below)"
    private = render_message(Message(text="t", blocks=[f]), files_allowed=False)
    assert private.files == []
    assert "cannot be attached here" in private.blocks[0]["elements"][0]["text"]


def test_unknown_block_type_raises():
    class Weird:
        pass

    with pytest.raises(RenderError):
        render_blocks([Weird()])  # type: ignore[list-item]


def test_text_only_message_has_no_blocks():
    assert render_message(Message(text="hi")).kwargs() == {"text": "hi"}


def test_home_view_holds_up_to_100_blocks():
    view = render_home(Message(text="t", blocks=[Section.of(str(i)) for i in range(120)]))
    assert view["type"] == "home" and len(view["blocks"]) == 100
    assert (
        render_home(Message(text="just <text>"))["blocks"][0]["text"]["text"] == "just &lt;text&gt;"
    )


def test_form_inputs_of_every_kind():
    form = Form(
        form_id="check:answer",
        title="Reflection",
        inputs=[
            Input(name="a", label="Short", placeholder="say", initial="hi"),
            Input(name="b", label="Long", kind="long", required=False, max_length=9000),
            Input(name="c", label="Number", kind="number", initial="3"),
            Input(
                name="d",
                label="Pick",
                kind="select",
                options=[Option(value="x", label="X"), Option(value="y", label="Y")],
                initial="y",
            ),
        ],
        metadata="17",
    )
    view = render_form(form, private_metadata="{}")
    a, b, c, d = (blk["element"] for blk in view["blocks"])
    assert a["type"] == "plain_text_input" and a["initial_value"] == "hi"
    assert a["placeholder"]["text"] == "say"
    assert b["multiline"] is True and b["max_length"] == 3000  # plain_text_input caps at 3,000
    assert c == {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": False,
        "initial_value": "3",
    }
    assert d["type"] == "static_select" and d["initial_option"]["value"] == "y"
    assert view["blocks"][1]["optional"] is True
    with pytest.raises(ValueError):
        render_form(form, private_metadata="x" * 3001)
