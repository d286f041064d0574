import re
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.schedule import Schedule, ScheduleError, parse_schedule

NY = "America/New_York"
BERLIN = "Europe/Berlin"
LONDON = "Europe/London"
OCT_1 = datetime(2026, 10, 1, tzinfo=UTC)
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(instants: list[datetime], tz: str) -> list[datetime]:
    return [t.astimezone(ZoneInfo(tz)) for t in instants]


def assert_one_sentence(message: str) -> None:
    assert message[0].isupper()
    assert message.endswith(".")
    assert "\n" not in message
    assert not re.search(r"[.!?]\s+[A-Z]", message[:-1]), message


FIRST_TUESDAY_NY = [utc(2026, 10, 6, 22, 30), utc(2026, 11, 3, 23, 30)]


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("monthly on the first Tuesday at 18:30", NY, FIRST_TUESDAY_NY),
        ("Monthly on the 1st tuesday at 6:30pm", NY, FIRST_TUESDAY_NY),
        ("every month on the first Tuesday at 6:30 p.m.", NY, FIRST_TUESDAY_NY),
        (
            "monthly on the second Wednesday at 18:30",
            "UTC",
            [utc(2026, 10, 14, 18, 30), utc(2026, 11, 11, 18, 30)],
        ),
        (
            "monthly on the 2nd Wednesday at 18:30",
            "UTC",
            [utc(2026, 10, 14, 18, 30), utc(2026, 11, 11, 18, 30)],
        ),
        (
            "monthly on the third Friday at 7:00am",
            "UTC",
            [utc(2026, 10, 16, 7), utc(2026, 11, 20, 7)],
        ),
        ("monthly on the 3rd Friday at 07:00", "UTC", [utc(2026, 10, 16, 7), utc(2026, 11, 20, 7)]),
        (
            "monthly on the fourth Monday at 12:00",
            "UTC",
            [utc(2026, 10, 26, 12), utc(2026, 11, 23, 12)],
        ),
        ("monthly on the 4th Mon at 12pm", "UTC", [utc(2026, 10, 26, 12), utc(2026, 11, 23, 12)]),
        (
            "last Thursday of each month at 12:00",
            LONDON,
            [utc(2026, 10, 29, 12), utc(2026, 11, 26, 12)],
        ),
        (
            "  On the LAST thursday   of every month at 12:00. ",
            LONDON,
            [utc(2026, 10, 29, 12), utc(2026, 11, 26, 12)],
        ),
        (
            "monthly on the last Thursday at 12:00",
            LONDON,
            [utc(2026, 10, 29, 12), utc(2026, 11, 26, 12)],
        ),
        # No "starting": fortnights are counted from Monday 2001-01-01.
        (
            "every 2 weeks on Wednesday at 19:00",
            BERLIN,
            [utc(2026, 10, 7, 17), utc(2026, 10, 21, 17), utc(2026, 11, 4, 18)],
        ),
        (
            "every other week on Wednesday at 19:00",
            BERLIN,
            [utc(2026, 10, 7, 17), utc(2026, 10, 21, 17), utc(2026, 11, 4, 18)],
        ),
        (
            "every 2 weeks on Wednesday at 19:00 starting 2026-10-14",
            BERLIN,
            [utc(2026, 10, 14, 17), utc(2026, 10, 28, 18), utc(2026, 11, 11, 18)],
        ),
        ("weekly on Monday at 9:00", "UTC", [utc(2026, 10, 5, 9), utc(2026, 10, 12, 9)]),
        ("every Monday at 9:00", "UTC", [utc(2026, 10, 5, 9), utc(2026, 10, 12, 9)]),
        (
            "every week on Monday and Thursday at 9:00",
            "UTC",
            [utc(2026, 10, 1, 9), utc(2026, 10, 5, 9), utc(2026, 10, 8, 9)],
        ),
        (
            "weekly on mon, wed & fri at 12am",
            "UTC",
            [utc(2026, 10, 2), utc(2026, 10, 5), utc(2026, 10, 7)],
        ),
        ("once on 2026-12-08 at 18:30", NY, [utc(2026, 12, 8, 23, 30)]),
        ("once on December 8th, 2026 at 18h30", NY, [utc(2026, 12, 8, 23, 30)]),
        ("every September on the 15th at 9:00", NY, [utc(2027, 9, 15, 13), utc(2028, 9, 15, 13)]),
        ("every year on 15 September at 9:00", NY, [utc(2027, 9, 15, 13), utc(2028, 9, 15, 13)]),
        ("yearly in March at 10:00", "UTC", [utc(2027, 3, 1, 10), utc(2028, 3, 1, 10)]),
        ("on 2026-12-08 at 18:30", NY, [utc(2026, 12, 8, 23, 30)]),
        ("RRULE:FREQ=MONTHLY;BYDAY=1TU at 18:30", NY, FIRST_TUESDAY_NY),
        ("rrule:freq=monthly;byday=1tu at 6:30pm", NY, FIRST_TUESDAY_NY),
        ("RRULE:FREQ=MONTHLY;BYDAY=1TU;BYHOUR=18;BYMINUTE=30", NY, FIRST_TUESDAY_NY),
        (
            "FREQ=MONTHLY;BYDAY=-1TH;BYHOUR=12",
            LONDON,
            [utc(2026, 10, 29, 12), utc(2026, 11, 26, 12)],
        ),
        (
            "monthly on the first Tuesday at 18:30 starting 2027-01-05 until 2027-03-31",
            NY,
            [utc(2027, 1, 5, 23, 30), utc(2027, 2, 2, 23, 30), utc(2027, 3, 2, 23, 30)],
        ),
        (
            "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=3 at 18:00 starting 2026-10-01",
            "UTC",
            [utc(2026, 10, 6, 18), utc(2026, 10, 13, 18), utc(2026, 10, 20, 18)],
        ),
        (
            "RRULE:FREQ=MONTHLY;BYDAY=1TU;UNTIL=20270105T235959Z at 18:30",
            NY,
            [*FIRST_TUESDAY_NY, utc(2026, 12, 1, 23, 30), utc(2027, 1, 5, 23, 30)],
        ),
    ],
)
def test_accepted_forms_give_expected_first_occurrences(text, tz, expected):
    schedule = parse_schedule(text, tz)
    got = schedule.occurrences(OCT_1, len(expected) + 2)
    assert got[: len(expected)] == expected
    assert all(t.tzinfo is UTC for t in got)
    if any(word in text.lower() for word in ("once", "on 2026", "until", "count")):
        assert len(got) == len(expected)  # a finite schedule ends there
    else:
        assert len(got) == len(expected) + 2


