"""Small-cell suppression for the steering group's tables of counts.

A count from 1 to 4 is published as "<5" (primary suppression). The totals are published as
well, so a hidden count could be worked out from its row or column total, or from several
totals together; other cells are therefore hidden too (secondary suppression) until no
suppressed cell can be recovered exactly.

The published table with its totals is a set of line equations: every row and every column of
the extended (r+1) x (c+1) table says "the interior cells add up to the total". Each cell lies on
exactly two lines (its row and its column), so the suppressed cells are the edges of a
bipartite graph whose vertices are the lines. Giving the margin totals the sign -1 turns every
line into "the signed cells add up to zero"; a different table that agrees with everything
published then differs from the true one by a signed circulation on the suppressed cells:
adding +t and -t alternately round a cycle keeps every line's sum.

The audit looks for such a witness for every suppressed cell: a cycle of suppressed cells through
it and a step t such that every cell on the cycle stays inside what a reader knows of it
(a "<5" is 1 to 4; a hidden cell is 0 or at least 5, since 1 to 4 would have been "<5"; nothing is
negative; no count falls below the same cell of a nested, shorter period). A witness is a
concrete second table the reader cannot rule out, so a cell that has one cannot be recovered
exactly. A cell without one is protected by hiding the cheapest shown cells that close such a
cycle (a shortest path between its two lines). The search is sound, not complete: it only
tries one cycle and one step at a time, so it may hide more than strictly needed, never less
than its witnesses justify.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from referral.reports.document import Cell, Mark

SMALL_MIN = 1
SMALL_MAX = 4
# The steps tried round a cycle. A "<5" moves by at most 3; a hidden zero can only become 5 or
# more, and a hidden 5 only 0 or 6 or more, hence 5.
STEPS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Suppressed:
    """The published table: the interior cells, then the totals. A cell marked SMALL or HIDDEN
    carries no value.

    `protected` is False when even with every cell suppressed the audit found no second table
    for some suppressed cell: the marks alone give it away (four "<5" that add up to a "<5"
    grand total can only be four ones). Such a table should be withheld, not published.
    """

    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...]
    column_totals: tuple[Cell, ...]
    grand_total: Cell
    protected: bool = True


def suppress(
    counts: Sequence[Sequence[int]],
    *,
    nested_in: Sequence[Sequence[int]] | None = None,
    nested_extended: Sequence[Sequence[int | None]] | None = None,
) -> Suppressed:
    """Suppress an r x c table of counts together with the totals this function adds to it.

    `nested_in` holds the counts of a shorter period inside this one that is published on its
    own; a cell (or total) whose difference from it is 1 to 4 is not shown here either.
    `nested_extended` says the same of a table only some of whose figures are nested (a
    status on the period's last day is not, the count of referrals sent is): the (r+1) x (c+1)
    table with its totals, None where the shorter period's figure is not part of this one.
    """
    interior = _validated(counts, "counts")
    if nested_extended is not None:
        if nested_in is not None:
            raise ValueError("give nested_in or nested_extended, not both")
        extended = _extended(interior)
        figures = [list(row) for row in nested_extended]
        if len(figures) != len(extended) or any(len(r) != len(extended[0]) for r in figures):
            raise ValueError("nested_extended must have the shape of counts with its totals")
        for row, inner_row in zip(extended, figures, strict=True):
            for count, value in zip(row, inner_row, strict=True):
                if value is not None and not 0 <= value <= count:
                    raise ValueError("nested_extended may not exceed counts")
        grid = _Grid(extended, figures)
        return grid.published(grid.protect())
    nested = None
    if nested_in is not None:
        nested = _validated(nested_in, "nested_in")
        if len(nested) != len(interior) or len(nested[0]) != len(interior[0]):
            raise ValueError("nested_in must have the same shape as counts")
        for row, nested_row in zip(interior, nested, strict=True):
            for count, inner in zip(row, nested_row, strict=True):
                if inner > count:
                    raise ValueError("nested_in may not exceed counts: it is a shorter period")
    grid = _Grid(_extended(interior), _extended(nested) if nested is not None else None)
    protected = grid.protect()
    return grid.published(protected)


def _validated(table: Sequence[Sequence[int]], name: str) -> list[list[int]]:
    rows = [list(row) for row in table]
    if not rows or not rows[0]:
        raise ValueError(f"{name} needs at least one row and one column")
    width = len(rows[0])
    for row in rows:
        if len(row) != width:
            raise ValueError(f"{name} must be rectangular")
        for count in row:
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValueError(f"{name} holds non-negative whole counts only")
    return rows


def _extended(interior: list[list[int]]) -> list[list[int]]:
    """The table with a total column on the right and a total row at the bottom."""
    rows = [[*row, sum(row)] for row in interior]
    rows.append([sum(column) for column in zip(*rows, strict=True)])
    return rows


def _is_small(count: int) -> bool:
    return SMALL_MIN <= count <= SMALL_MAX


class _Grid:
    """The extended table as a bipartite graph: vertex i < n_rows is row line i, vertex
    n_rows + j is column line j, and cell k = i * n_cols + j joins them."""

    def __init__(
        self, table: list[list[int]], nested: Sequence[Sequence[int | None]] | None
    ) -> None:
        self.n_rows = len(table)
        self.n_cols = len(table[0])
        self.values = [count for row in table for count in row]
        # (None: no figure of the shorter period is part of this cell: nothing to protect.)
        inner = (
            [count or 0 for row in nested for count in row] if nested else [0] * len(self.values)
        )
        # What a reader of the shorter period's report knows each count here is at least: the
        # count there when it is shown there (assumed, to be safe: that report's own secondary
        # suppression is not known here), and 1 when it is "<5" there.
        self.floors = [SMALL_MIN if _is_small(count) else count for count in inner]
        self.marks: list[Mark] = []
        self.signs: list[int] = []
        self.is_total: list[bool] = []
        for k, count in enumerate(self.values):
            i, j = divmod(k, self.n_cols)
            row_total, column_total = i == self.n_rows - 1, j == self.n_cols - 1
            self.signs.append(-1 if row_total != column_total else 1)
            self.is_total.append(row_total or column_total)
            if _is_small(count):
                self.marks.append(Mark.SMALL)
            elif _is_small(count - inner[k]):
                self.marks.append(Mark.HIDDEN)
            else:
                self.marks.append(Mark.SHOWN)
        self.n_vertices = self.n_rows + self.n_cols
        # For each step: the arcs a cell offers if it is (or were) suppressed. An arc from row
        # vertex to column vertex adds the step to the signed cell, the reverse subtracts it.
        self.arcs: dict[int, list[list[tuple[int, int]]]] = {t: self._arcs(t) for t in STEPS}
        # What hiding a shown cell costs, as one number ordered like the tuple (is a total, is
        # zero, its count, 1): interior before totals, non-zero before zero, small before large,
        # then fewer cells. Nothing for a cell already suppressed.
        w_value = len(self.values) + 1
        w_zero = (sum(self.values) + 1) * w_value
        w_total = len(self.values) * w_zero + w_zero
        self.costs = [
            0
            if self.marks[k] is not Mark.SHOWN
            else w_total * self.is_total[k] + w_zero * (count == 0) + w_value * count + 1
            for k, count in enumerate(self.values)
        ]

    def _ends(self, k: int) -> tuple[int, int]:
        i, j = divmod(k, self.n_cols)
        return i, self.n_rows + j

    def _may_move(self, k: int, change: int) -> bool:
        """Whether a reader would accept the cell's count moved by `change`."""
        count = self.values[k] + change
        if count < self.floors[k]:
            return False
        if self.marks[k] is Mark.SMALL:
            return SMALL_MIN <= count <= SMALL_MAX
        return count == 0 or count > SMALL_MAX  # hidden, or shown but a candidate for hiding

    def _arcs(self, step: int) -> list[list[tuple[int, int]]]:
        out: list[list[tuple[int, int]]] = [[] for _ in range(self.n_vertices)]
        for k in range(len(self.values)):
            row, column = self._ends(k)
            if self._may_move(k, self.signs[k] * step):
                out[row].append((column, k))
            if self._may_move(k, -self.signs[k] * step):
                out[column].append((row, k))
        return out

    def _cycle(self, e: int, shown_too: bool) -> list[int] | None:
        """The cheapest cycle through suppressed cell e that a step can go round, as its cells
        (e included); only through suppressed cells unless `shown_too`."""
        best: tuple[int, list[int]] | None = None
        row, column = self._ends(e)
        for step in STEPS:
            arcs = self.arcs[step]
            for source, target in ((row, column), (column, row)):
                sign = self.signs[e] if source == row else -self.signs[e]
                if not self._may_move(e, sign * step):
                    continue  # e itself cannot move this way by this step
                found = self._path(arcs, target, source, e, shown_too)
                if found is not None and (best is None or found[0] < best[0]):
                    best = found
                    if not shown_too:
                        return [e, *best[1]]
        return None if best is None else [e, *best[1]]

    def _path(
        self,
        arcs: list[list[tuple[int, int]]],
        start: int,
        goal: int,
        excluded: int,
        shown_too: bool,
    ) -> tuple[int, list[int]] | None:
        """Dijkstra from `start` to `goal` over the arcs of suppressed cells (cost 0) and, when
        `shown_too`, of shown cells (their cost); returns the cost and the cells on the way."""
        distance = [-1] * self.n_vertices
        settled = [False] * self.n_vertices
        through: list[tuple[int, int] | None] = [None] * self.n_vertices
        distance[start] = 0
        queue = [(0, start)]
        while queue:
            cost, vertex = heapq.heappop(queue)
            if settled[vertex]:
                continue
            settled[vertex] = True
            if vertex == goal:
                cells: list[int] = []
                while (arc := through[vertex]) is not None:
                    vertex, k = arc
                    cells.append(k)
                cells.reverse()
                return cost, cells
            for neighbour, k in arcs[vertex]:
                if k == excluded or settled[neighbour]:
                    continue
                weight = self.costs[k]
                if weight and not shown_too:
                    continue
                candidate = cost + weight
                if distance[neighbour] < 0 or candidate < distance[neighbour]:
                    distance[neighbour] = candidate
                    through[neighbour] = (vertex, k)
                    heapq.heappush(queue, (candidate, neighbour))
        return None

    def protect(self) -> bool:
        """Hide cells until every suppressed cell has a witness; False if some cell has none
        even with everything hidden. A witness stays valid when more cells are hidden (a hidden
        cell's true count is still allowed), so a cell proven once is never audited again."""
        proven: set[int] = set()
        given_up: set[int] = set()
        while True:
            exposed = self._first_exposed(proven, given_up)
            if exposed is None:
                return not given_up
            cycle = self._cycle(exposed, shown_too=True)
            if cycle is not None:
                for k in cycle:
                    self._hide(k)
                proven.update(cycle)
                continue
            # No cycle at all: hide the rest of the cell's two lines, then everything; if
            # nothing is left to hide, nothing more can be done for this cell.
            row, column = divmod(exposed, self.n_cols)
            around = [
                k
                for k in range(len(self.values))
                if self.marks[k] is Mark.SHOWN
                and (k // self.n_cols == row or k % self.n_cols == column)
            ]
            if not around:
                around = [k for k, mark in enumerate(self.marks) if mark is Mark.SHOWN]
            if not around:
                given_up.add(exposed)
            for k in around:
                self._hide(k)

    def _hide(self, k: int) -> None:
        if self.marks[k] is Mark.SHOWN:
            self.marks[k] = Mark.HIDDEN
            self.costs[k] = 0

    def _first_exposed(self, proven: set[int], given_up: set[int]) -> int | None:
        for k, mark in enumerate(self.marks):
            if mark is Mark.SHOWN or k in proven or k in given_up:
                continue
            cycle = self._cycle(k, shown_too=False)
            if cycle is None:
                return k
            proven.update(cycle)
        return None

    def published(self, protected: bool) -> Suppressed:
        def cell(k: int) -> Cell:
            mark = self.marks[k]
            return Cell(mark, self.values[k] if mark is Mark.SHOWN else None)

        rows = [
            tuple(cell(i * self.n_cols + j) for j in range(self.n_cols)) for i in range(self.n_rows)
        ]
        return Suppressed(
            cells=tuple(row[:-1] for row in rows[:-1]),
            row_totals=tuple(row[-1] for row in rows[:-1]),
            column_totals=rows[-1][:-1],
            grand_total=rows[-1][-1],
            protected=protected,
        )
