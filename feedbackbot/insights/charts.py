"""Inline SVG charts for the board: horizontal bars and lines, drawn from a table's shown figures only."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from .query import Table
from .suppression import Figure

COLOURS = ("#1d4e89", "#a34700", "#2e6b30", "#6a1b9a")  # each at least 4.5:1 on white
WIDTH = 640


def _value(fig: Figure) -> float | None:
    return fig.value if fig.shown else None


def chart(table: Table, threshold: int) -> Markup:
    """The table's chart as an SVG element (empty when it has none), labelled for assistive technology."""
    if table.chart == "bar":
        return bar_chart(table, threshold)
    if table.chart == "line":
        return line_chart(table)
    return Markup("")


def _open(table: Table, height: int) -> str:
    tid = escape(table.id)
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
            f'aria-labelledby="chart-{tid}-title" focusable="false" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="chart-{tid}-title">Chart: {escape(table.title)}. The figures are in the table '
            f'that follows.</title>')


def bar_chart(table: Table, threshold: int) -> Markup:
    """One bar per row for the table's first chart column; withheld figures are marked, not drawn."""
    col = table.chart_columns[0]
    rows = [r for r in table.rows if col < len(r.cells)]
    if not rows:
        return Markup("")
    values = [_value(r.cells[col]) for r in rows]
    is_rate = rows[0].cells[col].kind == "rate"
    top = 1.0 if is_rate else max([v for v in values if v is not None] or [1.0]) or 1.0
    label_w, bar_h, gap = 190, 20, 8
    height = len(rows) * (bar_h + gap) + 10
    parts = [_open(table, height)]
    for i, (row, value) in enumerate(zip(rows, values, strict=True)):
        y = 5 + i * (bar_h + gap)
        label = row.label if len(row.label) <= 28 else row.label[:27] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="13" '
                     f'fill="#1b1b1b">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text x="{label_w + 4}" y="{y + 15}" font-size="12" fill="#505050">'
                         f'{escape(row.cells[col].text(threshold))}</text>')
            continue
        w = max(1.0, (WIDTH - label_w - 70) * value / top)
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{COLOURS[0]}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12" fill="#1b1b1b">'
                     f'{escape(row.cells[col].text(threshold))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every piece of text above is escaped


def line_chart(table: Table) -> Markup:
    """One line per chart column over the rows (periods), 0-100% for rates; gaps where withheld."""
    rows = table.rows
    if len(rows) < 2:
        return Markup("")
    cols = list(table.chart_columns)
    left, right, top, bottom = 44, 16, 12, 46
    legend_h = 20 * len(cols)
    height = 240 + legend_h
    plot_h = height - top - bottom - legend_h
    plot_w = WIDTH - left - right
    parts = [_open(table, height)]
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d0d0"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="#1b1b1b">{pct}%</text>')
    step = plot_w / (len(rows) - 1)
    every = max(1, len(rows) // 8)
    for i, row in enumerate(rows):
        if i % every == 0 or i == len(rows) - 1:
            x = left + i * step
            anchor = "start" if i == 0 else ("end" if i == len(rows) - 1 else "middle")
            parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16:.1f}" text-anchor="{anchor}" font-size="11" '
                         f'fill="#1b1b1b">{escape(row.label.replace("w/c ", ""))}</text>')
    for n, col in enumerate(cols):
        colour = COLOURS[n % len(COLOURS)]
        dash = ("", ' stroke-dasharray="6 3"', ' stroke-dasharray="2 3"', ' stroke-dasharray="8 3 2 3"')[n % 4]
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, row in enumerate(rows):
            value = _value(row.cells[col]) if col < len(row.cells) else None
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            x, y = left + i * step, top + plot_h * (1 - max(0.0, min(1.0, value)))
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        if segment:
            segments.append(segment)
        for points in segments:
            parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                         f'stroke-width="2.5"{dash}/>')
        ly = top + plot_h + 34 + n * 20
        parts.append(f'<line x1="{left}" x2="{left + 28}" y1="{ly - 4}" y2="{ly - 4}" stroke="{colour}" '
                     f'stroke-width="3"{dash}/>')
        parts.append(f'<text x="{left + 36}" y="{ly}" font-size="12" fill="#1b1b1b">'
                     f'{escape(table.columns[col])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every piece of text above is escaped
