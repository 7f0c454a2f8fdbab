"""The audit log's hash chain and its streaming verifier.

Every entry ``n`` (numbered from 1 without gaps) stores two values:

* ``hash_n = SHA-256(canonical_entry(fields_n))`` (see :mod:`audit.canonical`),
* ``link_n = HMAC-SHA256(audit_key, link_{n-1} || hash_n)``, with
  ``link_0 = GENESIS_LINK`` (32 zero bytes).

What this proves, and to whom
-----------------------------
* Someone who can change the database but does not hold the audit key cannot
  edit, insert, delete or reorder entries without breaking a link, because
  they cannot compute HMACs.
* Someone who holds the audit key (for example, a compromised application
  server) can rewrite the whole chain. Against them, the Ed25519-signed
  checkpoints (:mod:`audit.checkpoints`) are the anchor: a checkpoint copied
  away by the data-protection officer pins the link of entry N, so any rewrite
  of entries 1..N, or truncation of the log back before entry N, is detected.
* The head (the last sequence number and its link, kept in one row) carries
  ``head_mac = HMAC-SHA256(audit_key, HEAD_DOMAIN || sequence || link)``,
  rewritten with every append. Verification checks that the chain reaches the
  head, that the head's link is the last entry's, and that its MAC verifies:
  deleting the newest entries shows as a log that ends before its head, and
  moving the head back to hide that needs the audit key.

What remains undetectable
-------------------------
* Someone who holds the database and restores an *old copy* of the head row
  together with deleting the entries after it (a rollback to an earlier
  state, e.g. from a backup) leaves a shorter log whose head MAC is genuine.
  Only a signed checkpoint over the lost entries reveals that, so checkpoints
  are signed on count and on time and written to a second place the database
  holder cannot reach (a mirror directory on another mount, or syslog).
* Entries written after the last checkpoint that reached such a place are
  protected against that rollback by nothing but their absence being noticed.
* Someone who holds the audit key can rewrite everything after the last
  checkpoint, head included.

The verifier takes the audit key (for the links) and the public key (for the
checkpoints); it never needs the private signing key. Either half can be used
on its own: :func:`verify_chain` without checkpoints checks the links only,
and :func:`verify_checkpoints` checks checkpoint signatures only.
"""

from __future__ import annotations

import hashlib
import hmac
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.canonical import canonical_entry
from audit.checkpoints import Checkpoint, key_id_of, verify_checkpoint

__all__ = [
    "ENTRY_SHAPE",
    "GENESIS_LINK",
    "HEAD_DOMAIN",
    "LINK_SIZE",
    "MIN_AUDIT_KEY_SIZE",
    "ChainEntry",
    "ChainHead",
    "ChainWalk",
    "RowShape",
    "VerificationReport",
    "begin_walk",
    "beyond_the_head",
    "head_is_authentic",
    "head_mac",
    "next_link",
    "verify_chain",
    "verify_checkpoints",
]

LINK_SIZE = 32
GENESIS_LINK = bytes(LINK_SIZE)
# Domain separation: a head MAC can never be mistaken for (or made from) an entry's link.
HEAD_DOMAIN = b"referral-audit-head-v1\n"
MIN_AUDIT_KEY_SIZE = 32
_SHA256_BLOCK = 64


class ChainEntry(NamedTuple):
    """One stored log entry, as the verifier sees it (a tuple: built a million times a run,
    and a tuple is several times cheaper to build than a frozen dataclass)."""

    sequence: int
    fields: Mapping[str, object]  # the hashed content (may be empty when `canonical` is given)
    stored_hash: bytes
    stored_link: bytes
    # The canonical bytes of `fields`, when the reader has already encoded them (the database
    # reader does, from the raw row: audit.canonical.row_encoder).
    canonical: bytes | None = None


class ChainHead(NamedTuple):
    """The stored head of the log: its last sequence number and link, and their MAC
    (None only before the first append after the head got one)."""

    sequence: int
    link: bytes
    mac: bytes | None


