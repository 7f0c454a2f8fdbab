"""How staff passwords are kept and checked (OWASP ASVS 5.0 V11.4.2, V6.2.8): an argon2id hash
of current strength, and a password that matches only exactly as it was typed."""

from __future__ import annotations

import unicodedata

import pytest
from argon2 import Type, extract_parameters

from referral.auth import passwords
from referral.auth.passwords import hash_password, verify_password

PASSWORD = "Ända in i Kaknästornet 7 gånger"

# OWASP's floor for argon2id: 19 MiB of memory and two passes.
LEAST_MEMORY_KIB = 19 * 1024
LEAST_PASSES = 2


@pytest.mark.asvs("V11.4.2")
def test_a_password_is_kept_as_an_argon2id_hash_at_least_as_costly_as_owasp_asks() -> None:
    stored = hash_password(PASSWORD)
    parameters = extract_parameters(stored)
    assert parameters.type is Type.ID
    assert parameters.memory_cost >= LEAST_MEMORY_KIB
    assert parameters.time_cost >= LEAST_PASSES
    assert parameters.salt_len >= 16
    assert PASSWORD not in stored
    assert hash_password(PASSWORD) != stored, "a new salt every time"


LONG = "en lång lösenfras om Mälaren, isen och vårens första båt " * 3


@pytest.mark.asvs("V6.2.8")
@pytest.mark.parametrize(
    ("password", "typed"),
    [
        (PASSWORD, PASSWORD.lower()),
        (PASSWORD, PASSWORD.upper()),
        (PASSWORD, PASSWORD + " "),
        (PASSWORD, " " + PASSWORD),
        (PASSWORD, PASSWORD[:-1]),
        (LONG, LONG[:72]),  # where bcrypt would have stopped reading
        (PASSWORD, unicodedata.normalize("NFD", PASSWORD)),  # the letters composed otherwise
    ],
    ids=["lower case", "upper case", "trailing space", "leading space", "one short", "cut", "NFD"],
)
def test_a_password_matches_only_exactly_as_it_was_typed(password: str, typed: str) -> None:
    stored = hash_password(password)
    assert verify_password(stored, password)
    assert not verify_password(stored, typed)


# The sentence referral/auth/passwords.py's dummy hash was made from (public: nobody has it).
DUMMY_SENTENCE = "no user has this password, it only burns the same time"


def test_an_unknown_name_costs_the_same_hashing_as_a_wrong_password() -> None:
    # The dummy an unknown name is checked against is written out in the module: it must be
    # a well-formed hash at today's parameters, so that checking it runs the same argon2id a
    # real user's hash does (a malformed one is refused before any hashing, in microseconds).
    assert extract_parameters(passwords._DUMMY_HASH) == extract_parameters(hash_password("x"))
    assert not passwords.needs_rehash(passwords._DUMMY_HASH)
    assert passwords._hasher.verify(passwords._DUMMY_HASH, DUMMY_SENTENCE)
    assert not verify_password(None, DUMMY_SENTENCE), "an unknown name never signs in"
