"""A report as the renderers see it: sections of headline figures and tables whose cells are
already suppressed. The web page, the CSV and the PDF all draw the same document, so they
cannot disagree about what a reader may see."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Mark(StrEnum):
    SHOWN = "shown"  # the count as it is
    SMALL = "small"  # 1 to 4: shown as "<5"
    HIDDEN = "hidden"  # hidden so that a small count cannot be worked out from the totals


@dataclass(frozen=True)
class Cell:
    """One published figure. `value` is None unless the mark is SHOWN: a suppressed count
    never leaves the service, not even in a data attribute."""

    mark: Mark
    value: int | None = None

    @property
    def text(self) -> str:
        if self.mark is Mark.SMALL:
            return "<5"
        if self.mark is Mark.HIDDEN:
            return "–"
        return str(self.value)


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell, ...]  # one per column, the total last
    total: bool = False  # the table's total row


@dataclass(frozen=True)
class Table:
    """A table of counts with its totals: the last column is the row's total and the row
    marked `total` the columns' totals."""

    key: str  # stable, for CSV and anchors: "referrals_by_status_gender"
    title: str
    row_heading: str
    columns: tuple[str, ...]  # the last one is the total's heading
    rows: tuple[Row, ...]
    # The column the page draws as bars (the total by default); None: no chart (a table of
    # times, not counts).
    chart_column: int | None = -1


@dataclass(frozen=True)
class Figure:
    """A headline figure that is not a count (a rate, a median time): already safe to show,
    or marked SMALL/HIDDEN when it rests on fewer than five people."""

    key: str
    label: str
    text: str


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str  # the partnership and the period
    produced: str  # when and by whom (a role, never a name), as the reader's locale writes it
    sections: tuple[Section, ...]
    notes: tuple[str, ...] = ()  # how to read it: "<5" and the dash explained
