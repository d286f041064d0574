"""Only IANA region names (and UTC) are accepted as time zones, wherever a zone is typed.

A legacy name or a fixed offset (EST, EST5EDT, US/Eastern, Etc/GMT+5, UTC+3) is refused in
one sentence naming the zone probably meant: accepted, it put meetings an hour off half the year.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.discord.commands import zone_autocomplete
from bot.cli import main
from bot.config import SettingsError, load_settings
from bot.zones import REGIONS, accepted_zones
from storage.db import Database
from tests.support import transcript


def replies(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("[")]


async def test_setup_settings_and_series_refuse_legacy_zones(db: Database) -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup Circle EST
        /cop setup Circle EST5EDT
        /cop setup Circle Etc/GMT+5
        /cop setup Circle UTC+3
        /cop setup Circle US/Eastern
        /cop setup Circle "New York"
        /cop setup Circle America/New_Yrok
        /cop setup Circle america/new_york
        /cop settings timezone=PST
        /cop settings timezone=MST7MDT
        /cop settings timezone=Europe/Madrid
        /cop meeting series "monthly on the first Tuesday at 18:30" zone=CET
        /cop meeting series "monthly on the first Tuesday at 18:30" zone=Etc/GMT-1
        /cop about
        """,
        db=db,
    )
    offset = (
        "is a fixed offset, which would put meetings an hour off for half the year; "
        "use the name of a place, such as America/New_York or Europe/Madrid."
    )
    assert replies(lines) == [
        "[private @ana] EST is a fixed offset; did you mean America/New_York?",
        "[private @ana] EST5EDT is an old zone name; did you mean America/New_York?",
        f"[private @ana] Etc/GMT+5 {offset}",
        f"[private @ana] UTC+3 {offset}",
        "[private @ana] US/Eastern is an old zone name; did you mean America/New_York?",
        '[private @ana] "New York" is not a time zone I know; did you mean America/New_York?',
        '[private @ana] "America/New_Yrok" is not a time zone I know; '
        "did you mean America/New_York?",
        # Accepted in any case, and stored as IANA spells it.
        "[#cop] Circle is set up in this channel (time zone America/New_York, language en). "
        "Name facilitators with /cop facilitator add @name; members join with /cop join.",
        "[private @ana] PST is a fixed offset; did you mean America/Los_Angeles?",
        "[private @ana] MST7MDT is an old zone name; did you mean America/Denver?",
        "[private @ana] Circle now uses time zone Europe/Madrid and language en.",
        "[private @ana] CET is an old zone name; did you mean Europe/Paris?",
        f"[private @ana] Etc/GMT-1 {offset}",
        "[private @ana] Circle: time zone Europe/Madrid, language en; "
        "members: 1; facilitators: none yet.",
    ]


def test_accepted_zones_are_region_names_and_utc() -> None:
    zones = accepted_zones()
    assert "UTC" in zones and "America/New_York" in zones and "Asia/Kolkata" in zones
    for legacy in ("EST", "EST5EDT", "MST7MDT", "US/Eastern", "Etc/GMT+5", "GMT", "Etc/UTC"):
        assert legacy not in zones
    assert all(z == "UTC" or z.split("/", 1)[0] in REGIONS for z in zones)


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("EST", "; did you mean America/New_York?"),
        ("US/Pacific", "; did you mean America/Los_Angeles?"),
        ("Etc/GMT+5", ""),
        ("Mars/Base", ""),
    ],
)
def test_default_timezone_setting_refuses_legacy_zones(value: str, hint: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None, default_timezone=value)
    assert str(refused.value) == (
        "setting DEFAULT_TIMEZONE is invalid: must be an IANA time zone such as "
        f"America/New_York, not an offset{hint}"
    )


def test_default_timezone_setting_takes_the_iana_spelling() -> None:
    assert load_settings(_env_file=None, default_timezone="europe/madrid").default_timezone == (
        "Europe/Madrid"
    )


def test_console_tz_refuses_a_legacy_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEFAULT_TIMEZONE", raising=False)
    script = tmp_path / "script.txt"
    script.write_text(":as ana\n")
    assert main(["console", "--tz", "EST5EDT", "--script", str(script)]) == 2
    assert capsys.readouterr().err == (
        "circlebot: --tz: EST5EDT is an old zone name; did you mean America/New_York?\n"
    )


async def test_discord_autocompletion_offers_only_accepted_zones() -> None:
    async def offered(typed: str) -> list[str]:
        return [c.value for c in await zone_autocomplete(None, typed)]  # type: ignore[arg-type]

    assert await offered("est5") == []
    assert await offered("US/") == []
    assert await offered("new_york") == ["America/New_York"]
    assert all(z in accepted_zones() for z in await offered("e"))
