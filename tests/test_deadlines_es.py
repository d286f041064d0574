"""Deadlines and reminder offsets typed in Spanish: the same instants and refusals as English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.deadlines import DeadlineError, parse_deadline, parse_offset
from bot.i18n import Translator, load_catalog

NY = "America/New_York"
MADRID = "Europe/Madrid"
# Monday 2 November 2026, 09:00 in New York (14:00 UTC; EST since 1 November).
NOW = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
DAYS_EN = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DAYS_ES = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August"]
MONTHS_EN += ["September", "October", "November", "December"]
MONTHS_ES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"]
MONTHS_ES += ["septiembre", "octubre", "noviembre", "diciembre"]


def ny(text: str) -> str:
    return parse_deadline(text, NOW, NY).astimezone(UTC).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("en 3 días", "2026-11-05 14:00"),
        ("en 3 dias", "2026-11-05 14:00"),
        ("En 2 horas", "2026-11-02 16:00"),
        ("en 2h", "2026-11-02 16:00"),
        ("en 1 día y 12 horas", "2026-11-04 02:00"),
        ("en 90 minutos", "2026-11-02 15:30"),
        ("en una semana", "2026-11-09 14:00"),
        ("dentro de dos días", "2026-11-04 14:00"),
        ("en una hora y media", "2026-11-02 15:30"),
        ("en media hora", "2026-11-02 14:30"),
        ("viernes 17:00", "2026-11-06 22:00"),
        ("el viernes a las 17:00", "2026-11-06 22:00"),
        ("vie 5pm", "2026-11-06 22:00"),
        ("el viernes a las 5:30 p. m.", "2026-11-06 22:30"),
        ("el viernes a las 5:30 de la tarde", "2026-11-06 22:30"),
        ("el viernes", "2026-11-07 04:59"),
        ("el próximo viernes a las 17:00", "2026-11-06 22:00"),
        ("el viernes que viene a las 17:00", "2026-11-06 22:00"),
        ("el lunes a las 8:00", "2026-11-09 13:00"),  # today's 08:00 is past: next week
        ("lunes 18h", "2026-11-02 23:00"),  # today's 18:00 is still ahead
        ("MIERCOLES 18h30", "2026-11-04 23:30"),
        ("mañana 9am", "2026-11-03 14:00"),
        ("manana a las 9", "2026-11-03 14:00"),
        ("mañana a las 9 y media", "2026-11-03 14:30"),
        ("mañana a las 9 de la mañana", "2026-11-03 14:00"),
        ("mañana al mediodía", "2026-11-03 17:00"),
        ("mañana", "2026-11-04 04:59"),
        ("hoy a las 18:30", "2026-11-02 23:30"),
        ("pasado mañana", "2026-11-05 04:59"),
        ("pasado mañana a las 10:00", "2026-11-04 15:00"),
        ("a las 6:30 pm", "2026-11-02 23:30"),
        ("6:30 p. m.", "2026-11-02 23:30"),
        ("18h30", "2026-11-02 23:30"),
        ("8:00", "2026-11-03 13:00"),
        ("medianoche", "2026-11-03 05:00"),
        # 15 March 2027 is after New York's spring-forward (14 March): EDT, UTC-4.
        ("el 15 de marzo a las 10:00", "2027-03-15 14:00"),
        ("15 de marzo de 2027 a las 10:00", "2027-03-15 14:00"),
        ("el 1º de diciembre a las 9:00", "2026-12-01 14:00"),
        ("el 15 de feb. a las 10:00", "2027-02-15 15:00"),
        ("el viernes a las 18 horas", "2026-11-06 23:00"),
        ("el primero de diciembre", "2026-12-02 04:59"),
        ("2026-12-01 17:00", "2026-12-01 22:00"),
    ],
)
def test_spanish_deadlines(text: str, utc: str) -> None:
    assert ny(text) == utc


def test_madrid_wall_clock_across_its_october_change() -> None:
    # Friday 23 October 2026 in Madrid (CEST); summer time ends on Sunday the 25th.
    before = datetime(2026, 10, 23, 8, 0, tzinfo=UTC)
    assert parse_deadline("el lunes a las 17:00", before, MADRID) == datetime(
        2026, 10, 26, 16, 0, tzinfo=UTC
    )
    assert parse_deadline("en 3 días", before, MADRID) == before + timedelta(days=3)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ayer", "unreadable"),
        ("en 0 días", "unreadable"),
        ("en 3 quincenas", "unreadable"),
        ("el viernes a las 25:00", "unreadable"),
        ("13 p. m.", "unreadable"),
        ("el 31 de febrero", "no_such_date"),
        ("el 31 de febrero de 2027 a las 10:00", "no_such_date"),
        ("el 30 de noviembre de 2027 a las 10:00", "too_far"),
        ("el 29 de febrero de 2027", "no_such_date"),
        ("2027-02-29 10:00", "no_such_date"),
        ("hoy a las 8:00", "past"),
        ("el 1 de noviembre de 2026 a las 10:00", "past"),
        ("en 400 días", "too_far"),
        # 02:30 on 14 March 2027 does not exist in New York (clocks jump from 02:00 to 03:00).
        ("el 14 de marzo de 2027 a las 2:30", "no_such_time"),
    ],
)
def test_spanish_refusals_say_why(text: str, code: str) -> None:
    with pytest.raises(DeadlineError) as err:
        parse_deadline(text, NOW, NY)
    assert err.value.code == code


def test_every_deadline_code_has_a_sentence_in_both_catalogs() -> None:
    codes = ["unreadable", "past", "too_far", "no_such_time", "no_such_date", "out_of_range"]
    english = load_catalog("en")
    assert [c for c in codes if f"voting.deadline.{c}" not in english] == []
    said = Translator("es").t("voting.deadline.no_such_date", text="31 de febrero")
    assert said.startswith('"31 de febrero" no es un día del calendario')


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("1 día antes", timedelta(days=1)),
        ("un día antes", timedelta(days=1)),
        ("2 horas antes", timedelta(hours=2)),
        ("una hora y media antes", timedelta(minutes=90)),
        ("90 minutos antes", timedelta(minutes=90)),
        ("2 días y 3 horas antes", timedelta(days=2, hours=3)),
        ("1d12h", timedelta(days=1, hours=12)),
    ],
)
def test_spanish_reminder_offsets(text: str, delta: timedelta) -> None:
    assert parse_offset(text) == delta


@pytest.mark.parametrize("text", ["pronto", "0 horas antes", "antes", "1 año antes"])
def test_unreadable_spanish_offsets(text: str) -> None:
    with pytest.raises(DeadlineError):
        parse_offset(text)


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=70)
    | st.lists(
        st.sampled_from(
            [
                "el",
                "en",
                "de",
                "a las",
                "mañana",
                "pasado",
                "hoy",
                "viernes",
                "próximo",
                "que",
                "viene",
                "3",
                "días",
                "y",
                "horas",
                "media",
                "15",
                "marzo",
                "2027",
                "18h30",
                "p. m.",
                "de la tarde",
                "antes",
                "una",
                "31",
                "febrero",
                "medianoche",
                "29",
            ]
        ),
        max_size=10,
    ).map(" ".join)
)
def test_any_text_is_a_deadline_or_one_refusal(text: str) -> None:
    for parse in (lambda: parse_deadline(text, NOW, NY), lambda: parse_offset(text)):
        try:
            parse()
        except DeadlineError as err:
            assert f"voting.deadline.{err.code}" in load_catalog("en")


def _same(english: str, spanish: str, now: datetime, zone: str) -> None:
    try:
        expected = parse_deadline(english, now, zone)
    except DeadlineError as err:
        with pytest.raises(DeadlineError) as es_err:
            parse_deadline(spanish, now, zone)
        assert es_err.value.code == err.code
    else:
        assert parse_deadline(spanish, now, zone) == expected


@settings(max_examples=200, deadline=None)
@given(
    form=st.sampled_from(["in", "weekday", "today", "tomorrow", "after", "date", "year", "offset"]),
    n=st.integers(1, 400),
    unit=st.sampled_from([("minutes", "minutos"), ("hours", "horas"), ("days", "días")]),
    day=st.integers(0, 6),
    month=st.integers(1, 12),
    day_of_month=st.integers(1, 31),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    now=st.datetimes(datetime(2026, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC)),
    zone=st.sampled_from([NY, MADRID, "Australia/Sydney", "UTC"]),
)
def test_english_and_spanish_deadlines_agree(
    form: str,
    n: int,
    unit: tuple[str, str],
    day: int,
    month: int,
    day_of_month: int,
    hour: int,
    minute: int,
    now: datetime,
    zone: str,
) -> None:
    at = f"{hour}:{minute:02d}"
    twelve = f"{(hour - 1) % 12 + 1}:{minute:02d}"
    pm = "pm" if hour >= 12 else "am"
    spanish_pm = "de la tarde" if hour >= 12 else "de la mañana"
    year = now.year + 1
    english, spanish = {
        "in": (f"in {n} {unit[0]}", f"en {n} {unit[1]}"),
        "weekday": (
            f"{DAYS_EN[day]} at {twelve}{pm}",
            f"el {DAYS_ES[day]} a las {twelve} {spanish_pm}",
        ),
        "today": (f"today {at}", f"hoy a las {at}"),
        "tomorrow": (f"tomorrow at {at}", f"mañana a las {at}"),
        "after": (f"day after tomorrow {at}", f"pasado mañana a las {at}"),
        "date": (
            f"{MONTHS_EN[month - 1]} {day_of_month} at {at}",
            f"el {day_of_month} de {MONTHS_ES[month - 1]} a las {at}",
        ),
        "year": (
            f"{day_of_month} {MONTHS_EN[month - 1]} {year} {at}",
            f"el {day_of_month} de {MONTHS_ES[month - 1]} de {year} a las {at}",
        ),
        "offset": (f"{n} {unit[0]} before", f"{n} {unit[1]} antes"),
    }[form]
    if form == "offset":
        assert parse_offset(spanish) == parse_offset(english) == timedelta(**{unit[0]: n})
        return
    _same(english, spanish, now, zone)


def test_every_deadline_refusal_has_spanish_text() -> None:
    codes = ["unreadable", "past", "too_far", "no_such_time", "no_such_date", "out_of_range"]
    english, spanish = load_catalog("en"), load_catalog("es")
    keys = [f"voting.deadline.{c}" for c in codes] + ["voting.refuse.remind_unreadable"]
    assert [k for k in keys if not spanish.get(k) or spanish[k] == english[k]] == []