def head_mac(audit_key: bytes, sequence: int, link: bytes) -> bytes:
    """Return ``HMAC-SHA256(audit_key, HEAD_DOMAIN || sequence (8 bytes) || link)``."""
    if len(audit_key) < MIN_AUDIT_KEY_SIZE:
        raise ValueError(f"the audit key must be at least {MIN_AUDIT_KEY_SIZE} bytes")
    if len(link) != LINK_SIZE:
        raise ValueError(f"the head's link must be {LINK_SIZE} bytes")
    return hmac.digest(audit_key, HEAD_DOMAIN + sequence.to_bytes(8, "big") + link, "sha256")


def head_is_authentic(head: ChainHead, audit_key: bytes) -> bool:
    """True when the head's MAC verifies; an empty log's head (nothing appended) needs none."""
    if head.mac is None:
        return head.sequence == 0 and head.link == GENESIS_LINK
    if len(head.link) != LINK_SIZE:
        return False
    return hmac.compare_digest(head.mac, head_mac(audit_key, head.sequence, head.link))


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """The outcome of a verification.

    ``entries_checked`` counts the entries whose hash and link were verified
    (so, on failure, the entries before the one at fault).
    ``checkpoints_checked`` counts checkpoints whose signature verified and
    whose link was matched against the recomputed chain.
    ``first_bad_sequence`` is the lowest sequence number that can no longer be
    trusted; ``reason`` is one English sentence for the data-protection officer.
    ``last_sequence``/``last_link`` are the last entry verified as good and its
    link (the start point if none was): when ``ok`` is true, that is the head a
    new checkpoint may be signed over. Never sign over a failed verification.
    """

    ok: bool
    entries_checked: int
    checkpoints_checked: int
    first_bad_sequence: int | None
    reason: str | None
    last_sequence: int = 0
    last_link: bytes = GENESIS_LINK


def next_link(audit_key: bytes, previous_link: bytes, entry_hash: bytes) -> bytes:
    """Return ``HMAC-SHA256(audit_key, previous_link || entry_hash)``.

    Both inputs must be exactly 32 bytes, so the concatenation is unambiguous.
    """
    if len(audit_key) < MIN_AUDIT_KEY_SIZE:
        raise ValueError(f"the audit key must be at least {MIN_AUDIT_KEY_SIZE} bytes")
    if len(previous_link) != LINK_SIZE or len(entry_hash) != LINK_SIZE:
        raise ValueError(f"previous_link and entry_hash must each be {LINK_SIZE} bytes")
    return hmac.digest(audit_key, previous_link + entry_hash, "sha256")


def verify_checkpoints(
    checkpoints: Sequence[Checkpoint], public_key: Ed25519PublicKey
) -> VerificationReport:
    """Check checkpoint signatures (and their mutual consistency) with the public key alone.

    Detects forged or altered checkpoints, checkpoints signed by another key,
    and two validly signed checkpoints that disagree about the same entry (a
    fork: someone holding the signing key signed two histories).
    """
    failure, ordered = _prepare_checkpoints(checkpoints, public_key)
    if failure is not None:
        return failure
    return VerificationReport(
        ok=True,
        entries_checked=0,
        checkpoints_checked=len(ordered),
        first_bad_sequence=None,
        reason=None,
    )


def verify_chain(
    entries: Iterable[ChainEntry],
    audit_key: bytes,
    checkpoints: Sequence[Checkpoint] = (),
    public_key: Ed25519PublicKey | None = None,
    start: Checkpoint | None = None,
    head: ChainHead | None = None,
) -> VerificationReport:
    """Verify the log in one streaming pass and return a report (never raises on tampering).

    ``entries`` must be in stored order (``ORDER BY sequence``); it is consumed
    once and no entry is kept after it has been checked, so a server-side
    cursor over millions of rows is fine.

    Without ``start``, entries must begin at sequence 1 from :data:`GENESIS_LINK`.
    With ``start`` (a signed checkpoint, e.g. the last one the DPO verified),
    entries must begin at ``start.sequence + 1`` and the chain continues from
    ``start.link``; checkpoints at or before ``start`` are signature-checked only.

    ``checkpoints`` and ``start`` need ``public_key``; with neither, only the
    links are checked and the audit key is all that is needed.

    With ``head`` (the stored head, read before the entries), the chain must
    reach the head, the head's link must be that entry's link, no entry may lie
    beyond it, and the head's MAC must verify.

    Raises ``ValueError`` only for misuse (a short audit key, checkpoints
    without a public key); everything about the data is in the report.
    """
    walk = begin_walk(audit_key, checkpoints, public_key, start, head)
    if isinstance(walk, VerificationReport):
        return walk
    return walk.walk_rows(entries, ENTRY_SHAPE) or walk.finish()


