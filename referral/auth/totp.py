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
# A code is taken only in its own 30-second step, none from the step before or after: ASVS 5.0
# V6.5.5 gives a TOTP a lifetime of 30 seconds at most, and a window for clock drift would make
# it 60 or 90. Authenticator apps take their time from the phone's network clock; a code typed
# as it changes is refused, and the next one is taken.
STEP_SECONDS = 30


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
    """The current time step if `code` is its code and the step is newer than `last_step`,
    else None.

    Remembering the last accepted step is what refuses a replayed code, even inside its
    30 seconds."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    step = int((time.time() if now is None else now) // STEP_SECONDS)
    if step <= last_step:
        return None
    expected = pyotp.TOTP(seed, interval=STEP_SECONDS).at(step * STEP_SECONDS)
    return step if pyotp.utils.strings_equal(expected, code) else None


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
