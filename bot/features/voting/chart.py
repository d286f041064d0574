"""Poll results as files: a PNG bar chart (matplotlib, Agg backend) and a CSV export.

Pure functions of counts and rows; no database, no network. The CSV never carries who chose
what for an anonymous poll: the caller passes no ballot rows, and `poll_csv` refuses them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def png_chart(title: str, labels: Sequence[str], values: Sequence[float], xlabel: str) -> bytes:
    """A horizontal bar chart, best at the top, as PNG bytes (deterministic: no timestamps)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the bot runs headless
    from matplotlib.figure import Figure

    height = 1.2 + 0.45 * max(len(labels), 1)
    fig = Figure(figsize=(7, height), dpi=100)
    ax = fig.subplots()
    short = [label if len(label) <= 40 else label[:39] + "…" for label in labels]
    positions = list(range(len(labels)))[::-1]
    bars = ax.barh(positions, list(values), color="#4C72B0")
    ax.set_yticks(positions, short)
    ax.bar_label(bars, fmt="%g", padding=3)
    ax.set_xlabel(xlabel)
    ax.set_title(title if len(title) <= 70 else title[:69] + "…")
    ax.margins(x=0.15)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _cell(value: object) -> str:
    """Text a spreadsheet will not run as a formula (``=HYPERLINK(...)`` typed as a topic)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def poll_csv(
    header: Mapping[str, object],
    totals: Sequence[tuple[int, str, int | float]],
    rounds: Sequence[tuple[int, int, str, int]] = (),
    ballots: Sequence[tuple[str, int, str, int]] | None = None,
    *,
    anonymous: bool,
) -> bytes:
    """One table: ``row,round,option_id,option,value,voter``.

    - ``poll`` rows: the poll's facts (key in `option`, value in `value`);
    - ``total`` rows: per option (first preferences for ranked polls);
    - ``round`` rows: ranked polls, each option's count in each round;
    - ``ballot`` rows: who gave what (rank for ranked polls), never for anonymous polls.
    """
    if anonymous and ballots:
        raise ValueError("an anonymous poll's export has no per-ballot rows")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["row", "round", "option_id", "option", "value", "voter"])
    for key, value in header.items():
        writer.writerow(["poll", "", "", _cell(key), _cell(value), ""])
    for option_id, label, value in totals:
        writer.writerow(["total", "", option_id, _cell(label), value, ""])
    for number, option_id, label, count in rounds:
        writer.writerow(["round", number, option_id, _cell(label), count, ""])
    for voter, option_id, label, value in ballots or ():
        writer.writerow(["ballot", "", option_id, _cell(label), value, _cell(voter)])
    return out.getvalue().encode("utf-8")
