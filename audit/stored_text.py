"""The verifier's fast path: the database writes each entry's canonical text.

Turning sixteen columns into Python objects and writing them out again as JSON is most of
what verifying an entry costs in Python. The database can write the same text from the
stored values (SQLite's ``json_object``, C code in the same process; PostgreSQL's string
concatenation), so the verifier reads four columns per entry: the sequence, the text as
bytes, the stored hash and the link (and, on SQLite, sealed details beside the text). It
checks them as :mod:`audit.batch_check` does and, like it, only vouches for a batch or
declines it: a declined batch is read again column by column and checked by the bulk check
or the per-entry walker, which words the report.

Why a batch it accepts is one the walker accepts. The database writes, for each field in the
order :func:`audit.canonical.canonical_entry` sorts the keys, the key between quotes, a
colon, then ``null`` for NULL, the sequence in decimal, or the value between quotes (sealed
details as their standard base64, as the encoder writes bytes). That is the canonical text
exactly when no value holds a quote, a backslash or a control character, which the encoder
escapes. So a batch is declined when its texts hold any backslash, or a number of quotes
other than the keys' and the string values' (2 per key, and 2 per field but the sequence,
less 2 per ``":null``): SQLite's ``json_object`` escapes a quote with a backslash itself; on
PostgreSQL a value can add a ``":null`` to that count only with a quote of its own, which
adds more quotes than the count takes away, so the totals agree only when no value holds a
quote. A value with a control character gives bytes that are not the canonical text of
anything, so no stored hash matches them. So an accepted text is the canonical text of the
stored values; equal canonical texts mean equal values (see :mod:`audit.canonical`), so a
text that hashes to the stored hash is one whose values the walker hashes to it as well.

Types: PostgreSQL's columns have theirs, checked once before the fast path is used (text for
the fields, an integer sequence, bytes for the details), so every value is written as a
string or ``null``. In SQLite any value may have any type: ``json_object`` writes an integer
or a REAL without quotes, which the quote count declines; sealed details, a BLOB, which it
refuses, are written ``null`` and read beside the text, and their base64 then takes the
place of that ``null`` (which must be the text's only ``"details":null``); a BLOB in any
other column makes SQLite stop the query, and the rest of the range is read column by column.
"""

from __future__ import annotations

import re
import sqlite3
from binascii import b2a_base64
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from audit.batch_check import ChainLinks, in_order
from audit.chain import ChainWalk

__all__ = [
    "DETAILS",
    "TextCheck",
    "postgres_columns",
    "postgres_types_fit",
    "sqlite_columns",
    "sqlite_writes_json",
]

DETAILS = "details"  # the one field whose value is sealed bytes
_DETAILS_NULL = b'"details":null'
_NULL_SLOT = b'":null'
_sequence_of, _text_of, _sealed_of = itemgetter(0), itemgetter(1), itemgetter(2)
_hash_of, _link_of = itemgetter(3), itemgetter(4)


def _checked(field_names: Sequence[str]) -> list[str]:
    names = list(field_names)
    if not names or names[0] != "sequence":
        raise ValueError("the first field must be the sequence")
    if DETAILS not in names:
        raise ValueError("the fields must include the details")
    for name in names:
        # Written into SQL as an identifier and a literal, and into JSON as a key: none of
        # them needs escaping.
        if not (name.isascii() and name.isidentifier()):
            raise ValueError(f"not a column name: {name!r}")
    return sorted(names)


def sqlite_columns(field_names: Sequence[str]) -> str:
    """The select list on SQLite: the sequence, the canonical text as bytes (sealed
    details written ``null``), the sealed details or NULL; the caller adds hash and link."""
    arguments = []
    for name in _checked(field_names):
        value = name
        if name == DETAILS:
            value = f"CASE WHEN typeof({name}) = 'blob' THEN NULL ELSE {name} END"
        arguments.append(f"'{name}', {value}")
    text = f"CAST(json_object({', '.join(arguments)}) AS BLOB)"
    return f"sequence, {text}, CASE WHEN typeof({DETAILS}) = 'blob' THEN {DETAILS} END"


