"""Counts → a published table: fixed rows and columns, totals added, every cell suppressed,
and a year's table protecting what subtracting the May-October table would tell."""

from __future__ import annotations

from collections import Counter

import pytest

from referral.reports.document import Mark
from referral.reports.suppression import suppress
from referral.reports.tables import Axis, count_table

STATUSES = Axis(("open", "done"), ("Open", "Done"))
GENDERS = Axis(("girl", "boy"), ("Girls", "Boys"))


def _table(counts: dict[tuple[str, str], int], inner: dict[tuple[str, str], int] | None = None):  # type: ignore[no-untyped-def]
    return count_table(
        "t",
        "Title",
        "Status",
        STATUSES,
        GENDERS,
        Counter(counts),
        total_label="Total",
        nested_in=Counter(inner) if inner is not None else None,
    )


def test_rows_and_columns_come_in_the_declared_order_with_totals_last() -> None:
    table = _table(
        {("open", "girl"): 6, ("open", "boy"): 7, ("done", "girl"): 8, ("done", "boy"): 9}
    )
    assert table.columns == ("Girls", "Boys", "Total")
    assert [row.label for row in table.rows] == ["Open", "Done", "Total"]
    assert [c.text for c in table.rows[-1].cells] == ["14", "16", "30"]


def test_a_count_outside_the_declared_rows_is_refused_rather_than_lost() -> None:
    with pytest.raises(ValueError, match="outside the table's axes"):
        _table({("lost", "girl"): 6})


def test_a_status_table_whose_shorter_period_is_not_cell_by_cell_inside_it_is_still_built() -> None:
    # A referral open at the end of October had been completed by December: the May-October
    # table has more "open" than the year's. The count sent (the columns' totals) is nested.
    year = {("open", "girl"): 5, ("done", "girl"): 9, ("open", "boy"): 6, ("done", "boy"): 10}
    summer = {("open", "girl"): 7, ("done", "girl"): 5, ("open", "boy"): 6, ("done", "boy"): 8}
    table = _table(year, summer)
    totals = table.rows[-1].cells
    # Girls sent in the year, 14, minus those sent May-October, 12, is 2: the year's figure
    # for girls is not shown, so subtracting the two reports tells nothing.
    assert totals[0].mark is not Mark.SHOWN


def test_a_table_nothing_happened_in_is_a_row_of_zeros() -> None:
    table = count_table("t", "T", "District", Axis((), ()), GENDERS, Counter(), total_label="Total")
    assert [(row.label, [c.text for c in row.cells]) for row in table.rows] == [
        ("Total", ["0", "0", "0"])
    ]


def test_suppression_with_only_some_figures_nested_refuses_a_figure_larger_than_its_own() -> None:
    with pytest.raises(ValueError):
        suppress([[5, 6]], nested_extended=[[9, None, None], [None, None, None]])
    with pytest.raises(ValueError):
        suppress([[5, 6]], nested_in=[[1, 1]], nested_extended=[[1, 1, 2], [1, 1, 2]])
