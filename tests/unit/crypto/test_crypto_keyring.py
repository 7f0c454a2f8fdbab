"""LocalKeyring: file safety, wrapping, rotation and retirement of key-encryption keys."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from crypto import (
    DecryptionError,
    KekRef,
    KeyProvider,
    KeyringError,
    LocalKeyring,
    WrappedKey,
    new_dek,
)

AAD = b"dek:1234"


@pytest.fixture
def keyring_path(tmp_path: Path) -> Path:
    return tmp_path / "keyring.json"


@pytest.fixture
def keyring(keyring_path: Path) -> LocalKeyring:
    return LocalKeyring.create(keyring_path, kek_id="test-kek")


def _file(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text())
    assert isinstance(doc, dict)
    return doc


@pytest.mark.asvs("V13.3.2")
def test_a_new_keyring_file_is_readable_by_its_owner_only(
    keyring: LocalKeyring, keyring_path: Path
) -> None:
    assert stat.S_IMODE(keyring_path.stat().st_mode) == 0o600


def test_a_keyring_is_a_key_provider(keyring: LocalKeyring) -> None:
    assert isinstance(keyring, KeyProvider)


def test_creating_a_keyring_over_an_existing_file_is_refused(keyring_path: Path) -> None:
    keyring_path.write_text("do not clobber")
    with pytest.raises(KeyringError, match="already exists"):
        LocalKeyring.create(keyring_path)
    assert keyring_path.read_text() == "do not clobber"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602])
@pytest.mark.asvs("V13.3.2")
def test_a_keyring_file_open_to_group_or_others_is_refused(
    keyring: LocalKeyring, keyring_path: Path, mode: int
) -> None:
    os.chmod(keyring_path, mode)
    with pytest.raises(KeyringError, match="chmod 600"):
        LocalKeyring(keyring_path)


def test_a_running_keyring_stops_working_when_its_file_becomes_readable_by_others(
    keyring: LocalKeyring, keyring_path: Path
) -> None:
    os.chmod(keyring_path, 0o644)
    with pytest.raises(KeyringError):
        keyring.wrap(new_dek(), AAD)


def test_a_missing_keyring_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="does not exist"):
        LocalKeyring(tmp_path / "nope.json")


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not json",
        "[]",
        '{"format": 2}',
        '{"format": 1, "kek_id": "k", "versions": []}',
        '{"format": 1, "kek_id": "k", "versions": [{"version": 1, "created_at": "x",'
        ' "retired": false, "material": "c2hvcnQ="}]}',
        '{"format": 1, "kek_id": "k", "versions": [{"version": 1, "created_at": "x",'
        ' "retired": true}]}',
    ],
    ids=["empty", "text", "list", "format", "no-versions", "short-key", "all-retired"],
)
def test_a_malformed_keyring_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, content.encode())
    os.close(fd)
    with pytest.raises(KeyringError, match="malformed"):
        LocalKeyring(path)


def test_the_file_holds_base64_material_and_no_other_secrets(
    keyring: LocalKeyring, keyring_path: Path
) -> None:
    doc = _file(keyring_path)
    assert doc["kek_id"] == "test-kek"
    assert doc["format"] == 1
    (entry,) = doc["versions"]
    assert set(entry) == {"version", "created_at", "retired", "material"}
    assert entry["retired"] is False


def test_no_temporary_files_are_left_behind(keyring: LocalKeyring, keyring_path: Path) -> None:
    keyring.add_version()
    names = {p.name for p in keyring_path.parent.iterdir()}
    assert names <= {"keyring.json", "keyring.json.lock"}


def test_a_wrapped_dek_unwraps_to_the_same_dek(keyring: LocalKeyring) -> None:
    dek = new_dek()
    wrapped = keyring.wrap(dek, AAD)
    assert (wrapped.kek_id, wrapped.kek_version) == ("test-kek", 1)
    assert dek not in wrapped.blob
    assert keyring.unwrap(wrapped, AAD) == dek


def test_a_wrapped_dek_does_not_show_its_blob_in_repr(keyring: LocalKeyring) -> None:
    wrapped = keyring.wrap(new_dek(), AAD)
    assert wrapped.blob.hex() not in repr(wrapped)
    assert repr(wrapped.blob) not in repr(wrapped)


def test_wrapping_twice_gives_different_blobs(keyring: LocalKeyring) -> None:
    dek = new_dek()
    assert keyring.wrap(dek, AAD).blob != keyring.wrap(dek, AAD).blob


def test_unwrapping_with_other_associated_data_fails(keyring: LocalKeyring) -> None:
    wrapped = keyring.wrap(new_dek(), AAD)
    with pytest.raises(DecryptionError):
        keyring.unwrap(wrapped, b"dek:5678")


def test_a_tampered_or_relabelled_wrapped_dek_fails_to_unwrap(keyring: LocalKeyring) -> None:
    wrapped = keyring.wrap(new_dek(), AAD)
    keyring.add_version()
    for position in range(len(wrapped.blob)):
        tampered = bytearray(wrapped.blob)
        tampered[position] ^= 0x01
        with pytest.raises(DecryptionError):
            keyring.unwrap(WrappedKey("test-kek", 1, bytes(tampered)), AAD)
    for relabelled in (
        WrappedKey("test-kek", 2, wrapped.blob),
        WrappedKey("test-kek", 99, wrapped.blob),
        WrappedKey("other-kek", 1, wrapped.blob),
        WrappedKey("test-kek", 1, wrapped.blob[:-1]),
        WrappedKey("test-kek", 1, b""),
    ):
        with pytest.raises(DecryptionError):
            keyring.unwrap(relabelled, AAD)


def test_only_32_byte_deks_are_wrapped(keyring: LocalKeyring) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        keyring.wrap(b"short", AAD)


@pytest.mark.asvs("V11.2.2")
def test_add_version_makes_a_new_primary_while_old_versions_still_unwrap(
    keyring: LocalKeyring,
) -> None:
    dek = new_dek()
    old = keyring.wrap(dek, AAD)
    new_primary = keyring.add_version()
    assert new_primary == KekRef("test-kek", 2)
    assert keyring.primary() == new_primary
    assert keyring.wrap(new_dek(), AAD).kek_version == 2
    assert keyring.unwrap(old, AAD) == dek
    assert keyring.versions() == [KekRef("test-kek", 1), KekRef("test-kek", 2)]


def test_unwrap_with_a_retired_version_fails(keyring: LocalKeyring) -> None:
    wrapped = keyring.wrap(new_dek(), AAD)
    keyring.add_version()
    keyring.retire("test-kek", 1)
    with pytest.raises(DecryptionError):
        keyring.unwrap(wrapped, AAD)


def test_retiring_removes_the_material_from_the_file_but_keeps_the_listing(
    keyring: LocalKeyring, keyring_path: Path
) -> None:
    keyring.add_version()
    keyring.retire("test-kek", 1)
    versions = _file(keyring_path)["versions"]
    assert versions[0] == {
        "version": 1,
        "created_at": versions[0]["created_at"],
        "retired": True,
    }
    assert [(ref.version, ref.retired) for ref in keyring.versions()] == [(1, True), (2, False)]
    assert stat.S_IMODE(keyring_path.stat().st_mode) == 0o600


def test_a_retired_version_stays_gone_after_reloading(
    keyring: LocalKeyring, keyring_path: Path
) -> None:
    wrapped = keyring.wrap(new_dek(), AAD)
    keyring.add_version()
    keyring.retire("test-kek", 1)
    with pytest.raises(DecryptionError):
        LocalKeyring(keyring_path).unwrap(wrapped, AAD)


def test_retiring_the_primary_is_refused(keyring: LocalKeyring) -> None:
    with pytest.raises(KeyringError, match="primary"):
        keyring.retire("test-kek", 1)


def test_retiring_an_unknown_version_is_refused(keyring: LocalKeyring) -> None:
    with pytest.raises(KeyringError, match="no KEK"):
        keyring.retire("test-kek", 7)


def test_retiring_twice_is_harmless(keyring: LocalKeyring) -> None:
    keyring.add_version()
    keyring.retire("test-kek", 1)
    keyring.retire("test-kek", 1)
    assert keyring.primary() == KekRef("test-kek", 2)


def test_another_process_sees_rotation_and_retirement_without_restarting(
    keyring: LocalKeyring, keyring_path: Path
) -> None:
    worker = LocalKeyring(keyring_path)
    wrapped = worker.wrap(new_dek(), AAD)
    keyring.add_version()
    assert worker.primary() == KekRef("test-kek", 2)
    keyring.retire("test-kek", 1)
    with pytest.raises(DecryptionError):
        worker.unwrap(wrapped, AAD)


def test_a_stale_instance_does_not_lose_a_version_added_elsewhere(
    keyring: LocalKeyring, keyring_path: Path
) -> None:
    other = LocalKeyring(keyring_path)
    keyring.add_version()
    assert other.add_version() == KekRef("test-kek", 3)
    assert [ref.version for ref in keyring.versions()] == [1, 2, 3]


def test_a_default_kek_id_is_unique_per_keyring(tmp_path: Path) -> None:
    first = LocalKeyring.create(tmp_path / "a.json").primary().kek_id
    second = LocalKeyring.create(tmp_path / "b.json").primary().kek_id
    assert first != second


def test_keyring_errors_never_contain_key_material(
    keyring: LocalKeyring, keyring_path: Path
) -> None:
    material = _file(keyring_path)["versions"][0]["material"]
    os.chmod(keyring_path, 0o640)
    with pytest.raises(KeyringError) as caught:
        LocalKeyring(keyring_path)
    assert material not in str(caught.value)
