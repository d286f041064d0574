"""Which time zone names circlebot accepts: IANA region names and UTC, nothing that drifts.

Legacy names (EST, EST5EDT, US/Eastern) and fixed offsets (UTC+3, Etc/GMT+5) are refused
with the region name that was probably meant, because a fixed offset puts every meeting an
hour off for half the year.
"""

from __future__ import annotations

import difflib
import re
from functools import cache
from importlib import resources
from zoneinfo import available_timezones

REGIONS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)

# What people mean by the abbreviations and POSIX-style names tzdata still carries; tzdata's own
# links are no guide here (EST links to America/Panama, which has no daylight saving time).
_MEANT = {
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "EST5EDT": "America/New_York",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "CST6CDT": "America/Chicago",
    "MST": "America/Denver",
    "MDT": "America/Denver",
    "MST7MDT": "America/Denver",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "PST8PDT": "America/Los_Angeles",
    "AKST": "America/Anchorage",
    "HST": "Pacific/Honolulu",
    "GMT": "Europe/London",
    "BST": "Europe/London",
    "WET": "Europe/Lisbon",
    "CET": "Europe/Paris",
    "MET": "Europe/Paris",
    "EET": "Europe/Athens",
}
_FIXED = frozenset({"EST", "CST", "MST", "PST", "AKST", "HST", "GMT", "EDT", "CDT", "MDT", "PDT"})
_SAME_AS_UTC = frozenset(
    {"etc/utc", "etc/uct", "uct", "universal", "etc/universal", "zulu", "etc/zulu", "z"}
    | {"etc/gmt", "etc/gmt0", "etc/gmt+0", "etc/gmt-0", "gmt0", "gmt+0", "gmt-0", "greenwich"}
    | {"etc/greenwich"}
)
_OFFSET = re.compile(r"^(?:etc/)?(?:utc|gmt|ut)?\s*[+\-\u2212]\s*\d{1,2}(?::?\d{2})?$")


class ZoneRefused(ValueError):
    """A zone name circlebot will not use; `key` and `values` make the one-sentence answer."""

    def __init__(self, key: str, **values: str) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@cache
def accepted_zones() -> tuple[str, ...]:
    """Every name circlebot accepts, sorted: `Area/Location` of a region, plus UTC."""
    names = {z for z in available_timezones() if z.split("/", 1)[0] in REGIONS}
    return tuple(sorted(names | {"UTC"}))


@cache
def _lowered() -> dict[str, str]:
    return {z.lower(): z for z in accepted_zones()}


@cache
def _links() -> dict[str, str]:
    """tzdata's links, lowercased name to target (US/Eastern to America/New_York)."""
    text = resources.files("tzdata").joinpath("zoneinfo", "tzdata.zi").read_text("utf-8")
    links = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "L":
            links[parts[2].lower()] = parts[1]
    return links


@cache
def _by_place() -> dict[str, str]:
    """The accepted zone for a place typed on its own ("new york", "kolkata")."""
    places: dict[str, str] = {}
    for zone in accepted_zones():
        places.setdefault(zone.rsplit("/", 1)[-1].lower(), zone)
    return places


def canonical_zone(name: str) -> str:
    """The accepted spelling of `name`, or `ZoneRefused` saying what was probably meant."""
    typed = " ".join(name.split())
    lowered = typed.lower()
    found = _lowered().get(lowered)
    if found is not None:
        return found
    shown = typed[:60]
    upper = typed.upper()
    if upper in _MEANT:
        key = "core.refuse.zone_offset" if upper in _FIXED else "core.refuse.zone_legacy"
        raise ZoneRefused(key, zone=shown, suggestion=_MEANT[upper])
    if lowered in _SAME_AS_UTC:
        raise ZoneRefused("core.refuse.zone_legacy", zone=shown, suggestion="UTC")
    if _OFFSET.match(lowered) or lowered.startswith("etc/gmt"):
        raise ZoneRefused("core.refuse.zone_offset_any", zone=shown)
    target = _links().get(lowered)
    if target is not None and target in accepted_zones():
        raise ZoneRefused("core.refuse.zone_legacy", zone=shown, suggestion=target)
    guess = _by_place().get(lowered.replace(" ", "_")) or _misspelt(lowered)
    if guess is not None:
        raise ZoneRefused("core.refuse.zone_guess", zone=shown, suggestion=guess)
    raise ZoneRefused("core.refuse.bad_zone", zone=shown)


def _misspelt(lowered: str) -> str | None:
    """The accepted zone of the same area whose place is spelt nearly like the one typed."""
    area, _, place = lowered.rpartition("/")
    if not area:
        return None
    places = {
        z.rsplit("/", 1)[-1]: z for low, z in _lowered().items() if low.startswith(area + "/")
    }
    close = difflib.get_close_matches(place, [p.lower() for p in places], n=1, cutoff=0.8)
    return next((z for p, z in places.items() if close and p.lower() == close[0]), None)