@pytest.mark.parametrize(
    ("text", "tz", "rrule", "local_time", "normalised"),
    [
        (
            "monthly on the first Tuesday at 18:30",
            NY,
            "FREQ=MONTHLY;BYDAY=+1TU",
            time(18, 30),
            "monthly on the first Tuesday at 18:30 (America/New_York)",
        ),
        (
            "last Thursday of each month at 12:00",
            LONDON,
            "FREQ=MONTHLY;BYDAY=-1TH",
            time(12),
            "monthly on the last Thursday at 12:00 (Europe/London)",
        ),
        (
            "every 2 weeks on Wednesday at 19:00",
            BERLIN,
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
            time(19),
            "every 2 weeks on Wednesday at 19:00 (Europe/Berlin)",
        ),
        (
            "every week on Thursday and Monday at 9:00",
            "UTC",
            "FREQ=WEEKLY;BYDAY=MO,TH",
            time(9),
            "weekly on Monday and Thursday at 09:00 (UTC)",
        ),
        (
            "RRULE:FREQ=MONTHLY;BYDAY=1TU at 18:30",
            NY,
            "FREQ=MONTHLY;BYDAY=+1TU",
            time(18, 30),
            "RRULE:FREQ=MONTHLY;BYDAY=+1TU at 18:30 (America/New_York)",
        ),
        (
            "RRULE:BYDAY=MO;FREQ=WEEKLY;BYHOUR=9;BYMINUTE=15",
            "UTC",
            "FREQ=WEEKLY;BYDAY=MO",
            time(9, 15),
            "RRULE:FREQ=WEEKLY;BYDAY=MO at 09:15 (UTC)",
        ),
    ],
)
def test_schedule_fields_are_normalised(text, tz, rrule, local_time, normalised):
    schedule = parse_schedule(text, tz)
    assert schedule.tz == tz
    assert schedule.rrule == rrule
    assert schedule.local_time == local_time
    assert schedule.text == normalised
    assert (schedule.once_on, schedule.starts_on, schedule.until) == (None, None, None)


