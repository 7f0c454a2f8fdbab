"""Exports open in spreadsheets: a cell someone typed must never run there as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from referral.spreadsheet import FORMULA_STARTS, csv_pieces, safe_cell, to_csv


@pytest.mark.asvs("V1.3.3")
def test_a_cell_that_would_be_a_formula_is_written_as_text() -> None:
    exported = to_csv(["group"], [['=HYPERLINK("http://example.invalid")'], ["+1"], ["@x"]])
    cells = [row[0] for row in csv.reader(io.StringIO(exported))][1:]
    assert cells == ['\'=HYPERLINK("http://example.invalid")', "'+1", "'@x"]


def test_numbers_and_ordinary_text_are_written_as_they_are() -> None:
    exported = to_csv(["a", "b", "c"], [[5000, "Nacka kommun", None]], delimiter=";")
    assert exported.splitlines() == ["a;b;c", "5000;Nacka kommun;"]


@given(st.text())
@pytest.mark.asvs("V1.3.3")
def test_no_written_text_cell_starts_like_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert isinstance(cell, str)
    assert not cell.startswith(FORMULA_STARTS)
    assert cell.removeprefix("'") == text or cell == text


@given(
    st.lists(st.lists(st.one_of(st.integers(), st.text()), min_size=2, max_size=2), max_size=30),
    st.integers(min_value=1, max_value=7),
)
def test_a_streamed_export_is_the_same_file_a_few_rows_at_a_time(
    rows: list[list[object]], per_piece: int
) -> None:
    pieces = list(csv_pieces(["a", "b"], rows, rows_per_piece=per_piece))
    assert "".join(pieces) == to_csv(["a", "b"], rows)
    assert pieces[0].startswith("a,b\r\n")
    counts = [len(list(csv.reader(io.StringIO(piece)))) for piece in pieces]
    counts[0] -= 1  # the header
    assert all(count <= per_piece for count in counts)
    assert all(count == per_piece for count in counts[:-1])
