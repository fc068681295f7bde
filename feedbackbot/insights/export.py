"""CSV exports of the board's tables: the figures as shown (suppression applied), formula characters neutralised."""

from __future__ import annotations

import csv
import io

from . import labels
from .query import Dashboard, Table
from .suppression import Figure

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXTRA_TABLES = ("quotes", "actions")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ tab or CR gets a leading apostrophe."""
    if value.startswith(FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def _figure(fig: Figure, threshold: int) -> str:
    if fig.withheld:
        return f"fewer than {threshold}"
    if fig.value is None:
        return ""
    if fig.kind == "rate":
        return f"{fig.value * 100:.1f}%"
    if fig.kind == "gap":
        return f"{fig.value * 100:.1f}"
    if fig.kind == "mean":
        return f"{fig.value:.2f}"
    if fig.kind == "minutes":
        return f"{fig.value:.0f}"
    return f"{fig.value:.0f}"


def _header(table: Table) -> list[str]:
    columns = []
    for c in table.columns:
        if c.startswith("Gap"):
            c += " (percentage points)"
        if c.startswith("Mean time"):
            c += " (minutes)"
        columns.append(c)
    return ["", *columns]


def table_csv(board: Dashboard, table_id: str) -> str:
    """One table (or the quotes or actions lists) as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if table_id in EXTRA_TABLES:
        data = board.quotes if table_id == "quotes" else board.actions
        writer.writerow(["Theme", "Quote (redacted)" if table_id == "quotes" else "Action taken (redacted)"])
        for theme, texts in data.items():
            for body in texts:
                writer.writerow([safe_cell(labels.name(labels.THEMES, theme)), safe_cell(body)])
        return out.getvalue()
    table = board.tables[table_id]
    writer.writerow([safe_cell(h) for h in _header(table)])
    for row in [*table.rows, *([table.total] if table.total else [])]:
        cells = [safe_cell(_figure(c, board.threshold)) for c in row.cells]
        writer.writerow([safe_cell(row.label), *cells, *[""] * (len(table.columns) - len(cells))])
    return out.getvalue()


def table_ids(board: Dashboard) -> list[str]:
    """Every table that can be exported."""
    return [*board.tables, *EXTRA_TABLES]
