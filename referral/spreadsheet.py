"""CSV for spreadsheets, without formula injection.

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is taken as a formula by
Excel and LibreOffice: a group name or a request id typed by someone could then run in the
DPO's or the finance officer's spreadsheet. Such cells get a leading apostrophe, as OWASP
recommends; numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()
