"""Every user-facing string goes through `Translator.t`, so a new language is a new catalog.

Catalogs are TOML files under ``bot/locale/<lang>/``; each feature owns one file, and
its tables become dotted keys (``[voting] closed = "..."`` -> ``voting.closed``).
Missing keys in a language fall back to English; a key missing in English is a bug
and raises, so tests catch it.
"""

from __future__ import annotations

import logging
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "en"


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@cache
def load_catalog(lang: str) -> dict[str, str]:
    """All strings of one language, merged from its per-feature TOML files."""
    folder = LOCALE_DIR / lang
    catalog: dict[str, str] = {}
    if not folder.is_dir():
        return catalog
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as fh:
            _flatten("", tomllib.load(fh), catalog)
    return catalog


def available_languages() -> list[str]:
    """Languages that have a catalog folder."""
    return sorted(p.name for p in LOCALE_DIR.iterdir() if p.is_dir())


class Translator:
    """Looks up and formats strings for one language."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE) -> None:
        self.lang = lang if lang in available_languages() else DEFAULT_LANGUAGE

    def t(self, key: str, /, **values: Any) -> str:
        """The string for `key` in this language, formatted with `values`."""
        template = load_catalog(self.lang).get(key)
        if template is None:
            template = load_catalog(DEFAULT_LANGUAGE).get(key)
        if template is None:
            raise KeyError(f"no English string for {key!r}")
        return template.format(**values) if values else template

    __call__ = t


def translator(lang: str | None) -> Translator:
    """A translator for `lang`, English when unknown."""
    return Translator(lang or DEFAULT_LANGUAGE)
