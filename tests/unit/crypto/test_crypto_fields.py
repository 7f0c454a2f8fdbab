"""Field ciphertext: round trips, tamper detection, binding to place and DEK, error hygiene."""

from __future__ import annotations

import pickle
import traceback
import uuid
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.sql.elements import quoted_name

from crypto import DecryptionError, FieldContext, decrypt_field, encrypt_field, new_dek
from crypto import fields as fields_module
from crypto.fields import _OPAQUE_ID, FORMAT_V1, MIN_BLOB_BYTES
from crypto.hazmat import decrypt_bytes, dek_id_of, dek_id_text_of, encrypt_bytes

SECRET = "Barnet bor hos mormor på Söder"
DEK = new_dek()
DEK_ID = uuid.UUID("6f1c2d3e-4b5a-4c6d-8e7f-901a2b3c4d5e")
CONTEXT = FieldContext(
    table="referrals",
    column="concern_text",
    row_id="0b9f7f0e-1111-4c3a-9d5e-2f6a7b8c9d0e",
    person_id="5a4b3c2d-2222-4e1f-8a9b-0c1d2e3f4a5b",
)


def _blob(plaintext: str = SECRET) -> bytes:
    return encrypt_field(plaintext, DEK, DEK_ID, CONTEXT)


def _message_of(exc: BaseException) -> str:
    """What a log would show of an error: its message and those of any chained errors."""
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        parts += traceback.format_exception_only(current)
        current = current.__cause__ or current.__context__
    return "".join(parts)


@pytest.mark.parametrize(
    "plaintext",
    [
        "",
        "a",
        SECRET,
        "Åsa Öberg-Ängström",
        "名前 🧒🏽 ∑",
        "line\nbreak\ttab\x00nul",
        "x" * 100_000,
    ],
)
def test_a_value_decrypts_to_exactly_what_was_encrypted(plaintext: str) -> None:
    assert decrypt_field(_blob(plaintext), DEK, CONTEXT) == plaintext


def test_raw_bytes_round_trip_too() -> None:
    payload = bytes(range(256))
    blob = encrypt_bytes(payload, DEK, DEK_ID, CONTEXT)
    assert decrypt_bytes(blob, DEK, CONTEXT) == payload


def test_the_blob_follows_the_documented_layout() -> None:
    blob = _blob("abc")
    assert blob[0] == FORMAT_V1 == 0x01
    assert blob[1:17] == DEK_ID.bytes
    assert len(blob) == 1 + 16 + 12 + len(b"abc") + 16
    assert MIN_BLOB_BYTES == 45


def test_the_dek_id_can_be_read_from_the_blob_without_the_key() -> None:
    assert dek_id_of(_blob()) == DEK_ID


def test_a_string_dek_id_is_the_same_key_id_as_its_uuid() -> None:
    blob = encrypt_field(SECRET, DEK, str(DEK_ID).upper(), CONTEXT)
    assert dek_id_of(blob) == DEK_ID
    assert decrypt_field(blob, DEK, CONTEXT) == SECRET


def test_blobs_from_a_database_driver_as_memoryview_decrypt() -> None:
    assert decrypt_field(memoryview(_blob()), DEK, CONTEXT) == SECRET  # type: ignore[arg-type]


def test_the_same_value_encrypts_differently_every_time() -> None:
    assert _blob() != _blob()


@pytest.mark.asvs("V11.3.3")
def test_a_flipped_bit_anywhere_in_the_blob_fails_to_decrypt() -> None:
    blob = _blob("kort")
    for position in range(len(blob)):
        for bit in range(8):
            tampered = bytearray(blob)
            tampered[position] ^= 1 << bit
            with pytest.raises(DecryptionError):
                decrypt_field(bytes(tampered), DEK, CONTEXT)


def test_a_truncated_blob_fails_to_decrypt() -> None:
    blob = _blob()
    for length in range(len(blob)):
        with pytest.raises(DecryptionError):
            decrypt_field(blob[:length], DEK, CONTEXT)


def test_a_blob_with_bytes_appended_fails_to_decrypt() -> None:
    with pytest.raises(DecryptionError):
        decrypt_field(_blob() + b"\x00", DEK, CONTEXT)


def test_an_unknown_format_version_fails_to_decrypt_and_to_name_its_dek() -> None:
    blob = b"\x02" + _blob()[1:]
    with pytest.raises(DecryptionError):
        decrypt_field(blob, DEK, CONTEXT)
    with pytest.raises(DecryptionError):
        dek_id_of(blob)


@pytest.mark.parametrize(
    "moved",
    [
        FieldContext("referrals", "concern_text", "another-row", CONTEXT.person_id),
        FieldContext("referrals", "other_column", CONTEXT.row_id, CONTEXT.person_id),
        FieldContext("consents", "concern_text", CONTEXT.row_id, CONTEXT.person_id),
        FieldContext("referrals", "concern_text", CONTEXT.row_id, "another-person"),
    ],
    ids=["row", "column", "table", "person"],
)
@pytest.mark.asvs("V11.3.3")
def test_value_moved_to_another_row_column_table_or_person_fails_to_decrypt(
    moved: FieldContext,
) -> None:
    with pytest.raises(DecryptionError):
        decrypt_field(_blob(), DEK, moved)


