"""How a resource reads: ``3. Play ideas — https://example.org/play #outdoor``.

The link is plain text that each platform turns into a link itself (the adapters leave bare
http(s) links alone while escaping everything around them), so no markup is ever built from
what a member typed, and the title is escaped by the adapters like any member text. Titles
never hold a mention (`links.check_title` refuses one), so nothing in a list pings anyone.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.features.resources.queries import Shown
from bot.i18n import Translator
from bot.ui import Context as Small
from bot.ui import Message, Section, plain

#: At most this many resources in one list or search answer; the rest are counted.
LIST_MAX = 25
#: At most this many new resources in a digest.
DIGEST_MAX = 10


def line(t: Translator, shown: Shown, *, bullet: bool = False) -> str:
    """One resource on one line with its tags: numbered in lists, a bullet on an agenda or
    in a digest (where a number would read as one of the agenda's own)."""
    r = shown.resource
    tags = " ".join(f"#{tag}" for tag in shown.tags)
    style = "bullet" if bullet else "line"
    if r.title:
        text = t(f"resources.{style}", n=r.number, title=r.title, url=r.url)
    else:
        text = t(f"resources.{style}_untitled", n=r.number, url=r.url)
    return f"{text}  {tags}" if tags else text


def lines_block(
    t: Translator,
    heading: str,
    items: Sequence[Shown],
    limit: int = LIST_MAX,
    *,
    bullet: bool = False,
) -> list[Section | Small]:
    """A heading and up to `limit` resources in one section, then how many more there are."""
    shown = [line(t, s, bullet=bullet) for s in items[:limit]]
    blocks: list[Section | Small] = [Section.of("\n".join([heading, *shown]))]
    if len(items) > limit:
        blocks.append(Small(parts=[t("resources.more", count=len(items) - limit)]))
    return blocks


def private(blocks: Sequence[Section | Small]) -> Message:
    """A reply made of sections and small print, with its plain text."""
    return Message(text="\n".join(plain(b.parts) for b in blocks), blocks=list(blocks))
