"""The catalogs are complete and consistent with the code.

The keys the code uses come from Babel's extraction API run with babel.cfg, the same
extraction `make messages-extract` writes the template from (bot/i18n_extract.py: keys
in translator calls, keys held in variables and tables, f-string key families, and the
short documented list of dynamic families). Every one of them must have English and
Spanish text; no catalog key may be unused; both catalogs hold the same keys, with the
same placeholders, and plural entries have the language's number of forms.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.i18n_extract import DYNAMIC_FAMILIES, keys_in_source

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "es")
PLURAL_FORMS = {"en": 2, "es": 3}

# Keys in the catalogs that no code reaches, with the reason they stay. Keep it empty.
UNUSED_ON_PURPOSE: dict[str, str] = {}


@cache
def used_keys() -> dict[str, bool]:
    """Every key the code reaches (Babel extraction with babel.cfg): key -> used as plural."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keys: dict[str, bool] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords={"t": None, "n": (1, 2)}
    ):
        key = message if isinstance(message, str) else message[0]
        keys[key] = keys.get(key, False) or not isinstance(message, str)
    return keys


@cache
def catalog(lang: str) -> Catalog:
    with (ROOT / "bot" / "locale" / lang / "LC_MESSAGES" / "circlebot.po").open("rb") as fh:
        return read_po(fh, locale=lang, domain="circlebot")


def entries(lang: str) -> dict[str, Message]:
    return {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog(lang) if m.id}


def forms(message: Message) -> list[str]:
    if isinstance(message.string, str):
        return [message.string]
    return list(message.string or ())


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def untranslated(lang: str, keys: Iterable[str]) -> list[str]:
    found = entries(lang)
    return sorted(k for k in keys if k not in found or not all(forms(found[k])))


def test_the_extraction_finds_the_codes_keys() -> None:
    keys = used_keys()
    assert len(keys) > 1000
    for key in ("voting.closed_now", "core.refuse.stale_button", "agreements.how.consent"):
        assert key in keys
    assert all(not k.endswith(".") and " " not in k for k in keys), "a glued or odd key"


def test_the_extractor_sees_every_way_the_code_names_a_key() -> None:
    english = {
        k: entries("en")[k]
        for k in ("voting.closed_now", "agreements.how.consent", "agreements.how.facilitator")
    }
    from bot.i18n_extract import English

    known = {k: English(m.pluralizable, forms(m)[0]) for k, m in english.items()}
    source = """
def f(ctx, t, self, how, cond):
    ctx.t("a.one")
    t("a.two", x=1)
    self.t("a.three")
    t.n("a.four", 3)
    t("a.five" if cond else "a.six")
    key = "voting.closed_now"
    ctx.t(f"agreements.how.{how}")
"""
    found = {m: kind for _, kind, m, _ in keys_in_source(source, known, {"consent"})}
    assert found == {
        "a.one": "t",
        "a.two": "t",
        "a.three": "t",
        ("a.four", "a.four"): "n",
        "a.five": "t",
        "a.six": "t",
        "voting.closed_now": "t",
        # "facilitator" is no constant of this code, so only the consent key is reached
        "agreements.how.consent": "t",
    }


def test_every_key_the_code_uses_has_english_text() -> None:
    assert untranslated("en", used_keys()) == []


def test_every_key_the_code_uses_has_spanish_text() -> None:
    assert untranslated("es", used_keys()) == []


def test_no_catalog_key_is_unused() -> None:
    unused = sorted(set(entries("en")) - set(used_keys()) - set(UNUSED_ON_PURPOSE))
    assert unused == []


def test_both_catalogs_hold_the_same_keys() -> None:
    assert sorted(set(entries("en")) ^ set(entries("es"))) == []


def test_dynamic_families_each_reach_a_key() -> None:
    """The documented dynamic families are not stale: each still names catalog keys."""
    for family in DYNAMIC_FAMILIES:
        assert any(family.fullmatch(k) for k in entries("en")), family.pattern


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_formats_with_its_own_placeholders(lang: str) -> None:
    """No stray brace or malformed field: each text formats with the names it mentions."""
    broken = []
    for key, message in entries(lang).items():
        for text in forms(message):
            try:
                text.format(**{**dict.fromkeys(placeholders(text), 1), "count": 2})
            except (ValueError, KeyError, IndexError, AttributeError) as err:
                broken.append(f"{key}: {err}")
    assert broken == []


def test_spanish_placeholders_are_the_english_ones() -> None:
    english = entries("en")
    wrong = []
    for key, message in entries("es").items():
        if key not in english or not all(forms(message)):
            continue
        want = set().union(*(placeholders(t) for t in forms(english[key])))
        got = set().union(*(placeholders(t) for t in forms(message)))
        # a singular form may say "one" instead of {count}
        if got - {"count"} != want - {"count"} or ("count" in got and "count" not in want):
            wrong.append(f"{key}: en {sorted(want)} es {sorted(got)}")
    assert wrong == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_entries_have_the_languages_forms(lang: str) -> None:
    assert catalog(lang).num_plurals == PLURAL_FORMS[lang]
    english = entries("en")
    wrong = []
    for key, message in entries(lang).items():
        if message.pluralizable != english[key].pluralizable if key in english else False:
            wrong.append(f"{key}: plural in one language only")
        elif message.pluralizable and len(forms(message)) != PLURAL_FORMS[lang]:
            wrong.append(f"{key}: {len(forms(message))} forms")
    assert wrong == []


def test_keys_used_as_plurals_are_plural_entries() -> None:
    english = entries("en")
    plain = sorted(
        k
        for k, plural in used_keys().items()
        if plural and k in english and not english[k].pluralizable
    )
    assert plain == []
