"""TOTP second factor (RFC 6238 via pyotp). Seeds are stored encrypted; a code is used once."""

from __future__ import annotations

import os
import time

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ISSUER = "Stockholm IOP-remisser"
STEP_SECONDS = 30
# Accept the previous and next step too: phone clocks drift.
DRIFT_STEPS = 1


class TotpSeedUnreadable(Exception):
    """The stored seed does not decrypt with the configured MFA key."""


def _seed_key(mfa_key: str) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=b"referral/totp-seed/v1").derive(
        mfa_key.encode()
    )


def _aad(user_id: str) -> bytes:
    # Binds the seed to its account: a seed copied to another user's row does not decrypt.
    return b"totp-seed:" + user_id.encode()


def new_seed() -> str:
    return pyotp.random_base32()


def seal_seed(mfa_key: str, user_id: str, seed: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_seed_key(mfa_key)).encrypt(nonce, seed.encode(), _aad(user_id))


def open_seed(mfa_key: str, user_id: str, sealed: bytes) -> str:
    try:
        plain = AESGCM(_seed_key(mfa_key)).decrypt(sealed[:12], sealed[12:], _aad(user_id))
    except (InvalidTag, ValueError):
        raise TotpSeedUnreadable("the stored TOTP seed cannot be read with this MFA key") from None
    return plain.decode()


def accepted_step(seed: str, code: str, last_step: int, now: float | None = None) -> int | None:
    """The time step `code` belongs to if it is valid and newer than `last_step`, else None.

    Remembering the last accepted step is what refuses a replayed code, even inside its
    30-second window."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(seed, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if step <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def provisioning_uri(seed: str, username: str) -> str:
    return pyotp.TOTP(seed, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=ISSUER
    )


def qr_svg(uri: str) -> str:
    """An inline SVG of the QR code, so the seed never leaves the page (no image URL)."""
    # Imported here: segno (with its XML writers) is only for setting up an authenticator,
    # and every web worker imports this module for the login step (issue 18).
    import segno

    svg: str = segno.make(uri, error="m").svg_inline(scale=5, dark="#111", light="#fff")
    return svg
