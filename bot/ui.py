"""The neutral message model every feature speaks and every adapter renders.

A feature builds a `Message` (always with plain `text` for notifications and
fallbacks) from blocks; each adapter has one renderer per block type and must
raise on a type it does not know rather than drop it. Models are pydantic so a
message can sit in the outbox as JSON and come back identical.

Example::

    Message(
        text="Vote: next topic",
        blocks=[
            Section.of("Vote closes ", Time(at=closes_at), "."),
            Actions(elements=[Button(action=ActionId("vote", "cast", 42, 3), label="Outdoor play")]),
        ],
    )
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.formats import format_instant
from bot.text import clean, parse_id

if TYPE_CHECKING:
    from bot.i18n import Translator

MAX_ACTION_ID = 100  # Slack action_id and Discord custom_id are both capped at 100 characters.


class ActionIdError(ValueError):
    """An action id that is too long, malformed or carries a separator in a part."""


class ActionId(str):
    """A button's whole state as ``feature:verb:arg:...`` (e.g. ``vote:cast:42:3``).

    It holds ids only, never a secret: the handler re-checks who pressed it. Because
    everything a handler needs is in the id, buttons survive restarts.
    """

    __slots__ = ()

    def __new__(cls, feature: str, verb: str, *args: object) -> ActionId:
        parts = [feature, verb, *(str(a) for a in args)]
        for part in parts:
            if not part or ":" in part or any(c.isspace() for c in part):
                raise ActionIdError(f"bad action id part {part!r}")
        value = ":".join(parts)
        if len(value) > MAX_ACTION_ID:
            raise ActionIdError(f"action id longer than {MAX_ACTION_ID} characters")
        return super().__new__(cls, value)

    @classmethod
    def parse(cls, raw: str) -> ActionId:
        """Decode a string received from a platform; raises `ActionIdError` when invalid."""
        if len(raw) > MAX_ACTION_ID:
            raise ActionIdError(f"action id longer than {MAX_ACTION_ID} characters")
        parts = raw.split(":")
        if len(parts) < 2:
            raise ActionIdError("an action id needs a feature and a verb")
        return cls(*parts)

    @property
    def feature(self) -> str:
        return self.split(":")[0]

    @property
    def verb(self) -> str:
        return self.split(":")[1]

    @property
    def args(self) -> list[str]:
        return self.split(":")[2:]

    def int_arg(self, index: int) -> int:
        """Argument `index` as a database id (`bot.text.parse_id`); `ActionIdError` otherwise.

        A platform hands back whatever a client sends, so ``+1``, ``0_1``, Arabic-Indic digits
        and numbers beyond the database's integer range are refused before any query.
        """
        args = self.args
        value = parse_id(args[index]) if index < len(args) else None
        if value is None:
            raise ActionIdError(f"action id {self!s} lacks id argument {index}")
        return value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")


class Mention(_Model):
    """An inline mention of one member; renderers ping only that member."""

    type: Literal["mention"] = "mention"
    user_id: str
    name: str


class Time(_Model):
    """An instant each viewer sees in their own zone where the platform allows.

    style: ``full`` (weekday, date and time), ``date``, ``time`` or ``relative``.
    """

    type: Literal["time"] = "time"
    at: datetime
    style: Literal["full", "date", "time", "relative"] = "full"
    # The community's IANA zone: used where the platform cannot show the viewer's own zone
    # (console, notification fallbacks).
    zone: str = "UTC"
    # The language of the text around it, for the same fallbacks (Babel formats the date).
    lang: str = "en"

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("Time needs an aware datetime")
        return value


Inline = Annotated[str | Mention | Time, Field(union_mode="left_to_right")]


class Section(_Model):
    """A paragraph of text with inline mentions and times."""

    type: Literal["section"] = "section"
    parts: list[Inline]

    @classmethod
    def of(cls, *parts: str | Mention | Time) -> Section:
        return cls(parts=list(parts))


class Field_(_Model):
    """One label/value pair of a `Fields` block."""

    label: str
    value: list[Inline]


class Fields(_Model):
    """Short label/value pairs shown side by side where the platform can."""

    type: Literal["fields"] = "fields"
    fields: list[Field_]


class Button(_Model):
    """A button; `action` is an `ActionId` string."""

    type: Literal["button"] = "button"
    action: str
    label: str
    style: Literal["default", "primary", "danger"] = "default"


class Option(_Model):
    value: str
    label: str


class Select(_Model):
    """A drop-down whose chosen value is appended to `action` when picked."""

    type: Literal["select"] = "select"
    action: str
    placeholder: str
    options: list[Option]


class Actions(_Model):
    """A row (or, on platforms with small rows, several rows) of interactive elements."""

    type: Literal["actions"] = "actions"
    elements: list[Annotated[Button | Select, Field(discriminator="type")]]


class Divider(_Model):
    type: Literal["divider"] = "divider"


class Context(_Model):
    """Small print under a message: deadlines, counts, hints."""

    type: Literal["context"] = "context"
    parts: list[Inline]


class Image(_Model):
    type: Literal["image"] = "image"
    url: str
    alt: str


class File(_Model):
    """An attachment (chart PNG, .ics, CSV); platforms without files show its name."""

    type: Literal["file"] = "file"
    filename: str
    content: bytes
    title: str
    mime: str = "application/octet-stream"


Block = Annotated[
    Section | Fields | Actions | Divider | Context | Image | File,
    Field(discriminator="type"),
]


class Message(_Model):
    """What gets posted: `text` is always set; `blocks` render natively."""

    text: str
    blocks: list[Block] = []

    def buttons(self) -> list[Button]:
        return [
            el
            for block in self.blocks
            if isinstance(block, Actions)
            for el in block.elements
            if isinstance(el, Button)
        ]


class Input(_Model):
    """One field of a form.

    ``select`` picks one of `options` (value + label), ``multi`` up to `max_selected` of them
    (submitted as the chosen values joined by commas). `hint` is a line shown with the field
    (Slack's input hint, Discord's label description, a console line).
    """

    name: str
    label: str
    kind: Literal["text", "long", "number", "select", "multi"] = "text"
    required: bool = True
    max_length: int = 500
    placeholder: str = ""
    initial: str = ""
    options: list[Option] = []
    max_selected: int = 0  # "multi": at most this many (0: as many as there are options)
    hint: str = ""


class Form(_Model):
    """A modal form opened in reply to an interaction; `metadata` rides along (ids only).

    `fallback`, when set, is what a platform shows instead of `inputs` when it cannot show
    them natively (too many selects or options for its modals; the console types everything).
    A submission then carries the fallback's input names, so the handler reads either set.
    """

    form_id: str
    title: str
    inputs: list[Input]
    submit_label: str = "Submit"
    metadata: str = ""
    fallback: list[Input] = []


def ranking(
    name: str, labels: Sequence[str], options: Sequence[Option], initial: Sequence[str] = ()
) -> list[Input]:
    """An ordered ranking: one single select per place (``1st choice``, ...), best first.

    The inputs are named ``{name}.1``, ``{name}.2``, ...; only the first is required, so a
    voter may stop early. `initial` pre-selects values best first; `ranked_values` reads a
    submission back in order.
    """
    return [
        Input(
            name=f"{name}.{i}",
            label=label,
            kind="select",
            required=i == 1,
            options=list(options),
            initial=initial[i - 1] if i <= len(initial) else "",
        )
        for i, label in enumerate(labels, 1)
    ]


def ranked_values(name: str, values: Mapping[str, str]) -> list[tuple[str, str]] | None:
    """``[(input name, chosen value), ...]`` of a submitted `ranking`, in rank order, blanks
    left out; None when the submission did not come from that ranking (e.g. its fallback)."""
    names = sorted(
        (n for n in values if n.startswith(f"{name}.") and n[len(name) + 1 :].isdigit()),
        key=lambda n: int(n[len(name) + 1 :]),
    )
    if not names:
        return None
    return [(n, values[n].strip()) for n in names if values[n].strip()]


def check_form(
    inputs: Sequence[Input], values: Mapping[str, str], t: Translator
) -> tuple[dict[str, str], dict[str, str]]:
    """A submitted form's values, cleaned, and one sentence per input that is not acceptable.

    The limits are the inputs' own, the ones the form was opened with: a platform enforces
    `max_length` in its modal, but a client can send anything, and nothing is cut silently.
    Only "long" inputs keep line breaks. Returns ``(values, errors)`` by input name.
    """
    out: dict[str, str] = {}
    errors: dict[str, str] = {}
    for field in inputs:
        value = clean(values.get(field.name), multiline=field.kind == "long")
        if not value:
            if field.required:
                errors[field.name] = t("core.refuse.field_empty", label=field.label)
            continue
        if len(value) > field.max_length:
            errors[field.name] = t(
                "core.refuse.field_long", label=field.label, max=field.max_length
            )
        elif field.kind == "number" and not re.fullmatch(r"[0-9]{1,9}", value):
            errors[field.name] = t("core.refuse.field_number", label=field.label)
        elif field.kind == "select" and value not in {o.value for o in field.options}:
            errors[field.name] = t("core.refuse.field_choice", label=field.label)
        elif field.kind == "multi" and not _chosen_ok(field, value):
            errors[field.name] = t("core.refuse.field_choice", label=field.label)
        elif field.kind == "multi" and len(value.split(",")) > (
            field.max_selected or len(field.options)
        ):
            errors[field.name] = t(
                "core.refuse.field_too_many",
                label=field.label,
                max=field.max_selected or len(field.options),
            )
        else:
            out[field.name] = value
    return out, errors


def _chosen_ok(field: Input, value: str) -> bool:
    """A multi select's comma-joined values: each one of its options, none twice."""
    chosen = value.split(",")
    return len(set(chosen)) == len(chosen) and set(chosen) <= {o.value for o in field.options}


class CalendarEvent(_Model):
    """A meeting occurrence mirrored as a platform-native event where one exists (Discord)."""

    name: str
    start: datetime
    end: datetime
    location: str = ""
    description: str = ""
    cancelled: bool = False


def plain(parts: Sequence[str | Mention | Time]) -> str:
    """A platform-neutral plain text rendering, used for fallbacks and logs."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, Mention):
            out.append(f"@{part.name}")
        elif isinstance(part, Time):
            out.append(format_time(part))
        else:
            out.append(part)
    return "".join(out)


def format_time(time: Time) -> str:
    """`time` in its zone and language as text, e.g. ``Tue 1 Dec 2026, 18:30 EST``."""
    style = "full" if time.style == "relative" else time.style
    return format_instant(time.at, time.zone, style, time.lang)
