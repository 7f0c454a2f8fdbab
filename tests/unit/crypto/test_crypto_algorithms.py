"""Which cipher seals a personal field (OWASP ASVS 5.0 V11.3.1, V11.3.2): AES-256 in GCM mode,
so a standard AES-GCM implementation opens a sealed value given the key, the nonce and the
associated data the documented layout names."""

from __future__ import annotations

import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto import FieldContext, encrypt_field, new_dek

DEK_ID = uuid.UUID("0d5e8c1a-3b2f-4e6d-9a7c-5f4e3d2c1b0a")
CONTEXT = FieldContext(
    table="children",
    column="name",
    row_id="7e6d5c4b-3333-4a2b-8c1d-0e9f8a7b6c5d",
    person_id="1a2b3c4d-4444-4e5f-9a0b-1c2d3e4f5a6b",
)
PLAINTEXT = "Ett namn som bara nyckeln öppnar"

# The layout README documents: version | DEK id | 96-bit nonce | ciphertext and 128-bit tag.
VERSION, DEK_ID_BYTES, NONCE_BYTES, TAG_BYTES = 1, 16, 12, 16


def _parts(blob: bytes) -> tuple[bytes, bytes]:
    nonce_at = VERSION + DEK_ID_BYTES
    return blob[nonce_at : nonce_at + NONCE_BYTES], blob[nonce_at + NONCE_BYTES :]


@pytest.mark.asvs("V11.3.1", "V11.3.2")
def test_a_sealed_field_opens_with_a_standard_aes_256_gcm_and_carries_no_padding() -> None:
    dek = new_dek()
    assert len(dek) * 8 == 256
    blob = encrypt_field(PLAINTEXT, dek, DEK_ID, CONTEXT)
    nonce, sealed = _parts(blob)
    opened = AESGCM(dek).decrypt(nonce, sealed, CONTEXT.associated_data(DEK_ID))
    assert opened.decode() == PLAINTEXT
    # A stream mode with its tag: as long as the text plus the tag, never padded to blocks.
    assert len(sealed) == len(PLAINTEXT.encode()) + TAG_BYTES
