"""The bulk check vouches for a batch only when the per-entry walker would, and leaves the
walk exactly where the walker leaves it; a walk resumed at a signed checkpoint ends where the
walk from the start ends."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from audit.batch_check import BatchCheck
from audit.canonical import entry_hash, row_encoder
from audit.chain import (
    GENESIS_LINK,
    ChainHead,
    ChainWalk,
    RowShape,
    VerificationReport,
    begin_walk,
    head_mac,
    next_link,
)
from audit.checkpoints import Checkpoint, generate_signing_key, sign_checkpoint

AUDIT_KEY = bytes(range(32, 64))
SIGNING_KEY = generate_signing_key()
PUBLIC_KEY = SIGNING_KEY.public_key()
FIELDS = ("sequence", "actor_name", "object_id", "legal_basis", "details")
SHAPE = RowShape(hash_at=len(FIELDS), link_at=len(FIELDS) + 1, encode=row_encoder(FIELDS))

Row = tuple[object, ...]


def stored_rows(values: Sequence[tuple[object, ...]]) -> list[Row]:
    """Rows as the database holds them: the fields, then their hash and link."""
    rows: list[Row] = []
    link = GENESIS_LINK
    for sequence, others in enumerate(values, start=1):
        fields = dict(zip(FIELDS, (sequence, *others), strict=True))
        digest = entry_hash(fields)
        link = next_link(AUDIT_KEY, link, digest)
        rows.append((sequence, *others, digest, link))
    return rows


def plain_values(count: int) -> list[tuple[object, ...]]:
    return [
        (f"handläggare-{n % 3}", f"object-{n}", "SoL 11 kap. 1 §" if n % 2 else None, None)
        for n in range(count)
    ]


def head_of(rows: Sequence[Row]) -> ChainHead:
    sequence, link = len(rows), rows[-1][-1] if rows else GENESIS_LINK
    assert isinstance(link, bytes)
    return ChainHead(sequence, link, head_mac(AUDIT_KEY, sequence, link))


def signed_at(rows: Sequence[Row], sequence: int) -> Checkpoint:
    link = rows[sequence - 1][-1]
    assert isinstance(link, bytes)
    return sign_checkpoint(SIGNING_KEY, sequence, link, "2025-03-01T02:00:00Z")


def new_walk(rows: Sequence[Row], checkpoints: Sequence[Checkpoint] = ()) -> ChainWalk:
    walk = begin_walk(AUDIT_KEY, checkpoints, PUBLIC_KEY, head=head_of(rows))
    assert isinstance(walk, ChainWalk)
    return walk


def entry_by_entry(walk: ChainWalk, rows: Sequence[Row]) -> VerificationReport:
    return walk.walk_rows(rows, SHAPE) or walk.finish()


def bulk_first(walk: ChainWalk, rows: Sequence[Row], batch: int) -> VerificationReport:
    """As the stored-log verifier goes: each batch in bulk, or by the walker if declined."""
    check = BatchCheck(FIELDS, AUDIT_KEY)
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        if not check.advance(walk, part):
            failure = walk.walk_rows(part, SHAPE)
            if failure is not None:
                return failure
    return walk.finish()


def test_an_intact_batch_is_vouched_for_and_the_walk_moves_as_the_walker_moves_it() -> None:
    rows = stored_rows(plain_values(40))
    checkpoints = [signed_at(rows, 10), signed_at(rows, 30)]
    bulk, walker = new_walk(rows, checkpoints), new_walk(rows, checkpoints)

    assert BatchCheck(FIELDS, AUDIT_KEY).advance(bulk, rows)
    assert walker.walk_rows(rows, SHAPE) is None

    assert bulk == walker
    assert bulk.finish() == walker.finish()
    assert bulk.finish().checkpoints_checked == 2


def test_the_bulk_check_declines_what_it_cannot_vouch_for_and_touches_nothing() -> None:
    quoted = plain_values(5)
    quoted[2] = ('said "hi"', *quoted[2][1:])
    escaped = plain_values(5)
    escaped[3] = (escaped[3][0], "C:\\temp", *escaped[3][2:])
    for values in (quoted, escaped):
        rows = stored_rows(values)
        walk = new_walk(rows)
        before = ChainWalk(**vars(walk))

        assert not BatchCheck(FIELDS, AUDIT_KEY).advance(walk, rows)

        assert walk == before
        assert entry_by_entry(walk, rows).ok  # the walker finds them intact


def test_a_string_of_the_null_marker_is_not_taken_for_a_null() -> None:
    rows = stored_rows(plain_values(4))
    assert rows[2][3] is None
    rows[2] = (*rows[2][:3], "\x00", *rows[2][4:])  # legal_basis was NULL

    report = bulk_first(new_walk(rows), rows, batch=4)

    assert report == entry_by_entry(new_walk(rows), rows)
    assert report.first_bad_sequence == 3


def test_sealed_details_are_hashed_as_the_encoder_writes_bytes() -> None:
    values = plain_values(6)
    values[4] = (*values[4][:3], b"\x00sealed\xff")
    rows = stored_rows(values)
    walk = new_walk(rows)

    assert BatchCheck(FIELDS, AUDIT_KEY).advance(walk, rows)
    assert walk.finish().ok


def test_text_replaced_by_bytes_of_the_same_spelling_is_an_edit() -> None:
    values = plain_values(3)
    values[1] = ("b'x'", *values[1][1:])
    rows = stored_rows(values)
    rows[1] = (rows[1][0], b"x", *rows[1][2:])

    report = bulk_first(new_walk(rows), rows, batch=3)

    assert report.first_bad_sequence == 2
    assert report == entry_by_entry(new_walk(rows), rows)


def test_a_walk_resumed_at_a_checkpoint_ends_where_the_whole_walk_ends() -> None:
    rows = stored_rows(plain_values(30))
    checkpoints = [signed_at(rows, n) for n in (10, 20)]
    whole = entry_by_entry(new_walk(rows, checkpoints), rows)

    resumed = new_walk(rows, checkpoints).resumed_after(1, None)  # after the one at 20

    assert resumed.expected == 21
    assert entry_by_entry(resumed, rows[20:]) == whole


def test_a_segment_walk_stops_once_its_checkpoint_is_verified() -> None:
    rows = stored_rows(plain_values(30))
    walk = new_walk(rows, [signed_at(rows, 10), signed_at(rows, 20)]).resumed_after(0, 20)

    assert walk.walk_rows(rows[10:], SHAPE) is None

    assert walk.finished_segment
    assert (walk.expected, walk.matched) == (21, 2)


TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
VALUES = st.tuples(
    st.one_of(TEXT, st.sampled_from(['"', "\\", "\x00", "\n", "null", "§"])),
    st.one_of(st.none(), TEXT),
    st.one_of(st.none(), st.just("SoL 11 kap. 1 §")),
    st.one_of(st.none(), st.binary(max_size=6)),
)
CHANGES = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 39), st.integers(1, 4), st.one_of(st.none(), TEXT, st.binary())),
)


@settings(database=None, deadline=None, max_examples=200)
@given(values=st.lists(VALUES, min_size=1, max_size=40), change=CHANGES, batch=st.integers(1, 9))
def test_bulk_then_walker_says_exactly_what_the_walker_alone_says(
    values: list[tuple[object, ...]],
    change: tuple[int, int, object] | None,
    batch: int,
) -> None:
    rows = stored_rows(values)
    checkpoints = [signed_at(rows, n) for n in range(5, len(rows) + 1, 5)]
    if change is not None:
        index, column, value = change
        index %= len(rows)
        rows[index] = (*rows[index][:column], value, *rows[index][column + 1 :])

    assert bulk_first(new_walk(rows, checkpoints), rows, batch) == entry_by_entry(
        new_walk(rows, checkpoints), rows
    )
