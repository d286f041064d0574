"""Messages of the challenges feature (neutral ui only): the lines everyone sees, the list,
the facilitators' after-meeting list with its buttons, the form to bring one and the private
question a week after it was discussed.

Who brought a private challenge is shown only in what goes to facilitators; every other
line draws it without a name (`line`).
"""

from __future__ import annotations

from bot.i18n import Translator
from bot.ui import ActionId, Actions, Button, Form, Input, Message, Option, Section
from bot.ui import Context as Small
from storage.challenges import Challenge
from storage.models import Member

FORM_BRING = "challenges.bring"
FORM_NOTE = "challenges.note"
MAX_NOTE = 1000
VISIBILITY = ("open", "private")
SHARE = ("me", "facilitators")


def line(t: Translator, c: Challenge, member: Member, *, names: bool = False) -> str:
    """``#3 “text” (Cara)``; a private one without the name unless `names` (facilitators)."""
    if c.private and names:
        return t(
            "challenges.line_private_named", number=c.number, text=c.text, name=member.display_name
        )
    if c.private:
        return t("challenges.line_private", number=c.number, text=c.text)
    return t("challenges.line", number=c.number, text=c.text, name=member.display_name)


def bring_button(t: Translator, community_id: int) -> Actions:
    return Actions(
        elements=[
            Button(
                action=ActionId("challenge", "bring", community_id),
                label=t("challenges.button.bring"),
                style="primary",
            )
        ]
    )


def bring_inputs(t: Translator) -> list[Input]:
    return [
        Input(
            name="text",
            label=t("challenges.form.text"),
            kind="long",
            max_length=500,
            placeholder=t("challenges.form.text_placeholder"),
        ),
        Input(
            name="visibility",
            label=t("challenges.form.visibility"),
            kind="select",
            options=[Option(value=v, label=t(f"challenges.form.{v}")) for v in VISIBILITY],
            initial="open",
        ),
    ]


def bring_form(t: Translator, community_id: int) -> Form:
    return Form(
        form_id=FORM_BRING,
        title=t("challenges.form.title"),
        inputs=bring_inputs(t),
        submit_label=t("challenges.form.submit"),
        metadata=str(community_id),
        # The same inputs, typed where selects cannot show (the console); set so that Discord,
        # which shows a select natively only in a form that has one, does so here.
        fallback=bring_inputs(t),
    )


def decision_message(
    t: Translator, community_name: str, rows: list[tuple[Challenge, Member]]
) -> Message:
    """To the facilitators after a meeting: each challenge with Discussed / Carry buttons."""
    head = t("challenges.after_head", community=community_name)
    blocks: list[Section | Small | Actions] = [Section.of(head)]
    lines = [head]
    for c, m in rows:
        text = line(t, c, m, names=True)
        lines.append(text)
        blocks.append(Section.of(text))
        blocks.append(
            Actions(
                elements=[
                    Button(
                        action=ActionId("challenge", "done", c.id),
                        label=t("challenges.button.done"),
                        style="primary",
                    ),
                    Button(
                        action=ActionId("challenge", "carry", c.id),
                        label=t("challenges.button.carry"),
                    ),
                ]
            )
        )
    foot = t("challenges.after_foot")
    blocks.append(Small(parts=[foot]))
    lines.append(foot)
    return Message(text="\n".join(lines), blocks=blocks)


def checkin_message(t: Translator, c: Challenge, community_name: str) -> Message:
    head = t("challenges.checkin", number=c.number, text=c.text, community=community_name)
    foot = t("challenges.checkin_private")
    return Message(
        text="\n".join([head, foot]),
        blocks=[
            Section.of(head),
            Actions(
                elements=[
                    Button(
                        action=ActionId("challenge", "tell", c.id),
                        label=t("challenges.button.tell"),
                        style="primary",
                    )
                ]
            ),
            Small(parts=[foot]),
        ],
    )


def note_inputs(t: Translator) -> list[Input]:
    return [
        Input(name="note", label=t("challenges.note.label"), kind="long", max_length=MAX_NOTE),
        Input(
            name="share",
            label=t("challenges.note.share"),
            kind="select",
            options=[Option(value=v, label=t(f"challenges.note.share_{v}")) for v in SHARE],
            initial="me",
        ),
    ]


def note_form(t: Translator, c: Challenge) -> Form:
    return Form(
        form_id=FORM_NOTE,
        title=t("challenges.note.title"),
        inputs=note_inputs(t),
        submit_label=t("challenges.note.submit"),
        metadata=str(c.id),
        fallback=note_inputs(t),
    )
