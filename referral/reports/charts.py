"""Server-side SVG charts of a report's tables, drawn from the cells a reader may see.

A bar is as long as its SHOWN count; a SMALL or HIDDEN cell draws no bar at all, only an
outlined placeholder of a fixed width with its marker ("<5" or the dash), so neither a length nor
an attribute can carry a suppressed count. The scale is the largest shown count.

The markup keeps to a strict Content Security Policy: presentation attributes and `class`
only, no `style`, no script. Each chart has `role="img"`, a `<title>` it is labelled by and a
`<desc>` listing what it draws. Every size is in viewBox units, so the chart scales to the
width it is given, a phone's included; the output depends only on its arguments, so the same
document gives the same bytes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from markupsafe import escape

from referral.reports.document import Cell, Mark, Row, Table

# Colours: a dark blue and a dark orange that colour-blind readers tell apart, then a green,
# a wine red and a purple for tables with more columns (Paul Tol's palette, darkened). Each
# has at least 4.5:1 contrast against white; the text is near-black (17:1).
SERIES_COLOURS = ("#1f4e79", "#b35900", "#117733", "#882255", "#6b3fa0")
TEXT_COLOUR = "#1a1a1a"
MUTED_COLOUR = "#595959"  # 7:1 on white: the placeholder's outline and the axis
BACKGROUND = "#ffffff"

FONT_SIZE = 14
CHAR_WIDTH = 0.62 * FONT_SIZE  # a generous estimate of a sans-serif character's advance
PADDING = 8
MIN_WIDTH = 360  # viewBox units: at a phone's 360 px the text is drawn at its own size
LABEL_GAP = 6  # between a row's label and its first bar
BAR_HEIGHT = 18
GROUPED_BAR_HEIGHT = 14
BAR_GAP = 4  # between the bars of one row in a grouped chart
ROW_GAP = 12
PLACEHOLDER_WIDTH = 24  # fixed: a suppressed cell's outline says nothing about its count
LEGEND_SWATCH = 12


def bar_chart(table: Table, *, column: int = -1, label: str) -> str:
    """A horizontal bar chart of one column of `table` (by default the total) for every row
    but the total row. `label` is the chart's accessible title."""
    index = _column_index(table, column)
    rows = _body_rows(table)
    cells = [[row.cells[index]] for row in rows]
    heading = table.columns[index]
    desc = f"{table.row_heading} – {heading}: " + "; ".join(
        f"{row.label} {row.cells[index].text}" for row in rows
    )
    return _chart(
        ident=f"chart-{_slug(table.key)}-{index}",
        label=label,
        desc=desc,
        rows=rows,
        cells=cells,
        series=(),
        bar_height=BAR_HEIGHT,
    )


def grouped_bar_chart(table: Table, *, label: str) -> str:
    """Per row but the total row, one bar for each column but the total (e.g. girls and
    boys), coloured by column, with a legend. A table with one column draws that column."""
    series_count = max(len(table.columns) - 1, 1)
    series = table.columns[:series_count]
    rows = _body_rows(table)
    cells = [list(row.cells[:series_count]) for row in rows]
    desc = f"{table.row_heading}: " + "; ".join(
        f"{row.label}: "
        + ", ".join(f"{name} {cell.text}" for name, cell in zip(series, row_cells, strict=True))
        for row, row_cells in zip(rows, cells, strict=True)
    )
    return _chart(
        ident=f"chart-{_slug(table.key)}-grouped",
        label=label,
        desc=desc,
        rows=rows,
        cells=cells,
        series=series,
        bar_height=GROUPED_BAR_HEIGHT,
    )