def sqlite_writes_json(connection: sqlite3.Connection) -> bool:
    """Whether this SQLite has ``json_object`` (built in since 3.38, optional before)."""
    try:
        connection.execute("SELECT json_object('a', 1)").fetchall()
    except sqlite3.Error:
        return False
    return True


def postgres_columns(field_names: Sequence[str]) -> str:
    """The select list on PostgreSQL: the sequence, the canonical text as UTF-8 bytes, and a
    NULL where SQLite has the sealed details; the caller adds hash and link."""
    parts = []
    for number, name in enumerate(_checked(field_names)):
        if name == "sequence":
            slot = "sequence::text"
        elif name == DETAILS:
            # encode() breaks base64 into lines of 76; the encoder writes it in one.
            base64 = f"translate(encode({name}, 'base64'), E'\\n', '')"
            slot = f"""coalesce('"' || {base64} || '"', 'null')"""
        else:
            slot = f"""coalesce('"' || {name} || '"', 'null')"""
        parts.append(f"""'{"," if number else "{"}"{name}":' || {slot}""")
    text = "convert_to(" + " || ".join(parts) + " || '}', 'UTF8')"
    return f"sequence, {text}, NULL::bytea"


_TEXT_TYPE = re.compile(r"text|character varying(\(\d+\))?")
POSTGRES_TYPES_QUERY = (
    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
    " WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped"
)


def postgres_types_fit(cursor: Any, table: str, field_names: Sequence[str]) -> bool:
    """Whether the table's columns have the types :func:`postgres_columns` writes as the
    encoder would (text, an integer sequence, bytes for the details)."""
    cursor.execute(POSTGRES_TYPES_QUERY, (table,))
    types = {name: kind for name, kind in cursor.fetchall()}
    for name in field_names:
        kind = types.get(name, "")
        if name == "sequence":
            fits = kind in {"integer", "bigint", "smallint"}
        elif name == DETAILS:
            fits = kind == "bytea"
        else:
            fits = _TEXT_TYPE.fullmatch(kind) is not None  # not an array of text
        if not fits:
            return False
    return True


class TextCheck:
    """Bulk checks of rows laid out as ``(sequence, text, sealed details, hash, link)``."""

    def __init__(self, field_names: Sequence[str], audit_key: bytes) -> None:
        width = len(_checked(field_names))
        self._quotes_per_text = 2 * width + 2 * (width - 1)  # less 2 for each null
        self._chain = ChainLinks(audit_key)

    def advance(self, walk: ChainWalk, rows: Sequence[Sequence[Any]]) -> bool:
        """True when every row is intact, with the walk moved past them exactly as the
        per-row walker would have moved it; False, with the walk untouched, otherwise."""
        if not rows:
            return True
        if not in_order(walk, list(map(_sequence_of, rows))):
            return False
        texts: list[bytes] = list(map(_text_of, rows))
        if set(map(type, texts)) != {bytes}:
            return False
        sealed = list(map(_sealed_of, rows))
        if sealed.count(None) != len(sealed):  # not `any`: an empty BLOB is sealed details too
            spliced = list(map(_with_sealed, texts, sealed))
            if None in spliced:
                return False
            texts = spliced  # type: ignore[assignment]  # no None in it
        written = b"".join(texts)
        if b"\\" in written:
            return False  # a value the encoder escapes: the walker checks it
        quotes = self._quotes_per_text * len(texts) - 2 * written.count(_NULL_SLOT)
        if written.count(b'"') != quotes:
            return False  # a quote in a value, or a value that is not a string
        return self._chain.settle(walk, texts, list(map(_hash_of, rows)), list(map(_link_of, rows)))


def _with_sealed(text: bytes, sealed: object) -> bytes | None:
    """The text with the sealed details' base64 (as the encoder writes bytes) in place of
    the ``null`` it was written with."""
    if sealed is None:
        return text
    if type(sealed) is not bytes or text.count(_DETAILS_NULL) != 1:
        return None  # not what the query selects: declined
    written = b'"details":"' + b2a_base64(sealed, newline=False) + b'"'
    return text.replace(_DETAILS_NULL, written, 1)
