"""What a check-in asks and when: its questions (as stored JSON) and its timing, read from what
a facilitator types.

A question is free text, a 1–5 scale or a choice among a few options, and may be marked as
a commitment ("what I will try"). Timing is ``after:2d`` (two days after each meeting ends),
``before:5d`` (five days before each meeting starts) or ``schedule:"<meetings schedule>"``
(the same grammar as meeting series, `bot.schedule`). A check-in holds at most
`MAX_QUESTIONS` questions so that its form fits the smallest modal a platform offers (see
`bot.features.reflections.form`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.context import UserError
from bot.i18n import Translator
from bot.schedule import ScheduleError, parse_schedule
from storage.reflections import Checkin, CheckinTiming

KINDS = ("text", "scale", "choice")
MAX_QUESTIONS = 4  # the form shows every question plus one privacy choice in five inputs
# A question is a form label and its placeholder: the placeholder shows it whole on every
# platform (Discord cuts labels at 45 characters, placeholders at 100).
MAX_QUESTION = 100
MAX_OPTIONS = 10
MAX_OPTION = 75  # an option is a select's label (75 characters where it is shortest)
MAX_DAYS = 60  # "after:Nd" / "before:Nd"
MIN_OPEN, MAX_OPEN = timedelta(hours=1), timedelta(days=30)
DEFAULT_NUDGES = "P2D"
SCALE = ("1", "2", "3", "4", "5")

_SPAN = re.compile(r"([0-9]{1,4})\s*([wdhm])")
_SPAN_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
_DAYS = re.compile(r"([0-9]{1,3})\s*d?")
_ISO = re.compile(r"P(?:([0-9]{1,3})D)?(?:T(?:([0-9]{1,3})H)?(?:([0-9]{1,3})M)?)?")


@dataclass(frozen=True)
class Question:
    text: str
    kind: str = "text"
    options: list[str] = field(default_factory=list)
    commitment: bool = False

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"text": self.text, "kind": self.kind}
        if self.options:
            out["options"] = list(self.options)
        if self.commitment:
            out["commitment"] = True
        return out

    def choices(self) -> list[str]:
        """What a select offers: the scale's numbers or the options; none for free text."""
        if self.kind == "scale":
            return list(SCALE)
        return list(self.options) if self.kind == "choice" else []


def load(raw: str | None) -> list[Question]:
    """The questions of a check-in or a round, from their JSON column."""
    out = []
    for item in json.loads(raw or "[]"):
        out.append(
            Question(
                text=str(item.get("text", "")),
                kind=str(item.get("kind", "text")),
                options=[str(o) for o in item.get("options", [])],
                commitment=bool(item.get("commitment", False)),
            )
        )
    return out


def dump(questions: list[Question]) -> str:
    return json.dumps([q.as_json() for q in questions], ensure_ascii=False)


def defaults(t: Translator) -> list[Question]:
    """The agenda's individual reflection as three short questions (the second a commitment)."""
    return [
        Question(t("reflections.default.noticed")),
        Question(t("reflections.default.try"), commitment=True),
        Question(t("reflections.default.need")),
    ]


def new_question(
    t: Translator, text: str, kind: str | None, options: str | None, commitment: str | None
) -> Question:
    """A question from ``/cop checkins question N add ...``, or a one-sentence refusal."""
    text = " ".join(text.split())
    if not text:
        raise UserError(t("reflections.question.needs_text"))
    if len(text) > MAX_QUESTION:
        raise UserError(t("reflections.question.too_long", max=MAX_QUESTION))
    kind = kind or ("choice" if options else "text")
    if kind not in KINDS:
        raise UserError(t("reflections.question.bad_kind", kind=kind[:20]))
    choices: list[str] = []
    if kind == "choice":
        choices = [" ".join(o.split()) for o in (options or "").split(",")]
        choices = [o for o in choices if o]
        if len(choices) < 2 or len(choices) > MAX_OPTIONS:
            raise UserError(t("reflections.question.options_count", max=MAX_OPTIONS))
        if any(len(o) > MAX_OPTION for o in choices):
            raise UserError(t("reflections.question.option_long", max=MAX_OPTION))
        if len({o.casefold() for o in choices}) != len(choices):
            raise UserError(t("reflections.question.option_twice"))
    elif options:
        raise UserError(t("reflections.question.options_only_choice"))
    return Question(text, kind, choices, commitment == "yes")