def test_context_fields_cannot_be_shifted_into_each_other() -> None:
    # Length prefixes: "ab"+"c" must not authenticate as "a"+"bc".
    blob = encrypt_field(SECRET, DEK, DEK_ID, FieldContext("t", "c", "ab", "c"))
    with pytest.raises(DecryptionError):
        decrypt_field(blob, DEK, FieldContext("t", "c", "a", "bc"))


def test_value_decrypted_with_another_dek_fails() -> None:
    with pytest.raises(DecryptionError):
        decrypt_field(_blob(), new_dek(), CONTEXT)


def test_value_relabelled_with_another_dek_id_fails_to_decrypt() -> None:
    relabelled = _blob()[:1] + uuid.uuid4().bytes + _blob()[17:]
    with pytest.raises(DecryptionError):
        decrypt_field(relabelled, DEK, CONTEXT)


def test_a_dek_of_the_wrong_length_cannot_decrypt() -> None:
    with pytest.raises(DecryptionError):
        decrypt_field(_blob(), DEK[:16], CONTEXT)


def test_a_dek_of_the_wrong_length_is_refused_for_encryption() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        encrypt_field(SECRET, DEK[:16], DEK_ID, CONTEXT)


def test_non_utf8_bytes_decrypted_as_text_fail_with_the_same_error() -> None:
    blob = encrypt_bytes(b"\xff\xfe" + SECRET.encode(), DEK, DEK_ID, CONTEXT)
    with pytest.raises(DecryptionError) as caught:
        decrypt_field(blob, DEK, CONTEXT)
    assert caught.value.__context__ is None
    assert SECRET not in _message_of(caught.value)


def test_decryption_errors_reveal_no_plaintext_key_or_ciphertext() -> None:
    blob = _blob()
    failures: list[Callable[[], str]] = [
        lambda: decrypt_field(blob, new_dek(), CONTEXT),
        lambda: decrypt_field(blob[:-1], DEK, CONTEXT),
        lambda: decrypt_field(blob, DEK, FieldContext("t", "c", "r", "p")),
    ]
    for fail in failures:
        with pytest.raises(DecryptionError) as caught:
            fail()
        text = _message_of(caught.value) + repr(caught.value)
        assert str(caught.value) == "decryption failed"
        assert SECRET not in text
        for secret_bytes in (DEK, blob, blob[29:]):
            assert secret_bytes.hex() not in text
            assert repr(secret_bytes) not in text
        assert caught.value.__cause__ is None


def test_decryption_error_survives_pickling_with_its_fixed_message() -> None:
    error = pickle.loads(pickle.dumps(DecryptionError()))  # noqa: S301 -- our own object
    assert isinstance(error, DecryptionError)
    assert str(error) == "decryption failed"


def test_text_with_a_lone_surrogate_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError) as caught:
        encrypt_field("hemligt\ud800", DEK, DEK_ID, CONTEXT)
    assert "hemligt" not in _message_of(caught.value)
    assert caught.value.__context__ is None


def test_no_nonce_repeats_across_100_000_encryptions_under_one_dek() -> None:
    count = 100_000
    nonces = {encrypt_bytes(b"", DEK, DEK_ID, CONTEXT)[17:29] for _ in range(count)}
    assert len(nonces) == count


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("table", "referrals; drop"),
        ("column", ""),
        ("row_id", ""),
        ("row_id", "Åsa Öberg"),
        ("person_id", "asa@example.org"),
        ("person_id", "150312-1234"),
        ("person_id", "201503121234"),
        ("row_id", "1503121234"),
        ("row_id", "20150312-1234"),
    ],
)
def test_a_context_holding_personal_data_or_junk_is_refused(field: str, value: str) -> None:
    values = {
        "table": "referrals",
        "column": "concern_text",
        "row_id": "r1",
        "person_id": "p1",
        field: value,
    }
    with pytest.raises(ValueError) as caught:
        FieldContext(**values)
    if value:
        assert value not in str(caught.value)


def test_associated_data_holds_only_the_version_dek_id_and_names() -> None:
    aad = CONTEXT.associated_data(DEK_ID)
    assert aad[0] == FORMAT_V1
    assert aad[1:17] == DEK_ID.bytes
    for part in (CONTEXT.table, CONTEXT.column, CONTEXT.row_id, CONTEXT.person_id):
        assert part.encode() in aad
    assert aad == CONTEXT.associated_data(DEK_ID)


