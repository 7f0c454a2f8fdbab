"""Small-cell suppression for the steering group's reports: a count of 1 to 4 is "<5", and enough
other cells are hidden that no suppressed count can be worked out from the totals.

The checkers here are written independently of the implementation. A reader of a published
table knows every shown count, that a "<5" is 1 to 4, that a hidden cell is 0 or at least 5
(1 to 4 would have been "<5"), that nothing is negative, that no count is below the same count
of a nested, shorter period, and that every row and column adds up to its total. The checkers
ask whether such a reader can pin a suppressed cell down:

- `linearly_determined` does exact rational Gaussian elimination on the line equations: a
  suppressed cell whose unit vector lies in the row space of the equations is determined by
  the totals alone, whatever the bounds;
- `feasible_values` enumerates every table the reader cannot rule out (hidden counts up to a
  bound) and collects the values each suppressed cell takes in them: a cell is safe once two
  different values are feasible.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referral.reports.document import Cell, Mark
from referral.reports.suppression import Suppressed, suppress

Grid = list[list[int]]
Position = tuple[int, int]


# --- the reader's view ---------------------------------------------------------------------


def with_totals(counts: Sequence[Sequence[int]]) -> Grid:
    """The table as published: a total column on the right, a total row at the bottom."""
    rows = [[*row, sum(row)] for row in counts]
    totals = [sum(row[j] for row in rows) for j in range(len(rows[0]))]
    return [*rows, totals]


def published_grid(published: Suppressed) -> list[list[Cell]]:
    rows = [
        [*cells, total] for cells, total in zip(published.cells, published.row_totals, strict=True)
    ]
    return [*rows, [*published.column_totals, published.grand_total]]


def suppressed_positions(grid: list[list[Cell]]) -> list[Position]:
    return [
        (i, j)
        for i, row in enumerate(grid)
        for j, cell in enumerate(row)
        if cell.mark is not Mark.SHOWN
    ]


def line_equations(n_rows: int, n_cols: int) -> list[list[tuple[Position, int]]]:
    """Every row and every column of the published table: the interior cells minus the total
    make zero."""
    equations: list[list[tuple[Position, int]]] = []
    for i in range(n_rows):
        equations.append([*(((i, j), 1) for j in range(n_cols - 1)), ((i, n_cols - 1), -1)])
    for j in range(n_cols):
        equations.append([*(((i, j), 1) for i in range(n_rows - 1)), ((n_rows - 1, j), -1)])
    return equations


def linearly_determined(grid: list[list[Cell]]) -> list[Position]:
    """The suppressed cells that the line equations pin down on their own: exact Gaussian
    elimination over the rationals on the unknowns' coefficients."""
    unknowns = suppressed_positions(grid)
    column_of = {position: n for n, position in enumerate(unknowns)}
    matrix: list[list[Fraction]] = []
    for equation in line_equations(len(grid), len(grid[0])):
        row = [Fraction(0)] * len(unknowns)
        for position, coefficient in equation:
            if position in column_of:
                row[column_of[position]] += coefficient
        matrix.append(row)
    pivots: list[tuple[int, list[Fraction]]] = []  # reduced echelon form
    for row in matrix:
        row = reduce_by(row, pivots)
        lead = next((n for n, value in enumerate(row) if value != 0), None)
        if lead is None:
            continue
        row = [value / row[lead] for value in row]
        pivots = [(p, reduce_by(other, [(lead, row)])) for p, other in pivots]
        pivots.append((lead, row))
    determined = []
    for position, n in column_of.items():
        unit = [Fraction(int(m == n)) for m in range(len(unknowns))]
        if not any(reduce_by(unit, pivots)):
            determined.append(position)
    return determined


def reduce_by(row: list[Fraction], pivots: list[tuple[int, list[Fraction]]]) -> list[Fraction]:
    row = list(row)
    for lead, pivot in pivots:
        if row[lead] != 0:
            factor = row[lead]
            row = [value - factor * other for value, other in zip(row, pivot, strict=True)]
    return row


