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
"""

from __future__ import annotations

import gettext
import io
import logging
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "circlebot"
DEFAULT_LANGUAGE = "en"


def _po_path(lang: str) -> Path:
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
    return sorted(p.name for p in LOCALE_DIR.iterdir() if _po_path(p.name).is_file())


class Translator:
    """Looks up and formats strings for one language."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE) -> None:
        self.lang = lang if lang in available_languages() else DEFAULT_LANGUAGE

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


def translator(lang: str | None) -> Translator:
    """A translator for `lang`, English when unknown."""
    return Translator(lang or DEFAULT_LANGUAGE)
