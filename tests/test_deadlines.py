"""Deadline grammar: what facilitators type, read in the community's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.deadlines import DeadlineError, parse_deadline, parse_offset

NY = "America/New_York"
# Monday 2 November 2026, 09:00 in New York (14:00 UTC; EST since 1 November).
NOW = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def ny(text: str) -> str:
    return parse_deadline(text, NOW, NY).astimezone(UTC).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("in 3 days", "2026-11-05 14:00"),
        ("in 2h", "2026-11-02 16:00"),
        ("In 1 day 12 hours", "2026-11-04 02:00"),
        ("in 90 minutes", "2026-11-02 15:30"),
        ("in 1w", "2026-11-09 14:00"),
        ("2026-12-01 17:00", "2026-12-01 22:00"),
        ("2026-12-01T17:00", "2026-12-01 22:00"),
        ("2026-12-01", "2026-12-02 04:59"),  # a bare date means the end of that day
        ("friday 17:00", "2026-11-06 22:00"),
        ("fri 5pm", "2026-11-06 22:00"),
        ("Friday at 5:30 pm", "2026-11-06 22:30"),
        ("friday", "2026-11-07 04:59"),
        ("next friday 17:00", "2026-11-06 22:00"),
        ("monday 08:00", "2026-11-09 13:00"),  # today's 08:00 is past: next week
        ("monday 18:00", "2026-11-02 23:00"),  # today's 18:00 is still ahead
        ("tomorrow 9am", "2026-11-03 14:00"),
        ("tomorrow", "2026-11-04 04:59"),
        ("today 18:00", "2026-11-02 23:00"),
        ("17:00", "2026-11-02 22:00"),
        ("08:00", "2026-11-03 13:00"),
        ("noon", "2026-11-02 17:00"),
    ],
)
def test_readable_deadlines(text: str, utc: str) -> None:
    assert ny(text) == utc


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("yesterday", "unreadable"),
        ("in 0 days", "unreadable"),
        ("in 3 fortnights", "unreadable"),
        ("2026-13-01 10:00", "unreadable"),
        ("friday 25:00", "unreadable"),
        ("13pm", "unreadable"),
        ("", "unreadable"),
        ("x" * 100, "unreadable"),
        ("2026-11-01 10:00", "past"),
        ("today 08:00", "past"),
        ("2028-01-01 10:00", "too_far"),
        ("in 400 days", "too_far"),
        # 2027-03-14 02:30 does not exist in New York (clocks jump from 02:00 to 03:00).
        ("2027-03-14 02:30", "no_such_time"),
    ],
)
def test_unusable_deadlines_say_why(text: str, code: str) -> None:
    with pytest.raises(DeadlineError) as err:
        parse_deadline(text, NOW, NY)
    assert err.value.code == code


def test_repeated_autumn_hour_means_its_first_occurrence() -> None:
    now = datetime(2027, 10, 1, tzinfo=UTC)
    # 2027-11-07 01:30 happens twice in New York; the first time is EDT (05:30 UTC).
    assert parse_deadline("2027-11-07 01:30", now, NY) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)


def test_wall_clock_is_kept_across_a_dst_change() -> None:
    before = datetime(2026, 10, 30, 14, 0, tzinfo=UTC)  # Friday, EDT
    assert parse_deadline("monday 17:00", before, NY) == datetime(2026, 11, 2, 22, 0, tzinfo=UTC)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_deadline("in 1 day", datetime(2026, 1, 1), NY)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("1 day before", timedelta(days=1)),
        ("2h", timedelta(hours=2)),
        ("90 minutes before", timedelta(minutes=90)),
        ("1d12h", timedelta(days=1, hours=12)),
    ],
)
def test_reminder_offsets(text: str, delta: timedelta) -> None:
    assert parse_offset(text) == delta


@pytest.mark.parametrize("text", ["soon", "0h", "before", "1 lightyear before"])
def test_unreadable_offsets(text: str) -> None:
    with pytest.raises(DeadlineError):
        parse_offset(text)


@given(
    st.integers(min_value=1, max_value=300),
    st.sampled_from(["minutes", "hours", "days"]),
    st.sampled_from(["UTC", NY, "Asia/Kolkata", "Australia/Lord_Howe"]),
)
def test_relative_deadlines_are_exact_and_zone_free(n: int, unit: str, zone: str) -> None:
    when = parse_deadline(f"in {n} {unit}", NOW, zone)
    assert when == NOW + timedelta(**{unit: n})
    assert when.tzinfo is not None