@dataclass(frozen=True)
class Timing:
    timing: CheckinTiming
    days: int | None = None
    schedule: str | None = None


def parse_timing(t: Translator, raw: str, tz: str) -> Timing:
    """``after:2d`` / ``before:5d`` / ``schedule:every Monday at 17:00``, or a refusal."""
    head, sep, rest = raw.strip().partition(":")
    head, rest = head.strip().lower(), rest.strip()
    if not sep or head not in ("after", "before", "schedule") or not rest:
        raise UserError(t("reflections.timing.bad", timing=raw[:60]))
    if head == "schedule":
        try:
            parse_schedule(rest, tz)
        except ScheduleError as err:
            raise UserError(t(err.key, **err.values)) from None
        return Timing(CheckinTiming.SCHEDULE, schedule=rest)
    m = _DAYS.fullmatch(rest.lower())
    days = int(m.group(1)) if m else -1
    low = 1 if head == "before" else 0
    if not low <= days <= MAX_DAYS:
        raise UserError(t("reflections.timing.days", low=low, max=MAX_DAYS))
    return Timing(CheckinTiming(head), days=days)


def parse_open(t: Translator, raw: str) -> int:
    """How long a round stays open (``5d``, ``36h``, ``1w2d``), in minutes, or a refusal."""
    text = raw.strip().lower().replace(" ", "")
    if not text or _SPAN.sub("", text):
        raise UserError(t("reflections.open.bad", open=raw[:40]))
    span = timedelta()
    for amount, unit in _SPAN.findall(text):
        span += timedelta(**{_SPAN_UNITS[unit]: int(amount)})
    if not MIN_OPEN <= span <= MAX_OPEN:
        raise UserError(t("reflections.open.range"))
    return int(span.total_seconds() // 60)


def parse_iso(value: str) -> timedelta | None:
    """``P2D`` / ``PT12H`` / ``P1DT6H`` as a duration (None when it is not one of those)."""
    m = _ISO.fullmatch(value.strip())
    if not m or not any(m.groups()):
        return None
    days, hours, minutes = (int(g or 0) for g in m.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def first_nudge(checkin: Checkin) -> timedelta | None:
    """The check-in's first nudge offset after opening (None: it nudges nobody)."""
    for word in (checkin.nudges or "").split():
        offset = parse_iso(word)
        if offset is not None:
            return offset
    return None


def shift_days(instant: datetime, days: int, tz: str) -> datetime:
    """`instant` moved by whole days on the wall clock of `tz` (DST keeps the local time)."""
    local = instant.astimezone(ZoneInfo(tz))
    return (local + timedelta(days=days)).astimezone(instant.tzinfo)


def open_words(t: Translator, minutes: int) -> str:
    for size, unit in ((24 * 60, "day"), (60, "hour"), (1, "minute")):
        if minutes % size == 0:
            n = minutes // size
            return t.n(f"reflections.span.{unit}", n)
    raise AssertionError("unreachable")


def timing_words(t: Translator, checkin: Checkin) -> str:
    """ "2 days after each meeting", "5 days before each meeting", "on its own schedule: ..."."""
    if checkin.timing == CheckinTiming.SCHEDULE:
        return t("reflections.timing.words_schedule", schedule=checkin.schedule)
    key = "after" if checkin.timing == CheckinTiming.AFTER else "before"
    return t(f"reflections.timing.words_{key}", days=checkin.days)
