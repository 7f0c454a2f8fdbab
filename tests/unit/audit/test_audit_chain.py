"""The HMAC chain and its verifier: what it catches, and the one thing it cannot."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import tracemalloc
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.canonical import entry_hash
from audit.chain import (
    GENESIS_LINK,
    ChainEntry,
    ChainHead,
    VerificationReport,
    beyond_the_head,
    head_is_authentic,
    head_mac,
    next_link,
    verify_chain,
    verify_checkpoints,
)
from audit.checkpoints import (
    Checkpoint,
    generate_signing_key,
    key_id_of,
    load_public_key,
    public_pem,
    sign_checkpoint,
)

AUDIT_KEY = bytes(range(32))
SIGNING_KEY = generate_signing_key()
PUBLIC_KEY = SIGNING_KEY.public_key()
SIGNED_AT = "2025-03-01T02:00:00Z"


# -------------------------------------------------------------------- helpers


def entry_fields(sequence: int) -> dict[str, object]:
    return {
        "occurred_at": f"2025-03-01T09:{sequence // 60 % 60:02d}:{sequence % 60:02d}.000000Z",
        "actor": f"handläggare-{sequence % 3}",
        "action": "referral.view",
        "referral_id": 1000 + sequence,
        "ip_address": "10.0.0.7",
        "note": None,
        "request_digest": hashlib.sha256(str(sequence).encode()).digest()[:8],
    }


def chain_of(
    field_list: Sequence[dict[str, object]],
    key: bytes = AUDIT_KEY,
    first: int = 1,
    previous: bytes = GENESIS_LINK,
) -> list[ChainEntry]:
    """Record entries exactly as the application does: hash, then link."""
    entries = []
    for offset, fields in enumerate(field_list):
        digest = entry_hash(fields)
        previous = next_link(key, previous, digest)
        entries.append(ChainEntry(first + offset, fields, digest, previous))
    return entries


def build_chain(n: int) -> list[ChainEntry]:
    return chain_of([entry_fields(sequence) for sequence in range(1, n + 1)])


def checkpoint_at(entries: Sequence[ChainEntry], sequence: int) -> Checkpoint:
    return sign_checkpoint(SIGNING_KEY, sequence, entries[sequence - 1].stored_link, SIGNED_AT)


def renumbered(entries: Sequence[ChainEntry]) -> list[ChainEntry]:
    """What someone hiding a deletion or insertion would do to the sequence column."""
    return [e._replace(sequence=i) for i, e in enumerate(entries, start=1)]


def edited(entry: ChainEntry, rehash: bool = False, **changes: object) -> ChainEntry:
    fields = {**entry.fields, **changes}
    stored_hash = entry_hash(fields) if rehash else entry.stored_hash
    return entry._replace(fields=fields, stored_hash=stored_hash)


def verify(
    entries: Sequence[ChainEntry], checkpoints: Sequence[Checkpoint] = ()
) -> VerificationReport:
    return verify_chain(iter(entries), AUDIT_KEY, checkpoints, PUBLIC_KEY)


# ------------------------------------------------------------- intact chains


def test_an_intact_chain_verifies() -> None:
    entries = build_chain(50)
    report = verify(entries, [checkpoint_at(entries, 20), checkpoint_at(entries, 50)])
    assert report == VerificationReport(
        ok=True,
        entries_checked=50,
        checkpoints_checked=2,
        first_bad_sequence=None,
        reason=None,
        last_sequence=50,
        last_link=entries[-1].stored_link,
    )


def test_an_empty_log_without_checkpoints_verifies() -> None:
    report = verify([])
    assert report.ok
    assert report.entries_checked == 0
    assert report.last_link == GENESIS_LINK


def test_links_can_be_verified_with_the_audit_key_alone() -> None:
    report = verify_chain(iter(build_chain(10)), AUDIT_KEY)
    assert report.ok
    assert report.entries_checked == 10
    assert report.checkpoints_checked == 0


def test_checkpoint_signatures_can_be_verified_with_the_public_key_alone() -> None:
    entries = build_chain(10)
    checkpoints = [checkpoint_at(entries, 5), checkpoint_at(entries, 10)]
    public_only = load_public_key(public_pem(SIGNING_KEY))
    report = verify_checkpoints(checkpoints, public_only)
    assert report.ok
    assert report.checkpoints_checked == 2


def test_the_verifier_streams_instead_of_holding_the_log_in_memory() -> None:
    def stored_log(n: int) -> Iterator[ChainEntry]:
        previous = GENESIS_LINK
        for sequence in range(1, n + 1):
            fields = entry_fields(sequence)
            digest = entry_hash(fields)
            previous = next_link(AUDIT_KEY, previous, digest)
            yield ChainEntry(sequence, fields, digest, previous)

    tracemalloc.start()
    try:
        report = verify_chain(stored_log(20_000), AUDIT_KEY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok
    assert report.entries_checked == 20_000
    # Holding 20 000 entries would take several megabytes; streaming takes a few kB.
    assert peak < 200_000


# ------------------------------------------------------------------ tampering


@pytest.mark.parametrize("k", [1, 17, 50])
def test_verify_names_the_first_edited_entry(k: int) -> None:
    entries = build_chain(50)
    entries[k - 1] = edited(entries[k - 1], actor="someone-else")
    report = verify(entries)
    assert not report.ok
    assert report.first_bad_sequence == k
    assert report.reason == f"entry {k}: content does not match its hash (edited)."
    assert report.entries_checked == k - 1


def test_an_edit_that_also_rewrites_the_stored_hash_breaks_the_link() -> None:
    entries = build_chain(50)
    entries[16] = edited(entries[16], rehash=True, note="added afterwards")
    report = verify(entries)
    assert report.first_bad_sequence == 17
    assert report.reason is not None
    assert "link does not follow from the previous entry" in report.reason


def test_only_the_first_of_several_edits_is_named() -> None:
    entries = build_chain(30)
    entries[24] = edited(entries[24], action="referral.delete")
    entries[9] = edited(entries[9], action="referral.delete")
    assert verify(entries).first_bad_sequence == 10


def test_a_deleted_entry_is_reported_as_missing() -> None:
    entries = build_chain(30)
    del entries[9]
    report = verify(entries)
    assert report.first_bad_sequence == 10
    assert report.reason == "entry 10 missing after entry 9 (deleted)."


def test_a_deletion_hidden_by_renumbering_breaks_the_next_link() -> None:
    entries = build_chain(30)
    del entries[9]
    report = verify(renumbered(entries))
    assert report.first_bad_sequence == 10
    assert report.reason is not None
    assert "link" in report.reason


def test_an_inserted_entry_is_detected() -> None:
    entries = build_chain(30)
    forged_fields = {**entry_fields(10), "actor": "covering-tracks"}
    # Without the audit key the forger can only guess a link.
    forged = ChainEntry(10, forged_fields, entry_hash(forged_fields), bytes(32))
    report = verify(renumbered([*entries[:9], forged, *entries[9:]]))
    assert report.first_bad_sequence == 10
    assert report.reason is not None
    assert "link" in report.reason


def test_an_inserted_entry_with_a_duplicate_sequence_number_is_detected() -> None:
    entries = build_chain(30)
    duplicate = edited(entries[9], rehash=True, actor="covering-tracks")
    report = verify([*entries[:10], duplicate, *entries[10:]])
    assert report.first_bad_sequence == 10
    assert report.reason == "entry 10 appears twice (duplicated or inserted)."


def test_swapping_two_entries_is_detected() -> None:
    entries = build_chain(30)
    entries[4], entries[5] = entries[5], entries[4]
    report = verify(renumbered(entries))
    assert report.first_bad_sequence == 5
    assert report.reason is not None
    assert "link" in report.reason


def test_entries_delivered_out_of_order_are_detected() -> None:
    entries = build_chain(30)
    entries[4], entries[5] = entries[5], entries[4]  # sequence numbers 1 2 3 4 6 5 7 ...
    report = verify(entries)
    assert report.first_bad_sequence == 5
    assert report.reason == "entry 5 missing after entry 4 (deleted)."


def test_a_log_that_does_not_start_at_one_is_rejected() -> None:
    entries = build_chain(30)
    report = verify(entries[1:])
    assert report.first_bad_sequence == 1
    assert report.reason == (
        "the log starts at entry 2 instead of entry 1, so earlier entries are missing (deleted)."
    )


def test_a_replaced_first_entry_is_detected() -> None:
    entries = build_chain(30)
    report = verify([edited(entries[0], rehash=True, actor="x"), *entries[1:]])
    assert report.first_bad_sequence == 1
    assert report.reason is not None
    assert "wrong audit key, or the entry was replaced" in report.reason


def test_a_wrong_audit_key_fails_at_the_first_entry() -> None:
    report = verify_chain(iter(build_chain(10)), b"\xff" * 32)
    assert report.first_bad_sequence == 1
    assert report.reason is not None
    assert "wrong audit key" in report.reason


def test_an_altered_stored_link_is_detected() -> None:
    entries = build_chain(30)
    entries[11] = entries[11]._replace(stored_link=bytes(32))
    assert verify(entries).first_bad_sequence == 12


def test_missing_stored_values_are_reported_not_raised() -> None:
    entries = build_chain(5)
    entries[2] = entries[2]._replace(stored_hash=None)  # type: ignore[arg-type]
    assert verify(entries).first_bad_sequence == 3


def test_content_that_cannot_be_encoded_is_reported_not_raised() -> None:
    entries = build_chain(5)
    entries[3] = entries[3]._replace(fields={"duration": 0.5})
    report = verify(entries)
    assert report.first_bad_sequence == 4
    assert report.reason is not None
    assert "cannot be encoded" in report.reason


# ---------------------------------------------------------------- checkpoints


def test_truncation_back_past_the_last_checkpoint_is_detected() -> None:
    entries = build_chain(30)
    checkpoints = [checkpoint_at(entries, 10), checkpoint_at(entries, 20)]
    report = verify(entries[:15], checkpoints)
    assert not report.ok
    assert report.first_bad_sequence == 16
    assert report.checkpoints_checked == 1
    assert report.reason == (
        "the log ends at entry 15 but a signed checkpoint covers entry 20, "
        "so entries from 16 on were deleted (truncated)."
    )


def test_truncating_the_whole_log_is_detected_by_any_checkpoint() -> None:
    entries = build_chain(30)
    report = verify([], [checkpoint_at(entries, 10)])
    assert report.first_bad_sequence == 1


def test_truncation_after_the_last_checkpoint_is_caught_only_by_the_next_checkpoint() -> None:
    # The honest limit of a hash chain: dropping the newest entries leaves a
    # shorter chain that is valid in every respect. Only a checkpoint signed
    # over the dropped entries (for example a copy the DPO already holds)
    # reveals it, so checkpoints must be made, and copied away, often.
    entries = build_chain(30)
    checkpoint_20 = checkpoint_at(entries, 20)
    truncated = entries[:25]

    report = verify(truncated, [checkpoint_20])
    assert report.ok
    assert report.last_sequence == 25

    checkpoint_30 = checkpoint_at(entries, 30)
    report = verify(truncated, [checkpoint_20, checkpoint_30])
    assert not report.ok
    assert report.first_bad_sequence == 26


def test_a_rewrite_by_someone_holding_the_audit_key_is_caught_only_by_a_checkpoint() -> None:
    entries = build_chain(30)
    checkpoints = [checkpoint_at(entries, 10), checkpoint_at(entries, 20)]
    fields = [dict(e.fields) for e in entries]
    fields[14]["actor"] = "someone-else"
    rewritten = chain_of(fields)  # hashes and links recomputed with the stolen key

    assert verify(rewritten).ok  # the chain alone cannot tell
    report = verify(rewritten, checkpoints)
    assert not report.ok
    assert report.first_bad_sequence == 11  # somewhere after the last good checkpoint
    assert report.checkpoints_checked == 1
    assert report.reason == (
        "entry 20: the chain does not match the signed checkpoint, so entries 11 to 20 "
        "were rewritten by someone holding the audit key."
    )


def test_a_forged_checkpoint_signature_is_detected() -> None:
    entries = build_chain(30)
    genuine = checkpoint_at(entries, 20)
    forged = dataclasses.replace(genuine, signature=bytes(64))
    report = verify(entries, [checkpoint_at(entries, 10), forged])
    assert not report.ok
    assert report.first_bad_sequence == 20
    assert report.reason == "checkpoint 20: its signature does not verify (forged or altered)."


def test_a_checkpoint_whose_link_was_altered_is_detected() -> None:
    entries = build_chain(30)
    altered = dataclasses.replace(checkpoint_at(entries, 20), link=entries[24].stored_link)
    report = verify(entries, [altered])
    assert report.first_bad_sequence == 20
    assert report.reason is not None
    assert "signature does not verify" in report.reason


def test_a_checkpoint_signed_by_another_key_names_both_keys() -> None:
    entries = build_chain(10)
    stranger = generate_signing_key()
    foreign = sign_checkpoint(stranger, 5, entries[4].stored_link, SIGNED_AT)
    report = verify(entries, [foreign])
    assert not report.ok
    assert report.reason is not None
    assert key_id_of(stranger.public_key()) in report.reason
    assert key_id_of(PUBLIC_KEY) in report.reason


def test_two_signed_checkpoints_that_disagree_are_reported_as_a_fork() -> None:
    entries = build_chain(10)
    genuine = checkpoint_at(entries, 5)
    other_history = sign_checkpoint(SIGNING_KEY, 5, entries[6].stored_link, SIGNED_AT)
    report = verify_checkpoints([genuine, other_history], PUBLIC_KEY)
    assert not report.ok
    assert report.first_bad_sequence == 5
    assert report.reason is not None
    assert "forked" in report.reason
    assert verify(entries, [genuine, other_history]).reason == report.reason


def test_the_same_checkpoint_given_twice_counts_once() -> None:
    entries = build_chain(10)
    report = verify(entries, [checkpoint_at(entries, 5), checkpoint_at(entries, 5)])
    assert report.ok
    assert report.checkpoints_checked == 1


def test_checkpoints_may_be_given_in_any_order() -> None:
    entries = build_chain(30)
    report = verify(entries, [checkpoint_at(entries, 30), checkpoint_at(entries, 10)])
    assert report.ok
    assert report.checkpoints_checked == 2


def test_checkpoints_without_a_public_key_are_refused() -> None:
    entries = build_chain(5)
    with pytest.raises(ValueError, match="public key"):
        verify_chain(iter(entries), AUDIT_KEY, [checkpoint_at(entries, 5)])


def test_the_report_gives_the_verified_head_to_sign_the_next_checkpoint() -> None:
    entries = build_chain(12)
    report = verify(entries)
    assert report.ok
    head = sign_checkpoint(SIGNING_KEY, report.last_sequence, report.last_link, SIGNED_AT)
    assert verify(entries, [head]).checkpoints_checked == 1


def test_a_failed_report_gives_the_last_good_entry_as_head() -> None:
    entries = build_chain(12)
    entries[7] = edited(entries[7], actor="x")
    report = verify(entries)
    assert report.last_sequence == 7
    assert report.last_link == entries[6].stored_link


# ------------------------------------------------------------------- resuming


def test_verification_can_resume_from_a_signed_checkpoint() -> None:
    entries = build_chain(40)
    start = checkpoint_at(entries, 20)
    checkpoints = [checkpoint_at(entries, 10), start, checkpoint_at(entries, 30)]
    report = verify_chain(iter(entries[20:]), AUDIT_KEY, checkpoints, PUBLIC_KEY, start=start)
    assert report.ok
    assert report.entries_checked == 20
    assert report.checkpoints_checked == 1  # only checkpoint 30 lies in the verified range
    assert report.last_sequence == 40


def test_resuming_from_a_forged_checkpoint_is_refused() -> None:
    entries = build_chain(40)
    start = dataclasses.replace(checkpoint_at(entries, 20), signature=bytes(64))
    report = verify_chain(iter(entries[20:]), AUDIT_KEY, (), PUBLIC_KEY, start=start)
    assert not report.ok
    assert report.first_bad_sequence == 20


def test_a_gap_right_after_the_resume_point_is_detected() -> None:
    entries = build_chain(40)
    start = checkpoint_at(entries, 20)
    report = verify_chain(iter(entries[21:]), AUDIT_KEY, (), PUBLIC_KEY, start=start)
    assert report.first_bad_sequence == 21
    assert report.reason == (
        "the log after checkpoint 20 starts at entry 22 instead of entry 21, "
        "so earlier entries are missing (deleted)."
    )


# ---------------------------------------------------------------------- links


@pytest.mark.asvs("V11.4.1", "V11.4.3")
def test_next_link_is_hmac_sha256_of_the_previous_link_and_the_entry_hash() -> None:
    digest = hashlib.sha256(b"entry").digest()
    expected = hmac.new(AUDIT_KEY, GENESIS_LINK + digest, hashlib.sha256).digest()
    assert next_link(AUDIT_KEY, GENESIS_LINK, digest) == expected
    assert bytes(32) == GENESIS_LINK


def test_next_link_refuses_inputs_of_the_wrong_length() -> None:
    digest = hashlib.sha256(b"entry").digest()
    with pytest.raises(ValueError, match="32 bytes"):
        next_link(AUDIT_KEY, GENESIS_LINK[:31], digest)
    with pytest.raises(ValueError, match="32 bytes"):
        next_link(AUDIT_KEY, GENESIS_LINK, digest + b"\x00")


@pytest.mark.asvs("V11.2.3")
def test_a_short_audit_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        next_link(b"short", GENESIS_LINK, GENESIS_LINK)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        verify_chain(iter([]), b"short")


@settings(database=None, deadline=None, max_examples=50)
@given(st.binary(min_size=32, max_size=200))
def test_the_verifier_computes_links_exactly_like_next_link_for_any_key(key: bytes) -> None:
    entries = chain_of([entry_fields(sequence) for sequence in range(1, 4)], key=key)
    assert verify_chain(iter(entries), key).ok


# ------------------------------------------------------------------- property

FIELD_VALUES = st.one_of(
    st.text(max_size=12),
    st.binary(max_size=12),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.booleans(),
    st.none(),
)
ENTRY_FIELDS = st.dictionaries(st.text(min_size=1, max_size=6), FIELD_VALUES, max_size=5)


def changed(value: object, position: int, delta: int) -> object:
    """Return ``value`` with one character, byte or digit changed (never equal to before)."""
    if isinstance(value, bytes):
        if not value:
            return bytes([delta % 256])
        i = position % len(value)
        return value[:i] + bytes([value[i] ^ (delta % 255 + 1)]) + value[i + 1 :]
    if isinstance(value, str):
        if not value:
            return chr(delta % 0x250 + 0x20)
        i = position % len(value)
        replacement = chr((ord(value[i]) + delta % 0x250 + 1) % 0xD800)
        if replacement == value[i]:
            replacement = chr(ord(replacement) + 1)
        return value[:i] + replacement + value[i + 1 :]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + (delta or 1)
    return ""  # None becomes the empty string


@settings(database=None, deadline=None, max_examples=200)
@given(
    field_list=st.lists(ENTRY_FIELDS, min_size=1, max_size=6),
    data=st.data(),
    rehash=st.booleans(),
)
@pytest.mark.asvs("V16.4.2")
def test_any_single_change_to_any_entrys_fields_is_detected(
    field_list: list[dict[str, object]], data: st.DataObject, rehash: bool
) -> None:
    entries = chain_of(field_list)
    k = data.draw(st.integers(min_value=1, max_value=len(entries)), label="entry")
    fields = dict(entries[k - 1].fields)
    what = data.draw(st.sampled_from(["value", "key", "add", "remove"]), label="change")
    position = data.draw(st.integers(min_value=0, max_value=100), label="position")
    delta = data.draw(st.integers(min_value=1, max_value=10_000), label="delta")
    if what in ("value", "key", "remove") and not fields:
        what = "add"
    if what == "add":
        new_key = "+"
        while new_key in fields:
            new_key += "+"
        fields[new_key] = None
    else:
        key = sorted(fields)[position % len(fields)]
        if what == "value":
            fields[key] = changed(fields[key], position, delta)
        elif what == "key":
            new_key = str(changed(key, position, delta))
            while new_key in fields:
                new_key += "+"
            fields[new_key] = fields.pop(key)
        else:
            del fields[key]
    assert fields != entries[k - 1].fields
    entries[k - 1] = entries[k - 1]._replace(
        fields=fields,
        stored_hash=entry_hash(fields) if rehash else entries[k - 1].stored_hash,
    )
    report = verify_chain(iter(entries), AUDIT_KEY)
    assert not report.ok
    assert report.first_bad_sequence == k


# ----------------------------------------------------------------------- head


def head_of(entries: Sequence[ChainEntry], sequence: int | None = None) -> ChainHead:
    sequence = len(entries) if sequence is None else sequence
    link = entries[sequence - 1].stored_link
    return ChainHead(sequence, link, head_mac(AUDIT_KEY, sequence, link))


def verify_to(entries: Sequence[ChainEntry], head: ChainHead) -> VerificationReport:
    return verify_chain(iter(entries), AUDIT_KEY, head=head)


def test_a_chain_that_reaches_its_authentic_head_verifies() -> None:
    entries = build_chain(12)
    assert verify_to(entries, head_of(entries)).ok


def test_newest_entries_deleted_below_the_head_are_reported_as_truncation() -> None:
    entries = build_chain(12)
    report = verify_to(entries[:9], head_of(entries))
    assert not report.ok and report.first_bad_sequence == 10
    assert report.reason == (
        "the log ends at entry 9 but its head is at entry 12, so entries from 10 on were "
        "deleted (truncated)."
    )


def test_a_head_moved_back_without_the_audit_key_is_not_authentic() -> None:
    entries = build_chain(12)
    checkpoints = [checkpoint_at(entries, 4)]
    forged = ChainHead(9, entries[8].stored_link, hmac.digest(b"x" * 32, b"guess", "sha256"))
    report = verify_chain(iter(entries[:9]), AUDIT_KEY, checkpoints, PUBLIC_KEY, head=forged)
    assert not report.ok
    assert report.first_bad_sequence == 5, "after the last signed checkpoint"
    assert "does not carry a valid MAC" in (report.reason or "")


def test_a_head_mac_made_for_an_entry_link_does_not_pass_as_a_head_mac() -> None:
    entries = build_chain(3)
    reused = ChainHead(3, entries[2].stored_link, entries[2].stored_link)
    assert not head_is_authentic(reused, AUDIT_KEY)


def test_a_head_whose_link_differs_from_its_entry_is_reported() -> None:
    entries = build_chain(6)
    wrong = ChainHead(6, bytes(32), head_mac(AUDIT_KEY, 6, bytes(32)))
    report = verify_to(entries, wrong)
    assert not report.ok and report.first_bad_sequence == 6
    assert "head names another link" in (report.reason or "")


def test_an_entry_beyond_the_head_is_reported_as_forged() -> None:
    entries = build_chain(6)
    report = verify_to(entries, head_of(entries, 5))
    assert not report.ok and report.first_bad_sequence == 6
    assert report.reason == beyond_the_head(6, 5)


def test_an_empty_log_needs_no_head_mac_but_a_written_one_does() -> None:
    assert head_is_authentic(ChainHead(0, GENESIS_LINK, None), AUDIT_KEY)
    assert not head_is_authentic(ChainHead(3, bytes(range(32)), None), AUDIT_KEY)
