"""The canonical encoding of an audit entry: deterministic and unambiguous."""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, date, datetime
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.canonical import canonical_entry, entry_hash, row_encoder

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
ENTRIES = st.dictionaries(st.text(), JSON_VALUES, max_size=8)


def test_the_encoding_is_pinned_by_a_known_answer() -> None:
    # Changing these bytes invalidates every hash already stored in the log.
    fields = {
        "occurred_at": "2025-03-01T09:15:00.000000Z",
        "actor": "Åsa Öberg",
        "action": "referral.view",
        "referral_id": 4711,
        "note": None,
        "consent": True,
        "request_digest": b"\x00\xff\x10",
        "tags": ["a", "b"],
        "extra": {"z": 1, "a": '"quoted"\n'},
    }
    assert (
        canonical_entry(fields)
        == (
            '{"action":"referral.view","actor":"Åsa Öberg","consent":true,'
            '"extra":{"a":"\\"quoted\\"\\n","z":1},"note":null,'
            '"occurred_at":"2025-03-01T09:15:00.000000Z","referral_id":4711,'
            '"request_digest":"AP8Q","tags":["a","b"]}'
        ).encode()
    )
    assert entry_hash(fields).hex() == (
        "0d97e75937b3e6db1deb02f6f8a9ff4751c781bb35f44411f8f81de5a843c5dd"
    )


@pytest.mark.asvs("V11.4.1", "V11.4.3")
def test_the_entry_hash_is_sha256_of_the_canonical_bytes() -> None:
    fields = {"action": "login", "actor": "u1"}
    assert entry_hash(fields) == hashlib.sha256(canonical_entry(fields)).digest()
    assert len(entry_hash(fields)) == 32


def test_canonical_encoding_does_not_depend_on_key_order() -> None:
    forwards = {"a": 1, "b": "two", "c": None, "d": {"x": 1, "y": 2}}
    backwards = {"d": {"y": 2, "x": 1}, "c": None, "b": "two", "a": 1}
    assert canonical_entry(forwards) == canonical_entry(backwards)


@pytest.mark.asvs("V16.4.1")
def test_a_comma_inside_a_value_cannot_pose_as_a_field_separator() -> None:
    assert canonical_entry({"a": "1,b"}) != canonical_entry({"a": "1", "b": ""})
    assert canonical_entry({"a": '1","b":"'}) != canonical_entry({"a": "1", "b": ""})
    assert canonical_entry({"a": "1,b="}) != canonical_entry({"a": "1", "b": ""})


def test_a_colon_inside_a_key_cannot_pose_as_a_key_value_separator() -> None:
    assert canonical_entry({"a:b": "c"}) != canonical_entry({"a": "b:c"})
    assert canonical_entry({'a":"b': "c"}) != canonical_entry({"a": 'b":"c'})


def test_null_is_distinct_from_a_missing_field_and_from_the_text_null() -> None:
    encodings = {
        canonical_entry({"a": None}),
        canonical_entry({}),
        canonical_entry({"a": "null"}),
        canonical_entry({"a": ""}),
    }
    assert len(encodings) == 4
    assert canonical_entry({"a": None}) == b'{"a":null}'


def test_numbers_booleans_and_text_are_distinct() -> None:
    encodings = {
        canonical_entry({"a": 1}),
        canonical_entry({"a": "1"}),
        canonical_entry({"a": True}),
        canonical_entry({"a": "true"}),
    }
    assert len(encodings) == 4


def test_bytes_are_encoded_as_base64_text() -> None:
    assert canonical_entry({"digest": b"\xfb\xff"}) == b'{"digest":"+/8="}'
    assert canonical_entry({"digest": bytearray(b"\xfb\xff")}) == b'{"digest":"+/8="}'
    assert canonical_entry({"digest": memoryview(b"\xfb\xff")}) == b'{"digest":"+/8="}'


