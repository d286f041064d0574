"""Checking what a member types for a resource: the link, its title and its tags.

Pure functions, no database: each returns the normalised value or raises `Refused` with the
catalog key of the one sentence that says why. A link is kept only when it is http or https,
has a host, carries no credentials (``user:password@``, ``?token=``), holds no whitespace and
no control characters (typed, or percent-encoded), and fits `MAX_URL` once normalised. The
host is shown in its ASCII (IDNA) form, so a look-alike letter from another script shows as
``xn--`` and cannot pass for a familiar site; characters a platform would end a link at
(``<>"{}|\\^`` and the backtick) are percent-encoded, so the link shows whole and clickable.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, parse_qsl, quote, urlsplit, urlunsplit

from storage.resources import MAX_TAG, MAX_TITLE, MAX_URL

#: At most this many tags on one resource.
MAX_TAGS = 8

# Query parameters that carry a secret: a link with one would hand it to everyone who reads
# the list. (Zoom's "pwd" is a meeting passcode people share on purpose, so it is not here.)
_SECRET_PARAMS = frozenset(
    {
        "password",
        "passwd",
        "token",
        "access_token",
        "auth_token",
        "id_token",
        "refresh_token",
        "api_key",
        "apikey",
        "client_secret",
        "secret",
    }
)
# %00-%1F and %7F: a control character spelled out in the link.
_ENCODED_CONTROL = re.compile(r"%(?:[01][0-9a-fA-F]|7[fF])")
# A hostname label: letters, digits and hyphens (after IDNA); ports and IPv6 are handled apart.
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# Kept as they are in a path or query (RFC 3986 reserved and unreserved, and "%" of an
# existing escape); anything else is percent-encoded.
_SAFE = "/:@!$&'()*+,;=-._~?#[]%"
# What a platform's link detection leaves out at a link's end.
_TRAILING = frozenset(".,:;'\")]!?")
# Slack's escaped link forms: <https://x> and <https://x|label>.
_SLACK_LINK = re.compile(r"^<([^|<>]+)(?:\|[^<>]*)?>$")
# A channel Slack linked in a command's text: <#C0123|outdoor>.
_SLACK_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^<>|]+)>")
# A mention or broadcast in any platform's syntax: @everyone, @here, @channel, <@U1>, <!here>,
# <@&role>, <#C1>. A resource's title never pings anyone.
_MENTION = re.compile(
    r"@(?:everyone|here|channel)\b|<[@!#][^>]*>|<@&?\d+>",
    re.IGNORECASE,
)
_TAG = re.compile(rf"[\w-]{{1,{MAX_TAG}}}")


@dataclass
class Refused(ValueError):
    """Input that is not kept; `key` names its sentence in the resources catalog."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    """A checked link: the URL as stored and shown, and its host (lower case, ASCII)."""

    url: str
    host: str


def _has_controls(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in text)


def check_url(raw: str) -> Link:
    """The link as circlebot keeps it, or `Refused`.

    >>> check_url("HTTPS://Example.ORG/play").url
    'https://example.org/play'
    """
    text = raw.strip()
    slack = _SLACK_LINK.match(text)
    if slack:
        text = slack[1]
    if _has_controls(text) or _ENCODED_CONTROL.search(text):
        raise Refused("resources.url.controls")
    if any(c.isspace() for c in text):
        raise Refused("resources.url.spaces")
    try:
        parts = urlsplit(text)
    except ValueError:
        raise Refused("resources.url.bad") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise Refused("resources.url.scheme")
    if not text.lower().startswith(f"{parts.scheme.lower()}://"):
        raise Refused("resources.url.bad")
    if "@" in parts.netloc:
        raise Refused("resources.url.credentials")
    if any(name.lower() in _SECRET_PARAMS for name, _v in parse_qsl(parts.query, True)):
        raise Refused("resources.url.credentials")
    host = _host(parts)
    try:
        port = parts.port
    except ValueError:
        raise Refused("resources.url.bad") from None
    netloc = host if port is None else f"{host}:{port}"
    url = urlunsplit(
        (
            parts.scheme.lower(),
            netloc,
            quote(parts.path, safe=_SAFE) or "/",
            quote(parts.query, safe=_SAFE),
            quote(parts.fragment, safe=_SAFE),
        )
    )
    # Platforms end an auto-link before trailing punctuation (Discord before . , : ; ' " ) ]),
    # which would cut "…/Play_(learning)" short: the last characters are percent-encoded.
    while url[-1] in _TRAILING:
        url = url[:-1] + f"%{ord(url[-1]):02X}"
    if len(url) > MAX_URL:
        raise Refused("resources.url.long", {"max": MAX_URL})
    return Link(url, host)


def _host(parts: SplitResult) -> str:
    """The host in lower-case ASCII: IDNA for names in other scripts, IPv6 kept in brackets."""
    name = parts.hostname or ""
    if not name:
        raise Refused("resources.url.bad")
    if ":" in name:  # an IPv6 literal; urlsplit checked its brackets
        if not re.fullmatch(r"[0-9a-f:.]+", name):
            raise Refused("resources.url.bad")
        return f"[{name}]"
    try:
        ascii_name = name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise Refused("resources.url.bad") from None
    labels = ascii_name.rstrip(".").split(".")
    if len(ascii_name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise Refused("resources.url.bad")
    return ".".join(labels)


def check_title(text: str | None) -> str:
    """A title as given (already cleaned at the edge), or `Refused`: no mentions, no links."""
    title = " ".join((text or "").split())
    if len(title) > MAX_TITLE:
        raise Refused("resources.title.long", {"max": MAX_TITLE})
    if _MENTION.search(title):
        raise Refused("resources.title.mention")
    if "://" in title:
        raise Refused("resources.title.link")
    return title


def check_tags(text: str | None) -> list[str]:
    """``"#outdoor #Infants"`` -> ``["outdoor", "infants"]``, each once, in the order given."""
    tags: list[str] = []
    for word in (text or "").split():
        if not word.startswith("#") and not _SLACK_CHANNEL.fullmatch(word):
            raise Refused("resources.tags.hash", {"word": word[:40]})
        tag = normalise_tag(word)
        if tag is None:
            raise Refused("resources.tags.bad", {"word": word[:40], "max": MAX_TAG})
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise Refused("resources.tags.many", {"max": MAX_TAGS})
    return tags


def normalise_tag(word: str) -> str | None:
    """``"#Outdoor"`` -> ``"outdoor"``; None when it is not a tag (letters, digits, - and _).

    Slack may send ``#outdoor`` as a channel link (``<#C123|outdoor>``) when a channel has
    that name: it is read as the tag.
    """
    channel = _SLACK_CHANNEL.fullmatch(word)
    if channel:
        word = channel[1]
    tag = unicodedata.normalize("NFC", word.removeprefix("#")).casefold()
    return tag if _TAG.fullmatch(tag) else None
