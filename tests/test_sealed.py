"""Reflection text sealing: tokens open only with their key and row; the key file is made once."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings
from bot.sealed import KeyInvalid, SealBroken, Sealer, decode_key, encode_key, key_from_file


def test_a_token_opens_with_its_key_and_row_only() -> None:
    sealer = Sealer.generate()
    token = sealer.seal("I will try the calm-down corner", "reflection:7:0")
    assert "calm-down" not in token
    assert sealer.open(token, "reflection:7:0") == "I will try the calm-down corner"
    with pytest.raises(SealBroken):
        sealer.open(token, "reflection:8:0")  # copied to another row
    with pytest.raises(SealBroken):
        Sealer.generate().open(token, "reflection:7:0")  # another key
    with pytest.raises(SealBroken):
        sealer.open(token[:-4] + "AAAA", "reflection:7:0")  # damaged


def test_the_same_text_seals_differently_each_time() -> None:
    sealer = Sealer.generate()
    assert sealer.seal("same", "a") != sealer.seal("same", "a")


def test_key_file_is_created_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "circlebot.key"
    key, created = key_from_file(path)
    assert created and len(key) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again, created_again = key_from_file(path)
    assert again == key and not created_again


def test_a_bad_key_setting_is_one_line_without_the_value(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None, reflection_key="not-a-key-value")
    assert "REFLECTION_KEY" in str(err.value) and "not-a-key-value" not in str(err.value)
    with pytest.raises(KeyInvalid):
        decode_key(encode_key(b"short"))


def test_settings_prefer_the_key_setting_over_the_file(tmp_path: Path) -> None:
    key = Sealer.generate()
    raw = os.urandom(32)
    settings = load_settings(
        _env_file=None,
        reflection_key=encode_key(raw),
        reflection_key_file=str(tmp_path / "unused.key"),
    )
    token = settings.sealer().seal("x", "r")
    assert Sealer(raw).open(token, "r") == "x"
    assert not (tmp_path / "unused.key").exists()
    assert "Sealer(<key hidden>)" == repr(key)


def test_a_created_key_file_is_announced_once_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "circlebot.key"
    settings = load_settings(_env_file=None, reflection_key_file=str(path))
    said: list[str] = []
    first = settings.sealer(announce=said.append)
    second = settings.sealer(announce=said.append)
    assert len(said) == 1 and str(path) in said[0] and "back it up" in said[0]
    assert second.open(first.seal("kept", "r"), "r") == "kept"  # the same key, read back
    assert path.read_text().strip() not in said[0]  # the key itself is never printed