def reader_accepts(grid: list[list[Cell]], full: Grid, floors: Grid | None = None) -> bool:
    """Whether a table with its totals agrees with everything the reader knows."""
    for i, row in enumerate(grid):
        for j, cell in enumerate(row):
            value = full[i][j]
            if floors is not None and value < floors[i][j]:
                return False
            if cell.mark is Mark.SHOWN and value != cell.value:
                return False
            if cell.mark is Mark.SMALL and not 1 <= value <= 4:
                return False
            if cell.mark is Mark.HIDDEN and 1 <= value <= 4:
                return False
    return full == with_totals([row[:-1] for row in full[:-1]]) and min(map(min, full)) >= 0


def feasible_values(
    grid: list[list[Cell]], *, floors: Grid | None = None, bound: int = 13
) -> dict[Position, set[int]]:
    """For each suppressed cell, values it takes in tables a reader cannot rule out (interior
    counts up to `bound`): all of them, unless every cell has shown two, where it stops."""
    n_rows, n_cols = len(grid) - 1, len(grid[0]) - 1

    def ceiling(i: int, j: int) -> float:
        cell = grid[i][j]
        if cell.mark is Mark.SHOWN:
            assert cell.value is not None
            return cell.value
        return 4 if cell.mark is Mark.SMALL else float("inf")

    def domain(i: int, j: int) -> list[int]:
        cell = grid[i][j]
        low = floors[i][j] if floors is not None else 0
        if cell.mark is Mark.SHOWN:
            assert cell.value is not None
            values = [cell.value]
        elif cell.mark is Mark.SMALL:
            values = [1, 2, 3, 4]
        else:
            values = [0, *range(5, bound + 1)]
        return [value for value in values if value >= low]

    seen: dict[Position, set[int]] = {p: set() for p in suppressed_positions(grid)}
    table = [[0] * n_cols for _ in range(n_rows)]
    order = [(i, j) for i in range(n_rows) for j in range(n_cols)]

    def search(n: int) -> bool:
        if n == len(order):
            full = with_totals(table)
            if not reader_accepts(grid, full, floors):
                return False
            for (i, j), values in seen.items():
                values.add(full[i][j])
            return all(len(values) >= 2 for values in seen.values())
        i, j = order[n]
        for value in domain(i, j):
            table[i][j] = value
            if sum(table[i][: j + 1]) > ceiling(i, n_cols):
                break  # the domain ascends: larger values overshoot too
            if sum(table[m][j] for m in range(i + 1)) > ceiling(n_rows, j):
                break
            if search(n + 1):
                return True
        table[i][j] = 0
        return False

    search(0)
    return seen


def exactly_recoverable(
    counts: Sequence[Sequence[int]], published: Suppressed, floors: Grid | None = None
) -> list[Position]:
    """The suppressed cells for which the reader finds no value but the true one."""
    grid = published_grid(published)
    truth = with_totals(counts)
    assert reader_accepts(grid, truth, floors), "the true table must agree with the publication"
    bound = max(13, *(count + 5 for row in counts for count in row))
    values = feasible_values(grid, floors=floors, bound=bound)
    return [(i, j) for (i, j), found in values.items() if not found - {truth[i][j]}]


def known_from(nested: Grid) -> Grid:
    """What the shorter period's report tells the reader about this one: each count here is at
    least the count there. That report is assumed to show every count that is not 1 to 4 (its
    own secondary suppression is not known here, so this is the worst case); of a "<5" there the
    reader knows only that the count is at least 1."""
    return [[1 if 1 <= count <= 4 else count for count in row] for row in with_totals(nested)]


def marks(published: Suppressed) -> list[list[Mark]]:
    return [[cell.mark for cell in row] for row in published_grid(published)]


S, H, V = Mark.SMALL, Mark.HIDDEN, Mark.SHOWN


# --- the checkers catch what they should ---------------------------------------------------


