"""Checking a batch of stored entries at once: the verifier's fast path.

The per-entry walker (:meth:`audit.chain.ChainWalk.walk_rows`) is the reference: it checks
one row at a time and words every report. Run over a million rows, most of its cost is the
interpreter's, not the hashing. This module vouches for a whole batch of rows (a few thousand,
as the database cursor hands them over) with work that is done per column and per batch by
C code — building the canonical texts with one format per row, hashing them, recomputing
the links — and says only "all of these are intact, here is where the walk stands now" or
"not sure". When it is not sure, nothing has moved, and the walker checks the same batch and
says exactly what is wrong (or that nothing is: the fast path also declines rows it does not
handle, such as a string with a quote or a control character in it).

Why a batch it accepts is one the walker accepts:

* Sequences: they must be exactly the next ones expected, none beyond the head or past the
  end of the segment being verified.
* Hashes: a row's canonical bytes are written through a template of the sorted keys with
  each value put between quotes. That is :func:`audit.canonical.canonical_entry`'s output
  whenever no value needs escaping; values with a quote or a backslash are refused before
  hashing, and a value with a control character gives bytes that are not JSON at all (the
  encoder would have escaped it), so no stored hash can match them and the batch falls to
  the walker. A NULL is written as a marker (U+0000) and turned into ``null``; the number of
  markers must equal the number of NULLs, so a stored value containing one cannot pass for
  NULL. Only exact ``str`` values (and ``bytes``, written as base64 like the encoder does,
  and the integer sequence) are accepted: ``str.join`` refuses anything else.
* Links: each link is recomputed from the *stored* link before it, all at once. If every
  recomputed link equals the stored one, then by induction from the walk's current link each
  stored link is the one the sequential pass computes, so this is the sequential check.
* Checkpoints and the head inside the batch are compared with the recomputed links.
"""

from __future__ import annotations

import hashlib
import json
from binascii import b2a_base64
from collections.abc import Sequence
from operator import add, methodcaller

from audit.chain import ChainWalk

__all__ = ["BatchCheck"]

_SHA256_BLOCK = 64
_NULL_MARK = "\x00"
_MARK_NULLS: dict[object, object] = {None: _NULL_MARK}
_digest = methodcaller("digest")
_to_null = methodcaller("replace", f'"{_NULL_MARK}"', "null")


class BatchCheck:
    """Bulk checks of rows laid out as ``(*field values, entry_hash, link)``, with the
    sequence as the first field, for the walk of one verification."""

    def __init__(self, field_names: Sequence[str], audit_key: bytes) -> None:
        names = list(field_names)
        if not names or names[0] != "sequence":
            raise ValueError("the first field must be the sequence")
        self._width = len(names)
        self._order = sorted(range(len(names)), key=names.__getitem__)
        slots = [
            json.dumps(names[i], ensure_ascii=False) + (":%d" if i == 0 else ':"%s"')
            for i in self._order
        ]
        self._template = "{" + ",".join(slots) + "}"
        self._format = self._template.__mod__
        key = hashlib.sha256(audit_key).digest() if len(audit_key) > _SHA256_BLOCK else audit_key
        key = key.ljust(_SHA256_BLOCK, b"\0")
        self._inner_pad = bytes(b ^ 0x36 for b in key)
        self._outer_pad = bytes(b ^ 0x5C for b in key)

    def advance(self, walk: ChainWalk, rows: Sequence[Sequence[object]]) -> bool:
        """True when every row of ``rows`` (the walk's next rows) is intact, with the walk
        moved past them exactly as the per-row walker would have moved it; False, with the
        walk untouched, when the walker has to look at them."""
        count = len(rows)
        if not count:
            return True
        first, last = walk.expected, walk.expected + count - 1
        head = walk.head
        if head is not None and last > head.sequence:
            return False
        if walk.stop_after is not None and last > walk.stop_after:
            return False
        columns = list(zip(*rows, strict=True))
        sequences = columns[0]
        if sequences != tuple(range(first, last + 1)) or set(map(type, sequences)) != {int}:
            return False
        texts = self._canonical_texts(columns, count)
        if texts is None:
            return False
        sha256 = hashlib.sha256
        try:
            hashes = list(map(_digest, map(sha256, map(str.encode, texts))))
        except UnicodeEncodeError:
            return False  # a lone surrogate: the walker reports it
        width = self._width
        if hashes != list(columns[width]):
            return False
        stored_links = list(columns[width + 1])
        previous_links = [walk.previous, *stored_links[:-1]]
        messages = map(self._inner_pad.__add__, map(add, previous_links, hashes))
        inner = map(_digest, map(sha256, messages))
        links = list(map(_digest, map(sha256, map(self._outer_pad.__add__, inner))))
        if links != stored_links:
            return False
        matched, base = walk.matched, walk.base
        pending = walk.pending
        while matched < len(pending) and pending[matched].sequence <= last:
            checkpoint = pending[matched]
            if links[checkpoint.sequence - first] != checkpoint.link:
                return False
            matched, base = matched + 1, checkpoint.sequence
        at_head = head.sequence - first if head is not None else -1
        if head is not None and 0 <= at_head < count and links[at_head] != head.link:
            return False
        walk.expected, walk.previous = last + 1, links[-1]
        walk.matched, walk.base = matched, base
        walk.finished_segment = last == walk.stop_after
        return True

    def _canonical_texts(self, columns: list[tuple[object, ...]], count: int) -> list[str] | None:
        """The canonical text of each row, or None when a value needs what only the
        per-entry encoder does (escaping, a type it alone handles)."""
        slots: list[Sequence[object]] = []
        for index in self._order:
            column: Sequence[object] = columns[index]
            if index == 0:
                slots.append(column)
                continue
            nulls = column.count(None)
            if nulls:
                column = list(map(_MARK_NULLS.get, column, column))
            try:
                joined = "".join(column)  # type: ignore[arg-type]
            except TypeError:
                as_text = _as_text(column)
                if as_text is None:
                    return None
                column = as_text
                joined = "".join(as_text)
            if '"' in joined or "\\" in joined or joined.count(_NULL_MARK) != nulls:
                return None
            slots.append(column)
        texts = list(map(self._format, zip(*slots, strict=True)))
        if len(texts) != count:
            return None
        return list(map(_to_null, texts))


def _as_text(column: Sequence[object]) -> list[str] | None:
    """A column of bytes (sealed details) as the encoder writes it, base64; None when it
    holds another type."""
    out: list[str] = []
    for value in column:
        kind = type(value)
        if kind is str:
            out.append(value)  # type: ignore[arg-type]
        elif kind is bytes:
            out.append(b2a_base64(value, newline=False).decode("ascii"))  # type: ignore[arg-type]
        else:
            return None
    return out