def test_once_and_date_suffixes_fill_their_fields():
    once = parse_schedule("once on 2026-12-08 at 6:30 pm", NY)
    assert once == Schedule(
        NY,
        None,
        time(18, 30),
        date(2026, 12, 8),
        None,
        None,
        "once on 2026-12-08 at 18:30 (America/New_York)",
    )
    ranged = parse_schedule(
        "monthly on the first Tuesday at 18:30 until 2027-06-30 starting 2027-01-05", NY
    )
    assert (ranged.starts_on, ranged.until) == (date(2027, 1, 5), date(2027, 6, 30))
    assert ranged.text == (
        "monthly on the first Tuesday at 18:30 starting 2027-01-05 until 2027-06-30 (America/New_York)"
    )
    from_rrule = parse_schedule("RRULE:FREQ=MONTHLY;BYDAY=1TU;UNTIL=20270105T235959Z at 18:30", NY)
    assert from_rrule.until == date(2027, 1, 5)  # 23:59:59Z is 18:59:59 in New York
    assert from_rrule.rrule == "FREQ=MONTHLY;BYDAY=+1TU"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12am", time(0)),
        ("12pm", time(12)),
        ("12:15 AM", time(0, 15)),
        ("6:30 p.m.", time(18, 30)),
        ("07:05", time(7, 5)),
        ("0:00", time(0)),
        ("23:59", time(23, 59)),
    ],
)
def test_time_formats(raw, expected):
    assert parse_schedule(f"weekly on Friday at {raw}", "UTC").local_time == expected


@pytest.mark.parametrize(
    "text",
    [
        "monthly on the fifth Funday",
        "",
        "   ",
        "every 0 weeks on Monday at 9:00",
        "once on 2026-02-30 at 18:30",
        "once on 2026-12-8 at 18:30",
        "at 25:00",
        "weekly on Monday at 18:60",
        "weekly on Monday at 13pm",
        "weekly on Monday at noon",
        "weekly on Monday at 18",
        "weekly on Monday",
        "monthly on the first Funday at 9:00",
        "on the first Tuesday at 9:00",
        "monthly on the first Tuesday at 9:00 at 10:00",
        "hello there",
        "weekly on Monday at 9:00 starting 2027-02-01 until 2027-01-01",
        "weekly on Monday at 9:00 starting 2027-01-05 until 2027-01-06",
        "once on 2026-12-08 at 18:30 until 2027-01-01",
        "RRULE:FREQ=HOURLY at 9:00",
        "RRULE:FREQ=MONTHLY;BYDAY=1XX at 9:00",
        "RRULE:FREQ=MONTHLY;BYMONTHDAY=32 at 9:00",
        "RRULE:FREQ=MONTHLY;INTERVAL=0;BYDAY=1TU at 9:00",
        "RRULE:FREQ=MONTHLY;BYDAY=1TU",
        "RRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=9,18",
        "RRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=9 at 10:00",
        "RRULE:FREQ=MONTHLY;BYDAY=1TU;COUNT=3 at 9:00",
        "RRULE:FREQ=MONTHLY;BYDAY=1TU;UNTIL=20270101 at 9:00 until 2027-02-01",
        "RRULE:DTSTART=20260101T090000;FREQ=WEEKLY at 9:00",
        # Never matches: dateutil alone would search to year 9999 for these.
        "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 at 9:00",
        "RRULE:FREQ=WEEKLY;BYDAY=MO;BYSETPOS=3 at 9:00",
    ],
)
def test_invalid_schedules_raise_one_sentence(text):
    with pytest.raises(ScheduleError) as excinfo:
        parse_schedule(text, "UTC")
    assert isinstance(excinfo.value, ValueError)
    assert_one_sentence(str(excinfo.value))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "hello there",
            'I couldn\'t read that schedule; try "monthly on the first Tuesday at 18:30" '
            'or "once on 2026-12-08 at 18:30".',
        ),
        (
            "once on 2026-02-30 at 18:30",
            "There is no date 2026-02-30; use a real calendar date such as 2026-12-08.",
        ),
        (
            "at 25:00",
            'There is no time "25:00"; use a 24-hour time such as 18:30 or a 12-hour time such as 6:30pm.',
        ),
        (
            "monthly on the fifth Funday",
            "Not every month has a fifth weekday; use first, second, third, fourth or last.",
        ),
        (
            "every 0 weeks on Monday at 9:00",
            'The interval must be at least 1 week, as in "every 2 weeks on Wednesday at 19:00".',
        ),
    ],
)
def test_error_messages_say_what_was_expected(text, message):
    with pytest.raises(ScheduleError, match=re.escape(message)):
        parse_schedule(text, "UTC")


