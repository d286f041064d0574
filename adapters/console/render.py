"""Renders the neutral UI as plain text lines for the console (deterministic, for transcripts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.ui import (
    Actions,
    Button,
    Context,
    Divider,
    Fields,
    File,
    Form,
    Image,
    Inline,
    Input,
    Mention,
    Message,
    Section,
    Select,
    Time,
    format_time,
)


def inline(parts: list[Inline]) -> str:
    out = []
    for part in parts:
        if isinstance(part, Mention):
            out.append(f"@{part.name}")
        elif isinstance(part, Time):
            out.append(format_time(part))
        else:
            out.append(part)
    return "".join(out)


def _section(block: Section) -> list[str]:
    return inline(block.parts).split("\n")


def _fields(block: Fields) -> list[str]:
    return [f"{f.label}: {inline(f.value)}" for f in block.fields]


def _actions(block: Actions) -> list[str]:
    labels = []
    for el in block.elements:
        if isinstance(el, Button):
            labels.append(el.label)
        elif isinstance(el, Select):
            labels.extend(o.label for o in el.options)
    return [" · ".join(f"{i}) {label}" for i, label in enumerate(labels, 1))]


def _context(block: Context) -> list[str]:
    return [f"({inline(block.parts)})"]


def _divider(_block: Divider) -> list[str]:
    return ["---"]


def _image(block: Image) -> list[str]:
    return [f"[image: {block.alt}]"]


def _file(block: File) -> list[str]:
    return [f"[file: {block.filename}, {len(block.content)} bytes]"]


RENDERERS: dict[type, Callable[[Any], list[str]]] = {
    Section: _section,
    Fields: _fields,
    Actions: _actions,
    Context: _context,
    Divider: _divider,
    Image: _image,
    File: _file,
}


def render(msg: Message) -> list[str]:
    """All lines of a message; a block type with no renderer raises instead of vanishing."""
    if not msg.blocks:
        return msg.text.split("\n")
    lines: list[str] = []
    for block in msg.blocks:
        renderer = RENDERERS.get(type(block))
        if renderer is None:
            raise TypeError(f"console cannot render {type(block).__name__}")
        lines.extend(renderer(block))
    return lines


def form_inputs(form: Form) -> list[Input]:
    """The inputs the console asks for: a form's typed fallback when it has one."""
    return form.fallback or form.inputs


def render_form(form: Form) -> list[str]:
    """A form as lines: each field with its label, whether it is required and its hint."""
    lines = [form.title]
    for field in form_inputs(form):
        need = "required" if field.required else "optional"
        extra = ""
        if field.options:
            extra = "; one of " + ", ".join(o.value for o in field.options)
        lines.append(f"  {field.name}: {field.label} ({need}{extra})")
        if field.hint:
            lines.append(f"    {field.hint}")
    names = " ".join(f"{f.name}=..." for f in form_inputs(form))
    lines.append(f"  answer with :submit {names}")
    return lines


def pressables(msg: Message) -> list[tuple[str, str, str | None]]:
    """(label, action id, select value) for each thing `:press` can choose, in shown order."""
    out: list[tuple[str, str, str | None]] = []
    for block in msg.blocks:
        if isinstance(block, Actions):
            for el in block.elements:
                if isinstance(el, Button):
                    out.append((el.label, el.action, None))
                else:
                    out.extend((o.label, el.action, o.value) for o in el.options)
    return out
