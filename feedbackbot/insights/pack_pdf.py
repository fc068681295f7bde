"""The quarterly board pack as a PDF, drawn with reportlab from the same suppressed, redacted figures as the page."""

from __future__ import annotations

import io
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable

from .query import Dashboard, Table

INK = colors.HexColor("#1b1b1b")
BLUE = colors.HexColor("#1d4e89")
SERIES = [colors.HexColor(c) for c in ("#1d4e89", "#a34700", "#2e6b30", "#6a1b9a")]
PACK_TABLES = ("reach_touchpoint", "victims_code", "satisfaction_touchpoint", "themes", "sla", "equality_ethnicity",
               "equality_gender", "equality_age_band", "equality_disability")


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=base["Title"], textColor=INK, fontSize=22, leading=26),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], textColor=BLUE, spaceBefore=10),
        "body": ParagraphStyle("body", parent=base["BodyText"], textColor=INK, fontSize=10, leading=13),
        "small": ParagraphStyle("small", parent=base["BodyText"], textColor=INK, fontSize=8.5, leading=11),
        "quote": ParagraphStyle("quote", parent=base["BodyText"], textColor=INK, fontSize=9.5, leading=12.5,
                                leftIndent=10, borderPadding=4, fontName="Helvetica-Oblique"),
        "cell": ParagraphStyle("cell", parent=base["BodyText"], textColor=INK, fontSize=8, leading=9.5),
    }


def _table(table: Table, threshold: int, st: dict[str, ParagraphStyle], width: float) -> Flowable:
    head = [Paragraph(f"<b>{escape(c)}</b>", st["cell"]) for c in ["", *table.columns]]
    data = [head]
    for row in [*table.rows, *([table.total] if table.total else [])]:
        data.append([Paragraph(escape(row.label), st["cell"]),
                     *(Paragraph(escape(c.text(threshold)), st["cell"]) for c in row.cells)])
    first = min(45 * mm, width * 0.3)
    rest = (width - first) / max(1, len(table.columns))
    pdf = PdfTable(data, colWidths=[first, *[rest] * len(table.columns)], repeatRows=1)
    pdf.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#c8c8c8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
    ]))
    return pdf


def _bars(table: Table, threshold: int, width: float) -> Drawing | None:
    col = table.chart_columns[0]
    rows = [r for r in table.rows if col < len(r.cells)][:12]
    if not rows:
        return None
    shown = [r.cells[col].value if r.cells[col].shown else None for r in rows]
    is_rate = rows[0].cells[col].kind == "rate"
    top = 1.0 if is_rate else max([v for v in shown if v is not None] or [1.0]) or 1.0
    bar_h, gap, label_w = 11, 5, 120
    d = Drawing(width, len(rows) * (bar_h + gap) + 4)
    for i, (row, value) in enumerate(zip(rows, shown, strict=True)):
        y = d.height - (i + 1) * (bar_h + gap)
        d.add(String(label_w - 4, y + 2, row.label[:30], fontSize=8, textAnchor="end", fillColor=INK))
        text = row.cells[col].text(threshold)
        if value is None:
            d.add(String(label_w + 2, y + 2, text, fontSize=8, fillColor=colors.HexColor("#505050")))
            continue
        w = max(1.0, (width - label_w - 50) * value / top)
        d.add(Rect(label_w, y, w, bar_h, fillColor=BLUE, strokeColor=None))
        d.add(String(label_w + w + 3, y + 2, text, fontSize=8, fillColor=INK))
    return d


def _lines(table: Table, width: float) -> Drawing | None:
    rows = table.rows
    if len(rows) < 2:
        return None
    height, left, bottom = 150, 30, 40
    d = Drawing(width, height + 14 * len(table.chart_columns))
    base = 14 * len(table.chart_columns)
    plot_h = height - bottom
    plot_w = width - left - 10
    for pct in (0, 50, 100):
        y = base + bottom + plot_h * pct / 100
        d.add(Line(left, y, width - 10, y, strokeColor=colors.HexColor("#d0d0d0")))
        d.add(String(left - 4, y - 3, f"{pct}%", fontSize=7, textAnchor="end", fillColor=INK))
    step = plot_w / (len(rows) - 1)
    for i, row in enumerate(rows):
        d.add(String(left + i * step, base + bottom - 12, row.label.replace("w/c ", ""), fontSize=7,
                     textAnchor="middle", fillColor=INK))
    for n, col in enumerate(table.chart_columns):
        colour = SERIES[n % len(SERIES)]
        points: list[float] = []
        for i, row in enumerate(rows):
            fig = row.cells[col]
            if fig.shown and fig.value is not None:
                points += [left + i * step, base + bottom + plot_h * fig.value]
        if len(points) >= 4:
            d.add(PolyLine(points, strokeColor=colour, strokeWidth=2,
                           strokeDashArray=[None, [4, 2], [1, 2], [6, 2, 1, 2]][n % 4]))
        y = 4 + (len(table.chart_columns) - 1 - n) * 14
        d.add(Line(left, y + 3, left + 20, y + 3, strokeColor=colour, strokeWidth=2))
        d.add(String(left + 26, y, table.columns[col], fontSize=8, fillColor=INK))
    return d


