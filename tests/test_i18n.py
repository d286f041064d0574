"""Every user-facing string goes through the catalog: keys used in code must exist in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.i18n import Translator, load_catalog

ROOT = Path(__file__).resolve().parent.parent
KEY = re.compile(r"""(?:\b|_)[tT]\(\s*f?["']([a-z_]+\.[a-z_.{}]+)["']""")
HELP = re.compile(r"""["']((?:core|communities|voting|meetings)\.[a-z_]+\.[a-z_]+)["']""")


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "adapters").rglob("*.py")]:
        text = path.read_text()
        keys |= {k for k in KEY.findall(text) if "{" not in k}
        keys |= set(HELP.findall(text))
    return keys


def test_every_key_used_in_code_has_an_english_string() -> None:
    catalog = load_catalog("en")
    missing = sorted(k for k in _used_keys() if k not in catalog)
    assert missing == []
    assert len(_used_keys()) > 30  # the scan really found the code's keys


def test_translator_formats_and_falls_back() -> None:
    t = Translator("xx")
    assert t.lang == "en"
    assert t("communities.joined", name="Circle", member="ana") == "Welcome to Circle, ana!"
    with pytest.raises(KeyError):
        t("no.such.key")


def test_schedule_errors_are_in_the_catalog() -> None:
    """Schedule errors name catalog keys, so they reach members in their community's language."""
    source = (ROOT / "bot" / "schedule.py").read_text()
    keys = {f"schedule.{k}" for k in re.findall(r'ScheduleError\(\s*"(\w+)"', source)}
    assert len(keys) > 15
    assert sorted(keys - set(load_catalog("en"))) == []