@pytest.mark.parametrize("zone", ["Mars/Base", "", "../etc/passwd", "america/new york"])
def test_unknown_zone(zone):
    with pytest.raises(ScheduleError) as excinfo:
        parse_schedule("weekly on Monday at 9:00", zone)
    assert (
        str(excinfo.value)
        == f'Unknown time zone "{zone}"; use an IANA name such as America/New_York.'
    )


def test_monthly_new_york_keeps_local_time_across_both_dst_changes():
    schedule = parse_schedule("monthly on the first Tuesday at 18:30", NY)
    occurrences = schedule.occurrences(OCT_1, 7)
    assert occurrences == [
        utc(2026, 10, 6, 22, 30),  # EDT
        utc(2026, 11, 3, 23, 30),  # EST, after the 2026-11-01 fall-back
        utc(2026, 12, 1, 23, 30),
        utc(2027, 1, 5, 23, 30),
        utc(2027, 2, 2, 23, 30),
        utc(2027, 3, 2, 23, 30),
        utc(2027, 4, 6, 22, 30),  # EDT again, after the 2027-03-14 spring-forward
    ]
    assert {t.time() for t in local(occurrences, NY)} == {time(18, 30)}
    assert [t.weekday() for t in local(occurrences, NY)] == [1] * 7


def test_fortnightly_berlin_keeps_local_time_across_october_and_march():
    schedule = parse_schedule("every 2 weeks on Wednesday at 19:00 starting 2026-10-14", BERLIN)
    autumn = schedule.occurrences(OCT_1, 3)
    assert autumn == [utc(2026, 10, 14, 17), utc(2026, 10, 28, 18), utc(2026, 11, 11, 18)]
    spring = schedule.occurrences(utc(2027, 3, 10), 2)
    assert spring == [utc(2027, 3, 17, 18), utc(2027, 3, 31, 17)]  # CEST from 2027-03-28
    assert {t.time() for t in local(autumn + spring, BERLIN)} == {time(19)}


def test_fortnight_parity_does_not_depend_on_the_query():
    schedule = parse_schedule("every 2 weeks on Wednesday at 19:00", BERLIN)
    from_october = schedule.occurrences(OCT_1, 10)
    from_later = schedule.occurrences(utc(2026, 10, 8), 9)
    assert from_later == from_october[1:]
    assert all(
        b - a in (timedelta(days=14), timedelta(days=14, hours=1))
        for a, b in pairwise(from_october)
    )


def test_last_thursday_in_months_with_four_and_five_thursdays():
    schedule = parse_schedule("last Thursday of each month at 12:00", LONDON)
    assert schedule.between(utc(2026, 1, 1), utc(2026, 5, 1)) == [
        utc(2026, 1, 29, 12),  # January 2026 has five Thursdays
        utc(2026, 2, 26, 12),  # February 2026 has four
        utc(2026, 3, 26, 12),  # four; UK summer time starts on the 29th
        utc(2026, 4, 30, 11),  # five, in BST
    ]
    leap_february = schedule.between(utc(2028, 2, 1), utc(2028, 3, 1))
    assert leap_february == [utc(2028, 2, 24, 12)]


def test_nonexistent_local_time_is_shifted_forward_by_the_gap():
    # The second Sunday of March is New York's spring-forward day: 02:00-03:00 doesn't exist.
    schedule = parse_schedule("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU at 02:30", NY)
    [first, second] = schedule.occurrences(utc(2027, 1, 1), 2)
    assert first == utc(2027, 3, 14, 7, 30)
    assert first.astimezone(ZoneInfo(NY)).time() == time(3, 30)
    assert second == utc(2028, 3, 12, 7, 30)


