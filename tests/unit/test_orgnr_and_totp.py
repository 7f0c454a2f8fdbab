"""Organisation numbers (Luhn) and one-time codes (used once, bound to their account)."""

from __future__ import annotations

import pyotp
import pytest

from referral.auth import totp
from referral.errors import InvalidInput
from referral.orgnr import normalise_org_number


@pytest.mark.parametrize(
    "number",
    ["802490-6771", "8020028638", "802002-8711", "802003-1954", "802012-1581", "212000-0142"],
)
def test_the_partners_in_the_agreements_have_valid_numbers(number: str) -> None:
    assert normalise_org_number(number)[6] == "-"


@pytest.mark.parametrize("number", ["802490-6772", "80249067", "abcdef-ghij", "19900101-1234"])
def test_a_wrong_check_digit_or_shape_is_refused_naming_the_field(number: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_org_number(number)
    assert refused.value.field == "org_number"
    assert number not in refused.value.message


@pytest.mark.asvs("V6.5.1")
def test_a_code_is_accepted_once_and_then_never_again() -> None:
    seed = totp.new_seed()
    now = 1_800_000_000.0
    code = pyotp.TOTP(seed).at(now)
    step = totp.accepted_step(seed, code, last_step=0, now=now)
    assert step is not None
    assert totp.accepted_step(seed, code, last_step=step, now=now) is None


@pytest.mark.asvs("V6.5.5")
def test_a_code_is_accepted_only_during_the_30_seconds_it_belongs_to() -> None:
    seed = totp.new_seed()
    step_begins = 1_800_000_000.0  # a multiple of 30: a step's first moment
    code = pyotp.TOTP(seed).at(step_begins)
    assert totp.accepted_step(seed, code, 0, now=step_begins) is not None
    assert totp.accepted_step(seed, code, 0, now=step_begins + 29.9) is not None
    assert totp.accepted_step(seed, code, 0, now=step_begins + 30) is None  # too late
    assert totp.accepted_step(seed, code, 0, now=step_begins - 0.1) is None  # too early


def test_a_sealed_seed_opens_only_for_its_own_account_and_key() -> None:
    sealed = totp.seal_seed("k" * 48, "user-a", "SEEDSEEDSEEDSEED")
    assert totp.open_seed("k" * 48, "user-a", sealed) == "SEEDSEEDSEEDSEED"
    with pytest.raises(totp.TotpSeedUnreadable):
        totp.open_seed("k" * 48, "user-b", sealed)
    with pytest.raises(totp.TotpSeedUnreadable):
        totp.open_seed("x" * 48, "user-a", sealed)
