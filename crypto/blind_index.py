"""Blind index for exact look-up by personnummer / samordningsnummer (after CipherSweet).

The stored value is HMAC-SHA256(index key, 12-digit number) truncated to 16 bits, not a
unique tag. Planning figures: the service is expected to index on the order of 100 000-
300 000 children and young people in Stockholm over its lifetime. 16 bits gives 65 536
buckets, so 100 000 people give ~1.5 per bucket on average and 300 000 give ~4.6.

Why that width: enough collisions that an index value alone does not single out a person
(two rows sharing a value may well be different people, and a value is not a fingerprint
that can be joined against other data sets), yet few enough that a look-up only has to
decrypt a handful of candidate rows and compare them (constant_time_equal). With a smaller
real population the index identifies more people uniquely (about e**(-N/65536) of them are
alone in their bucket: ~22% at N = 100 000), so lower `bits` if the population is smaller.
The width must stay fixed once data is written: changing it means recomputing every index.

Whoever holds the index key can still test guesses, since personnummer are few and
guessable; the index key is therefore a secret derived separately (derive_key) and must
never be shared with anything outside this service.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import Any

from personnummer import personnummer as _pnr

from .kdf import derive_key

__all__ = [
    "IDENTIFIER_INDEX_PURPOSE",
    "INDEX_BITS",
    "PERSONNUMMER_INDEX_PURPOSE",
    "InvalidPersonnummer",
    "blind_index",
    "constant_time_equal",
    "derive_key",
    "identifier_index",
    "keyword_index",
    "normalise_personnummer",
]

INDEX_BITS = 16
# HKDF `info` for the index key: derive_key(master, PERSONNUMMER_INDEX_PURPOSE).
PERSONNUMMER_INDEX_PURPOSE = "referral/blind-index/personnummer/v1"
# HKDF `info` for the key of the other identifiers' index (an LMA-card number, a dossier
# number): a key of its own, so that neither index can be tested with the other's key.
IDENTIFIER_INDEX_PURPOSE = "referral/blind-index/identifier/v1"
_MIN_INDEX_KEY_BYTES = 32

# ASCII digits only (str.isdigit and \d without re.ASCII accept e.g. Arabic-Indic digits,
# which would normalise to a different string and silently never match).
_ACCEPTED_FORM = re.compile(r"(?:[0-9]{2})?[0-9]{6}[-+]?[0-9]{4}")
_NORMALISED_FORM = re.compile(r"[0-9]{12}")
_IDENTIFIER_KIND = re.compile(r"[a-z_]{1,40}")
_IDENTIFIER_DIGITS = re.compile(r"[0-9]{4,20}")


class InvalidPersonnummer(ValueError):
    """Not a valid personnummer or samordningsnummer. The message never repeats the input."""

    _DEFAULT = "not a valid Swedish personnummer or samordningsnummer"

    def __init__(self, message: str = _DEFAULT) -> None:
        super().__init__(message)

    def __reduce__(self) -> tuple[type[InvalidPersonnummer], tuple[str]]:
        return (type(self), (str(self),))


def _parse(candidate: str) -> Any | None:
    # Returns None instead of raising: the library's exception text contains the number,
    # and raising ours inside an except block would keep it reachable via __context__.
    try:
        return _pnr.parse(candidate)
    except (_pnr.PersonnummerException, ValueError):
        return None


def normalise_personnummer(raw: str) -> str:
    """Return the 12-digit form YYYYMMDDNNNC of a personnummer or samordningsnummer.

    Accepts YYMMDD-NNNC, YYMMDD+NNNC (100 years or older), YYMMDDNNNC, YYYYMMDDNNNC and
    YYYYMMDD-NNNC. A samordningsnummer keeps its day + 60, so it never equals the
    personnummer of someone born the same day. 10-digit forms get their century from
    today's date, as the separator rules define; prefer 12-digit input where available.
    """
    candidate = raw.strip() if isinstance(raw, str) else ""
    parsed = _parse(candidate) if _ACCEPTED_FORM.fullmatch(candidate) else None
    if parsed is None:
        raise InvalidPersonnummer()
    normalised = str(parsed.format(long_format=True))
    if not _NORMALISED_FORM.fullmatch(normalised):  # defensive: depends on a third party
        raise InvalidPersonnummer()
    return normalised


def blind_index(normalised: str, index_key: bytes, bits: int = INDEX_BITS) -> int:
    """HMAC-SHA256 of a normalised number, truncated to `bits` bits: in [0, 2**bits)."""
    if not 1 <= bits <= 64:
        raise ValueError("bits must be between 1 and 64")
    if len(index_key) < _MIN_INDEX_KEY_BYTES:
        raise ValueError(f"the index key must be at least {_MIN_INDEX_KEY_BYTES} bytes")
    if not isinstance(normalised, str) or not _NORMALISED_FORM.fullmatch(normalised):
        # Indexing an un-normalised form would never match; fail loudly instead.
        raise InvalidPersonnummer("blind_index needs the output of normalise_personnummer")
    digest = hmac.new(index_key, normalised.encode("ascii"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - bits)


def identifier_index(kind: str, digits: str, index_key: bytes, bits: int = INDEX_BITS) -> int:
    """The same truncated HMAC for another identifier written as ASCII digits (its kind is
    bound in, so equal digits of two kinds index apart). The caller normalises first."""
    if not 1 <= bits <= 64:
        raise ValueError("bits must be between 1 and 64")
    if len(index_key) < _MIN_INDEX_KEY_BYTES:
        raise ValueError(f"the index key must be at least {_MIN_INDEX_KEY_BYTES} bytes")
    if not _IDENTIFIER_KIND.fullmatch(kind) or not _IDENTIFIER_DIGITS.fullmatch(digits):
        raise ValueError("identifier_index needs a kind and 4-20 ASCII digits")
    message = f"{kind}:{digits}".encode("ascii")
    digest = hmac.new(index_key, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - bits)


def keyword_index(kind: str, text: str, index_key: bytes, bits: int = INDEX_BITS) -> int:
    """The same truncated HMAC for a short free text compared for likeness, not identity
    (Programme C's "alias + birth year + country" before a second card is issued): case,
    width and spacing are folded first, so "Ana  POP" and "ana pop" index together. The
    message is prefixed apart from identifier_index's, so no text collides with a number."""
    if not 1 <= bits <= 64:
        raise ValueError("bits must be between 1 and 64")
    if len(index_key) < _MIN_INDEX_KEY_BYTES:
        raise ValueError(f"the index key must be at least {_MIN_INDEX_KEY_BYTES} bytes")
    if not _IDENTIFIER_KIND.fullmatch(kind):
        raise ValueError("keyword_index needs a kind")
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    message = f"keyword/{kind}:{folded}".encode()
    digest = hmac.new(index_key, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - bits)


def constant_time_equal(a: str, b: str) -> bool:
    """Compare two secrets (e.g. a decrypted candidate and the searched number) in constant time."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