def _chart(
    *,
    ident: str,
    label: str,
    desc: str,
    rows: Sequence[Row],
    cells: Sequence[Sequence[Cell]],
    series: Sequence[str],
    bar_height: int,
) -> str:
    all_cells = [cell for row_cells in cells for cell in row_cells]
    shown = [max(cell.value or 0, 0) for cell in all_cells if cell.mark is Mark.SHOWN]
    largest = max(shown, default=0)

    # The width follows the longest text: a row's label (drawn above its bars) or the legend.
    value_room = max((len(cell.text) for cell in all_cells), default=1) * CHAR_WIDTH + PADDING
    longest_label = max((_text_width(row.label) for row in rows), default=0.0)
    width = math.ceil(max(MIN_WIDTH, longest_label + 2 * PADDING))
    x0 = PADDING
    bar_room = width - x0 - PADDING - value_room
    scale = bar_room / largest if largest > 0 else 0.0

    parts: list[str] = []
    y: float = PADDING
    if series:
        legend, y = _legend(series, width=width, y=y)
        parts.extend(legend)

    for row, row_cells in zip(rows, cells, strict=True):
        parts.append(
            f'<text class="chart-label" x="{x0}" y="{_num(y + FONT_SIZE)}">{_e(row.label)}</text>'
        )
        y += FONT_SIZE + LABEL_GAP
        top = y
        for position, cell in enumerate(row_cells):
            colour = SERIES_COLOURS[position % len(SERIES_COLOURS)]
            parts.extend(
                _bar(cell, x=x0, y=y, height=bar_height, scale=scale, colour=colour, n=position)
            )
            y += bar_height + BAR_GAP
        y -= BAR_GAP
        parts.append(
            f'<line class="chart-axis" x1="{x0}" y1="{_num(top)}" x2="{x0}" y2="{_num(y)}" '
            f'stroke="{TEXT_COLOUR}" stroke-width="1"/>'
        )
        y += ROW_GAP
    height = math.ceil(y - ROW_GAP + PADDING) if rows else math.ceil(y + PADDING)

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{ident}-title" aria-describedby="{ident}-desc" '
        f'font-family="Helvetica, Arial, sans-serif" font-size="{FONT_SIZE}" '
        f'fill="{TEXT_COLOUR}">'
        f'<title id="{ident}-title">{_e(label)}</title>'
        f'<desc id="{ident}-desc">{_e(desc)}</desc>'
        f'<rect class="chart-background" x="0" y="0" width="{width}" height="{height}" '
        f'fill="{BACKGROUND}"/>' + "".join(parts) + "</svg>"
    )


def _bar(
    cell: Cell, *, x: float, y: float, height: int, scale: float, colour: str, n: int
) -> list[str]:
    baseline = _num(y + height / 2 + FONT_SIZE * 0.35)
    if cell.mark is not Mark.SHOWN:
        # No bar: an outline of a fixed width at the axis and the marker beside it.
        return [
            f'<rect class="chart-suppressed" x="{_num(x)}" y="{_num(y)}" '
            f'width="{PLACEHOLDER_WIDTH}" height="{height}" fill="none" '
            f'stroke="{MUTED_COLOUR}" stroke-width="1" stroke-dasharray="3 2"/>',
            f'<text class="chart-marker" x="{_num(x + PLACEHOLDER_WIDTH + 4)}" '
            f'y="{baseline}">{_e(cell.text)}</text>',
        ]
    length = max(cell.value or 0, 0) * scale
    parts = []
    if length > 0:
        parts.append(
            f'<rect class="chart-bar chart-series-{n}" x="{_num(x)}" y="{_num(y)}" '
            f'width="{_num(length)}" height="{height}" fill="{colour}"/>'
        )
    parts.append(
        f'<text class="chart-value" x="{_num(x + length + 4)}" y="{baseline}">'
        f"{_e(cell.text)}</text>"
    )
    return parts


def _legend(series: Sequence[str], *, width: int, y: float) -> tuple[list[str], float]:
    """The legend's swatches and names, flowing onto a new line when the width runs out;
    returns the markup and the y below it."""
    parts = ['<g class="chart-legend">']
    x = float(PADDING)
    line_height = FONT_SIZE + 6
    for position, name in enumerate(series):
        item = LEGEND_SWATCH + 4 + _text_width(name) + 2 * PADDING
        if x > PADDING and x + item > width - PADDING:
            x = PADDING
            y += line_height
        colour = SERIES_COLOURS[position % len(SERIES_COLOURS)]
        parts.append(
            f'<rect class="chart-series-{position}" x="{_num(x)}" '
            f'y="{_num(y + (FONT_SIZE - LEGEND_SWATCH) / 2 + 1)}" width="{LEGEND_SWATCH}" '
            f'height="{LEGEND_SWATCH}" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{_num(x + LEGEND_SWATCH + 4)}" y="{_num(y + FONT_SIZE)}">{_e(name)}</text>'
        )
        x += item
    parts.append("</g>")
    return parts, y + line_height + ROW_GAP / 2


def _column_index(table: Table, column: int) -> int:
    count = len(table.columns)
    if not -count <= column < count:
        raise IndexError(f"table {table.key!r} has {count} columns, not column {column}")
    return column % count


def _body_rows(table: Table) -> list[Row]:
    return [row for row in table.rows if not row.total]


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def _slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", key)


def _num(value: float) -> str:
    """A coordinate as few characters as it needs, the same on every run."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _e(text: str) -> str:
    return str(escape(text))
