"""A member's professional-development certificate as a PDF (fpdf2), in their language.

Fonts: DejaVu Sans, which matplotlib (already a dependency) ships, embedded as a subset, so
any name prints (accents, ñ, ¿ ¡, and scripts beyond Latin-1). Should the font be missing,
fpdf2's core Helvetica is used and characters outside Latin-1 become "?" (Latin-1 still
covers Spanish). The verification code is printed and also kept in the document's metadata
(subject and keywords), where tools and tests can read it without a PDF text extractor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.i18n import Translator


@dataclass(frozen=True)
class CertificateLine:
    day: str  # the date as the member reads it
    subject: str  # topic (or series title)
    objectives: list[str]
    hours: str  # formatted for the language


@dataclass(frozen=True)
class CertificateText:
    community: str
    facilitators: str
    member: str
    start: str
    end: str
    hours: str
    count: int  # picks the plural of "hours" (see `commands.hours_count`)
    code: str  # shown form, ABCD-EFGH-JK
    issued: str
    lines: Sequence[CertificateLine]


def _font_dir() -> Path | None:
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return None
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    ok = (folder / "DejaVuSans.ttf").is_file() and (folder / "DejaVuSans-Bold.ttf").is_file()
    return folder if ok else None


def certificate_pdf(t: Translator, c: CertificateText, issued_at: datetime) -> bytes:
    """The certificate: who, where, when, how many hours, the meetings, the code."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    folder = _font_dir()
    fit: Callable[[str], str]
    if folder is not None:
        pdf.add_font("DejaVu", "", str(folder / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(folder / "DejaVuSans-Bold.ttf"))
        family = "DejaVu"

        def fit(text: str) -> str:
            return text

    else:  # pragma: no cover - matplotlib always ships DejaVu
        family = "helvetica"

        def fit(text: str) -> str:
            return text.encode("latin-1", "replace").decode("latin-1")

    title = t("reports.pdf.title")
    pdf.set_title(title)
    pdf.set_subject(t("reports.pdf.subject", code=c.code))
    pdf.set_keywords(c.code)
    pdf.set_author(fit(c.community))
    pdf.set_creator("circlebot")
    pdf.set_creation_date(issued_at)
    pdf.add_page()

    def para(text: str, size: float = 11, style: str = "", height: float = 6) -> None:
        pdf.set_font(family, style, size)
        pdf.multi_cell(0, height, fit(text), new_x="LMARGIN", new_y="NEXT", align="L")

    pdf.set_font(family, "B", 20)
    pdf.multi_cell(0, 11, fit(title), new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(4)
    para(t("reports.pdf.certifies"), 12)
    pdf.ln(2)
    pdf.set_font(family, "B", 16)
    pdf.multi_cell(0, 9, fit(c.member), new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(2)
    values = {"community": c.community, "start": c.start, "end": c.end, "hours": c.hours}
    if c.facilitators:
        body = t.n("reports.pdf.body", c.count, facilitators=c.facilitators, **values)
    else:  # a community with only its admins has nobody to name as facilitating
        body = t.n("reports.pdf.body_alone", c.count, **values)
    para(body, 12)
    pdf.ln(4)
    para(t("reports.pdf.meetings"), 12, "B")
    for line in c.lines:
        para(t("reports.pdf.line", day=line.day, subject=line.subject, hours=line.hours), 11)
        for objective in line.objectives:
            para(f"    • {objective}", 10, height=5)
    pdf.ln(4)
    para(t.n("reports.pdf.total", c.count, hours=c.hours), 12, "B")
    pdf.ln(6)
    para(t("reports.pdf.code", code=c.code), 11, "B")
    para(t("reports.pdf.verify", code=c.code), 10)
    para(t("reports.pdf.issued", date=c.issued), 10)
    return bytes(pdf.output())
