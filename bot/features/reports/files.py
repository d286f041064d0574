"""The report's files: two CSV tables (Excel-friendly) and two PNG charts.

CSV: UTF-8 with a byte order mark (Excel reads accents only with it), CRLF line ends (RFC
4180), numbers as numbers (hours with a dot, minutes exact), and text cells that start like
a formula defused with a leading apostrophe. The attendance table has one row per person
per meeting held; the totals are a second file (`hours-...csv`), so each file is one table
a spreadsheet can sort and filter.

Charts: matplotlib with the Agg backend (headless), no timestamps in the PNG metadata.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from babel.dates import format_date

from bot.features.reports.gather import Season
from bot.features.reports.period import Period
from bot.i18n import Translator
from bot.ui import File

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CSV_ENCODING = "utf-8-sig"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_COLOURS = ("#4C72B0", "#DD8452")


def hours(minutes: int) -> float:
    """Minutes as hours, to the hundredth (90 -> 1.5, 50 -> 0.83)."""
    return round(minutes / 60, 2)


def _cell(value: object) -> object:
    if isinstance(value, int | float):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in header])
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode(CSV_ENCODING)


def attendance_csv(t: Translator, s: Season, period: Period) -> bytes:
    """One row per person per meeting held: date, meeting, topic, person, attended, time."""
    head = [
        t("reports.csv.date"),
        t("reports.csv.meeting"),
        t("reports.csv.topic"),
        t("reports.csv.member"),
        t("reports.csv.attended"),
        t("reports.csv.minutes"),
        t("reports.csv.hours"),
    ]
    yes, no = t("reports.csv.yes"), t("reports.csv.no")
    rows: list[list[object]] = []
    for m in s.meetings:
        day = m.starts_at.astimezone(period.zone).date().isoformat()
        for p in s.people:
            minutes = s.attended.get((m.id, p.user_id))
            there = minutes is not None
            rows.append(
                [
                    day,
                    m.number,
                    m.subject,
                    p.name,
                    yes if there else no,
                    minutes or 0,
                    hours(minutes or 0),
                ]
            )
    return csv_bytes(head, rows)


def hours_csv(t: Translator, s: Season) -> bytes:
    """One row per person (meetings attended, minutes, hours), then the totals row."""
    head = [
        t("reports.csv.member"),
        t("reports.csv.meetings"),
        t("reports.csv.minutes"),
        t("reports.csv.hours"),
    ]
    rows: list[list[object]] = []
    for p in s.people:
        minutes = s.minutes_of(p.user_id)
        rows.append([p.name, s.meetings_of(p.user_id), minutes, hours(minutes)])
    total = sum(s.attended.values())
    rows.append([t("reports.csv.total"), len(s.attended), total, hours(total)])
    return csv_bytes(head, rows)


def _figure(width: float, height: float) -> Figure:
    import matplotlib

    matplotlib.use("Agg")  # no display: the bot runs headless
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def to_png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def attendance_figure(t: Translator, s: Season, period: Period) -> Figure:
    """Bars: how many attended each meeting held, in date order."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure(max(6.0, 1.0 + 0.7 * len(s.meetings)), 4.2)
    ax = fig.subplots()
    labels = [
        f"#{m.number}\n"
        + format_date(m.starts_at.astimezone(period.zone).date(), "d MMM", locale=t.lang)
        for m in s.meetings
    ]
    counts = [sum(1 for (mid, _) in s.attended if mid == m.id) for m in s.meetings]
    bars = ax.bar(range(len(counts)), counts, 0.6, color=_COLOURS[0])
    ax.set_xlim(-0.6, max(len(counts), 4) - 0.4)  # a lone meeting is not one wide slab
    ax.bar_label(bars, fmt="%d", padding=2)
    ax.set_xticks(range(len(counts)), labels)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max([*counts, 1]) * 1.2)
    ax.set_ylabel(t("reports.chart.people"))
    ax.set_title(t("reports.chart.attendance"))
    if not counts:
        ax.text(0.5, 0.5, t("reports.chart.none"), ha="center", va="center", transform=ax.transAxes)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


def months(period: Period) -> list[date]:
    """The first day of every month the period touches."""
    out, day = [], period.start.replace(day=1)
    while day <= period.end:
        out.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return out


def participation_figure(t: Translator, s: Season, period: Period) -> Figure:
    """Two bars a month: ballots cast and check-ins answered."""
    from matplotlib.ticker import MaxNLocator

    firsts = months(period)
    keys = [d.strftime("%Y-%m") for d in firsts]
    votes = [s.votes_by_month.get(k, 0) for k in keys]
    answers = [s.answers_by_month.get(k, 0) for k in keys]
    fig = _figure(max(6.0, 1.5 + 0.55 * len(keys)), 4.2)
    ax = fig.subplots()
    width = 0.4
    xs = list(range(len(keys)))
    for offset, values, label, colour in (
        (-width / 2, votes, t("reports.chart.votes"), _COLOURS[0]),
        (width / 2, answers, t("reports.chart.answers"), _COLOURS[1]),
    ):
        bars = ax.bar([x + offset for x in xs], values, width * 0.95, color=colour, label=label)
        ax.bar_label(bars, labels=[str(v) if v else "" for v in values], padding=2, fontsize=8)
    ax.set_xticks(xs, [format_date(d, "MMM yy", locale=t.lang) for d in firsts], rotation=45)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max([*votes, *answers, 1]) * 1.2)
    ax.set_title(t("reports.chart.participation"))
    ax.legend(frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


def report_files(t: Translator, s: Season, period: Period) -> list[File]:
    """The four attachments: attendance and hours CSV, attendance and participation PNG.

    Four files fit one message on every platform (Discord: 10 attachments a message).
    """
    span = f"{period.start.isoformat()}-{period.end.isoformat()}"
    return [
        File(
            filename=f"attendance-{span}.csv",
            content=attendance_csv(t, s, period),
            title=t("reports.file.attendance"),
            mime="text/csv",
        ),
        File(
            filename=f"hours-{span}.csv",
            content=hours_csv(t, s),
            title=t("reports.file.hours"),
            mime="text/csv",
        ),
        File(
            filename=f"attendance-{span}.png",
            content=to_png(attendance_figure(t, s, period)),
            title=t("reports.file.attendance_chart"),
            mime="image/png",
        ),
        File(
            filename=f"participation-{span}.png",
            content=to_png(participation_figure(t, s, period)),
            title=t("reports.file.participation_chart"),
            mime="image/png",
        ),
    ]