def begin_walk(
    audit_key: bytes,
    checkpoints: Sequence[Checkpoint] = (),
    public_key: Ed25519PublicKey | None = None,
    start: Checkpoint | None = None,
    head: ChainHead | None = None,
) -> ChainWalk | VerificationReport:
    """Check the checkpoints' signatures and return the walk from the start (genesis, or the
    signed ``start``), or the report of a checkpoint that fails. Arguments as
    :func:`verify_chain`'s; ``ValueError`` for misuse."""
    if len(audit_key) < MIN_AUDIT_KEY_SIZE:
        raise ValueError(f"the audit key must be at least {MIN_AUDIT_KEY_SIZE} bytes")
    pending: list[Checkpoint] = []
    if checkpoints or start is not None:
        if public_key is None:
            raise ValueError("checkpoints can only be verified with the signing public key")
        failure, pending = _prepare_checkpoints(
            [*checkpoints, start] if start is not None else checkpoints, public_key
        )
        if failure is not None:
            return failure
    first = 1 if start is None else start.sequence + 1
    return ChainWalk(
        audit_key=audit_key,
        first=first,
        pending=tuple(cp for cp in pending if cp.sequence >= first),
        head=head,
        start=start,
        expected=first,
        previous=GENESIS_LINK if start is None else start.link,
        base=first - 1,
    )


class RowShape(NamedTuple):
    """How the walker reads a row: the sequence is always its first item; the stored hash
    and link are at ``hash_at`` and ``link_at``; ``encode(row)`` gives the canonical bytes
    of its content (raising ``TypeError``/``ValueError`` for content that cannot be)."""

    hash_at: int
    link_at: int
    encode: Callable[[Any], bytes]


def _encode_chain_entry(entry: ChainEntry) -> bytes:
    canonical = entry.canonical
    return canonical_entry(entry.fields) if canonical is None else canonical


ENTRY_SHAPE = RowShape(hash_at=2, link_at=3, encode=_encode_chain_entry)


