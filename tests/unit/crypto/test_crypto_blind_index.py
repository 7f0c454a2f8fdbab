"""Blind index: personnummer normalisation, the truncated HMAC, key derivation, comparison.

Every number here is invented: a date, a serial and a check digit computed by _luhn below.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import traceback

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    IDENTIFIER_INDEX_PURPOSE,
    INDEX_BITS,
    PERSONNUMMER_INDEX_PURPOSE,
    InvalidPersonnummer,
    blind_index,
    constant_time_equal,
    derive_key,
    identifier_index,
    keyword_index,
    normalise_personnummer,
)

MASTER = bytes(range(32))
INDEX_KEY = derive_key(MASTER, PERSONNUMMER_INDEX_PURPOSE)


def _luhn(digits: str) -> int:
    total = 0
    for i, ch in enumerate(digits):
        value = int(ch) * (2 - i % 2)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def invented(year: int, month: int, day: int, serial: int, *, coordination: bool = False) -> str:
    """An invented, checksum-valid 12-digit number (samordningsnummer: day + 60)."""
    day_part = day + 60 if coordination else day
    body = f"{year % 100:02d}{month:02d}{day_part:02d}{serial:03d}"
    return f"{year // 100:02d}{body}{_luhn(body)}"


def _forms(twelve: str) -> list[str]:
    ten = twelve[2:]
    return [twelve, ten, f"{ten[:6]}-{ten[6:]}", f"{twelve[:8]}-{twelve[8:]}", f"  {ten}\n"]


def _with_wrong_check_digit(twelve: str) -> str:
    return twelve[:-1] + str((int(twelve[-1]) + 1) % 10)


CHILD = invented(2015, 3, 12, 234)
SAMORDNING = invented(2016, 7, 9, 385, coordination=True)


def test_the_invented_numbers_really_are_valid() -> None:
    assert normalise_personnummer(CHILD) == CHILD
    assert normalise_personnummer(SAMORDNING) == SAMORDNING


@pytest.mark.parametrize("number", [CHILD, SAMORDNING], ids=["personnummer", "samordning"])
def test_ten_and_twelve_digit_forms_normalise_to_the_same_twelve_digits(number: str) -> None:
    assert {normalise_personnummer(form) for form in _forms(number)} == {number}


def test_a_samordningsnummer_keeps_its_day_plus_sixty() -> None:
    assert SAMORDNING[6:8] == "69"
    assert normalise_personnummer(SAMORDNING[2:]) == SAMORDNING


def test_a_samordningsnummer_differs_from_the_personnummer_of_the_same_birthday() -> None:
    born = invented(2016, 7, 9, 385)
    assert normalise_personnummer(born) != normalise_personnummer(SAMORDNING)


def test_a_plus_separator_means_a_hundred_years_or_more() -> None:
    centenarian = invented(1915, 3, 12, 234)
    ten = centenarian[2:]
    assert normalise_personnummer(f"{ten[:6]}+{ten[6:]}") == centenarian


@pytest.mark.parametrize(
    "raw",
    [
        _with_wrong_check_digit(CHILD),
        _with_wrong_check_digit(CHILD)[2:],
        _with_wrong_check_digit(SAMORDNING),
        invented(2015, 2, 30, 234),  # no 30 February
        invented(2015, 13, 1, 234),
        invented(2015, 3, 12, 0),  # serial 000 is never issued
        CHILD[:-1],
        CHILD + "0",
        f"{CHILD[2:8]} {CHILD[8:]}",
        "٢٠١٥٠٣١٢٢٣٤٥",  # non-ASCII digits
        "",
        "nonsense-input",
    ],
)
def test_an_invalid_number_is_rejected_without_echoing_it(raw: str) -> None:
    with pytest.raises(InvalidPersonnummer) as caught:
        normalise_personnummer(raw)
    assert isinstance(caught.value, ValueError)
    # What a log or error page would show: the messages of the error and of anything chained.
    rendered = "".join(traceback.format_exception_only(caught.value))
    if raw:
        assert raw not in rendered
        assert raw.strip()[2:] not in rendered
    assert caught.value.__context__ is None


def test_the_same_number_gives_the_same_index() -> None:
    assert blind_index(CHILD, INDEX_KEY) == blind_index(
        normalise_personnummer(CHILD[2:]), INDEX_KEY
    )


def test_different_keys_give_different_indexes() -> None:
    other_key = derive_key(os.urandom(32), PERSONNUMMER_INDEX_PURPOSE)
    numbers = [invented(2015, 3, day, 234) for day in range(1, 29)]
    mine = [blind_index(n, INDEX_KEY, bits=32) for n in numbers]
    theirs = [blind_index(n, other_key, bits=32) for n in numbers]
    assert mine != theirs


@pytest.mark.asvs("V11.4.1")
def test_the_index_is_the_top_bits_of_hmac_sha256_over_the_twelve_digits() -> None:
    # Pins the construction: changing it silently would orphan every stored index.
    digest = hmac.new(INDEX_KEY, CHILD.encode("ascii"), hashlib.sha256).digest()
    assert blind_index(CHILD, INDEX_KEY) == int.from_bytes(digest[:2], "big")
    assert blind_index(CHILD, INDEX_KEY, bits=32) == int.from_bytes(digest[:4], "big")


@pytest.mark.parametrize("bits", [1, 8, INDEX_BITS, 24, 32, 64])
def test_the_index_lies_in_the_range_of_its_bit_length(bits: int) -> None:
    for serial in range(1, 200):
        value = blind_index(invented(2014, 11, 5, serial), INDEX_KEY, bits=bits)
        assert 0 <= value < 2**bits


def test_the_default_width_is_sixteen_bits_and_collides_as_planned() -> None:
    assert INDEX_BITS == 16
    numbers = [
        invented(2010 + y, m, d, 100 + s)
        for y in range(2)
        for m in (1, 6)
        for d in range(1, 29)
        for s in range(0, 900, 3)
    ]
    buckets = {blind_index(n, INDEX_KEY) for n in numbers}
    # ~33 600 people into 65 536 buckets: many share a bucket, most buckets stay small.
    assert len(buckets) < len(numbers)


def test_unnormalised_input_to_the_index_is_refused() -> None:
    for raw in (CHILD[2:], f"{CHILD[:8]}-{CHILD[8:]}"):
        with pytest.raises(InvalidPersonnummer) as caught:
            blind_index(raw, INDEX_KEY)
        assert raw not in str(caught.value)


@pytest.mark.asvs("V11.2.3")
def test_a_short_index_key_or_silly_width_is_refused() -> None:
    with pytest.raises(ValueError):
        blind_index(CHILD, b"short")
    for bits in (0, 65):
        with pytest.raises(ValueError):
            blind_index(CHILD, INDEX_KEY, bits=bits)


def test_derived_keys_differ_by_purpose_and_are_stable() -> None:
    index_key = derive_key(MASTER, PERSONNUMMER_INDEX_PURPOSE)
    assert index_key == INDEX_KEY
    assert len(index_key) == 32
    assert derive_key(MASTER, "referral/field-encryption/v1") != index_key
    assert index_key != MASTER


@pytest.mark.asvs("V11.2.3")
def test_a_weak_master_key_or_missing_purpose_is_refused() -> None:
    with pytest.raises(ValueError):
        derive_key(b"too short", PERSONNUMMER_INDEX_PURPOSE)
    with pytest.raises(ValueError):
        derive_key(MASTER, "")


def test_constant_time_equal_compares_like_equality() -> None:
    assert constant_time_equal(CHILD, CHILD)
    assert not constant_time_equal(CHILD, SAMORDNING)
    assert not constant_time_equal(CHILD, CHILD[:-1])
    assert constant_time_equal("Ålänning", "Ålänning")
    assert not constant_time_equal("", "x")


@settings(database=None, deadline=None)
@given(
    born=st.dates(datetime.date(2000, 1, 1), datetime.date(2024, 12, 31)),
    serial=st.integers(1, 999),
    coordination=st.booleans(),
)
def test_every_written_form_of_a_number_gets_the_same_index(
    born: datetime.date, serial: int, coordination: bool
) -> None:
    number = invented(born.year, born.month, born.day, serial, coordination=coordination)
    indexes = {blind_index(normalise_personnummer(form), INDEX_KEY) for form in _forms(number)}
    assert indexes == {blind_index(number, INDEX_KEY)}


def test_a_likeness_index_folds_case_width_and_spacing_and_keeps_kinds_and_numbers_apart() -> None:
    key = derive_key(MASTER, IDENTIFIER_INDEX_PURPOSE)
    same = keyword_index("night_person", "Ana  POP|1988|Rumänien", key)
    assert same == keyword_index("night_person", "ana pop|1988|rumänien", key)
    assert same == keyword_index("night_person", "Ａｎａ pop|1988|RUMÄNIEN", key)  # full width
    assert same != keyword_index("night_person", "Ana Pop|1989|Rumänien", key)
    assert same != keyword_index("other_kind", "Ana Pop|1988|Rumänien", key)
    # Digits as text never index with the same digits as an identifier.
    assert keyword_index("lma_number", "12345678", key) != identifier_index(
        "lma_number", "12345678", key
    )
    with pytest.raises(ValueError):
        keyword_index("Not A Kind", "x", key)
