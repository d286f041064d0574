"""Words of the human time grammar in English and Spanish: Spanish phrasings rewritten into
the English grammar's words, so one parser reads both languages with the same results.

`bot.schedule` and `bot.deadlines` call `schedule_words` / `deadline_words` / `offset_words`
on what a person typed, whatever the community's language (a Spanish speaker may type
Spanish in an English community): "mensual el primer martes a las 18:30" becomes "monthly on
first tuesday at 18:30", "el viernes a las 17:00" becomes "friday at 17:00". Accents are
optional ("miercoles", "dias", "ultimo") and case does not matter. English text passes
unchanged: every rewritten word is Spanish (or Spanish-only abbreviation), so a sentence
mixing both languages reads too. Ambiguities and refusals are the English grammar's, since
after the rewrite it is the English grammar that decides. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

__all__ = [
    "ENGLISH_MONTHS",
    "deadline_words",
    "fold",
    "offset_words",
    "schedule_words",
]

ENGLISH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# "mar" (March) and "may" are left out of the abbreviations: "mar" is Spanish for Tuesday.
ENGLISH_MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_MONTH_NAMES = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
# Folded (no accents). "setiembre" is how several countries spell it.
_SPANISH_MONTHS = {
    "enero": 1,
    "ene": 1,
    "febrero": 2,
    "feb": 2,
    "marzo": 3,
    "abril": 4,
    "abr": 4,
    "mayo": 5,
    "junio": 6,
    "jun": 6,
    "julio": 7,
    "jul": 7,
    "agosto": 8,
    "ago": 8,
    "septiembre": 9,
    "setiembre": 9,
    "sept": 9,
    "set": 9,
    "octubre": 10,
    "oct": 10,
    "noviembre": 11,
    "nov": 11,
    "diciembre": 12,
    "dic": 12,
}
_SPANISH_DAYS = {
    "lunes": 0,
    "lun": 0,
    "martes": 1,
    "mar": 1,
    "miercoles": 2,
    "mie": 2,
    "mier": 2,
    "jueves": 3,
    "jue": 3,
    "viernes": 4,
    "vie": 4,
    "sabado": 5,
    "sabados": 5,
    "sab": 5,
    "domingo": 6,
    "domingos": 6,
    "dom": 6,
}
# Number words people use for small counts ("en dos dias", "every two weeks").
NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "uno": 1,
    "un": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "once": 11,
    "doce": 12,
}
_ORDINALS = [
    (r"primer|primero|1er|1ro|1o|1\.o", "first"),
    (r"segundo|2do|2o|2\.o", "second"),
    (r"tercer|tercero|3er|3ro|3o|3\.o", "third"),
    (r"cuarto|4to|4o|4\.o", "fourth"),
    (r"quinto|5to|5o|5\.o", "fifth"),
    (r"ultimo|ultima", "last"),
]
_UNITS = {
    "semanas": "weeks",
    "semana": "weeks",
    "sem": "weeks",
    "dias": "days",
    "dia": "days",
    "horas": "hours",
    "hora": "hours",
    "minutos": "minutes",
    "minuto": "minutes",
}


def _alternation(words: Iterable[str]) -> str:
    # Longest first, so "miercoles" is tried before "mie".
    return "|".join(sorted(words, key=len, reverse=True))


_DAY_ES = re.compile(rf"\b({_alternation(_SPANISH_DAYS)})\b\.?")
_DAY_EN = rf"(?:{'|'.join(ENGLISH_DAYS)})s?"
_MONTH_ES = _alternation(_SPANISH_MONTHS)
_NUMBER = _alternation(NUMBER_WORDS)
# Whole month names only ("ago", "set", "dic" are words in their own right elsewhere).
_MONTH_ES_FULL = _alternation(k for k in _SPANISH_MONTHS if len(k) > 4 or k in ("mayo",))

Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]


def _rules(*pairs: tuple[str, str | Callable[[re.Match[str]], str]]) -> list[Rule]:
    return [(re.compile(pattern), repl) for pattern, repl in pairs]


def _spanish_date(m: re.Match[str]) -> str:
    day = "1" if m["d"] == "primero" else m["d"]
    month = _MONTH_NAMES[_SPANISH_MONTHS[m["m"]] - 1]
    return f"{day} {month} {m['y']}" if m["y"] else f"{day} {month}"


def _day(m: re.Match[str]) -> str:
    return ENGLISH_DAYS[_SPANISH_DAYS[m[1]]]


def _number(m: re.Match[str]) -> str:
    return str(NUMBER_WORDS[m[1]])


# Times of day, shared by schedules and deadlines. "12 de la noche" is midnight; "a la 1".
_TIME_RULES = _rules(
    (r"\ben punto\b", ""),
    (r"\b12(:\d{2})? de la noche\b", r"12\1am"),
    (r"\bde la (?:manana|madrugada)\b", "am"),
    (r"\bde la (?:tarde|noche)\b", "pm"),
    (r"\b(?:a |al )?mediodia\b", "at 12:00"),
    (r"\b(?:a |a la )?medianoche\b", "at 0:00"),
    (r"\ba las?\b", "at"),
    # "a las 18 horas", "a las 18:30 hs": a 24-hour time.
    (
        r"\bat (\d{1,2})(:\d{2})? ?(?:horas|hrs|hs|h)\b",
        lambda m: f"at {m[1]}{m[2]}" if m[2] else f"at {m[1]}h",
    ),
    (r"\b(\d{1,2}) y media\b", r"\1:30"),
    (r"\b(\d{1,2}) y cuarto\b", r"\1:15"),
    # Spanish dates: "15 de marzo", "1o de mayo de 2027", "primero de mayo".
    (
        rf"\b(?P<d>\d{{1,2}}|primero)(?:o|ro)?\s+de\s+(?P<m>{_MONTH_ES})\b\.?"
        r"(?:\s+del?\s+(?P<y>\d{4})\b)?",
        _spanish_date,
    ),
)
_DURATION_RULES = _rules(
    (
        rf"\b({_NUMBER})\b(?=\s+(?:semanas?|dias?|horas?|minutos?|weeks?|days?|hours?|minutes?)\b)",
        _number,
    ),
    (r"\bmedia hora\b", "30 minutes"),
    (r"\b(\d+) (?:horas?|h) y media\b", r"\1 hours 30 minutes"),
    (r"\b(?:a|an)\s+(?=(?:week|day|hour|minute)\b)", "1 "),
    (
        rf"(\d)\s*({_alternation(_UNITS)})\b",
        lambda m: f"{m[1]} {_UNITS[m[2]]}",
    ),
    (r"\by\b", "and"),
    (r"\bantes$", "before"),
)
_DEADLINE_RULES = _rules(
    (r"^(?:en|dentro de)\s+", "in "),
    (r"\bpasado manana\b", "day after tomorrow"),
    (r"\bmanana\b", "tomorrow"),
    (r"\bhoy\b", "today"),
    (r"^(?:el|at)\s+", ""),
    (r"^(?:el )?proximo\s+", "next "),
    (rf"^({_DAY_EN})\s+(?:que viene|proximo)\b", r"next \1"),
)
_SCHEDULE_RULES = _rules(
    (r"\buna vez\b", "once"),
    (r"\b(?:de cada mes|de todos los meses|del mes)\b", "of each month"),
    (r"\b(?:mensual|mensualmente|cada mes|todos los meses)\b", "monthly"),
    (r"\b(?:quincenal|quincenalmente|cada semana por medio)\b", "every other week"),
    (r"\b(?:semanal|semanalmente|cada semana|todas las semanas)\b", "weekly"),
    (r"\bcada (\d+) semanas?\b", r"every \1 weeks"),
    (r"\b(?:a partir del?|desde el|desde|empezando el|comenzando el)\b", "starting"),
    (r"\bhasta el\b|\bhasta\b", "until"),
    # "cada dos miércoles" / "every other Wednesday": every other week on that day.
    (rf"\b(?:cada (?:dos|2)|every other) (?={_DAY_EN}\b)", "every other week on "),
    (r"\b(?:cada ano|todos los anos|anualmente|anual)\s+el\b", "every year on"),
    (r"\b(?:cada ano|todos los anos|anualmente|anual)\s+en\b", "every year in"),
    (rf"\b({_MONTH_ES_FULL})\b", lambda m: _MONTH_NAMES[_SPANISH_MONTHS[m[1]] - 1]),
    (r"\b(?:todos los|todas las|cada)\b", "every"),
    *((rf"\b(?:{pattern})(?=\s)", word) for pattern, word in _ORDINALS),
    (r"\b[ye]\b", "and"),
    # "el lunes y el jueves": the first article means "on", the others go.
    (r"(,|\band)\s+(?:el|los)\s+", r"\1 "),
    (rf"\b(?:el|los)\s+(?=\d|{_DAY_EN}\b|first|second|third|fourth|fifth|last)", "on "),
    # "semanal lunes y jueves", without an article.
    (rf"\b(weekly|weeks|every other week)\s+(?={_DAY_EN}\b)", r"\1 on "),
)


def fold(text: str) -> str:
    """Lower case without accents and with single spaces: "Miércoles" -> "miercoles".

    Canonical decomposition only (NFD): compatibility forms stay what they are, so "²" is
    not read as 2. The ordinal indicators of "1º" and "1ª" become letters."""
    decomposed = unicodedata.normalize("NFD", text).replace("º", "o").replace("ª", "a")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.lower().split())


def _apply(text: str, rules: list[Rule]) -> str:
    for pattern, repl in rules:
        text = pattern.sub(repl, text)
    return " ".join(text.split())


def _days(text: str) -> str:
    return _DAY_ES.sub(_day, text)


def schedule_words(text: str) -> str:
    """A schedule in English words: "cada 2 semanas el miércoles a las 19:00" -> "every 2 weeks
    on wednesday at 19:00". Also English number words: "every two weeks" -> "every 2 weeks"."""
    s = _apply(_days(fold(text)), _TIME_RULES)
    s = _apply(s, _rules((rf"\b(?:cada|every) ({_NUMBER}) (semanas?|weeks?)\b", _count)))
    return _apply(s, _SCHEDULE_RULES)


def _count(m: re.Match[str]) -> str:
    return f"every {NUMBER_WORDS[m[1]]} weeks"


def deadline_words(text: str) -> str:
    """A deadline in English words: "el viernes a las 17:00" -> "friday at 17:00", "en 3 días"
    -> "in 3 days", "el 15 de marzo a las 10:00" -> "15 march at 10:00"."""
    s = _apply(_days(fold(text)), _TIME_RULES)
    return _apply(_apply(s, _DEADLINE_RULES), _DURATION_RULES)


def offset_words(text: str) -> str:
    """A reminder offset in English words: "1 día antes" -> "1 days before"."""
    return _apply(fold(text), _DURATION_RULES)