@dataclass
class ChainWalk:
    """The sequential pass, as state that can be handed on: the next sequence expected, the
    link before it, which signed checkpoints are matched, and the last sequence a checkpoint
    (or the start) vouches for.

    A walk can be resumed at any pending checkpoint (:meth:`resumed_after`): the state there
    is exactly what the pass from the start has once it matched that checkpoint, because a
    match means the recomputed link *is* the signed one. That is what lets segments between
    checkpoints be verified apart and their reports be the sequential pass's."""

    audit_key: bytes
    first: int  # the first sequence of the whole pass (its reports count from here)
    pending: tuple[Checkpoint, ...]  # signed checkpoints after the start, in order
    head: ChainHead | None
    start: Checkpoint | None
    expected: int
    previous: bytes
    base: int
    matched: int = 0  # pending checkpoints matched so far (their count is checkpoints_checked)
    stop_after: int | None = None  # a segment's last entry: the walk ends once it verified
    finished_segment: bool = False

    def resumed_after(self, index: int, stop_after: int | None) -> ChainWalk:
        """This walk as it stands right after matching ``pending[index]`` (or as it is, for
        -1), to end after entry ``stop_after`` (or run to the end of the rows)."""
        if index < 0:
            return replace(self, stop_after=stop_after)
        checkpoint = self.pending[index]
        return replace(
            self,
            expected=checkpoint.sequence + 1,
            previous=checkpoint.link,
            base=checkpoint.sequence,
            matched=index + 1,
            stop_after=stop_after,
            finished_segment=False,
        )

    @property
    def next_checkpoint(self) -> int:
        """The sequence of the next checkpoint to match, or -1 when none is left."""
        return self.pending[self.matched].sequence if self.matched < len(self.pending) else -1

    def report(self, ok: bool, bad: int | None, reason: str | None) -> VerificationReport:
        return VerificationReport(
            ok=ok,
            entries_checked=self.expected - self.first,
            checkpoints_checked=self.matched,
            first_bad_sequence=bad,
            reason=reason,
            last_sequence=self.expected - 1,
            last_link=self.previous,
        )

    def failed(self, bad: int, reason: str) -> VerificationReport:
        return self.report(False, bad, reason)

    def walk_rows(self, rows: Iterable[Any], shape: RowShape) -> VerificationReport | None:
        """Check each row in turn against its sequence, hash, link, the signed checkpoint at
        it and the head. Returns the first failure, or None with the walk moved past the rows
        (or, with ``stop_after``, past that entry: the rows after it are left unread).

        The loop keeps its state in locals and writes it back only on leaving: this runs
        once per entry of a log of millions wherever the bulk check
        (:mod:`audit.batch_check`) cannot vouch for a batch."""
        first, expected, previous = self.first, self.expected, self.previous
        pending, matched = self.pending, self.matched
        cp_next = self.next_checkpoint
        head = self.head
        # Without a head, no entry is beyond it and none is compared with it.
        head_sequence = head.sequence if head is not None else sys.maxsize
        head_link = head.link if head is not None else b""
        stop = self.stop_after if self.stop_after is not None else -1
        hash_at, link_at, encode = shape
        link_of = _keyed_link(self.audit_key)
        sha256 = hashlib.sha256

        def leave(bad: int | None, reason: str | None) -> VerificationReport | None:
            self.expected, self.previous, self.matched = expected, previous, matched
            if reason is None:
                return None
            return self.failed(bad if bad is not None else expected, reason)

        # Plain != rather than hmac.compare_digest: nothing secret is being compared against
        # attacker-chosen guesses here, and != also copes with a NULL column.
        for row in rows:
            sequence = row[0]
            if sequence > head_sequence:
                return leave(sequence, beyond_the_head(sequence, head_sequence))
            if sequence != expected:
                return leave(*_sequence_problem(sequence, expected, first, self.start))
            try:
                computed_hash = sha256(encode(row)).digest()
            except (TypeError, ValueError) as exc:
                return leave(sequence, f"entry {sequence}: its content cannot be encoded ({exc}).")
            if computed_hash != row[hash_at]:
                return leave(
                    sequence, f"entry {sequence}: content does not match its hash (edited)."
                )
            link = link_of(previous + computed_hash)
            if link != row[link_at]:
                return leave(sequence, _link_problem(sequence, first))
            if sequence == cp_next:
                if link != pending[matched].link:
                    return leave(self.base + 1, _rewritten_before(sequence, self.base))
                matched += 1
                self.base = sequence
                cp_next = pending[matched].sequence if matched < len(pending) else -1
            if sequence == head_sequence and link != head_link:
                return leave(sequence, _head_link_problem(sequence))
            previous = link
            expected = sequence + 1
            if sequence == stop:
                self.finished_segment = True
                break
        return leave(None, None)

    def finish(self) -> VerificationReport:
        """The report once the rows ran out: every signed checkpoint must have been reached,
        and, with a head, the chain must reach it and its MAC verify."""
        last = self.expected - 1
        if self.matched < len(self.pending):
            return self.failed(
                last + 1,
                f"the log ends at entry {last} but a signed checkpoint covers entry "
                f"{self.pending[-1].sequence}, so entries from {last + 1} on were deleted "
                "(truncated).",
            )
        head = self.head
        if head is not None:
            head_failure = _head_problem(head, self.audit_key, last)
            if head_failure is not None:
                bad = self.expected if last < head.sequence else self.base + 1
                return self.failed(bad, head_failure)
        return self.report(True, None, None)


def _rewritten_before(sequence: int, base: int) -> str:
    return (
        f"entry {sequence}: the chain does not match the signed checkpoint, so entries "
        f"{base + 1} to {sequence} were rewritten by someone holding the audit key."
    )


def _head_link_problem(sequence: int) -> str:
    return (
        f"entry {sequence}: the chain head names another link for this entry (the head or "
        "the entry was altered)."
    )


def beyond_the_head(sequence: int, head_sequence: int) -> str:
    return (
        f"entry {sequence} lies beyond the chain head (entry {head_sequence}), so it was "
        "added to the database without the service (forged)."
    )


