"""Neutral UI -> Slack Block Kit: one function per block type, limits enforced here.

Every Slack limit the renderer works around is named in a comment next to the code that
enforces it. Overflow always degrades *visibly* (a split block, an ellipsis, a context line
saying how much is not shown), never silently.

Every ``str`` of the neutral model is text, never markup (`escape`): ``&``, ``<``, ``>``
become entities, so ``<!channel>``, ``<!here>``, ``<!subteam^S123>`` or ``<https://x|click>``
typed by a member never ping or hide a link; bold, italic, strike and code markers and a
leading ``>`` (block quote) show as typed. The only pings come from :class:`bot.ui.Mention`
(``<@U...>``); circlebot's own formatting comes from the renderer (bold field labels).

Example::

    rendered = render_message(Message(text="Hi", blocks=[Section.of("Hi ", Mention(...))]))
    await client.chat_postMessage(channel=c, text=rendered.text, blocks=rendered.blocks)
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import Translator
from bot.ui import (
    Actions,
    Block,
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

log = logging.getLogger(__name__)

# -- Slack's limits (https://api.slack.com/reference/block-kit) ---------------------------------
MAX_MESSAGE_BLOCKS = 50  # a message holds at most 50 blocks
MAX_VIEW_BLOCKS = 100  # a modal or App Home view holds at most 100 blocks
MAX_ACTIONS_ELEMENTS = 25  # an actions block holds at most 25 elements
MAX_BUTTON_TEXT = 75  # a button's text is at most 75 characters
MAX_SECTION_TEXT = 3000  # a section's text is at most 3,000 characters
MAX_FIELDS = 10  # a section holds at most 10 fields
MAX_FIELD_TEXT = 2000  # each field's text is at most 2,000 characters
MAX_CONTEXT_TEXT = 3000  # a context element's text (a text object) is at most 3,000 characters
MAX_SELECT_OPTIONS = 100  # a static select holds at most 100 options
MAX_OPTION_TEXT = 75  # an option's text is at most 75 characters
MAX_OPTION_VALUE = 150  # an option's value is at most 150 characters
MAX_PLACEHOLDER = 150  # a placeholder is at most 150 characters
MAX_IMAGE_URL = 3000  # an image block's image_url is at most 3,000 characters
MAX_ALT_TEXT = 2000  # an image block's alt_text is at most 2,000 characters
MAX_MESSAGE_TEXT = 40000  # chat.postMessage truncates `text` beyond 40,000 characters
MAX_MODAL_TITLE = 24  # a modal's title, submit and close labels are at most 24 characters
MAX_INPUT_LABEL = 2000  # an input block's label is at most 2,000 characters
MAX_INPUT_HINT = 2000  # an input block's hint is at most 2,000 characters
MAX_INPUT_LENGTH = 3000  # a plain_text_input's max_length is at most 3,000
MAX_PRIVATE_METADATA = 3000  # a view's private_metadata is at most 3,000 characters

ELLIPSIS = "…"
# Strings go through the catalog; adapters speak English until they learn the community's language.
T = Translator()

_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class RenderError(TypeError):
    """A neutral block (or form input) that has no Slack renderer."""


# mrkdwn has no escape character. A zero-width space on both sides of a marker stops it from
# opening or closing bold/italic/strike/code, whether Slack reads that space as a word
# character (a marker inside a word does not format) or as a space (a marker must touch text).
ZWSP = "\u200b"
_MARKER = re.compile(r"[*_~`]")
# Left as typed, so they keep working: links (clickable, showing where they lead) and emoji
# codes such as :deciduous_tree:, whose underscores are not markup.
_KEEP = re.compile(r"(?:https?|mailto):[^\s<>]+|:[a-z0-9_+'-]+:")
_QUOTE = re.compile(r"^(\s*)&gt;", re.MULTILINE)


def escape(text: str) -> str:
    """User text for mrkdwn, shown as typed: nothing pings, links hide nothing, nothing formats.

    ``&`` ``<`` ``>`` become entities; formatting markers (``*_~```) are fenced with zero-width
    spaces and a line-leading ``>`` gets one in front, so no block quote starts.

    >>> escape("<!channel> & <!here>")
    '&lt;!channel&gt; &amp; &lt;!here&gt;'
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out: list[str] = []
    last = 0
    for keep in _KEEP.finditer(text):
        out.append(_MARKER.sub(lambda m: f"{ZWSP}{m[0]}{ZWSP}", text[last : keep.start()]))
        out.append(keep[0])
        last = keep.end()
    out.append(_MARKER.sub(lambda m: f"{ZWSP}{m[0]}{ZWSP}", text[last:]))
    # Slack starts a block quote at a line's leading "&gt;" (it sends ">" that way itself).
    return _QUOTE.sub(lambda m: f"{m[1]}{ZWSP}&gt;", "".join(out))


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with a visible ellipsis when it was longer."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def _clip_mrkdwn(text: str, limit: int) -> str:
    """Like `clip`, but never cuts inside an ``<...>`` token or an ``&amp;`` entity."""
    if len(text) <= limit:
        return text
    cut = _safe_cut(text, limit - 1)
    return text[:cut] + ELLIPSIS


def _safe_cut(text: str, cut: int) -> int:
    lt, gt = text.rfind("<", 0, cut), text.rfind(">", 0, cut)
    if lt > gt:
        cut = lt
    amp = text.rfind("&", 0, cut)
    if amp != -1 and ";" not in text[amp:cut]:
        cut = amp
    return max(cut, 1)


_DATE_TOKENS = {
    "full": "{date_short_pretty} at {time}",
    "date": "{date_short_pretty}",
    "time": "{time}",
    "relative": "{ago}",
}


def render_time(time: Time) -> str:
    """``<!date^epoch^tokens|fallback>``: Slack shows it in each viewer's own zone.

    The fallback (clients that cannot format dates, notifications) is the time in the
    community's zone, e.g. ``Tue 1 Dec 2026, 18:30 EST``.
    """
    epoch = int(time.at.timestamp())
    fallback = escape(format_time(time)).replace("|", "/")
    return f"<!date^{epoch}^{_DATE_TOKENS[time.style]}|{fallback}>"


def render_mention(mention: Mention) -> str:
    """``<@U...>`` for a Slack user id; anything else shows as escaped ``@name`` (no ping)."""
    if _SLACK_USER_ID.match(mention.user_id):
        return f"<@{mention.user_id}>"
    return "@" + escape(mention.name)


def inline(parts: list[Inline]) -> str:
    """Section/context parts as mrkdwn: text escaped, mentions and times as Slack tokens."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, Mention):
            out.append(render_mention(part))
        elif isinstance(part, Time):
            out.append(render_time(part))
        elif isinstance(part, str):
            out.append(escape(part))
        else:  # pragma: no cover - pydantic keeps other types out
            raise RenderError(f"Slack cannot render inline {type(part).__name__}")
    return "".join(out)


def _plain(text: str, limit: int | None = None) -> dict[str, Any]:
    # plain_text objects are never parsed for mentions or links, so no escaping is needed.
    return {"type": "plain_text", "text": clip(text, limit) if limit else text, "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack's default (false) parses bare "@here"/"@channel" and #names in mrkdwn
    # text objects; user text must never ping, so only explicit <@U...> tokens do.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def split_mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Split mrkdwn into chunks of at most `limit` characters, at line breaks where possible.

    Tokens (``<@U1>``, ``<!date^...>``) and entities (``&amp;``) are never cut in half.
    """
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        while len(line) > limit:
            cut = _safe_cut(line, limit)
            chunks.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        chunks.append(current)
    return chunks


# -- one renderer per neutral block type --------------------------------------------------------


@dataclass
class _Out:
    """What rendering a message produces besides blocks: files to upload, notes to show."""

    files: list[File] = field(default_factory=list)
    files_allowed: bool = True


def _section(block: Section, out: _Out) -> list[dict[str, Any]]:
    # Section text is capped at 3,000 characters: a longer paragraph continues in the next
    # section block instead of being cut.
    return [
        {"type": "section", "text": _mrkdwn(chunk)} for chunk in split_mrkdwn(inline(block.parts))
    ]


def _bold(label: str) -> str:
    """circlebot's bold around an escaped label; not where the label starts or ends with a
    fenced marker, since a zero-width space next to the bold's own ``*`` may stop it."""
    text = escape(label)
    return text if text.startswith(ZWSP) or text.endswith(ZWSP) else f"*{text}*"


def _fields(block: Fields, out: _Out) -> list[dict[str, Any]]:
    texts = [
        _clip_mrkdwn(f"{_bold(f.label)}\n{inline(f.value)}", MAX_FIELD_TEXT) for f in block.fields
    ]
    # At most 10 fields per section: more continue in further sections.
    return [
        {"type": "section", "fields": [_mrkdwn(t) for t in texts[i : i + MAX_FIELDS]]}
        for i in range(0, len(texts), MAX_FIELDS)
    ]


def _button(el: Button) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "button",
        "action_id": el.action,
        # Button text is capped at 75 characters: longer labels end in an ellipsis.
        "text": _plain(el.label, MAX_BUTTON_TEXT),
    }
    if el.style != "default":
        out["style"] = el.style
    return out


def _option(value: str, label: str) -> dict[str, Any]:
    # Option text is capped at 75 characters and values at 150.
    return {"text": _plain(label, MAX_OPTION_TEXT), "value": value[:MAX_OPTION_VALUE]}


def _select(el: Select) -> tuple[dict[str, Any], int]:
    # A static select holds at most 100 options; the caller says how many were left out.
    shown = el.options[:MAX_SELECT_OPTIONS]
    return (
        {
            "type": "static_select",
            "action_id": el.action,
            "placeholder": _plain(el.placeholder or "Choose", MAX_PLACEHOLDER),
            "options": [_option(o.value, o.label) for o in shown],
        },
        len(el.options) - len(shown),
    )


def _actions(block: Actions, out: _Out) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    hidden = 0
    for el in block.elements:
        if isinstance(el, Button):
            elements.append(_button(el))
        elif isinstance(el, Select):
            rendered, left_out = _select(el)
            elements.append(rendered)
            hidden += left_out
        else:  # pragma: no cover - pydantic keeps other types out
            raise RenderError(f"Slack cannot render element {type(el).__name__}")
    # An actions block holds at most 25 elements: more buttons continue in another row.
    blocks: list[dict[str, Any]] = [
        {"type": "actions", "elements": elements[i : i + MAX_ACTIONS_ELEMENTS]}
        for i in range(0, len(elements), MAX_ACTIONS_ELEMENTS)
    ]
    if hidden:
        blocks.append(
            {
                "type": "context",
                "elements": [_mrkdwn(T("adapters.slack.more_choices", hidden=hidden))],
            }
        )
    return blocks


def _context(block: Context, out: _Out) -> list[dict[str, Any]]:
    # A context text is capped at 3,000 characters: longer text ends in an ellipsis.
    return [
        {
            "type": "context",
            "elements": [_mrkdwn(_clip_mrkdwn(inline(block.parts), MAX_CONTEXT_TEXT))],
        }
    ]


def _divider(block: Divider, out: _Out) -> list[dict[str, Any]]:
    return [{"type": "divider"}]


def _image(block: Image, out: _Out) -> list[dict[str, Any]]:
    # image_url must be a public http(s) URL of at most 3,000 characters; otherwise the
    # image shows as its description.
    if not block.url.startswith(("https://", "http://")) or len(block.url) > MAX_IMAGE_URL:
        return [{"type": "context", "elements": [_mrkdwn(f"[image: {escape(block.alt)}]")]}]
    return [
        {
            "type": "image",
            "image_url": block.url,
            "alt_text": clip(block.alt or "image", MAX_ALT_TEXT),
        }
    ]


def _file(block: File, out: _Out) -> list[dict[str, Any]]:
    # Files are not blocks in Slack: they are uploaded (files_upload_v2) after the message.
    # Ephemeral replies, modals and edits cannot carry files, so there the name is shown.
    name = escape(block.filename)
    if out.files_allowed:
        out.files.append(block)
        text = T("adapters.slack.file_attached", name=name)
    else:
        text = T("adapters.slack.file_not_here", name=name)
    return [{"type": "context", "elements": [_mrkdwn(text)]}]


RENDERERS: dict[type, Callable[[Any, _Out], list[dict[str, Any]]]] = {
    Section: _section,
    Fields: _fields,
    Actions: _actions,
    Context: _context,
    Divider: _divider,
    Image: _image,
    File: _file,
}


def render_blocks(
    blocks: list[Block], *, max_blocks: int = MAX_MESSAGE_BLOCKS, files_allowed: bool = True
) -> tuple[list[dict[str, Any]], list[File]]:
    """Block Kit blocks (at most `max_blocks`) and the files to upload after posting.

    A block type without a renderer raises :class:`RenderError`.
    """
    out = _Out(files_allowed=files_allowed)
    rendered: list[dict[str, Any]] = []
    for block in blocks:
        renderer = RENDERERS.get(type(block))
        if renderer is None:
            raise RenderError(f"Slack cannot render {type(block).__name__}")
        rendered.extend(renderer(block, out))
    if len(rendered) > max_blocks:
        # A message holds at most 50 blocks (a view 100): keep the first ones and say how many
        # are not shown, in the last slot.
        hidden = len(rendered) - (max_blocks - 1)
        log.warning("message has %d Slack blocks; %d not shown", len(rendered), hidden)
        rendered = rendered[: max_blocks - 1]
        rendered.append(
            {
                "type": "context",
                "elements": [
                    _mrkdwn(T("adapters.slack.more_parts", hidden=hidden, max=max_blocks))
                ],
            }
        )
    return rendered, out.files


@dataclass(frozen=True)
class Rendered:
    """A message ready for chat.postMessage / chat.update / ack(): text, blocks and files."""

    text: str
    blocks: list[dict[str, Any]]
    files: list[File]

    def kwargs(self) -> dict[str, Any]:
        """`text` and, when there are any, `blocks` for the Web API or an ack."""
        out: dict[str, Any] = {"text": self.text}
        if self.blocks:
            out["blocks"] = self.blocks
        return out


def render_message(msg: Message, *, files_allowed: bool = True) -> Rendered:
    """The whole message; `text` (notifications, fallbacks) is escaped like block text."""
    blocks, files = render_blocks(msg.blocks, files_allowed=files_allowed)
    # chat.postMessage truncates text beyond 40,000 characters; cut it visibly first.
    text = _clip_mrkdwn(escape(msg.text), MAX_MESSAGE_TEXT)
    return Rendered(text=text or " ", blocks=blocks, files=files)


def render_home(msg: Message) -> dict[str, Any]:
    """An App Home view (``views.publish``) showing `msg`; views hold up to 100 blocks."""
    if msg.blocks:
        blocks, _ = render_blocks(msg.blocks, max_blocks=MAX_VIEW_BLOCKS, files_allowed=False)
    else:
        blocks = [
            {"type": "section", "text": _mrkdwn(chunk)} for chunk in split_mrkdwn(escape(msg.text))
        ][:MAX_VIEW_BLOCKS]
    return {"type": "home", "blocks": blocks}


# -- forms as modals ----------------------------------------------------------------------------

INPUT_ACTION_ID = "value"


def _input_element(field_: Input) -> dict[str, Any]:
    if field_.kind in ("text", "long"):
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": INPUT_ACTION_ID,
            "multiline": field_.kind == "long",
            # plain_text_input's max_length is at most 3,000.
            "max_length": max(1, min(field_.max_length, MAX_INPUT_LENGTH)),
        }
        if field_.initial:
            element["initial_value"] = field_.initial[:MAX_INPUT_LENGTH]
    elif field_.kind == "number":
        element = {
            "type": "number_input",
            "action_id": INPUT_ACTION_ID,
            "is_decimal_allowed": False,
        }
        if field_.initial:
            element["initial_value"] = field_.initial
    elif field_.kind == "select":
        # A static select holds at most 100 options (forms list a handful in practice).
        options = [_option(o.value, o.label) for o in field_.options[:MAX_SELECT_OPTIONS]]
        element = {"type": "static_select", "action_id": INPUT_ACTION_ID, "options": options}
        initial = next((o for o in options if o["value"] == field_.initial), None)
        if initial is not None:
            element["initial_option"] = initial
    elif field_.kind == "multi":
        # A multi_static_select holds at most 100 options too; max_selected_items caps picks.
        options = [_option(o.value, o.label) for o in field_.options[:MAX_SELECT_OPTIONS]]
        element = {"type": "multi_static_select", "action_id": INPUT_ACTION_ID, "options": options}
        if field_.max_selected:
            element["max_selected_items"] = field_.max_selected
        chosen = set(field_.initial.split(","))
        if picked := [o for o in options if o["value"] in chosen]:
            element["initial_options"] = picked
    else:  # pragma: no cover - pydantic keeps other kinds out
        raise RenderError(f"Slack cannot render input kind {field_.kind}")
    if field_.placeholder:
        element["placeholder"] = _plain(field_.placeholder, MAX_PLACEHOLDER)
    return element


def modal_inputs(form: Form) -> list[Input]:
    """The form's own inputs, or its fallback when they do not fit a modal: more than 100
    input blocks, or a select with more than 100 options (Slack's limits)."""
    fits = len(form.inputs) <= MAX_VIEW_BLOCKS and all(
        len(f.options) <= MAX_SELECT_OPTIONS for f in form.inputs if f.kind in ("select", "multi")
    )
    return form.inputs if fits or not form.fallback else form.fallback


def _input_block(field_: Input) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": field_.name,
        "optional": not field_.required,
        "label": _plain(field_.label, MAX_INPUT_LABEL),
        "element": _input_element(field_),
    }
    if field_.hint:
        block["hint"] = _plain(field_.hint, MAX_INPUT_HINT)
    return block


def render_form(form: Form, *, private_metadata: str) -> dict[str, Any]:
    """A modal view for ``views.open``; each input's block_id is its name.

    `private_metadata` (at most 3,000 characters) carries the form's own metadata plus where
    it was opened, because a view_submission payload names no channel.
    """
    if len(private_metadata) > MAX_PRIVATE_METADATA:
        raise ValueError("form metadata is longer than Slack's 3,000 characters")
    blocks = [_input_block(f) for f in modal_inputs(form)]
    if len(blocks) > MAX_VIEW_BLOCKS:
        raise ValueError("a Slack modal holds at most 100 inputs")
    return {
        "type": "modal",
        "callback_id": form.form_id,
        # Modal title/submit/close are capped at 24 characters: longer ones end in an ellipsis.
        "title": _plain(form.title, MAX_MODAL_TITLE),
        "submit": _plain(form.submit_label, MAX_MODAL_TITLE),
        "close": _plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": private_metadata,
        "blocks": blocks,
    }


def form_metadata(metadata: str, channel_id: str, channel_name: str, is_dm: bool) -> str:
    """What `render_form` stores in private_metadata (see `parse.form_origin`)."""
    return json.dumps(
        {"m": metadata, "c": channel_id, "n": channel_name[:80], "d": is_dm},
        separators=(",", ":"),
    )