def test_the_linear_checker_sees_a_small_count_alone_in_its_row() -> None:
    grid = [
        [Cell(S), Cell(V, 9), Cell(V, 12)],
        [Cell(V, 7), Cell(V, 9), Cell(V, 16)],
        [Cell(V, 10), Cell(V, 18), Cell(V, 28)],
    ]
    assert linearly_determined(grid) == [(0, 0)]


def test_the_enumeration_sees_two_ones_that_make_a_shown_total() -> None:
    # 1 + 1 + 5 = 7: with the 5 and the 7 shown, both "<5" must be 1, though no equation
    # alone pins either of them.
    grid = [
        [Cell(S), Cell(S), Cell(V, 5), Cell(V, 7)],
        [Cell(S), Cell(S), Cell(V, 9), Cell(V, 15)],
        [Cell(S), Cell(S), Cell(V, 14), Cell(V, 22)],
    ]
    assert linearly_determined(grid) == []
    assert {(0, 0), (0, 1)} <= set(exactly_recoverable([[1, 1, 5], [3, 3, 9]], forged(grid)))


def test_the_enumeration_knows_a_hidden_cell_is_never_1_to_4() -> None:
    # A "<5" and a hidden cell that add up to 6 can only be 1 and 5.
    grid = [
        [Cell(S), Cell(H), Cell(V, 6)],
        [Cell(H), Cell(S), Cell(V, 8)],
        [Cell(V, 6), Cell(V, 8), Cell(V, 14)],
    ]
    assert linearly_determined(grid) == []
    assert set(exactly_recoverable([[1, 5], [5, 3]], forged(grid))) == {
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    }


def forged(grid: list[list[Cell]]) -> Suppressed:
    return Suppressed(
        cells=tuple(tuple(row[:-1]) for row in grid[:-1]),
        row_totals=tuple(row[-1] for row in grid[:-1]),
        column_totals=tuple(grid[-1][:-1]),
        grand_total=grid[-1][-1],
    )


# --- crafted tables ------------------------------------------------------------------------


def assert_safe(
    counts: Sequence[Sequence[int]], published: Suppressed, floors: Grid | None = None
) -> None:
    assert published.protected
    assert linearly_determined(published_grid(published)) == []
    if len(counts) <= 3 and len(counts[0]) <= 3:
        assert exactly_recoverable(counts, published, floors) == []


def test_a_table_without_small_counts_is_published_whole() -> None:
    counts = [[12, 7, 30], [5, 9, 41]]
    published = suppress(counts)
    assert [[cell.value for cell in row] for row in published_grid(published)] == with_totals(
        counts
    )
    assert all(mark is V for row in marks(published) for mark in row)


def test_a_single_small_count_gets_a_partner_in_its_row_its_column_and_the_corner() -> None:
    counts = [[3, 8, 20], [9, 7, 30], [25, 40, 50]]
    published = suppress(counts)
    assert marks(published) == [
        [S, H, V, V],
        [H, H, V, V],
        [V, V, V, V],
        [V, V, V, V],
    ]
    assert_safe(counts, published)


def test_a_small_count_is_not_protected_by_fives_alone() -> None:
    # The cheapest rectangle round the 2 is three fives; but a hidden cell is 0 or at least 5,
    # so each five could only move up, the 2 could not move, and a reader would find it.
    counts = [[2, 5, 9], [5, 5, 9], [9, 9, 9]]
    published = suppress(counts)
    grid = marks(published)
    assert grid[0][0] is S
    assert not (grid[0][1] is H and grid[1][0] is H and grid[1][1] is H and grid[2][0] is V)
    hidden_partners = [
        (i, j) for i in range(3) for j in range(3) if grid[i][j] is H and counts[i][j] > 5
    ]
    assert hidden_partners, "at least one cell above 5 is hidden to give the 2 room"
    assert_safe(counts, published)


def test_two_ones_that_make_up_their_row_with_a_shown_count_hide_more() -> None:
    counts = [[1, 1, 5], [7, 8, 9], [9, 9, 9]]
    published = suppress(counts)
    grid = marks(published)
    assert grid[0][:2] == [S, S]
    hidden = sum(mark is H for row in grid for mark in row)
    assert hidden >= 3
    assert_safe(counts, published)