def test_non_ascii_text_is_written_as_utf8_not_escaped() -> None:
    encoded = canonical_entry({"name": "Åsa Öberg", "city": "Göteborg"})
    assert "Åsa Öberg".encode() in encoded
    assert b"\\u" not in encoded


def test_nested_mappings_and_lists_are_encoded_with_the_same_rules() -> None:
    encoded = canonical_entry({"outer": {"b": [1, None], "a": {"d": b"\x00", "c": "x"}}})
    assert encoded == b'{"outer":{"a":{"c":"x","d":"AA=="},"b":[1,null]}}'


def test_datetimes_must_already_be_iso_8601_text() -> None:
    with pytest.raises(TypeError, match="ISO-8601"):
        canonical_entry({"occurred_at": datetime(2025, 3, 1, tzinfo=UTC)})
    with pytest.raises(TypeError, match="ISO-8601"):
        canonical_entry({"day": date(2025, 3, 1)})


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="floats are not allowed"):
        canonical_entry({"duration": 0.5})
    with pytest.raises(TypeError, match="floats are not allowed"):
        canonical_entry({"nested": [float("nan")]})


def test_keys_that_are_not_text_are_refused() -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        canonical_entry({1: "a"})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="keys must be strings"):
        canonical_entry({"outer": {1: "a"}})


def test_other_value_types_are_refused() -> None:
    with pytest.raises(TypeError, match="set"):
        canonical_entry({"a": {1, 2}})
    with pytest.raises(TypeError, match="must be a mapping"):
        canonical_entry([("a", 1)])  # type: ignore[arg-type]


def test_text_that_is_not_valid_unicode_is_refused() -> None:
    with pytest.raises(ValueError, match="not valid Unicode"):
        canonical_entry({"a": "\ud800"})


def test_enum_members_encode_as_their_plain_values() -> None:
    class Action(enum.StrEnum):
        VIEW = "referral.view"

    class Level(enum.IntEnum):
        HIGH = 3

    assert canonical_entry({"action": Action.VIEW, "level": Level.HIGH}) == canonical_entry(
        {"action": "referral.view", "level": 3}
    )


def test_any_mapping_encodes_like_the_equal_dict() -> None:
    fields = {"b": 1, "a": "x"}
    assert canonical_entry(MappingProxyType(fields)) == canonical_entry(fields)


@settings(database=None, deadline=None, max_examples=300)
@given(ENTRIES)
def test_decoding_the_canonical_bytes_gives_back_the_fields(fields: dict[str, object]) -> None:
    # A left inverse exists, so no two different entries share an encoding.
    assert json.loads(canonical_entry(fields).decode("utf-8")) == fields


@settings(database=None, deadline=None, max_examples=300)
@given(ENTRIES)
def test_the_encoding_is_standard_sorted_compact_json(fields: dict[str, object]) -> None:
    expected = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_entry(fields) == expected.encode("utf-8")
    # The general path (any Mapping) and the fast path (plain dict) agree.
    assert canonical_entry(MappingProxyType(fields)) == canonical_entry(fields)


ROW_NAMES = ("sequence", "occurred_at", "actor_id", "action", "details", "object_id", "Ä", "a")
row_values = st.one_of(
    st.none(),
    st.text(),  # any code points, control characters and lone surrogates included
    st.integers(),
    st.booleans(),
    st.binary(max_size=40),
)


@given(st.lists(row_values, min_size=len(ROW_NAMES), max_size=len(ROW_NAMES)))
def test_the_verifiers_row_encoder_writes_exactly_the_canonical_bytes(row: list[object]) -> None:
    encode = row_encoder(ROW_NAMES)
    try:
        expected: bytes | type[Exception] = canonical_entry(dict(zip(ROW_NAMES, row, strict=True)))
    except ValueError:
        expected = ValueError
    if expected is ValueError:
        with pytest.raises(ValueError):
            encode(row)
    else:
        assert encode(row) == expected
