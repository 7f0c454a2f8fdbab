"""CSV for spreadsheets, without formula injection.

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is taken as a formula by
Excel and LibreOffice: a group name or a request id typed by someone could then run in the
DPO's or the finance officer's spreadsheet. Such cells get a leading apostrophe, as OWASP
recommends; numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]], delimiter: str = ",") -> str:
    return "".join(csv_pieces(header, rows, delimiter=delimiter))


def csv_pieces(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    delimiter: str = ",",
    rows_per_piece: int = 1000,
) -> Iterator[str]:
    """The same CSV as to_csv, `rows_per_piece` rows at a time (the header with the first),
    for a response that streams: a long export is never whole in memory. The first piece
    already reads the rows, so a failure to read them comes before anything is sent."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    written = 0
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        written += 1
        if written == rows_per_piece:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            written = 0
    if buffer.tell():  # the last rows, or the header of an export without any
        yield buffer.getvalue()
