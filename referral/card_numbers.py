"""Programme C's card numbers: the pseudonym a person keeps on a printed card.

A card number is eight digits: seven random ones, never starting with 0 (a spreadsheet would
drop it), and a Damm check digit, which catches every single mistyped digit and every swap of
two neighbouring digits. Digits only, so it can be read out and typed on a tablet's number
pad; shown in two groups of four. Pure functions: no clock, no database, no Flask.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Protocol

from stdnum import damm

LENGTH = 8
_BODY_LENGTH = LENGTH - 1
_SMALLEST_BODY = 10 ** (_BODY_LENGTH - 1)
_BODY_CHOICES = 9 * _SMALLEST_BODY
_DIGITS = frozenset("0123456789")
_SEPARATORS = frozenset("-")


class RandomSource(Protocol):
    """What a card number is drawn from: the `secrets` module, or a stand-in in tests."""

    def randbelow(self, exclusive_upper_bound: int, /) -> int: ...


class CardNumberProblem(StrEnum):
    """Why a typed card number was refused, so the desk can say what to check."""

    NOT_DIGITS = "not_digits"
    WRONG_LENGTH = "wrong_length"
    WRONG_CHECK_DIGIT = "wrong_check_digit"
    # Only reachable with two or more errors (or a made-up number): none was ever issued.
    STARTS_WITH_ZERO = "starts_with_zero"


_EXPLANATIONS = {
    CardNumberProblem.NOT_DIGITS: "a card number has digits only (spaces and hyphens are fine)",
    CardNumberProblem.WRONG_LENGTH: f"a card number has {LENGTH} digits",
    CardNumberProblem.WRONG_CHECK_DIGIT: "the check digit does not match: a digit mistyped?",
    CardNumberProblem.STARTS_WITH_ZERO: "no card number starts with 0",
}


class CardNumberRefused(ValueError):
    """A typed card number that cannot be one. The message never repeats what was typed."""

    def __init__(self, code: CardNumberProblem) -> None:
        super().__init__(_EXPLANATIONS[code])
        self.code = code


def new_card_number(random_source: RandomSource = secrets) -> str:
    """A fresh card number (eight digits, no separators). Uniqueness is the caller's to
    check against the numbers already issued: there are nine million of them."""
    body = str(_SMALLEST_BODY + random_source.randbelow(_BODY_CHOICES))
    return body + damm.calc_check_digit(body)


def normalise(text: str) -> str:
    """The card number in `text` as eight digits, or CardNumberRefused naming the problem.
    Accepts the number as printed ("1234 5678"), with hyphens, or run together."""
    digits = "".join(c for c in text if not c.isspace() and c not in _SEPARATORS)
    # Checked against ASCII digits: str.isdigit() also accepts superscripts and other scripts.
    if not digits or not set(digits) <= _DIGITS:
        raise CardNumberRefused(CardNumberProblem.NOT_DIGITS)
    if len(digits) != LENGTH:
        raise CardNumberRefused(CardNumberProblem.WRONG_LENGTH)
    # Before the leading zero: a single typo, even one turning the first digit into 0, is
    # then always reported as a mistyped digit.
    if not damm.is_valid(digits):
        raise CardNumberRefused(CardNumberProblem.WRONG_CHECK_DIGIT)
    if digits[0] == "0":
        raise CardNumberRefused(CardNumberProblem.STARTS_WITH_ZERO)
    return digits


def is_valid(text: str) -> bool:
    """Whether `text` (in any form normalise accepts) could be an issued card number."""
    try:
        normalise(text)
    except CardNumberRefused:
        return False
    return True


def display(card: str) -> str:
    """The card number as printed and read out: two groups of four digits."""
    digits = normalise(card)
    return f"{digits[:4]} {digits[4:]}"


def qr_svg(card: str, *, module_mm: float = 1.0) -> str:
    """An inline SVG of a QR code holding the card number's eight digits and nothing else,
    sized in millimetres for printing (1 mm a module: 29 mm with the quiet zone)."""
    import segno  # here: only a printed card needs it, not every worker (issue 18)

    digits = normalise(card)
    # make_qr, not make: for eight digits make would choose a Micro QR code, which most
    # phone and tablet cameras cannot read. Numeric mode fits version 1 with room to spare,
    # so segno raises the error correction to the highest level, for a worn card.
    code = segno.make_qr(digits, error="m")
    svg: str = code.svg_inline(scale=module_mm, unit="mm", dark="#000", light="#fff")
    return svg