def test_a_table_of_one_row() -> None:
    counts = [[3, 7, 0, 12]]
    published = suppress(counts)
    # The 3's column total is the 3 itself, so it is "<5" too; the 7 and its total close the
    # cycle; the zero stays.
    assert marks(published) == [
        [S, H, V, V, V],
        [S, H, V, V, V],
    ]
    assert_safe(counts, published)


def test_a_table_of_one_column() -> None:
    counts = [[2], [9], [14]]
    published = suppress(counts)
    assert published.cells[0][0].mark is S
    assert published.row_totals[0].mark is S
    assert_safe(counts, published)


def test_small_totals_are_small_too() -> None:
    counts = [[1, 0], [0, 2]]
    published = suppress(counts)
    assert marks(published) == [
        [S, V, S],
        [V, S, S],
        [S, S, S],
    ]
    assert published.cells[0][1] == Cell(V, 0)
    assert_safe(counts, published)


def test_two_small_counts_under_a_shown_total_of_five_stay_protected() -> None:
    counts = [[2, 3, 0], [6, 11, 8], [10, 9, 12]]
    published = suppress(counts)
    assert published.row_totals[0] == Cell(V, 5)
    assert_safe(counts, published)


def test_four_ones_under_a_small_grand_total_cannot_be_protected_and_say_so() -> None:
    # Four "<5" that add up to a "<5" grand total can only be four ones: no amount of hiding
    # changes that, so the table is flagged for withholding.
    counts = [[1, 1], [1, 1]]
    published = suppress(counts)
    assert not published.protected
    assert all(mark is S for row in marks(published) for mark in row)
    assert exactly_recoverable(counts, published) != []


def test_a_protectable_table_says_so() -> None:
    assert suppress([[3, 8, 20], [9, 7, 30], [25, 40, 50]]).protected


def test_a_table_of_zeros_is_published_as_zeros() -> None:
    published = suppress([[0, 0, 0], [0, 0, 0]])
    assert all(cell == Cell(V, 0) for row in published_grid(published) for cell in row)


def test_the_year_hides_what_may_to_october_would_give_away() -> None:
    year = [[10, 20], [30, 40]]
    may_to_october = [[7, 20], [30, 38]]
    published = suppress(year, nested_in=may_to_october)
    # 10 - 7 = 3 children from November to April: the 10 would reveal them.
    assert published.cells[0][0] == Cell(H)
    assert published.cells[1][1] == Cell(H)
    # The totals differ by 3 and 2 as well; the grand totals by 5, which may be shown.
    assert published.row_totals == (Cell(H), Cell(H))
    assert published.column_totals == (Cell(H), Cell(H))
    assert published.grand_total == Cell(V, 100)
    assert_safe(year, published, floors=known_from(may_to_october))


def test_a_difference_that_is_itself_small_is_marked_small() -> None:
    published = suppress([[3, 20], [30, 40]], nested_in=[[1, 20], [30, 40]])
    assert published.cells[0][0] == Cell(S)


def test_no_shown_cell_differs_from_the_nested_period_by_1_to_4() -> None:
    year = [[14, 9, 31], [6, 22, 8]]
    summer = [[12, 9, 20], [6, 18, 8]]
    published = suppress(year, nested_in=summer)
    truth, inner = with_totals(year), with_totals(summer)
    for i, row in enumerate(published_grid(published)):
        for j, cell in enumerate(row):
            if cell.mark is V:
                assert not 1 <= truth[i][j] - inner[i][j] <= 4
    assert_safe(year, published, floors=known_from(summer))


