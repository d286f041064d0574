"""The Discord renderer: every neutral block, every Discord limit, visible degradation."""

from __future__ import annotations

from datetime import UTC, datetime

import discord
import pytest

from adapters.discord.render import (
    CONTINUED,
    MAX_BUTTON_LABEL,
    MAX_CONTENT,
    MAX_EMBED_DESCRIPTION,
    MAX_MODAL_TITLE,
    MAX_PARTS,
    ActionItem,
    Part,
    build_modal,
    form_custom_id,
    render,
)
from bot.ui import (
    ActionId,
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
EPOCH = int(AT.timestamp())


def _components(part: Part) -> list[dict]:
    view = part.view()
    return view.to_components() if view is not None else []


def _buttons(n: int, poll: int = 42) -> Actions:
    return Actions(
        elements=[
            Button(action=ActionId("vote", "cast", poll, i), label=f"Topic {i}") for i in range(n)
        ]
    )


def test_text_only_message_goes_in_content_with_mentions_and_times() -> None:
    msg = Message(
        text="fallback",
        blocks=[
            Section.of(Mention(user_id="123", name="ana"), " meets ", Time(at=AT), "."),
            Section.of(
                "Starts ", Time(at=AT, style="relative"), ", on ", Time(at=AT, style="date")
            ),
            Context(parts=["at ", Time(at=AT, style="time")]),
            Divider(),
            Section.of(Mention(user_id="not-a-snowflake", name="console-bob"), " too"),
        ],
    )
    [part] = render(msg)
    assert part.embeds == []
    assert part.content == (
        f"<@123> meets <t:{EPOCH}:F>.\n"
        f"Starts <t:{EPOCH}:R>, on <t:{EPOCH}:D>\n"
        f"-# at <t:{EPOCH}:t>\n"
        "──────────\n"
        "@console-bob too"
    )
    assert part.mentions == [123]
    assert part.allowed_mentions().to_dict() == {"parse": [], "users": [123]}


def test_message_without_blocks_uses_its_text_and_pings_nobody() -> None:
    [part] = render(Message(text="@everyone @here <@&99> look"))
    assert part.content == "@\u200beveryone @\u200bhere \\<@&99> look"  # shown as typed
    assert part.allowed_mentions().to_dict() == {"parse": []}


def test_fields_actions_and_images_make_an_embed_in_block_order() -> None:
    msg = Message(
        text="Results",
        blocks=[
            Section.of("Results for ", Mention(user_id="7", name="ben")),
            Fields(fields=[Field_(label="Outdoor play", value=["3 votes"])]),
            Context(parts=["Closed ", Time(at=AT)]),
            Image(url="https://example.org/chart.png", alt="chart"),
            Actions(
                elements=[
                    Button(action="vote:cast:1:0", label="Again", style="primary"),
                    Button(action="vote:close:1", label="Close", style="danger"),
                    Button(action="vote:info:1", label="Info"),
                ]
            ),
        ],
    )
    [part] = render(msg)
    first, second = part.embeds
    assert first.description == "Results for <@7>"
    assert [(f.name, f.value, f.inline) for f in first.fields] == [
        ("Outdoor play", "3 votes", True)
    ]
    # Text after fields starts a new embed, so the order of blocks is kept.
    assert second.description == f"-# Closed <t:{EPOCH}:F>"
    assert second.image.url == "https://example.org/chart.png"
    # Mentions do not ping from embeds: the member is named in content to be pinged.
    assert part.content == "<@7>" and part.mentions == [7]
    [row] = _components(part)
    assert [(b["custom_id"], b["style"]) for b in row["components"]] == [
        ("vote:cast:1:0", 1),
        ("vote:close:1", 4),
        ("vote:info:1", 2),
    ]
    assert all(isinstance(item, ActionItem) for item in part.view().children)


def test_file_becomes_an_attachment() -> None:
    msg = Message(
        text="Calendar",
        blocks=[
            Section.of("Add it to your calendar"),
            File(filename="meeting.ics", content=b"BEGIN:VCALENDAR", title="Meeting"),
        ],
    )
    [part] = render(msg)
    [file] = part.discord_files()
    assert file.filename == "meeting.ics" and file.fp.read() == b"BEGIN:VCALENDAR"
    assert "files" in part.kwargs() and part.kwargs(edit=True)["attachments"]


def test_too_many_files_and_too_large_files_are_named_not_dropped() -> None:
    files = [File(filename=f"f{i}.csv", content=b"x", title="f") for i in range(11)]
    big = File(filename="huge.png", content=b"x" * (10 * 1024 * 1024 + 1), title="huge")
    [part] = render(Message(text="files", blocks=[Section.of("Files"), *files, big]))
    assert len(part.files) == 10
    assert "f10.csv is not attached" in part.content and "huge.png is too large" in part.content


def test_select_renders_options_and_more_than_25_degrade_visibly() -> None:
    select = Select(
        action="meet:rsvp:5",
        placeholder="Your answer",
        options=[Option(value=str(i), label=f"Option {i}") for i in range(30)],
    )
    [part] = render(Message(text="pick", blocks=[Section.of("Pick"), Actions(elements=[select])]))
    [row] = _components(part)
    [menu] = row["components"]
    assert menu["custom_id"] == "meet:rsvp:5" and menu["placeholder"] == "Your answer"
    assert len(menu["options"]) == 25  # Discord's limit
    assert "(5 more options not in the menu: Option 25, Option 26" in part.embeds[-1].description


def test_buttons_five_a_row_and_a_select_takes_its_own_row() -> None:
    select = Select(action="x:pick:1", placeholder="p", options=[Option(value="a", label="A")])
    msg = Message(
        text="b", blocks=[Section.of("b"), Actions(elements=[*_buttons(7).elements, select])]
    )
    [part] = render(msg)
    rows = _components(part)
    assert [len(r["components"]) for r in rows] == [5, 2, 1]
    assert rows[2]["components"][0]["type"] == 3


def test_long_button_labels_are_cut_visibly() -> None:
    msg = Message(text="b", blocks=[Actions(elements=[Button(action="a:b", label="L" * 120)])])
    [part] = render(msg)
    label = _components(part)[0]["components"][0]["label"]
    assert len(label) == MAX_BUTTON_LABEL and label.endswith("…")


def test_a_poll_with_30_options_degrades_visibly_into_a_continuation_message() -> None:
    msg = Message(
        text="Vote: next topic",
        blocks=[
            Section.of("Vote: next topic"),
            Fields(fields=[Field_(label=f"Topic {i}", value=["0 votes"]) for i in range(30)]),
            _buttons(30),
            Context(parts=["Closes ", Time(at=AT)]),
        ],
    )
    first, second = render(msg)
    # 30 fields: 25 in the first embed, the rest in the next (25 fields per embed).
    assert [len(e.fields) for e in first.embeds[:2]] == [25, 5]
    # 25 buttons (5 rows of 5) in the first message, the last 5 in a continuation message.
    assert sum(len(r["components"]) for r in _components(first)) == 25
    assert second.content == CONTINUED and second.embeds == []
    [row] = _components(second)
    assert [b["custom_id"] for b in row["components"]] == [
        f"vote:cast:42:{i}" for i in range(25, 30)
    ]


def test_long_description_is_split_into_continued_embeds() -> None:
    line = "A reflection on outdoor play. " * 3
    text = "\n".join(f"{i}: {line}" for i in range(60))  # ~6,000 characters
    parts = render(Message(text="long", blocks=[Section.of(text), _buttons(1)]))
    embeds = [e for p in parts for e in p.embeds]
    assert len(embeds) == 2
    assert all(len(e.description) <= MAX_EMBED_DESCRIPTION for e in embeds)
    assert embeds[0].description.endswith(CONTINUED)
    joined = embeds[0].description.removesuffix(CONTINUED) + embeds[1].description
    assert joined.split() == text.split()  # nothing lost
    assert all(sum(len(e) for e in p.embeds) <= 6000 for p in parts)


def test_long_plain_text_over_2000_characters_becomes_an_embed() -> None:
    [part] = render(Message(text="x " * 1500))
    assert part.content is None and len(part.embeds[0].description) <= MAX_EMBED_DESCRIPTION


def test_more_than_three_messages_is_capped_with_a_note() -> None:
    text = "\n".join("word " * 190 for _ in range(60))  # ~57,000 characters
    parts = render(Message(text="huge", blocks=[Section.of(text), _buttons(1)]))
    assert len(parts) == MAX_PARTS
    assert "more message(s) did not fit on Discord" in parts[-1].embeds[-1].description
    assert all(len(p.content or "") <= MAX_CONTENT for p in parts)


def test_duplicate_custom_ids_are_shown_as_a_note() -> None:
    dup = Actions(elements=[Button(action="a:b", label="One"), Button(action="a:b", label="Two")])
    [part] = render(Message(text="d", blocks=[Section.of("d"), dup]))
    assert len(_components(part)[0]["components"]) == 1
    assert "The button “Two” cannot be shown on Discord." in part.embeds[-1].description


def test_unknown_block_type_raises() -> None:
    class Mystery:
        pass

    msg = Message.model_construct(text="?", blocks=[Mystery()])
    with pytest.raises(TypeError, match="discord cannot render Mystery"):
        render(msg)


def test_modal_from_a_form_respects_discord_limits() -> None:
    form = Form(
        form_id="reflect",
        title="A reflection on this month's meeting and what you will try",
        inputs=[
            Input(
                name="answer",
                label="What will you try in your room next week, and why?",
                kind="long",
                max_length=9000,
            ),
            Input(
                name="share",
                label="Share?",
                kind="select",
                options=[Option(value="yes", label="Yes"), Option(value="no", label="No")],
            ),
            *[Input(name=f"extra{i}", label="x") for i in range(5)],
        ],
        metadata="12:34",
    )
    custom_id = form_custom_id(form)
    assert custom_id == "form:reflect:12:34"
    modal = build_modal(form, custom_id)
    payload = modal.to_dict()
    assert len(payload["title"]) == MAX_MODAL_TITLE and payload["title"].endswith("…")
    inputs = [row["components"][0] for row in payload["components"]]
    assert len(inputs) == 5  # Discord: 5 inputs per modal
    assert inputs[0]["style"] == 2 and inputs[0]["max_length"] == 4000
    assert len(inputs[0]["label"]) == 45
    assert inputs[1]["placeholder"] == "One of: yes, no"
    assert form_custom_id(form.model_copy(update={"metadata": "9" * 95})) is None


def test_action_item_template_matches_action_ids_only() -> None:
    pattern = ActionItem.__discord_ui_compiled_template__
    assert pattern.fullmatch("vote:cast:42:3") and pattern.fullmatch("agree:sign:7")
    assert not pattern.fullmatch("novote") and not pattern.fullmatch("a: b")
    assert isinstance(
        ActionItem(discord.ui.Button(custom_id="a:b", label="x")).item, discord.ui.Button
    )
