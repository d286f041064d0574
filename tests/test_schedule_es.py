"""Schedules typed in Spanish: the same schedules and refusals as their English phrasings, and
schedules said back in the reader's language from the catalog."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.schedule
from bot.i18n import Translator, load_catalog
from bot.schedule import ScheduleError, parse_schedule
from tests.support import transcript

NY = "America/New_York"
BERLIN = "Europe/Berlin"
LONDON = "Europe/London"
MADRID = "Europe/Madrid"
OCT_1 = datetime(2026, 10, 1, tzinfo=UTC)
FIRST_TUESDAY_NY = [
    datetime(2026, 10, 6, 22, 30, tzinfo=UTC),
    datetime(2026, 11, 3, 23, 30, tzinfo=UTC),
]
DAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DAYS_ES = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("mensual el primer martes a las 18:30", NY, FIRST_TUESDAY_NY),
        ("cada mes el primer martes a las 18:30", NY, FIRST_TUESDAY_NY),
        ("Mensualmente el 1er martes a las 6:30 pm", NY, FIRST_TUESDAY_NY),
        ("todos los meses el 1.º martes a las 6:30 p. m.", NY, FIRST_TUESDAY_NY),
        ("el primer martes de cada mes a las 18h30", NY, FIRST_TUESDAY_NY),
        ("el primer martes de cada mes a las 6:30 de la tarde", NY, FIRST_TUESDAY_NY),
        ("EL PRIMER MARTES DE CADA MES A LAS 18.30", NY, FIRST_TUESDAY_NY),
        ("RRULE:FREQ=MONTHLY;BYDAY=1TU a las 18:30", NY, FIRST_TUESDAY_NY),
        (
            "mensual el segundo miercoles a las 18:30",
            "UTC",
            [utc(2026, 10, 14, 18, 30), utc(2026, 11, 11, 18, 30)],
        ),
        (
            "mensual el tercer viernes a las 7:00",
            "UTC",
            [utc(2026, 10, 16, 7), utc(2026, 11, 20, 7)],
        ),
        (
            "mensual el cuarto lunes a las 12:00",
            "UTC",
            [utc(2026, 10, 26, 12), utc(2026, 11, 23, 12)],
        ),
        (
            "el último jueves de cada mes a las 12:00",
            LONDON,
            [utc(2026, 10, 29, 12), utc(2026, 11, 26, 12)],
        ),
        (
            "el ultimo jueves de todos los meses a las 12:00",
            LONDON,
            [utc(2026, 10, 29, 12), utc(2026, 11, 26, 12)],
        ),
        # Fortnights are counted from Monday 2001-01-01, as in English; Berlin leaves summer
        # time on 25 October.
        (
            "cada 2 semanas el miércoles a las 19:00",
            BERLIN,
            [utc(2026, 10, 7, 17), utc(2026, 10, 21, 17), utc(2026, 11, 4, 18)],
        ),
        (
            "cada dos semanas el miércoles a las 19:00",
            BERLIN,
            [utc(2026, 10, 7, 17), utc(2026, 10, 21, 17), utc(2026, 11, 4, 18)],
        ),
        (
            "cada dos miércoles a las 19:00",
            BERLIN,
            [utc(2026, 10, 7, 17), utc(2026, 10, 21, 17), utc(2026, 11, 4, 18)],
        ),
        (
            "every other Wednesday at 19:00",
            BERLIN,
            [utc(2026, 10, 7, 17), utc(2026, 10, 21, 17), utc(2026, 11, 4, 18)],
        ),
        (
            "quincenal el miercoles a las 7 de la tarde",
            BERLIN,
            [utc(2026, 10, 7, 17), utc(2026, 10, 21, 17), utc(2026, 11, 4, 18)],
        ),
        (
            "cada 2 semanas el miércoles a las 19:00 a partir del 14 de octubre de 2026",
            BERLIN,
            [utc(2026, 10, 14, 17), utc(2026, 10, 28, 18), utc(2026, 11, 11, 18)],
        ),
        (
            "cada 2 semanas el miércoles a las 19:00 desde el 2026-10-14",
            BERLIN,
            [utc(2026, 10, 14, 17), utc(2026, 10, 28, 18), utc(2026, 11, 11, 18)],
        ),
        ("semanal los jueves a las 12:00", MADRID, [utc(2026, 10, 1, 10), utc(2026, 10, 8, 10)]),
        ("cada semana el lunes a las 9:00", "UTC", [utc(2026, 10, 5, 9), utc(2026, 10, 12, 9)]),
        ("cada lunes a las 9:00", "UTC", [utc(2026, 10, 5, 9), utc(2026, 10, 12, 9)]),
        ("cada lunes a las 18 horas", "UTC", [utc(2026, 10, 5, 18), utc(2026, 10, 12, 18)]),
        ("cada lunes al mediodía", "UTC", [utc(2026, 10, 5, 12), utc(2026, 10, 12, 12)]),
        ("todos los lunes a las 9:00", "UTC", [utc(2026, 10, 5, 9), utc(2026, 10, 12, 9)]),
        (
            "todos los lunes y jueves a las 9:00",
            "UTC",
            [utc(2026, 10, 1, 9), utc(2026, 10, 5, 9), utc(2026, 10, 8, 9)],
        ),
        (
            "cada semana el lunes y el jueves a las 9:00",
            "UTC",
            [utc(2026, 10, 1, 9), utc(2026, 10, 5, 9), utc(2026, 10, 8, 9)],
        ),
        (
            "semanalmente lun, mié y vie a las 12 de la noche",
            "UTC",
            [utc(2026, 10, 2), utc(2026, 10, 5), utc(2026, 10, 7)],
        ),
        ("una vez el 2026-12-08 a las 18:30", NY, [utc(2026, 12, 8, 23, 30)]),
        # Yearly: the 1st of the month unless a day is given; New York is on EDT in September.
        ("cada septiembre a las 9:00", NY, [utc(2027, 9, 1, 13), utc(2028, 9, 1, 13)]),
        ("cada septiembre el 15 a las 9:00", NY, [utc(2027, 9, 15, 13), utc(2028, 9, 15, 13)]),
        (
            "todos los años el 15 de septiembre a las 9:00",
            NY,
            [utc(2027, 9, 15, 13), utc(2028, 9, 15, 13)],
        ),
        ("anualmente en marzo a las 10:00", MADRID, [utc(2027, 3, 1, 9), utc(2028, 3, 1, 9)]),
        ("cada 29 de febrero a las 10:00", "UTC", [utc(2028, 2, 29, 10), utc(2032, 2, 29, 10)]),
        ("el 8 de diciembre de 2026 a las 18:30", NY, [utc(2026, 12, 8, 23, 30)]),
        ("una vez el 8 de diciembre del 2026 a la 1:15 p. m.", NY, [utc(2026, 12, 8, 18, 15)]),
        (
            "mensual el primer martes a las 18:30 a partir del 5 de enero de 2027"
            " hasta el 31 de marzo de 2027",
            NY,
            [utc(2027, 1, 5, 23, 30), utc(2027, 2, 2, 23, 30), utc(2027, 3, 2, 23, 30)],
        ),
        (
            "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=3 a las 18:00 desde el 2026-10-01",
            "UTC",
            [utc(2026, 10, 6, 18), utc(2026, 10, 13, 18), utc(2026, 10, 20, 18)],
        ),
    ],
)
def test_spanish_schedules_give_expected_occurrences(
    text: str, tz: str, expected: list[datetime]
) -> None:
    schedule = parse_schedule(text, tz)
    got = schedule.occurrences(OCT_1, len(expected) + 2)
    assert got[: len(expected)] == expected
    finite = schedule.once_on is not None or schedule.until is not None or "COUNT" in text
    assert len(got) == (len(expected) if finite else len(expected) + 2)


@pytest.mark.parametrize(
    ("spanish", "english"),
    [
        ("mensual el primer martes a las 18:30", "monthly on the first Tuesday at 18:30"),
        ("el último jueves de cada mes a las 12:00", "last Thursday of each month at 12:00"),
        ("cada 2 semanas el miércoles a las 19:00", "every 2 weeks on Wednesday at 19:00"),
        ("cada dos semanas el miércoles a las 19:00", "every other week on Wednesday at 19:00"),
        ("semanal los jueves a las 12:00", "weekly on Thursday at 12:00"),
        ("cada semana el lunes y el jueves a las 9:00", "weekly on Monday and Thursday at 9:00"),
        ("una vez el 2026-12-08 a las 18:30", "once on 2026-12-08 at 18:30"),
        ("el 8 de diciembre de 2026 a las 18:30", "on December 8th, 2026 at 6:30pm"),
        ("cada septiembre a las 12:00", "every September at 12:00"),
        ("cada año el 15 de septiembre a las 9:00", "every September on the 15th at 9:00"),
        ("cada 15 de septiembre a las 9:00", "every year on September 15 at 9:00"),
        ("domingos a las 10h", "sundays at 10h"),  # neither grammar reads it: same refusal
    ],
)
def test_spanish_and_english_phrasings_agree(spanish: str, english: str) -> None:
    try:
        expected = parse_schedule(english, NY)
    except ScheduleError as err:
        with pytest.raises(ScheduleError) as es_err:
            parse_schedule(spanish, NY)
        assert es_err.value.key == err.key
    else:
        assert parse_schedule(spanish, NY) == expected


@pytest.mark.parametrize(
    ("text", "key", "values"),
    [
        ("el 31 de febrero de 2027 a las 10:00", "schedule.no_such_date", {"raw": "2027-02-31"}),
        ("una vez el 2027-02-31 a las 10:00", "schedule.no_such_date", {"raw": "2027-02-31"}),
        ("el 31 de febrero a las 10:00", "schedule.date_needs_year", {}),
        ("el 15 de marzo a las 10:00", "schedule.date_needs_year", {}),
        ("cada 0 semanas el lunes a las 9:00", "schedule.interval", {}),
        ("cada 60 semanas el lunes a las 9:00", "schedule.interval_long", {"max": 52}),
        ("mensual el quinto lunes a las 9:00", "schedule.fifth_weekday", {}),
        ("cada septiembre", "schedule.need_time", {}),
        (
            "cada año el 31 de septiembre a las 9:00",
            "schedule.day_not_in_month",
            {"month": 9, "day": 31},
        ),
        ("cada semana el lunes", "schedule.need_time", {}),
        ("cada semana el lunes a las 9", "schedule.no_such_time", {"raw": "9"}),
        ("cada semana el lunes a las 25:00", "schedule.no_such_time", {"raw": "25:00"}),
        ("cada semana el lunes a las 13 pm", "schedule.no_such_time", {"raw": "13 pm"}),
        ("cada semana el lunes y el funes a las 9:00", "schedule.bad_weekday", {"raw": "funes"}),
        ("mensual el primer funes a las 9:00", "schedule.bad_weekday", {"raw": "funes"}),
        ("hola, ¿qué tal?", "schedule.generic", {}),
        ("cada semana el lunes a las 9:00 a las 10:00", "schedule.generic", {}),
        (
            "cada semana el lunes a las 9:00 desde el 2027-02-01 hasta el 2027-01-01",
            "schedule.until_before_start",
            {"until": "2027-01-01", "starts": "2027-02-01"},
        ),
        ("una vez el 2026-12-08 a las 18:30 hasta el 2027-01-01", "schedule.once_with_range", {}),
        ("el 8 de diciembre de 2150 a las 18:30", "schedule.date_range", {"raw": "2150-12-08"}),
        ("  ", "schedule.empty", {}),
    ],
)
def test_spanish_refusals_name_catalog_keys(text: str, key: str, values: dict[str, object]) -> None:
    with pytest.raises(ScheduleError) as err:
        parse_schedule(text, "UTC")
    assert (err.value.key, err.value.values) == (key, values)
    assert key in load_catalog("en")
    assert Translator("es").t(key, **values)


@pytest.mark.parametrize(
    ("text", "en", "es"),
    [
        (
            "monthly on the first Tuesday at 18:30",
            "monthly on the first Tuesday at 18:30 (America/New_York)",
            "el primer martes de cada mes a las 18:30 (America/New_York)",
        ),
        (
            "el último jueves de cada mes a las 12:00",
            "monthly on the last Thursday at 12:00 (America/New_York)",
            "el último jueves de cada mes a las 12:00 (America/New_York)",
        ),
        (
            "every 2 weeks on Wednesday at 19:00 starting 2026-10-14",
            "every 2 weeks on Wednesday at 19:00 starting October 14, 2026 (America/New_York)",
            "cada 2 semanas el miércoles a las 19:00 a partir del 14 de octubre de 2026"
            " (America/New_York)",
        ),
        (
            "weekly on mon, wed & fri at 9:00 until 2027-06-30",
            "weekly on Monday, Wednesday, and Friday at 09:00 until June 30, 2027"
            " (America/New_York)",
            "cada semana el lunes, miércoles y viernes a las 09:00 hasta el 30 de junio de 2027"
            " (America/New_York)",
        ),
        (
            "once on 2026-12-08 at 6:30pm",
            "once on December 8, 2026 at 18:30 (America/New_York)",
            "una vez el 8 de diciembre de 2026 a las 18:30 (America/New_York)",
        ),
        (
            "every September on the 15th at 9:00",
            "every year on September 15 at 09:00 (America/New_York)",
            "cada año el 15 de septiembre a las 09:00 (America/New_York)",
        ),
        (
            "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU at 10:00",
            "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=+2SU at 10:00 (America/New_York)",
            "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=+2SU a las 10:00 (America/New_York)",
        ),
    ],
)
def test_schedules_are_said_back_in_the_readers_language(text: str, en: str, es: str) -> None:
    schedule = parse_schedule(text, NY)
    assert schedule.describe(Translator("en")) == en
    assert schedule.describe(Translator("es")) == es


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=80)
    | st.lists(
        st.sampled_from(
            [
                "el",
                "los",
                "cada",
                "de",
                "mes",
                "semanas",
                "2",
                "0",
                "y",
                ",",
                "a las",
                "18:30",
                "primer",
                "último",
                "martes",
                "jueves",
                "2027",
                "marzo",
                "31",
                "febrero",
                "desde",
                "hasta",
                "una vez",
                "mensual",
                "semanal",
                "p. m.",
                "rrule:freq=weekly",
                "h",
                ".",
            ]
        ),
        max_size=12,
    ).map(" ".join)
)
def test_any_text_is_a_schedule_or_one_refusal(text: str) -> None:
    try:
        parse_schedule(text, NY)
    except ScheduleError as err:
        assert err.key in load_catalog("en")


def test_every_schedule_description_key_has_spanish_text() -> None:
    english, spanish = load_catalog("en"), load_catalog("es")
    keys = sorted(k for k in english if k.startswith("schedule.describe."))
    assert len(keys) == 14
    assert [k for k in keys if not spanish.get(k)] == []


ZONES = [NY, BERLIN, "Australia/Sydney", MADRID]
ORDINALS = [("first", "primer"), ("second", "segundo"), ("third", "tercer"), ("4th", "cuarto")]
ORDINALS += [("last", "último")]


def _spanish_time(hour: int, minute: int, style: int) -> str:
    if style == 0 or hour == 0:
        return f"{hour}:{minute:02d}"
    if style == 1:
        return f"{hour}h{minute:02d}"
    if style == 2:
        return f"{(hour - 1) % 12 + 1}:{minute:02d} {'p. m.' if hour >= 12 else 'a. m.'}"
    part = "de la mañana" if hour < 12 else "de la tarde"
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {part}"


@settings(max_examples=150, deadline=None)
@given(
    form=st.sampled_from(
        ["monthly", "monthly_post", "weeks", "weekly", "every", "once", "range", "yearly"]
    ),
    ordinal=st.sampled_from(ORDINALS),
    days=st.lists(st.integers(0, 6), min_size=1, max_size=3, unique=True),
    n=st.integers(1, 8),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    style=st.integers(0, 3),
    on=st.dates(date(2027, 1, 1), date(2030, 12, 31)),
    zone=st.sampled_from(ZONES),
    accents=st.booleans(),
)
def test_english_and_spanish_phrasings_parse_to_the_same_schedule(
    form: str,
    ordinal: tuple[str, str],
    days: list[int],
    n: int,
    hour: int,
    minute: int,
    style: int,
    on: date,
    zone: str,
    accents: bool,
) -> None:
    en_days = " and ".join(DAYS_EN[d] for d in days)
    es_days = " y el ".join(DAYS_ES[d] for d in days)
    en_at, es_at = f"at {hour}:{minute:02d}", f"a las {_spanish_time(hour, minute, style)}"
    months = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"]
    months += ["septiembre", "octubre", "noviembre", "diciembre"]
    es_on = f"{on.day} de {months[on.month - 1]} de {on.year}"
    en_ord, es_ord = ordinal
    first = days[0]
    english, spanish = {
        "monthly": (
            f"monthly on the {en_ord} {DAYS_EN[first]} {en_at}",
            f"mensual el {es_ord} {DAYS_ES[first]} {es_at}",
        ),
        "monthly_post": (
            f"the {en_ord} {DAYS_EN[first]} of each month {en_at}",
            f"el {es_ord} {DAYS_ES[first]} de cada mes {es_at}",
        ),
        "weeks": (
            f"every {n} weeks on {en_days} {en_at}",
            f"cada {n} semanas el {es_days} {es_at}",
        ),
        "weekly": (f"weekly on {en_days} {en_at}", f"cada semana el {es_days} {es_at}"),
        "every": (
            f"every {en_days} {en_at}",
            f"todos los {es_days} {es_at}".replace(" y el ", " y "),
        ),
        "once": (f"once on {on.isoformat()} {en_at}", f"una vez el {es_on} {es_at}"),
        "yearly": (
            f"every {on:%B} on the {on.day} {en_at}",
            f"todos los años el {on.day} de {months[on.month - 1]} {es_at}",
        ),
        "range": (
            f"weekly on {en_days} {en_at} starting 2026-12-01 until {on.isoformat()}",
            f"semanal los {es_days} {es_at} a partir del 1 de diciembre de 2026 hasta el {es_on}",
        ),
    }[form]
    if not accents:
        spanish = spanish.translate(str.maketrans("áéíóúñ", "aeioun")).upper()
    expected = parse_schedule(english, zone)
    assert parse_schedule(spanish, zone) == expected
    assert expected.local_time == time(hour, minute)
    # What a Spanish reader is shown reads back as the same schedule.
    said = expected.describe(Translator("es")).removesuffix(f" ({zone})")
    assert parse_schedule(said, zone) == expected


async def test_a_spanish_speaker_types_a_schedule_in_an_english_community() -> None:
    """Through the console: the facilitator's private answers are in Spanish (the schedule
    said back, and the refusal), the channel's card stays in English."""
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        /cop facilitator add @ben
        :as ben
        /cop my language es
        /cop meeting series "el primer martes de cada mes a las 18:30" title="Monthly CoP"
        /cop meeting series "cada 0 semanas el lunes a las 9:00"
        """,
        zone=NY,
    )
    es, en = Translator("es"), Translator("en")
    said = parse_schedule("monthly on the first Tuesday at 18:30", NY)
    private = [x for x in lines if x.startswith("[private @ben]")]
    assert any(said.describe(es) in x for x in private)
    assert said.describe(es) == "el primer martes de cada mes a las 18:30 (America/New_York)"
    assert f"[private @ben] {es.t('schedule.interval')}" in private
    posts = [x for x in lines if x.startswith("[#cop] ")]
    assert any(said.describe(en) in x for x in posts)
    assert not any(said.describe(es) in x for x in posts)


def test_every_schedule_refusal_has_spanish_text() -> None:
    """A refusal reaches a Spanish speaker in Spanish: every key `bot.schedule` raises."""
    source = Path(bot.schedule.__file__).read_text()
    keys = {f"schedule.{k}" for k in re.findall(r'ScheduleError\(\s*"(\w+)"', source)}
    english, spanish = load_catalog("en"), load_catalog("es")
    assert len(keys) > 20
    assert sorted(k for k in keys if not spanish.get(k) or spanish[k] == english[k]) == []


async def test_a_spanish_community_types_and_reads_its_schedule_in_spanish() -> None:
    """A community whose language is Spanish: the schedule typed in Spanish, the card in the
    channel and the facilitator's answer say it in Spanish, and a refusal is Spanish."""
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup "Proveedoras del Bronx" America/New_York language=es
        /cop meeting series "cada 2 semanas el miércoles a las 7 de la tarde" title="Círculo"
        /cop meeting series "el 31 de febrero de 2027 a las 10:00" title="Imposible"
        """,
        zone=NY,
    )
    es = Translator("es")
    said = parse_schedule("every 2 weeks on Wednesday at 19:00", NY).describe(es)
    assert said == "cada 2 semanas el miércoles a las 19:00 (America/New_York)"
    assert any(x.startswith("[#cop] ") and said in x for x in lines)
    assert any(x.startswith("[private @ana] ") and said in x for x in lines)
    assert f"[private @ana] {es.t('schedule.no_such_date', raw='2027-02-31')}" in lines


async def test_the_interest_survey_is_scheduled_in_spanish() -> None:
    """The survey's yearly words read Spanish too: "cada septiembre" opens on the 1st at
    12:00, as "every September" does; with a day and a time, those."""
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        /cop survey schedule "cada septiembre" days=14 top=2
        /cop survey schedule "every September" days=14 top=2
        /cop survey schedule "cada septiembre el 15 a las 9:00" days=14 top=2
        """,
        zone=NY,
    )
    opens = [x for x in lines if "2027" in x and not x.startswith("ana>")]
    assert len(opens) == 3
    assert opens[0] == opens[1]
    assert "1 Sep 2027, 12:00" in opens[0]
    assert "15 Sep 2027, 09:00" in opens[2]
