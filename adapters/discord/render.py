"""Renders the neutral UI as Discord messages: content or embeds, buttons and selects, files.

One function per block type (`RENDERERS`); a type without one raises instead of vanishing.
Every Discord limit the renderer works around is a named constant with a comment; content
over a limit is split into continuation embeds or messages marked "…(continued)", or cut
with a visible note, never dropped silently.

Every ``str`` of the neutral model is text, never markup: `escape` makes masked links,
headings, block quotes, lists, bold/italic/strike/code/spoiler markers and mention syntax typed
by a member show as typed. circlebot's own formatting comes from the renderer alone (``-#``
small print, embed fields, ``<@id>`` for a `Mention`, ``<t:...>`` for a `Time`); bare links
stay clickable. A message pings at most `MAX_ALLOWED_MENTIONS` members (see `_pings`).

Example::

    parts = render(Message(text="Vote", blocks=[...]))
    for part in parts:          # usually one; long messages become up to MAX_PARTS
        await channel.send(**part.kwargs())
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.i18n import Translator
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
)

log = logging.getLogger(__name__)

# --- Discord limits (https://discord.com/developers/docs/resources/message and .../components)
MAX_CONTENT = 2000  # message content: 2,000 characters
MAX_EMBED_DESCRIPTION = 4096  # embed description: 4,096 characters
MAX_EMBED_TOTAL = 6000  # all embeds of one message together: 6,000 characters
MAX_EMBEDS = 10  # embeds per message: 10
MAX_FIELDS = 25  # fields per embed: 25
MAX_FIELD_NAME = 256  # embed field name: 256 characters
MAX_FIELD_VALUE = 1024  # embed field value: 1,024 characters
MAX_ROWS = 5  # action rows per message: 5
MAX_BUTTONS_PER_ROW = 5  # buttons per action row: 5 (a select fills a whole row)
MAX_BUTTON_LABEL = 80  # button label: 80 characters
MAX_SELECT_OPTIONS = 25  # options per select menu: 25
MAX_SELECT_PLACEHOLDER = 150  # select placeholder: 150 characters
MAX_OPTION_TEXT = 100  # select option label and value: 100 characters each
MAX_CUSTOM_ID = 100  # custom_id of a button, select or modal: 100 characters
MAX_FILES = 10  # attachments per message: 10
MAX_FILE_BYTES = 10 * 1024 * 1024  # upload limit for bots without boosts: 10 MiB
MAX_MODAL_TITLE = 45  # modal title: 45 characters
MAX_MODAL_INPUTS = 5  # components per modal: 5
MAX_INPUT_LABEL = 45  # text input label: 45 characters
MAX_INPUT_PLACEHOLDER = 100  # text input placeholder: 100 characters
MAX_INPUT_LENGTH = 4000  # text input value / max_length: 4,000 characters
MODAL_TIMEOUT = 15 * 60  # an interaction token (and so an open modal) lives 15 minutes
# Our own cap: a neutral message becomes at most this many Discord messages, so all their
# ids fit in one MessageRef.message_id ("id,id,id" <= 64 characters in the outbox row).
MAX_PARTS = 3
# allowed_mentions.users holds at most 100 ids, or Discord refuses the whole message (400,
# "Must be 100 or fewer in length"). Each Discord message pings the first 100 members it names;
# the rest are shown the same way (``<@id>`` shows their name) without a ping.
MAX_ALLOWED_MENTIONS = 100

# Strings go through the catalog; adapters speak English until they learn the community's language.
T = Translator()
CONTINUED = T("adapters.discord.continued")
EMBED_COLOUR = discord.Colour(0x3B82F6)

BUTTON_STYLES = {
    "default": discord.ButtonStyle.secondary,
    "primary": discord.ButtonStyle.primary,
    "danger": discord.ButtonStyle.danger,
}
TIME_STYLES = {"full": "F", "date": "D", "time": "t", "relative": "R"}


class ActionItem(
    discord.ui.DynamicItem[discord.ui.Item[Any]],
    # Any ActionId (bot.ui): ``feature:verb[:arg...]``, parts without ':' or whitespace.
    template=r"(?P<id>[^:\s]+:[^:\s]+(?::[^:\s]+)*)",
):
    """A button or select whose custom_id is the core's ActionId.

    Registered with ``client.add_dynamic_items`` at start, so presses on messages sent
    before a restart still arrive; the press goes to the adapter that owns the client.
    """

    def __init__(self, item: discord.ui.Item[Any]) -> None:
        super().__init__(item)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> ActionItem:
        return cls(item)

    async def callback(self, interaction: discord.Interaction) -> None:
        value = None
        if isinstance(self.item, discord.ui.Select) and self.item.values:
            value = self.item.values[0]
        adapter = getattr(interaction.client, "circlebot", None)
        if adapter is None:
            log.warning("action pressed on a client without circlebot")
            return
        await adapter.on_press(interaction, self.custom_id, value)


# --------------------------------------------------------------------------------------------
# Inline text
# --------------------------------------------------------------------------------------------


@dataclass
class _Acc:
    """What the block renderers collect for one neutral message."""

    embeds: list[discord.Embed] = field(default_factory=list)
    rows: list[list[discord.ui.Item[Any]]] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    mentions: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # content mode: paragraphs
    custom_ids: set[str] = field(default_factory=set)

    def embed(self, *, fresh: bool = False) -> discord.Embed:
        """The embed text goes into: a new one after fields or an image, so order is kept."""
        if fresh or not self.embeds or self.embeds[-1].fields or self.embeds[-1].image.url:
            self.embeds.append(discord.Embed(colour=EMBED_COLOUR, description=""))
        return self.embeds[-1]

    def add_text(self, line: str) -> None:
        self.text.append(line)
        embed = self.embed()
        embed.description = f"{embed.description}\n{line}" if embed.description else line


# Markdown anywhere in a line: emphasis, strike, spoiler, code, masked links ("[x](y)") and the
# "<...>" of mentions, channels, times, emoji and commands; and at a line's start: headings,
# "-#" small print, quotes and list items. (`discord.utils.escape_markdown` matches a masked
# link greedily to the line's last ")", leaving markup after it live, so it is not used.)
_INLINE = re.compile(r"[\\*_~|`\[\]<]")
_LINE_START = re.compile(r"^(\s*)([#>+-])", re.MULTILINE)
_ORDERED_ITEM = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)
# A link ends before a backslash: one typed right after it would otherwise stay unescaped and
# turn the "\<" that escapes a following "<@id>" into an escaped backslash and a live pill.
_URL = re.compile(r"https?://[^\s<\\]+[^<.,:;\"')\]\s\\]")
_EVERYONE = re.compile(r"@(everyone|here)\b")


def _escape_inline(text: str) -> str:
    return _INLINE.sub(lambda m: "\\" + m[0], text)


def escape(text: str) -> str:
    r"""`text` shown as typed: no markdown, masked link, heading, quote, list or mention syntax.

    A backslash before punctuation shows the character itself (``# Big`` -> ``\# Big``,
    ``[click](https://evil.example)`` -> ``\[click\](https://evil.example)``, ``<@&1>`` ->
    ``\<@&1>``). Bare links are left alone: they stay clickable and show where they lead.
    """
    out: list[str] = []
    last = 0
    for url in _URL.finditer(text):
        out += [_escape_inline(text[last : url.start()]), url[0]]
        last = url.end()
    out.append(_escape_inline(text[last:]))
    text = _LINE_START.sub(lambda m: m[1] + "\\" + m[2], "".join(out))
    text = _ORDERED_ITEM.sub(r"\1\\.", text)
    # allowed_mentions already stops the ping; a zero-width space stops the highlight too.
    return _EVERYONE.sub("@\u200b\\1", text)


def inline(parts: list[Inline], acc: _Acc | None = None) -> str:
    """Inline parts as Discord markup: text escaped, ``<@id>`` mentions, ``<t:epoch:F>`` times."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, Mention):
            if part.user_id.isdigit():
                out.append(f"<@{part.user_id}>")
                if acc is not None and int(part.user_id) not in acc.mentions:
                    acc.mentions.append(int(part.user_id))
            else:  # not a Discord snowflake (e.g. a name typed by hand): show it, never ping
                out.append("@" + escape(part.name))
        elif isinstance(part, Time):
            # Each viewer sees the instant in their own zone and language.
            out.append(f"<t:{int(part.at.timestamp())}:{TIME_STYLES[part.style]}>")
        else:
            out.append(escape(part))
    return "".join(out)


def _cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, ending in "…" when it was cut (visible)."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if (len(head) - len(head.rstrip("\\"))) % 2:  # never leave half of a "\\*" escape
        head = head[:-1]
    return head + "…"


# --------------------------------------------------------------------------------------------
# One renderer per block type
# --------------------------------------------------------------------------------------------


def _section(block: Section, acc: _Acc) -> None:
    acc.add_text(inline(block.parts, acc))


def _context(block: Context, acc: _Acc) -> None:
    # "-# " is Discord's small-print (subtext) markdown; embed footers cannot show times.
    acc.add_text("\n".join(f"-# {line}" for line in inline(block.parts, acc).split("\n")))


def _divider(_block: Divider, acc: _Acc) -> None:
    acc.add_text("──────────")


def _fields(block: Fields, acc: _Acc) -> None:
    embed = acc.embed() if not acc.embeds or not acc.embeds[-1].image.url else acc.embed(fresh=True)
    for f in block.fields:
        if len(embed.fields) >= MAX_FIELDS:  # 25 fields per embed: go on in a new one
            embed = acc.embed(fresh=True)
        value = inline(f.value, acc) or "\u200b"
        label = escape(f.label)
        acc.text.append(f"{label}: {value}")
        embed.add_field(
            name=_cut(label, MAX_FIELD_NAME) or "\u200b",
            value=_cut(value, MAX_FIELD_VALUE),
            inline=True,
        )


def _image(block: Image, acc: _Acc) -> None:
    embed = acc.embeds[-1] if acc.embeds and not acc.embeds[-1].image.url else None
    if embed is None:
        embed = acc.embed(fresh=True)
    embed.set_image(url=block.url)
    acc.text.append(f"[{escape(block.alt)}]({block.url})")


def _file(block: File, acc: _Acc) -> None:
    if len(block.content) > MAX_FILE_BYTES:
        acc.notes.append(T("adapters.discord.file_too_large", name=escape(block.filename)))
        return
    if len(acc.files) >= MAX_FILES:
        acc.notes.append(T("adapters.discord.too_many_files", name=escape(block.filename)))
        return
    acc.files.append(block)


def _button(el: Button, acc: _Acc) -> discord.ui.Item[Any] | None:
    if len(el.action) > MAX_CUSTOM_ID or el.action in acc.custom_ids:
        # custom_id: 100 characters, unique per message.
        acc.notes.append(f"(The button “{escape(el.label)}” cannot be shown on Discord.)")
        return None
    acc.custom_ids.add(el.action)
    return ActionItem(
        discord.ui.Button(
            label=_cut(el.label, MAX_BUTTON_LABEL),
            style=BUTTON_STYLES[el.style],
            custom_id=el.action,
        )
    )


def _select(el: Select, acc: _Acc) -> discord.ui.Item[Any] | None:
    if len(el.action) > MAX_CUSTOM_ID or el.action in acc.custom_ids:
        acc.notes.append(f"(The menu “{escape(el.placeholder)}” cannot be shown on Discord.)")
        return None
    acc.custom_ids.add(el.action)
    options = el.options[:MAX_SELECT_OPTIONS]  # 25 options per select menu
    if len(el.options) > MAX_SELECT_OPTIONS:
        hidden = el.options[MAX_SELECT_OPTIONS:]
        names = ", ".join(escape(o.label) for o in hidden)
        acc.notes.append(
            _cut(
                T("adapters.discord.more_options", count=len(hidden), names=names), MAX_FIELD_VALUE
            )
        )
    return ActionItem(
        discord.ui.Select(
            custom_id=el.action,
            placeholder=_cut(el.placeholder, MAX_SELECT_PLACEHOLDER) or None,
            options=[
                discord.SelectOption(
                    label=_cut(o.label, MAX_OPTION_TEXT) or "\u200b",
                    value=o.value[:MAX_OPTION_TEXT],
                )
                for o in options
            ],
        )
    )


def _actions(block: Actions, acc: _Acc) -> None:
    row: list[discord.ui.Item[Any]] = []
    for el in block.elements:
        item = _button(el, acc) if isinstance(el, Button) else _select(el, acc)
        if item is None:
            continue
        if isinstance(el, Select):  # a select fills a whole action row
            if row:
                acc.rows.append(row)
                row = []
            acc.rows.append([item])
            continue
        if len(row) == MAX_BUTTONS_PER_ROW:  # 5 buttons per action row
            acc.rows.append(row)
            row = []
        row.append(item)
    if row:
        acc.rows.append(row)


RENDERERS: dict[type, Callable[[Any, _Acc], Any]] = {
    Section: _section,
    Context: _context,
    Divider: _divider,
    Fields: _fields,
    Image: _image,
    File: _file,
    Actions: _actions,
}


# --------------------------------------------------------------------------------------------
# Assembling Discord messages
# --------------------------------------------------------------------------------------------


@dataclass
class Part:
    """One Discord message of a rendered neutral message."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    rows: list[list[discord.ui.Item[Any]]] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    mentions: list[int] = field(default_factory=list)

    def view(self) -> discord.ui.View | None:
        if not self.rows:
            return None
        view = discord.ui.View(timeout=None)
        for index, row in enumerate(self.rows):
            for item in row:
                item.row = index
                view.add_item(item)
        return view

    def allowed_mentions(self) -> discord.AllowedMentions:
        """Only the members a `Mention` names may be pinged; never @everyone, @here or roles."""
        users = [discord.Object(uid) for uid in self.mentions[:MAX_ALLOWED_MENTIONS]]
        return discord.AllowedMentions(
            everyone=False, roles=False, users=users or False, replied_user=False
        )

    def discord_files(self) -> list[discord.File]:
        return [discord.File(io.BytesIO(f.content), filename=f.filename) for f in self.files]

    def kwargs(self, *, edit: bool = False) -> dict[str, Any]:
        """Keyword arguments for ``Messageable.send`` (or ``PartialMessage.edit``)."""
        out: dict[str, Any] = {
            "content": self.content,
            "embeds": self.embeds,
            "allowed_mentions": self.allowed_mentions(),
        }
        view = self.view()
        if edit:
            out["view"] = view  # None removes old buttons
            out["attachments"] = self.discord_files()
        else:
            if view is not None:
                out["view"] = view
            if self.files:
                out["files"] = self.discord_files()
        return out


def _embed_size(embed: discord.Embed) -> int:
    return len(embed)


def _split_text(text: str, limit: int) -> list[str]:
    """`text` in chunks of at most `limit` characters, cut at line ends where possible, each
    but the last ending in CONTINUED."""
    budget = limit - len(CONTINUED) - 1
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, budget)
        if cut <= 0:  # one long line (a list of 300 names): cut between words
            cut = text.rfind(" ", 0, budget)
        if cut <= 0:
            cut = _token_safe(text, budget)
        chunks.append(text[:cut].rstrip() + "\n" + CONTINUED)
        text = text[cut:].lstrip("\n ")
    chunks.append(text)
    return chunks


def _token_safe(text: str, cut: int) -> int:
    """`cut`, moved back so that no ``<@id>``/``<t:...>`` token or ``\\`` escape is split."""
    lt = text.rfind("<", 0, cut)
    if lt > text.rfind(">", 0, cut):
        cut = lt
    while cut > 1 and text[cut - 1] == "\\":
        cut -= 1
    return max(cut, 1)


def _fit_embeds(embeds: list[discord.Embed]) -> list[discord.Embed]:
    """Split descriptions over 4,096 characters into continuation embeds."""
    out: list[discord.Embed] = []
    for embed in embeds:
        desc = embed.description or ""
        if len(desc) <= MAX_EMBED_DESCRIPTION:
            out.append(embed)
            continue
        chunks = _split_text(desc, MAX_EMBED_DESCRIPTION)
        for i, chunk in enumerate(chunks):
            piece = discord.Embed(colour=EMBED_COLOUR, description=chunk)
            if i == len(chunks) - 1:
                for f in embed.fields:
                    piece.add_field(name=f.name, value=f.value, inline=f.inline)
                if embed.image.url:
                    piece.set_image(url=embed.image.url)
            out.append(piece)
    return [e for e in out if e.description or e.fields or e.image.url]


def _group_embeds(embeds: list[discord.Embed]) -> list[list[discord.Embed]]:
    """Embeds per Discord message: at most 10 and 6,000 characters together."""
    groups: list[list[discord.Embed]] = [[]]
    size = 0
    for embed in embeds:
        n = _embed_size(embed)
        if groups[-1] and (len(groups[-1]) >= MAX_EMBEDS or size + n > MAX_EMBED_TOTAL):
            groups.append([])
            size = 0
        groups[-1].append(embed)
        size += n
    return groups


def _needs_embed(msg: Message, text: str) -> bool:
    kinds = (Fields, Actions, Image)
    return any(isinstance(b, kinds) for b in msg.blocks) or len(text) > MAX_CONTENT


def render(msg: Message) -> list[Part]:
    """A neutral message as one or more Discord messages (see module docstring).

    Text-only messages go in `content`; polls, results, reminders, recaps (anything with
    fields, buttons or images) become embeds. Mentions ping only the named members.
    """
    acc = _Acc()
    if not msg.blocks:
        acc.add_text(escape(msg.text))
    for block in msg.blocks:
        renderer = RENDERERS.get(type(block))
        if renderer is None:
            raise TypeError(f"discord cannot render {type(block).__name__}")
        renderer(block, acc)
    text = "\n".join(acc.text)
    parts: list[Part]
    if not _needs_embed(msg, text):
        body = "\n".join([text, *acc.notes]) if acc.notes else text
        parts = [Part(content=chunk) for chunk in _split_text(body or msg.text, MAX_CONTENT)]
        parts[0].files = acc.files
    else:
        if acc.notes:
            acc.embed(fresh=bool(acc.embeds and acc.embeds[-1].fields))
            for note in acc.notes:
                acc.add_text(f"-# {note}")
        groups = _group_embeds(_fit_embeds(acc.embeds)) if acc.embeds else [[]]
        parts = [Part(embeds=g) for g in groups]
        parts[0].files = acc.files
        # Components: under the last text part, 5 rows per message.
        row_groups = [acc.rows[i : i + MAX_ROWS] for i in range(0, len(acc.rows), MAX_ROWS)]
        for i, rows in enumerate(row_groups):
            index = len(groups) - 1 + i
            while len(parts) <= index:
                parts.append(Part(content=CONTINUED))
            parts[index].rows = rows
    if len(parts) > MAX_PARTS:
        dropped = len(parts) - MAX_PARTS
        parts = parts[:MAX_PARTS]
        last = parts[-1]
        note = T("adapters.discord.more_messages", count=dropped)
        if last.embeds:
            last.embeds[-1].description = (
                _cut(last.embeds[-1].description or "", MAX_EMBED_DESCRIPTION - len(note) - 1)
                + "\n"
                + note
            )
        else:
            last.content = _cut(last.content or "", MAX_CONTENT - len(note) - 1) + "\n" + note
    for part in parts:
        _pings(part, acc.mentions)
    return parts


def _pings(part: Part, named: list[int]) -> None:
    """Who `part` pings: the members it names, first ones first, within Discord's limits.

    Mentions ping from content only (never from embeds), so an embed message gets a content
    line of its members' mentions: as many as fit in 2,000 characters. allowed_mentions.users
    holds at most `MAX_ALLOWED_MENTIONS` ids; members named beyond them are shown, not pinged.
    """
    rendered = "\n".join(
        [part.content or "", *(e.description or "" for e in part.embeds)]
        + [f.value or "" for e in part.embeds for f in e.fields]
    )
    shown = [uid for uid in named if f"<@{uid}>" in rendered][:MAX_ALLOWED_MENTIONS]
    if not part.embeds or part.content is not None:
        part.mentions = [uid for uid in shown if f"<@{uid}>" in (part.content or "")]
        return
    line: list[str] = []
    for uid in shown:
        if len(" ".join([*line, f"<@{uid}>"])) > MAX_CONTENT:
            break
        line.append(f"<@{uid}>")
    part.mentions = shown[: len(line)]
    if line:
        part.content = " ".join(line)


# --------------------------------------------------------------------------------------------
# Forms
# --------------------------------------------------------------------------------------------


def form_custom_id(form: Form) -> str | None:
    """``form:{form_id}:{metadata}`` when it fits Discord's 100-character custom_id."""
    custom_id = f"form:{form.form_id}:{form.metadata}"
    return custom_id if len(custom_id) <= MAX_CUSTOM_ID else None


MAX_LABEL_DESCRIPTION = 100  # a modal label's description: 100 characters


def modal_inputs(form: Form) -> list[Input]:
    """The form's own inputs, or its fallback when they do not fit a Discord modal.

    A modal holds at most 5 top-level components and a string select at most 25 options,
    so a ranking of more than 5 places (one select each) or a select of more than 25 options
    falls back to the typed field.
    """
    fits = len(form.inputs) <= MAX_MODAL_INPUTS and all(
        len(f.options) <= MAX_SELECT_OPTIONS for f in form.inputs if f.kind in ("select", "multi")
    )
    return form.inputs if fits or not form.fallback else form.fallback


def _modal_select(inp: Input) -> discord.ui.Label[Any]:
    """A select inside a modal, wrapped in a label (type 18) as Discord requires."""
    options = inp.options[:MAX_SELECT_OPTIONS]  # options per select menu: 25
    chosen = set(inp.initial.split(",")) if inp.initial else set()
    many = inp.kind == "multi"
    select: discord.ui.Select[Any] = discord.ui.Select(
        custom_id=inp.name,
        placeholder=_cut(inp.placeholder, MAX_SELECT_PLACEHOLDER) or None,
        min_values=1 if inp.required else 0,
        max_values=min(inp.max_selected or len(options), len(options)) if many else 1,
        required=inp.required,
        options=[
            discord.SelectOption(
                label=_cut(o.label, MAX_OPTION_TEXT),
                value=o.value[:MAX_OPTION_TEXT],
                default=o.value in chosen,
            )
            for o in options
        ],
    )
    return discord.ui.Label(
        text=_cut(inp.label, MAX_INPUT_LABEL),
        description=_cut(inp.hint, MAX_LABEL_DESCRIPTION) or None,
        component=select,
    )


def build_modal(form: Form, custom_id: str) -> discord.ui.Modal:
    """A `discord.ui.Modal` for a neutral form.

    Discord modals take at most 5 components. Selects (a ranking's places) are string selects
    in labels when the form fits (`modal_inputs`), else the form's typed fallback is shown;
    a lone select without a fallback becomes a text input whose placeholder lists the allowed
    values. Submissions are handled by the adapter's ``on_interaction`` (so they work even
    after a restart), not by the modal.
    """
    modal = discord.ui.Modal(
        title=_cut(form.title, MAX_MODAL_TITLE),  # modal title: 45 characters
        custom_id=custom_id,
        timeout=MODAL_TIMEOUT,
    )
    shown = modal_inputs(form)
    native = shown is form.inputs and bool(form.fallback)
    inputs = shown[:MAX_MODAL_INPUTS]  # 5 components per modal
    if len(shown) > MAX_MODAL_INPUTS:
        log.warning("form %s has %d inputs; Discord shows 5", form.form_id, len(shown))
    for inp in inputs:
        if native and inp.kind in ("select", "multi"):
            modal.add_item(_modal_select(inp))
            continue
        placeholder = inp.placeholder or inp.hint
        if inp.kind == "select" and inp.options:
            placeholder = "One of: " + ", ".join(o.value for o in inp.options)
        max_length = min(inp.max_length, MAX_INPUT_LENGTH)
        modal.add_item(
            discord.ui.TextInput(
                label=_cut(inp.label, MAX_INPUT_LABEL),
                custom_id=inp.name,
                style=discord.TextStyle.paragraph
                if inp.kind == "long"
                else discord.TextStyle.short,
                required=inp.required,
                max_length=max_length,
                placeholder=_cut(placeholder, MAX_INPUT_PLACEHOLDER) or None,
                default=inp.initial[:max_length] or None,
            )
        )
    return modal
