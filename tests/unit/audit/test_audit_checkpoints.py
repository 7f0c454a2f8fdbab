"""Signed checkpoints, their keys, and the directory the DPO copies away."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from audit.checkpoints import (
    CHECKPOINT_DOMAIN,
    Checkpoint,
    CheckpointDirectory,
    CheckpointExistsError,
    CheckpointFormatError,
    checkpoint_from_json,
    checkpoint_message,
    checkpoint_to_json,
    generate_signing_key,
    key_id_of,
    load_private_key,
    load_public_key,
    private_pem,
    public_pem,
    sign_checkpoint,
    verify_checkpoint,
)

SIGNING_KEY = generate_signing_key()
LINK = hashlib.sha256(b"link of entry 42").digest()
SIGNED_AT = "2025-03-01T02:00:00Z"


def checkpoint(sequence: int = 42, link: bytes = LINK) -> Checkpoint:
    return sign_checkpoint(SIGNING_KEY, sequence, link, SIGNED_AT)


# ----------------------------------------------------------------- signatures


def test_a_signed_checkpoint_verifies_with_the_public_key_alone() -> None:
    public_only = load_public_key(public_pem(SIGNING_KEY))
    assert verify_checkpoint(checkpoint(), public_only)


@pytest.mark.parametrize(
    "change",
    [
        {"sequence": 43},
        {"link": hashlib.sha256(b"another link").digest()},
        {"signed_at": "2025-03-01T02:00:01Z"},
        {"key_id": "0000000000000000"},
        {"signature": bytes(64)},
    ],
    ids=lambda change: next(iter(change)),
)
def test_changing_any_checkpoint_field_breaks_its_signature(change: dict[str, object]) -> None:
    altered = dataclasses.replace(checkpoint(), **change)  # type: ignore[arg-type]
    assert not verify_checkpoint(altered, SIGNING_KEY.public_key())


def test_a_single_flipped_signature_bit_breaks_the_signature() -> None:
    cp = checkpoint()
    forged = bytearray(cp.signature)
    forged[10] ^= 0x01
    assert not verify_checkpoint(
        dataclasses.replace(cp, signature=bytes(forged)), SIGNING_KEY.public_key()
    )


def test_a_checkpoint_does_not_verify_under_another_key() -> None:
    assert not verify_checkpoint(checkpoint(), generate_signing_key().public_key())


def test_the_signed_message_is_domain_separated_and_spells_out_every_field() -> None:
    message = checkpoint_message(42, LINK, SIGNED_AT, "abcdef0123456789")
    assert message == (
        b"referral-audit-checkpoint-v1\n42\n" + LINK.hex().encode() + b"\n"
        b"2025-03-01T02:00:00Z\nabcdef0123456789"
    )
    assert message.startswith(CHECKPOINT_DOMAIN)
    cp = checkpoint()
    SIGNING_KEY.public_key().verify(
        cp.signature, checkpoint_message(cp.sequence, cp.link, cp.signed_at, cp.key_id)
    )


def test_the_key_id_defaults_to_the_signing_keys_id() -> None:
    assert checkpoint().key_id == key_id_of(SIGNING_KEY.public_key())
    named = sign_checkpoint(SIGNING_KEY, 1, LINK, SIGNED_AT, "audit-2025")
    assert named.key_id == "audit-2025"
    assert verify_checkpoint(named, SIGNING_KEY.public_key())


@pytest.mark.parametrize(
    ("sequence", "link", "signed_at", "key_id", "problem"),
    [
        (0, LINK, SIGNED_AT, None, "sequence"),
        (True, LINK, SIGNED_AT, None, "sequence"),
        (1, LINK[:31], SIGNED_AT, None, "link"),
        (1, LINK, "2025-03-01T03:00:00+01:00", None, "UTC"),
        (1, LINK, "2025-03-01T02:00:00", None, "UTC"),
        (1, LINK, "2025-03-01T02:00:00Z\n", None, "UTC"),
        (1, LINK, "2025-02-30T02:00:00Z", None, "real time"),
        (1, LINK, SIGNED_AT, "two\nlines", "key_id"),
        (1, LINK, SIGNED_AT, "", "key_id"),
    ],
)
def test_sign_checkpoint_refuses_malformed_fields(
    sequence: int, link: bytes, signed_at: str, key_id: str | None, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        sign_checkpoint(SIGNING_KEY, sequence, link, signed_at, key_id)


def test_a_malformed_checkpoint_fails_verification_instead_of_raising() -> None:
    public = SIGNING_KEY.public_key()
    assert not verify_checkpoint(dataclasses.replace(checkpoint(), link=b"short"), public)
    assert not verify_checkpoint(dataclasses.replace(checkpoint(), signature=b"short"), public)
    assert not verify_checkpoint(dataclasses.replace(checkpoint(), sequence=-1), public)


# ----------------------------------------------------------------------- keys


def test_keys_survive_a_pem_round_trip() -> None:
    reloaded = load_private_key(private_pem(SIGNING_KEY))
    assert public_pem(reloaded) == public_pem(SIGNING_KEY)
    assert public_pem(SIGNING_KEY.public_key()) == public_pem(SIGNING_KEY)
    assert verify_checkpoint(
        sign_checkpoint(reloaded, 1, LINK, SIGNED_AT), load_public_key(public_pem(SIGNING_KEY))
    )


def test_the_private_key_pem_is_unencrypted_pkcs8() -> None:
    pem = private_pem(SIGNING_KEY)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert public_pem(SIGNING_KEY).startswith(b"-----BEGIN PUBLIC KEY-----\n")


@pytest.mark.asvs("V11.6.1")
def test_loading_a_key_of_another_type_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    other_private = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    other_public = other.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="Ed25519"):
        load_private_key(other_private)
    with pytest.raises(ValueError, match="Ed25519"):
        load_public_key(other_public)


def test_the_key_id_is_the_first_16_hex_digits_of_sha256_of_the_raw_public_key() -> None:
    public = SIGNING_KEY.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert len(raw) == 32
    assert key_id_of(public) == hashlib.sha256(raw).hexdigest()[:16]
    assert key_id_of(public) != key_id_of(generate_signing_key().public_key())


# ----------------------------------------------------------------------- JSON


def test_a_checkpoint_survives_a_json_round_trip() -> None:
    cp = checkpoint()
    assert checkpoint_from_json(checkpoint_to_json(cp)) == cp


def test_the_checkpoint_json_is_readable_with_ordinary_tools() -> None:
    document = json.loads(checkpoint_to_json(checkpoint()))
    assert document == {
        "format": "referral-audit-checkpoint-v1",
        "sequence": 42,
        "link": LINK.hex(),
        "signed_at": SIGNED_AT,
        "key_id": key_id_of(SIGNING_KEY.public_key()),
        "signature": checkpoint().signature.hex(),
    }


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda text: text.replace('"sequence"', '"extra": 1, "sequence"'), "unexpected"),
        (
            lambda text: text.replace('"sequence": 42', '"sequence": 42, "sequence": 43'),
            "duplicate",
        ),
        (lambda text: text.replace('"sequence": 42', '"sequence": "42"'), "sequence"),
        (lambda text: text.replace('"format": "referral-audit', '"format": "other'), "format"),
        (lambda text: text.replace(LINK.hex(), LINK.hex().upper()), "link"),
        (lambda text: text[:-5], "JSON"),
    ],
)
def test_checkpoint_json_that_is_not_exactly_right_is_refused(tamper: object, problem: str) -> None:
    text = checkpoint_to_json(checkpoint()).decode()
    with pytest.raises(CheckpointFormatError, match=problem):
        checkpoint_from_json(tamper(text).encode())  # type: ignore[operator]


# ------------------------------------------------------------------ directory


def test_the_directory_round_trips_checkpoints_in_sequence_order(tmp_path: Path) -> None:
    directory = CheckpointDirectory(tmp_path / "checkpoints")
    written = [checkpoint(100), checkpoint(5), checkpoint(30)]
    for cp in written:
        directory.write(cp)
    assert directory.read_all() == sorted(written, key=lambda cp: cp.sequence)
    assert directory.latest() == checkpoint(100)
    public = load_public_key(public_pem(SIGNING_KEY))
    assert all(verify_checkpoint(cp, public) for cp in directory.read_all())


def test_each_checkpoint_is_one_file_named_by_its_zero_padded_sequence(tmp_path: Path) -> None:
    directory = CheckpointDirectory(tmp_path)
    path = directory.write(checkpoint(7))
    assert path == tmp_path / "00000000000000000007.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00000000000000000007.json"]
    assert not stat.S_IMODE(path.stat().st_mode) & 0o222  # read-only
    assert checkpoint_from_json(path.read_bytes()) == checkpoint(7)


def test_the_directory_refuses_to_overwrite_a_checkpoint(tmp_path: Path) -> None:
    directory = CheckpointDirectory(tmp_path)
    original = checkpoint(9)
    directory.write(original)
    rival = checkpoint(9, link=hashlib.sha256(b"rewritten history").digest())
    with pytest.raises(CheckpointExistsError, match="already exists"):
        directory.write(rival)
    assert directory.read_all() == [original]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00000000000000000009.json"]


def test_a_malformed_checkpoint_file_is_named_in_the_error(tmp_path: Path) -> None:
    directory = CheckpointDirectory(tmp_path)
    directory.write(checkpoint(1))
    broken = tmp_path / "00000000000000000002.json"
    broken.write_text('{"format": "referral-audit-checkpoint-v1", "sequence": ')
    with pytest.raises(CheckpointFormatError, match=re.escape(str(broken))):
        directory.read_all()
    with pytest.raises(CheckpointFormatError, match=r"00000000000000000002\.json"):
        directory.latest()


def test_a_file_whose_name_disagrees_with_its_checkpoint_is_refused(tmp_path: Path) -> None:
    (tmp_path / "00000000000000000003.json").write_bytes(checkpoint_to_json(checkpoint(4)))
    with pytest.raises(CheckpointFormatError, match="does not match"):
        CheckpointDirectory(tmp_path).read_all()


def test_a_stray_json_file_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "42.json").write_bytes(checkpoint_to_json(checkpoint(42)))
    with pytest.raises(CheckpointFormatError, match=r"/42\.json"):
        CheckpointDirectory(tmp_path).read_all()


def test_hidden_files_and_notes_are_ignored(tmp_path: Path) -> None:
    directory = CheckpointDirectory(tmp_path)
    directory.write(checkpoint(1))
    (tmp_path / ".checkpoint-abandoned.tmp").write_text("partial")
    (tmp_path / "README.txt").write_text("copied by the DPO on 2025-03-02")
    assert directory.read_all() == [checkpoint(1)]


def test_an_empty_or_missing_directory_has_no_checkpoints(tmp_path: Path) -> None:
    assert CheckpointDirectory(tmp_path).read_all() == []
    assert CheckpointDirectory(tmp_path).latest() is None
    assert CheckpointDirectory(tmp_path / "not-yet-created").latest() is None


def test_an_invalid_checkpoint_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    directory = CheckpointDirectory(tmp_path / "checkpoints")
    with pytest.raises(ValueError, match="signature"):
        directory.write(dataclasses.replace(checkpoint(), signature=b"short"))
    assert not (tmp_path / "checkpoints").exists()