def test_ambiguous_local_time_takes_the_first_instant():
    # The first Sunday of November is New York's fall-back day: 01:30 happens twice.
    schedule = parse_schedule("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU at 01:30", NY)
    assert schedule.occurrences(utc(2026, 1, 1), 2) == [
        utc(2026, 11, 1, 5, 30),
        utc(2027, 11, 7, 5, 30),
    ]


def test_occurrences_are_strictly_after():
    schedule = parse_schedule("monthly on the first Tuesday at 18:30", NY)
    first = utc(2026, 10, 6, 22, 30)
    assert schedule.occurrences(first, 1) == [utc(2026, 11, 3, 23, 30)]
    assert schedule.occurrences(first - timedelta(seconds=1), 1) == [first]
    assert schedule.occurrences(first, 0) == []


def test_between_is_half_open_and_respects_bounds():
    schedule = parse_schedule(
        "weekly on Monday at 9:00 starting 2026-10-12 until 2026-10-26", "UTC"
    )
    assert schedule.between(OCT_1, utc(2027, 1, 1)) == [
        utc(2026, 10, 12, 9),
        utc(2026, 10, 19, 9),
        utc(2026, 10, 26, 9),
    ]
    assert schedule.between(utc(2026, 10, 12, 9), utc(2026, 10, 19, 9)) == [utc(2026, 10, 12, 9)]
    assert schedule.occurrences(utc(2026, 10, 26, 9), 5) == []
    once = parse_schedule("once on 2026-12-08 at 18:30", NY)
    assert once.between(OCT_1, utc(2027, 1, 1)) == [utc(2026, 12, 8, 23, 30)]
    assert once.between(utc(2026, 12, 8, 23, 31), utc(2027, 1, 1)) == []


def test_naive_datetimes_are_rejected():
    schedule = parse_schedule("weekly on Monday at 9:00", "UTC")
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule.occurrences(datetime(2026, 10, 1), 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule.between(datetime(2026, 10, 1), OCT_1)


ZONES = ["America/New_York", "America/Los_Angeles", "Europe/Berlin", "Australia/Sydney"]


@settings(max_examples=80, deadline=None)
@given(
    start=st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    zone=st.sampled_from(ZONES),
    weekday=st.integers(0, 6),
)
def test_weekly_series_keeps_wall_time_and_weekday(start, zone, weekday):
    schedule = parse_schedule(f"weekly on {WEEKDAYS[weekday]} at 18:30", zone)
    after = datetime.combine(start, time(), tzinfo=ZoneInfo(zone))
    occurrences = schedule.occurrences(after, 60)  # more than a year: crosses both DST changes
    assert len(occurrences) == 60
    assert after < occurrences[0] <= after + timedelta(days=7)
    walls = local(occurrences, zone)
    assert all(t.time() == time(18, 30) and t.weekday() == weekday for t in walls)
    assert all((b.date() - a.date()).days == 7 for a, b in pairwise(walls))
    assert schedule.between(occurrences[0], occurrences[-1]) == occurrences[:-1]


@settings(max_examples=60, deadline=None)
@given(
    form=st.sampled_from(
        [
            "monthly on the {ordinal} {day} at {hm}",
            "{ordinal} {day} of each month at {hm}",
            "every {n} weeks on {day} at {hm}",
            "weekly on {day} at {hm} starting 2027-01-05 until 2027-12-31",
            "RRULE:FREQ=MONTHLY;BYDAY={byday} at {hm}",
        ]
    ),
    ordinal=st.sampled_from(["first", "2nd", "third", "4th", "last"]),
    day=st.sampled_from(WEEKDAYS),
    n=st.integers(1, 4),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    zone=st.sampled_from(ZONES),
)
def test_normalised_text_parses_back_to_the_same_schedule(
    form, ordinal, day, n, hour, minute, zone
):
    byday = f"-1{day[:2].upper()}"
    text = form.format(ordinal=ordinal, day=day, n=n, hm=f"{hour}:{minute:02d}", byday=byday)
    schedule = parse_schedule(text, zone)
    suffix = f" ({zone})"
    assert schedule.text.endswith(suffix)
    assert parse_schedule(schedule.text.removesuffix(suffix), zone) == schedule
