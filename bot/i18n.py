"""Every user-facing string goes through `Translator.t`, so a new language is a new catalog.

Catalogs are gettext catalogs managed with Babel: ``bot/locale/<lang>/LC_MESSAGES/
circlebot.po``, one per language, with ``bot/locale/circlebot.pot`` as the template that
``make messages-extract`` writes from the code. A message id is a stable dotted key
(``voting.closed``), not the English sentence: English is a catalog like any other
(``en``), so rewording English never orphans a translation, and tests can name a
message without repeating its words (see docs/decisions.md). Plurals go through
``ngettext`` (`Translator.n`) with the language's own plural rule.

At run time a catalog is the compiled ``.mo`` when ``make messages`` has built one that
is newer than its ``.po``, else the ``.po`` compiled in memory, so a fresh clone works
without a build step. Missing keys in a language fall back to English; a key missing in
English is a bug and raises, so tests catch it.

Dates, times, numbers and lists are formatted by Babel for the translator's locale
(`Translator.datetime`, `.date`, `.time`, `.day`, `.number`, `.list`): English keeps
circlebot's own compact form (``Tue 3 Nov 2026, 18:30 EST``), Spanish reads ``mar, 3 nov
2026, 18:30 EST``; the zone abbreviation is tzdata's in every language.

Tests may add a catalog directory (`register_locale_dir`), e.g. a pseudo-locale built at
test time; production code never calls it.
"""

from __future__ import annotations

import builtins
import gettext
import io
import logging
import string
from collections.abc import Iterable
from datetime import date as Date
from datetime import datetime as DateTime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from babel.dates import format_date as babel_date
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.formats import TimeStyle, babel_locale, format_instant

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "circlebot"
DEFAULT_LANGUAGE = "en"


_EXTRA_DIRS: list[Path] = []


def register_locale_dir(path: Path) -> None:
    """Also look for catalogs in `path` (``<path>/<lang>/LC_MESSAGES/circlebot.po``): a hook
    for tests that build a catalog (a pseudo-locale) at run time. Clears the caches."""
    if path not in _EXTRA_DIRS:
        _EXTRA_DIRS.append(path)
    _translations.cache_clear()
    load_catalog.cache_clear()


def forget_locale_dir(path: Path) -> None:
    """Undo `register_locale_dir` (the end of the test that needed it)."""
    if path in _EXTRA_DIRS:
        _EXTRA_DIRS.remove(path)
    _translations.cache_clear()
    load_catalog.cache_clear()


def _po_path(lang: str) -> Path:
    for folder in (LOCALE_DIR, *_EXTRA_DIRS):
        path = folder / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.is_file():
            return path
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _translations(lang: str) -> gettext.GNUTranslations | None:
    """The compiled catalog of one language, or None when it has none."""
    po = _po_path(lang)
    if not po.is_file():
        return None
    mo = po.with_suffix(".mo")
    if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@cache
def load_catalog(lang: str) -> dict[str, str]:
    """Every key of one language with its (singular) text: for checks, not for lookups."""
    po = _po_path(lang)
    if not po.is_file():
        return {}
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    out: dict[str, str] = {}
    for message in catalog:
        if not message.id or not message.string:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        text = message.string if isinstance(message.string, str) else message.string[0]
        if text:
            out[key] = text
    return out


def available_languages() -> list[str]:
    """Languages that have a catalog."""
    folders = [p for d in (LOCALE_DIR, *_EXTRA_DIRS) for p in d.iterdir() if p.is_dir()]
    return sorted({p.name for p in folders if _po_path(p.name).is_file()})


ListStyle = Literal["standard", "or", "unit-narrow"]

_DAY_PATTERNS = {"en": "d MMMM y", "*": "long"}