def test_associated_data_is_laid_out_byte_for_byte_as_documented() -> None:
    """Every stored value was sealed under this layout: a faster way of building it must
    give the very same bytes, or no field written before would open."""

    def prefixed(text: str) -> bytes:
        return len(text).to_bytes(4, "big") + text.encode("ascii")

    expected = (
        bytes([FORMAT_V1])
        + DEK_ID.bytes
        + prefixed("referrals")
        + prefixed("concern_text")
        + prefixed("0b9f7f0e-1111-4c3a-9d5e-2f6a7b8c9d0e")
        + prefixed("5a4b3c2d-2222-4e1f-8a9b-0c1d2e3f4a5b")
    )
    assert CONTEXT.associated_data(DEK_ID) == expected
    again = FieldContext(CONTEXT.table, CONTEXT.column, CONTEXT.row_id, CONTEXT.person_id)
    assert again.associated_data(DEK_ID) == expected  # its parts now remembered


def test_a_refused_context_is_refused_every_time_and_its_value_never_kept() -> None:
    for _ in range(2):
        with pytest.raises(ValueError):
            FieldContext("referrals", "concern_text", "r1", "201503121234")
    assert "201503121234" not in fields_module._OPAQUE_IDS


def test_a_part_kept_for_one_check_does_not_pass_the_other() -> None:
    """ "_x" is a valid column name but not an opaque id, "1abc" the other way round."""
    FieldContext("referrals", "_x", "1abc", "p1")
    with pytest.raises(ValueError):
        FieldContext("referrals", "concern_text", "_x", "p1")
    with pytest.raises(ValueError):
        FieldContext("referrals", "1abc", "r1", "p1")


def test_a_context_of_other_types_than_text_is_refused() -> None:
    with pytest.raises(ValueError):
        FieldContext("referrals", "concern_text", uuid.uuid4(), "p1")  # type: ignore[arg-type]


def test_a_str_subclass_is_checked_by_its_text_not_by_its_own_equality() -> None:
    """A subclass that claims to equal anything must not borrow another id's checked part."""

    class ClaimsEquality(str):
        def __eq__(self, other: object) -> bool:
            return True

        def __hash__(self) -> int:
            return hash("r1")

    FieldContext("referrals", "concern_text", "r1", "p1")
    with pytest.raises(ValueError):
        FieldContext("referrals", "concern_text", ClaimsEquality("201503121234"), "p1")
    # SQLAlchemy's table and column names are such a subclass, and read as their text.
    named = FieldContext(quoted_name("referrals", None), "concern_text", "r1", "p1")
    assert named.associated_data(DEK_ID) == FieldContext(
        "referrals", "concern_text", "r1", "p1"
    ).associated_data(DEK_ID)


def test_the_kept_parts_stay_bounded_and_right_after_they_are_emptied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fields_module, "_MAX_KEPT", 4)
    monkeypatch.setattr(fields_module, "_OPAQUE_IDS", fields_module._CheckedParts(_OPAQUE_ID))
    for number in range(10):
        FieldContext("referrals", "concern_text", f"row-{number}", "p1")
        assert len(fields_module._OPAQUE_IDS) <= 4
    for _ in range(2):  # once from the check, once from what was kept
        again = FieldContext(CONTEXT.table, CONTEXT.column, CONTEXT.row_id, CONTEXT.person_id)
        assert again.associated_data(DEK_ID) == CONTEXT.associated_data(DEK_ID)
        assert decrypt_field(_blob(), DEK, again) == SECRET


def test_the_dek_id_is_read_as_text_the_way_the_key_store_names_it() -> None:
    blob = _blob()
    for _ in range(2):  # once parsed, once as kept
        assert dek_id_text_of(blob) == str(DEK_ID) == str(dek_id_of(blob))
    with pytest.raises(DecryptionError):
        dek_id_text_of(b"\x02" + blob[1:])
    with pytest.raises(DecryptionError):
        dek_id_text_of(blob[: MIN_BLOB_BYTES - 1])


@settings(database=None, deadline=None)
@given(plaintext=st.text(), row_id=st.uuids(), person_id=st.uuids(), dek_id=st.uuids())
def test_any_text_round_trips_in_any_place(
    plaintext: str, row_id: uuid.UUID, person_id: uuid.UUID, dek_id: uuid.UUID
) -> None:
    context = FieldContext("referrals", "notes", str(row_id), str(person_id))
    blob = encrypt_field(plaintext, DEK, dek_id, context)
    assert dek_id_of(blob) == dek_id
    assert decrypt_field(blob, DEK, context) == plaintext


@settings(database=None, deadline=None)
@given(payload=st.binary(), position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_any_single_bit_flip_is_detected(payload: bytes, position: int, bit: int) -> None:
    blob = bytearray(encrypt_bytes(payload, DEK, DEK_ID, CONTEXT))
    blob[position % len(blob)] ^= 1 << bit
    with pytest.raises(DecryptionError):
        decrypt_bytes(bytes(blob), DEK, CONTEXT)
