"""Counts keyed by (row, column) → a published table: the interior laid out in a fixed order
of rows and columns, totals added and every cell suppressed (reports.suppression) before any
renderer sees it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from referral.reports.document import Cell, Mark, Row, Table
from referral.reports.suppression import suppress

Key = tuple[str, str]


@dataclass(frozen=True)
class Axis:
    """The rows (or the columns) of a table: keys in the order shown, with their labels."""

    keys: tuple[str, ...]
    labels: tuple[str, ...]

    @classmethod
    def of(cls, pairs: Sequence[tuple[str, str]]) -> Axis:
        return cls(tuple(k for k, _ in pairs), tuple(label for _, label in pairs))


def _grid(counts: Counter[Key], rows: Axis, columns: Axis) -> list[list[int]]:
    unknown = {key for key in counts if key[0] not in rows.keys or key[1] not in columns.keys}
    if unknown:  # a category the axes do not name would vanish from the totals silently
        raise ValueError(f"counts outside the table's axes: {sorted(unknown)[:3]}")
    return [[counts[(r, c)] for c in columns.keys] for r in rows.keys]


def _with_totals(grid: list[list[int]]) -> list[list[int]]:
    rows = [[*row, sum(row)] for row in grid]
    return [*rows, [sum(column) for column in zip(*rows, strict=True)]]


def _nested(outer: list[list[int]], inner: list[list[int]]) -> list[list[int | None]]:
    """The shorter period's figures that are part of this period's, totals included. A
    count of events in the period is (the shorter period's are among them); a status on the
    period's last day need not be (a referral open at the end of October may be completed by
    December), and a figure larger than this period's is left out (None). Taking the others
    as nested can only hide more, never less."""
    return [
        [i if i <= o else None for o, i in zip(outer_row, inner_row, strict=True)]
        for outer_row, inner_row in zip(_with_totals(outer), _with_totals(inner), strict=True)
    ]


def count_table(
    key: str,
    title: str,
    row_heading: str,
    rows: Axis,
    columns: Axis,
    counts: Counter[Key],
    *,
    total_label: str,
    nested_in: Counter[Key] | None = None,
) -> Table:
    """A suppressed table. `nested_in`: the same counts for the separately published period
    inside this one (Period.nested), so the difference between the two reports is protected
    as well."""
    if not rows.keys:  # nothing happened: a row of zeros says so
        return plain_table(key, title, row_heading, rows, columns, counts, total_label=total_label)
    grid = _grid(counts, rows, columns)
    published = suppress(
        grid,
        nested_extended=_nested(grid, _grid(nested_in, rows, columns))
        if nested_in is not None
        else None,
    )
    if not published.protected:
        # Some tables cannot be made safe (four 1s whose total is 4 give each away):
        # nothing of them is shown.
        return _withheld(key, title, row_heading, rows, columns, total_label)
    body = tuple(
        Row(label, (*published.cells[i], published.row_totals[i]))
        for i, label in enumerate(rows.labels)
    )
    totals = Row(total_label, (*published.column_totals, published.grand_total), total=True)
    return Table(
        key=key,
        title=title,
        row_heading=row_heading,
        columns=(*columns.labels, total_label),
        rows=(*body, totals),
    )


def _shown(n: int) -> Cell:
    return Cell(Mark.SHOWN, n)


def plain_table(
    key: str,
    title: str,
    row_heading: str,
    rows: Axis,
    columns: Axis,
    counts: Counter[Key],
    *,
    total_label: str,
) -> Table:
    """A table of things that are not people (groups by format and size): nothing to hide."""
    grid = _grid(counts, rows, columns)
    body = tuple(
        Row(label, (*(_shown(n) for n in grid[i]), _shown(sum(grid[i]))))
        for i, label in enumerate(rows.labels)
    )
    column_totals = [sum(line[j] for line in grid) for j in range(len(columns.keys))]
    totals = Row(
        total_label, (*(_shown(n) for n in column_totals), _shown(sum(column_totals))), total=True
    )
    return Table(key, title, row_heading, (*columns.labels, total_label), (*body, totals))


def _withheld(
    key: str, title: str, row_heading: str, rows: Axis, columns: Axis, total_label: str
) -> Table:
    hidden = Cell(Mark.HIDDEN)
    width = len(columns.keys) + 1
    body = tuple(Row(label, (hidden,) * width) for label in rows.labels)
    totals = Row(total_label, (hidden,) * width, total=True)
    return Table(key, title, row_heading, (*columns.labels, total_label), (*body, totals))
