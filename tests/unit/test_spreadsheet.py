"""Exports open in spreadsheets: a cell someone typed must never run there as a formula."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from referral.spreadsheet import FORMULA_STARTS, safe_cell, to_csv


def test_a_cell_that_would_be_a_formula_is_written_as_text() -> None:
    exported = to_csv(["group"], [['=HYPERLINK("http://example.invalid")'], ["+1"], ["@x"]])
    cells = [row[0] for row in csv.reader(io.StringIO(exported))][1:]
    assert cells == ['\'=HYPERLINK("http://example.invalid")', "'+1", "'@x"]


def test_numbers_and_ordinary_text_are_written_as_they_are() -> None:
    exported = to_csv(["a", "b", "c"], [[5000, "Nacka kommun", None]], delimiter=";")
    assert exported.splitlines() == ["a;b;c", "5000;Nacka kommun;"]


@given(st.text())
def test_no_written_text_cell_starts_like_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert isinstance(cell, str)
    assert not cell.startswith(FORMULA_STARTS)
    assert cell.removeprefix("'") == text or cell == text
