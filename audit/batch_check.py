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
* Hashes: a row is written through a template chosen by the exact types of its values (its
  layout): the sorted keys, ``null`` where the value is NULL, the integer sequence in
  decimal, and every string between quotes as it is (``bytes``, the sealed details, as
  base64, like the encoder). That is :func:`audit.canonical.canonical_entry`'s output
  whenever no value needs escaping. A batch whose texts hold more quotes than their
  templates put there, or any backslash, is left to the walker, so no value can break out of
  its string; a value with a control character gives bytes that are not JSON at all (the
  encoder would have escaped it), so no stored hash can match them and the batch falls to
  the walker too. Rows with a value of any other type are left to the walker.
* Links: each link is recomputed from the *stored* link before it, all at once. If every
  recomputed link equals the stored one, then by induction from the walk's current link each
  stored link is the one the sequential pass computes, so this is the sequential check.
* Checkpoints and the head inside the batch are compared with the recomputed links.
"""

from __future__ import annotations

import hashlib
import json
from binascii import b2a_base64
from collections import deque
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import add, call, itemgetter, methodcaller
from typing import Any, NamedTuple

from audit.chain import ChainWalk

__all__ = ["BatchCheck", "ChainLinks", "in_order"]

_SHA256_BLOCK = 64
_digest = methodcaller("digest")
_NONE = type(None)


class _Layout(NamedTuple):
    """How a row whose values have one combination of types is written."""

    write: Callable[[tuple[object, ...]], str]  # the template's %
    values: Callable[[Sequence[object]], tuple[object, ...]]  # the non-NULL values, in order
    quotes: int  # the quotes the template itself puts in


_WRITE, _VALUES, _QUOTES = itemgetter(0), itemgetter(1), itemgetter(2)


class BatchCheck:
    """Bulk checks of rows laid out as ``(*field values, entry_hash, link)``, with the
    sequence as the first field, for the walk of one verification."""

    def __init__(self, field_names: Sequence[str], audit_key: bytes) -> None:
        names = list(field_names)
        if not names or names[0] != "sequence":
            raise ValueError("the first field must be the sequence")
        self._width = len(names)
        self._order = sorted(range(len(names)), key=names.__getitem__)
        self._keys = [json.dumps(names[i], ensure_ascii=False) for i in self._order]
        self._layouts: dict[tuple[type, ...], _Layout | None] = {}
        self._sequence_of = itemgetter(0)
        self._hash_of = itemgetter(self._width)
        self._link_of = itemgetter(self._width + 1)
        self.chain = ChainLinks(audit_key)

    def advance(self, walk: ChainWalk, rows: Sequence[Sequence[object]]) -> bool:
        """True when every row of ``rows`` (the walk's next rows) is intact, with the walk
        moved past them exactly as the per-row walker would have moved it; False, with the
        walk untouched, when the walker has to look at them."""
        if not rows:
            return True
        if not in_order(walk, list(map(self._sequence_of, rows))):
            return False
        texts = self._canonical_texts(rows)
        if texts is None:
            return False
        try:
            encoded = list(map(str.encode, texts))
        except UnicodeEncodeError:
            return False  # a lone surrogate: the walker reports it
        return self.chain.settle(
            walk, encoded, list(map(self._hash_of, rows)), list(map(self._link_of, rows))
        )

    def _canonical_texts(self, rows: Sequence[Sequence[object]]) -> list[str] | None:
        """The canonical text of each row, or None when a value needs what only the
        per-entry encoder does (escaping, a type it alone handles)."""
        kinds = list(map(tuple, map(map, repeat(type), rows)))
        layouts = self._layouts
        for kind in set(kinds).difference(layouts):
            layouts[kind] = self._layout(kind)
        found = list(map(layouts.__getitem__, kinds))
        if None in found:
            return None
        chosen: list[_Layout] = found  # type: ignore[assignment]
        texts = list(map(call, map(_WRITE, chosen), map(call, map(_VALUES, chosen), rows)))
        written = "".join(texts)
        quotes: int = sum(map(_QUOTES, chosen))
        if written.count('"') != quotes or "\\" in written:
            return None  # a value with a quote or a backslash: the encoder escapes those
        return texts

    def _layout(self, kinds: tuple[type, ...]) -> _Layout | None:
        """The template for rows whose values have these types, or None for a type only the
        per-entry encoder handles."""
        slots: list[str] = []
        positions: list[int] = []
        binary: list[int] = []
        for key, index in zip(self._keys, self._order, strict=True):
            kind = kinds[index]
            if index == 0:
                if kind is not int:
                    return None
                slot = "%d"
            elif kind is _NONE:
                slot = "null"
            elif kind is str or kind is bytes:
                slot = '"%s"'
                if kind is bytes:
                    binary.append(len(positions))
            else:
                return None
            if slot != "null":
                positions.append(index)
            slots.append(key.replace("%", "%%") + ":" + slot)
        template = "{" + ",".join(slots) + "}"
        quotes = template.count('"')
        return _Layout(template.__mod__, _values_at(positions, binary), quotes)


def in_order(walk: ChainWalk, sequences: list[int]) -> bool:
    """Whether `sequences` (not empty) are exactly the walk's next ones, none beyond the head
    or past the end of the segment being verified."""
    first, last = walk.expected, walk.expected + len(sequences) - 1
    head = walk.head
    if head is not None and last > head.sequence:
        return False
    if walk.stop_after is not None and last > walk.stop_after:
        return False
    return sequences == list(range(first, last + 1))


class ChainLinks:
    """The checks that follow the canonical bytes: their hashes, the links, the signed
    checkpoints and the head, for a batch whose sequences :func:`in_order` has accepted."""

    def __init__(self, audit_key: bytes) -> None:
        key = hashlib.sha256(audit_key).digest() if len(audit_key) > _SHA256_BLOCK else audit_key
        key = key.ljust(_SHA256_BLOCK, b"\0")
        # HMAC's two padded-key states, hashed once and copied for each link (RFC 2104, as
        # audit.chain._keyed_link does it one link at a time).
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def settle(
        self,
        walk: ChainWalk,
        canonical: list[bytes],
        stored_hashes: list[object],
        stored_links: list[object],
    ) -> bool:
        """True, with the walk moved past the batch, when the hash of each entry's
        `canonical` bytes is its stored hash, each stored link is the HMAC of the stored link
        before it and that hash, and the signed checkpoints and the head within the batch
        name those links; False, with the walk untouched, otherwise."""
        hashes = list(map(_digest, map(hashlib.sha256, canonical)))
        if hashes != stored_hashes:
            return False
        links = self._links([walk.previous, *stored_links[:-1]], hashes)  # type: ignore[list-item]
        if links != stored_links:
            return False
        first, last = walk.expected, walk.expected + len(links) - 1
        matched, base = walk.matched, walk.base
        pending = walk.pending
        while matched < len(pending) and pending[matched].sequence <= last:
            checkpoint = pending[matched]
            if links[checkpoint.sequence - first] != checkpoint.link:
                return False
            matched, base = matched + 1, checkpoint.sequence
        head = walk.head
        at_head = head.sequence - first if head is not None else -1
        if head is not None and 0 <= at_head < len(links) and links[at_head] != head.link:
            return False
        walk.expected, walk.previous = last + 1, links[-1]
        walk.matched, walk.base = matched, base
        walk.finished_segment = last == walk.stop_after
        return True

    def _links(self, previous_links: list[bytes], hashes: list[bytes]) -> list[bytes]:
        """``HMAC(audit_key, previous || hash)`` for each pair, all at once."""
        count = len(hashes)
        state = type(self._inner)
        inner = list(map(state.copy, repeat(self._inner, count)))
        deque(map(state.update, inner, map(add, previous_links, hashes)), 0)
        outer = list(map(state.copy, repeat(self._outer, count)))
        deque(map(state.update, outer, map(state.digest, inner)), 0)
        return list(map(state.digest, outer))


def _values_at(
    positions: list[int], binary: list[int]
) -> Callable[[Sequence[object]], tuple[object, ...]]:
    """The values at `positions` of a row, as a tuple, with those at `binary` (indexes into
    `positions`) as base64 text."""
    if not binary:
        if len(positions) == 1:
            (only,) = positions
            return lambda row: (row[only],)
        return itemgetter(*positions)
    pick = itemgetter(*positions) if len(positions) > 1 else (lambda row: (row[positions[0]],))

    def with_base64(row: Sequence[object]) -> tuple[object, ...]:
        values: list[Any] = list(pick(row))
        for at in binary:
            values[at] = b2a_base64(values[at], newline=False).decode("ascii")
        return tuple(values)

    return with_base64
