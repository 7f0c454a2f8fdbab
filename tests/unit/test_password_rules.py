"""A new staff password (OWASP ASVS 5.0 V6.2): long enough, allowed long, not common or leaked,
not built on the username or the service's own words; no rules of composition."""

from __future__ import annotations

import pytest

from referral.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem

USERNAME = "anna.handlaggare"


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",  # a passphrase of plain words
        "tre gröna äpplen under bron",  # Swedish letters, spaces
        "x" * 2 + "Fjällräv-Kanot-Moln",
        "p" * MAX_PASSWORD_LENGTH,  # ASVS 6.2.9: far more than 64 characters are allowed
        "𝔣𝔯𝔞𝔨𝔱𝔲𝔯 𝔰𝔨𝔯𝔦𝔣𝔱 𝔞𝔫𝔡𝔞",  # anything Unicode, taken as typed (6.2.8)
    ],
)
@pytest.mark.asvs("V6.2.5", "V6.2.9")
def test_a_long_uncommon_password_is_accepted_without_rules_of_composition(password: str) -> None:
    assert password_problem(password, USERNAME) is None


@pytest.mark.asvs("V6.2.1")
def test_a_password_shorter_than_the_minimum_is_refused_with_the_minimum_named() -> None:
    # ASVS 6.2.1
    problem = password_problem("a" * (MIN_PASSWORD_LENGTH - 1), USERNAME)
    assert problem is not None and str(MIN_PASSWORD_LENGTH) in problem
    assert password_problem("kort lösen", USERNAME) is not None


@pytest.mark.asvs("V6.2.8")
def test_a_password_past_the_bound_is_refused_rather_than_cut() -> None:
    problem = password_problem("p" * (MAX_PASSWORD_LENGTH + 1), USERNAME)
    assert problem is not None and str(MAX_PASSWORD_LENGTH) in problem


@pytest.mark.parametrize(
    "password", ["sunshine1234", "qwertyuiop123", "iloveyou12345", "correcthorsebatterystaple"]
)
@pytest.mark.asvs("V6.2.4", "V6.2.12")
def test_a_common_or_leaked_password_is_refused(password: str) -> None:
    # ASVS 6.2.4 and 6.2.12: checked offline against public lists of common and leaked ones.
    problem = password_problem(password, USERNAME)
    assert problem is not None and "lists" in problem


@pytest.mark.parametrize(
    "password",
    [
        "Stockholm2026!",  # the city and a year
        "Sommar 2026!!",  # the season-and-year pattern
        "Socialtjänsten1",  # the service's own word, accents or not
        "Anna.Handlaggare99",  # the username itself
        "mitt-anna.handlaggare-konto",  # the username inside it
        "1234567890123456",  # no letters at all
        "SommarStockholm2026!",  # two of the service's words together
    ],
)
@pytest.mark.asvs("V6.2.11")
def test_a_password_built_on_the_username_or_the_services_own_words_is_refused(
    password: str,
) -> None:
    # ASVS 6.2.11: context-specific words.
    problem = password_problem(password, USERNAME)
    assert problem is not None and "too easy to guess" in problem