class Translator:
    """Looks up and formats strings for one language."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE) -> None:
        self.lang = lang if lang in available_languages() else DEFAULT_LANGUAGE
        self.locale = babel_locale(self.lang)

    def _lookup(self, key: str, count: int | None) -> str:
        for lang in dict.fromkeys((self.lang, DEFAULT_LANGUAGE)):
            catalog = _translations(lang)
            if catalog is None:
                continue
            if count is None:
                text = catalog.gettext(key)
            else:
                text = catalog.ngettext(key, key, count)
            if text != key:
                return text
        raise KeyError(f"no English string for {key!r}")

    def t(self, key: str, /, **values: Any) -> str:
        """The string for `key` in this language, formatted with `values`."""
        template = self._lookup(key, None)
        return template.format(**values) if values else template

    def n(self, key: str, count: int, /, **values: Any) -> str:
        """The plural form of `key` for `count` (``ngettext``), formatted with `count`
        (as ``{count}``) and `values`."""
        return self._lookup(key, count).format(count=count, **values)

    __call__ = t

    def parts(self, key: str, /, count: int | None = None, **values: Any) -> builtins.list[Any]:
        """The string for `key` split around the values that are not text (a neutral
        ``Time`` or ``Mention``), so a whole sentence can carry an inline the platform
        renders: ``t.parts("voting.poll.closes", when=Time(...))`` -> ``["Closes ", Time]``.
        With `count`, the plural form for it (``ngettext``), `count` being ``{count}``."""
        if count is not None:
            values["count"] = count
        out: builtins.list[Any] = []
        for literal, field, spec, conversion in string.Formatter().parse(self._lookup(key, count)):
            if literal:
                out.append(literal)
            if field is None:
                continue
            value = values[field]
            if isinstance(value, str | int | float):
                out.append(
                    ("{0" + (f"!{conversion}" if conversion else "") + f":{spec}}}").format(value)
                )
            else:
                out.append(value)
        merged: builtins.list[Any] = []
        for part in out:
            if merged and isinstance(part, str) and isinstance(merged[-1], str):
                merged[-1] += part
            else:
                merged.append(part)
        return merged

    def moment(self, at: DateTime, zone: str, style: TimeStyle = "full") -> Any:
        """A neutral ``Time`` inline in this language (each viewer sees it in their own zone
        where the platform can; elsewhere Babel formats it in `zone`), for `parts`."""
        from bot.ui import Time  # bot.ui imports this module

        return Time(at=at, zone=zone, style=style, lang=self.lang)

    # -- locale formatting (Babel) ----------------------------------------------------------

    def datetime(self, at: DateTime, zone: str) -> str:
        """Weekday, date, time and zone: ``mar, 3 nov 2026, 18:30 EST``."""
        return format_instant(at, zone, "full", self.lang)

    def date(self, at: DateTime, zone: str) -> str:
        """Weekday and date in `zone`: ``mar, 3 nov 2026``."""
        return format_instant(at, zone, "date", self.lang)

    def time(self, at: DateTime, zone: str) -> str:
        """Clock time and zone: ``18:30 EST``."""
        return format_instant(at, zone, "time", self.lang)

    def day(self, day: Date) -> str:
        """A calendar day in words: ``3 November 2026``, ``3 de noviembre de 2026``."""
        pattern = _DAY_PATTERNS.get(self.locale.language, _DAY_PATTERNS["*"])
        return babel_date(day, pattern, self.locale)

    def number(self, value: float) -> str:
        """A number with the locale's separators."""
        return format_decimal(value, locale=self.locale)

    def list(self, items: Iterable[str], style: ListStyle = "standard") -> str:
        """Items joined as the locale joins a list: ``a, b y c`` (``or``: ``a, b o c``;
        ``unit-narrow`` for the parts of one duration: ``1 day 12 hours``)."""
        return format_list(list(items), style=style, locale=self.locale)


def translator(lang: str | None) -> Translator:
    """A translator for `lang`, English when unknown."""
    return Translator(lang or DEFAULT_LANGUAGE)