@pytest.mark.parametrize(
    ("counts", "nested_in", "problem"),
    [
        ([[3, 4]], [[4, 4]], "exceed"),
        ([[3, 4]], [[1, 1], [1, 1]], "shape"),
        ([[3, 4]], [[1]], "shape"),
        ([], None, "at least one"),
        ([[]], None, "at least one"),
        ([[1, 2], [3]], None, "rectangular"),
        ([[1, -2]], None, "non-negative"),
    ],
)
def test_malformed_tables_are_refused(
    counts: list[list[int]], nested_in: list[list[int]] | None, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        suppress(counts, nested_in=nested_in)


def test_a_large_table_is_suppressed_quickly() -> None:
    # 12 x 25 with a small count in every third cell: well under 50 ms on a quiet machine; the
    # bound here only catches a blow-up, not a slow test runner.
    counts = [
        [(i * 7 + j * 3) % 4 + 1 if (i + j) % 3 == 0 else (i + 2 * j) % 40 for j in range(25)]
        for i in range(12)
    ]
    started = time.perf_counter()
    published = suppress(counts)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5
    assert linearly_determined(published_grid(published)) == []


# --- properties ----------------------------------------------------------------------------

counts_up_to_8 = st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5, 6, 6, 7, 8])
counts_wider = st.one_of(counts_up_to_8, st.integers(0, 60))


def tables(values: st.SearchStrategy[int], most: int) -> st.SearchStrategy[Grid]:
    return st.integers(1, most).flatmap(
        lambda n_rows: st.integers(1, most).flatmap(
            lambda n_cols: st.lists(
                st.lists(values, min_size=n_cols, max_size=n_cols),
                min_size=n_rows,
                max_size=n_rows,
            )
        )
    )


def assert_published_honestly(counts: Grid, published: Suppressed) -> None:
    truth = with_totals(counts)
    for i, row in enumerate(published_grid(published)):
        for j, cell in enumerate(row):
            if cell.mark is V:
                assert cell.value == truth[i][j]
            else:
                assert cell.value is None
                assert (cell.mark is S) == (1 <= truth[i][j] <= 4)
            assert not (cell.mark is V and 1 <= truth[i][j] <= 4)


def assert_nothing_left_to_hide(published: Suppressed) -> None:
    """A table flagged as unprotectable had everything hidden first."""
    assert all(mark is not V for row in marks(published) for mark in row)


@settings(database=None, max_examples=300)
@given(tables(counts_up_to_8, 3))
def test_no_suppressed_count_of_a_small_table_can_be_recovered(counts: Grid) -> None:
    published = suppress(counts)
    assert_published_honestly(counts, published)
    assert linearly_determined(published_grid(published)) == []
    if published.protected:
        assert exactly_recoverable(counts, published) == []
    else:
        assert_nothing_left_to_hide(published)


@st.composite
def nested_pairs(draw: st.DrawFn) -> tuple[Grid, Grid]:
    year = draw(tables(counts_up_to_8, 3))
    part = [[draw(st.integers(0, count)) for count in row] for row in year]
    return year, part


@settings(database=None, max_examples=200)
@given(nested_pairs())
def test_no_suppressed_count_is_recoverable_with_the_nested_period_beside_it(
    pair: tuple[Grid, Grid],
) -> None:
    year, part = pair
    published = suppress(year, nested_in=part)
    assert_published_honestly(year, published)
    truth, inner = with_totals(year), with_totals(part)
    for i, row in enumerate(published_grid(published)):
        for j, cell in enumerate(row):
            if 1 <= truth[i][j] - inner[i][j] <= 4:
                assert cell.mark is not V
    assert linearly_determined(published_grid(published)) == []
    if published.protected:
        assert exactly_recoverable(year, published, floors=known_from(part)) == []
    else:
        assert_nothing_left_to_hide(published)


@settings(database=None, max_examples=200)
@given(tables(counts_wider, 4))
def test_larger_tables_publish_honestly_and_leave_no_cell_to_the_totals(counts: Grid) -> None:
    published = suppress(counts)
    assert_published_honestly(counts, published)
    assert linearly_determined(published_grid(published)) == []
    if not published.protected:
        assert_nothing_left_to_hide(published)
    assert suppress(counts) == published  # the same table always gives the same result
