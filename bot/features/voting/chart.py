"""Poll results as files: bar charts (matplotlib, Agg backend) and the CSV export.

Pure functions of counts and rows; no database, no network. Figures are built by functions
that return them (so tests can read ticks, bar groups and notes) and turned into PNG bytes by
`to_png`. CSV files are UTF-8 with a BOM so Excel shows accents, one table with its own header
row per file, and never carry who chose what for an anonymous poll: `ballots_csv` is simply
not called for one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_MAX_TITLE = 70
_MAX_LABEL = 40
_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3")
# Excel recognises UTF-8 only with a byte order mark; without it "Niños" shows as "NiÃ±os".
CSV_ENCODING = "utf-8-sig"


def _cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _figure(width: float, height: float) -> Figure:
    import matplotlib

    matplotlib.use("Agg")  # no display: the bot runs headless
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def totals_figure(
    title: str, labels: Sequence[str], values: Sequence[int], unit: str, note: str = ""
) -> Figure:
    """Horizontal bars, first option at the top, counted in whole numbers; `note` under it."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure(7, 1.6 + 0.45 * max(len(labels), 1))
    ax = fig.subplots()
    positions = list(range(len(labels)))[::-1]
    bars = ax.barh(positions, list(values), color=_COLOURS[0])
    ax.set_yticks(positions, [_cut(label, _MAX_LABEL) for label in labels])
    ax.bar_label(bars, fmt="%d", padding=3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.5 votes
    ax.set_xlim(0, max([*values, 1]) * 1.15)
    ax.set_xlabel(unit)
    ax.set_title(_cut(title, _MAX_TITLE))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if note:
        fig.supxlabel(note, fontsize=9, style="italic", color="#444444")
    return fig


def rounds_figure(
    title: str,
    labels: Sequence[str],
    rounds: Sequence[Sequence[int | None]],
    round_names: Sequence[str],
    unit: str,
    gone: str,
    note: str = "",
) -> Figure:
    """Ranked choice: one group of bars per round, one colour per option (see the legend).

    `rounds[r][i]` is option i's count in round r, None once it has been eliminated; a gone
    option keeps its place in the group, marked with `gone` instead of a bar.
    """
    from matplotlib.ticker import MaxNLocator

    count = max(len(labels), 1)
    width = 0.8 / count
    fig = _figure(min(16.0, 3.0 + len(rounds) * (0.3 * count + 0.6)), 4.8 + 0.22 * count)
    ax = fig.subplots()
    top = max([c for r in rounds for c in r if c is not None] + [1])
    for i, label in enumerate(labels):
        colour = _COLOURS[i % len(_COLOURS)]
        xs = [r + (i - (count - 1) / 2) * width for r in range(len(rounds))]
        shown = [(x, c) for x, c in zip(xs, (r[i] for r in rounds), strict=True) if c is not None]
        bars = ax.bar(
            [x for x, _ in shown],
            [c for _, c in shown],
            width * 0.95,
            color=colour,
            label=_cut(label, _MAX_LABEL),
        )
        ax.bar_label(bars, fmt="%d", padding=2, fontsize=8)
        for x, c in zip(xs, (r[i] for r in rounds), strict=True):
            if c is None:
                ax.text(
                    x,
                    top * 0.03,
                    gone,
                    ha="center",
                    va="bottom",
                    rotation=90,
                    fontsize=8,
                    color="#555",
                )
    ax.set_xticks(range(len(rounds)), list(round_names))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.5 votes
    ax.set_ylim(0, top * 1.2)
    ax.set_ylabel(unit)
    ax.set_title(_cut(title, _MAX_TITLE))
    fig.legend(loc="outside right upper", fontsize=9, frameon=False)  # beside, never over bars
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if note:
        fig.supxlabel(note, fontsize=9, style="italic", color="#444444")
    return fig


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes (deterministic: no timestamps in the metadata)."""
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _cell(value: object) -> str:
    """Text a spreadsheet will not run as a formula (``=HYPERLINK(...)`` typed as a topic)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_file(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """One table (header row, then rows) as CSV bytes in UTF-8 with BOM; cells are defused.

    Numbers are written as numbers; every other cell goes through `_cell`.
    """
    out = io.StringIO()
    writer = csv.writer(out)  # \r\n line ends, as RFC 4180 and Excel expect
    writer.writerow([_cell(h) for h in header])
    for row in rows:
        writer.writerow([v if isinstance(v, int | float) else _cell(v) for v in row])
    return out.getvalue().encode(CSV_ENCODING)