def build_pack_pdf(board: Dashboard, quarter: str, force_name: str, generated: datetime) -> bytes:
    """The board pack for one quarter as PDF bytes."""
    buffer = io.BytesIO()
    st = _styles()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"Victims' voice board pack {quarter}",
                            author=force_name, subject="Victim feedback: themes, trends and disproportionality",
                            lang="en-GB")
    width = A4[0] - 32 * mm
    n = board.threshold
    story: list[Flowable] = [
        Paragraph(escape(f"{force_name}: what victims told us, {quarter}"), st["title"]),
        Paragraph(escape(f"Victims Thematic Board pack. {board.filters.describe()}. Generated "
                         f"{generated:%d %B %Y %H:%M} UTC. Figures from fewer than {n} victims are shown as "
                         f"'fewer than {n}'; quotes and actions are redacted."), st["body"]),
        Spacer(1, 6 * mm),
        Paragraph("Headline figures", st["h2"]),
    ]
    heads = [[Paragraph(f"<b>{escape(label)}</b>", st["cell"]) for label, _ in board.headline],
             [Paragraph(f"<font size=14>{escape(fig.text(n))}</font>", st["cell"]) for _, fig in board.headline]]
    story.append(PdfTable(heads, colWidths=[width / len(board.headline)] * len(board.headline)))
    if board.rising:
        story.append(Paragraph(escape("Rising fastest (share of replies, last three months against the three "
                                      "before): " + "; ".join(f"{t} {f.text(n)}" for t, f in board.rising)),
                               st["body"]))
    for tid in PACK_TABLES:
        table = board.tables.get(tid)
        if table is None:
            continue
        parts: list[Flowable] = [Paragraph(escape(table.title), st["h2"])]
        if table.description:
            parts.append(Paragraph(escape(table.description), st["small"]))
        drawing = _lines(table, width) if table.chart == "line" else (
            _bars(table, n, width) if table.chart == "bar" else None)
        if drawing is not None:
            parts += [drawing, Spacer(1, 3 * mm)]
        story.append(KeepTogether(parts))
        story.append(_table(table, n, st, width))
        warnings = [r.label for r in table.rows if r.note and tid.startswith("equality_")]
        if warnings:
            story.append(Paragraph(escape("Too few victims to compare fairly: " + ", ".join(warnings) + "."),
                                   st["small"]))
    story.append(PageBreak())
    story.append(Paragraph("Top themes, in victims' own words", st["h2"]))
    themes = board.tables["themes"]
    for row in themes.rows[:6]:
        quotes = board.quotes.get(row.key, [])
        if not quotes:
            continue
        block: list[Flowable] = [Paragraph(escape(f"{row.label}: {row.cells[0].text(n)} replies, "
                                                  f"{row.cells[1].text(n)} of all"), st["body"])]
        block += [Paragraph(escape(f"“{q}”"), st["quote"]) for q in quotes]
        story.append(KeepTogether([*block, Spacer(1, 3 * mm)]))
    story.append(Paragraph("You said, we did", st["h2"]))
    for row in board.tables["you_said_we_did"].rows:
        actions = board.actions.get(row.key, [])
        story.append(Paragraph(escape(f"{row.label}: {row.cells[0].text(n)} replies acted on and resolved."),
                               st["body"]))
        story += [Paragraph(escape(f"– {a}"), st["small"]) for a in actions]
    doc.build(story)
    return buffer.getvalue()


def quarter_label(quarter: str) -> str:
    """``2026Q3`` as ``July to September 2026``."""
    year, q = quarter.upper().split("Q")
    months = ("January to March", "April to June", "July to September", "October to December")[int(q) - 1]
    return f"{months} {year}"