def _head_problem(head: ChainHead, audit_key: bytes, last: int) -> str | None:
    if last < head.sequence:
        return (
            f"the log ends at entry {last} but its head is at entry {head.sequence}, so "
            f"entries from {last + 1} on were deleted (truncated)."
        )
    if not head_is_authentic(head, audit_key):
        return (
            f"the chain head (entry {head.sequence}) does not carry a valid MAC, so it was set "
            "without the audit key: the newest entries may have been deleted and the head "
            "moved back to hide it. Entries after the last signed checkpoint cannot be shown "
            "complete."
        )
    return None


def _keyed_link(audit_key: bytes) -> Callable[[bytes], bytes]:
    """Return ``m -> HMAC-SHA256(audit_key, m)`` with the key schedule done once.

    This is HMAC exactly as RFC 2104 defines it (and as :func:`hmac.digest`
    computes it); keeping the two padded-key hash states and copying them per
    message about halves the per-entry HMAC cost in the verifier's hot loop.
    """
    key = hashlib.sha256(audit_key).digest() if len(audit_key) > _SHA256_BLOCK else audit_key
    key = key.ljust(_SHA256_BLOCK, b"\0")
    inner_start = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer_start = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def link_of(message: bytes) -> bytes:
        inner = inner_start.copy()
        inner.update(message)
        outer = outer_start.copy()
        outer.update(inner.digest())
        return outer.digest()

    return link_of


def _link_problem(sequence: int, first: int) -> str:
    if sequence == first:
        return (
            f"entry {sequence}: its link does not follow from the chain's starting point "
            "(wrong audit key, or the entry was replaced)."
        )
    return (
        f"entry {sequence}: its link does not follow from the previous entry (an entry was "
        "inserted, deleted or reordered, or the link was altered)."
    )


def _sequence_problem(
    sequence: int, expected: int, first: int, start: Checkpoint | None
) -> tuple[int, str]:
    if expected == first and sequence > expected:
        where = "the log" if start is None else f"the log after checkpoint {start.sequence}"
        return expected, (
            f"{where} starts at entry {sequence} instead of entry {expected}, so earlier "
            "entries are missing (deleted)."
        )
    if sequence > expected:
        gap = (
            f"entry {expected}"
            if sequence == expected + 1
            else f"entries {expected} to {sequence - 1}"
        )
        return expected, f"{gap} missing after entry {expected - 1} (deleted)."
    if sequence == expected - 1:
        return sequence, f"entry {sequence} appears twice (duplicated or inserted)."
    return sequence, (
        f"entry {sequence} appears after entry {expected - 1}, so entries are out of order "
        "(reordered or inserted)."
    )


def _prepare_checkpoints(
    checkpoints: Iterable[Checkpoint], public_key: Ed25519PublicKey
) -> tuple[VerificationReport | None, list[Checkpoint]]:
    """Verify every signature, sort by sequence, drop exact duplicates, detect forks."""
    expected_key_id = key_id_of(public_key)
    valid: list[Checkpoint] = []
    for cp in checkpoints:
        if not verify_checkpoint(cp, public_key):
            where = f"checkpoint {cp.sequence!r}"
            if isinstance(cp.key_id, str) and cp.key_id != expected_key_id:
                reason = (
                    f"{where}: it names signing key {cp.key_id}, but the key being used to "
                    f"verify is {expected_key_id}, and its signature does not verify."
                )
            else:
                reason = f"{where}: its signature does not verify (forged or altered)."
            bad = cp.sequence if isinstance(cp.sequence, int) else None
            return _bad_checkpoint(bad, reason), []
        valid.append(cp)
    valid.sort(key=lambda cp: cp.sequence)
    ordered: list[Checkpoint] = []
    for cp in valid:
        if ordered and ordered[-1].sequence == cp.sequence:
            if ordered[-1].link != cp.link:
                return _bad_checkpoint(
                    cp.sequence,
                    f"checkpoint {cp.sequence}: two validly signed checkpoints disagree about "
                    "this entry, so the log was forked or rewritten by the signing key's holder.",
                ), []
            continue
        ordered.append(cp)
    return None, ordered


def _bad_checkpoint(sequence: int | None, reason: str) -> VerificationReport:
    return VerificationReport(
        ok=False,
        entries_checked=0,
        checkpoints_checked=0,
        first_bad_sequence=sequence,
        reason=reason,
    )
