"""Programme C's card numbers: eight digits with a Damm check digit, typed at the desk and
scanned from a printed QR code."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st
from stdnum import damm

from referral import card_numbers
from referral.card_numbers import CardNumberProblem, CardNumberRefused

# Invented numbers with their Damm check digits: 1234567 → 1, 7654321 → 6.
CARD = "12345671"
OTHER_CARD = "76543216"
SVG = "{http://www.w3.org/2000/svg}"


class DrawnOnce:
    """A random source that answers `value` (folded into range) for every draw."""

    def __init__(self, value: int) -> None:
        self.value = value

    def randbelow(self, exclusive_upper_bound: int, /) -> int:
        return self.value % exclusive_upper_bound


random_values = st.integers(min_value=0, max_value=2**64)
valid_cards = random_values.map(lambda v: card_numbers.new_card_number(DrawnOnce(v)))


def _refusal(text: str) -> CardNumberProblem:
    with pytest.raises(CardNumberRefused) as refused:
        card_numbers.normalise(text)
    return refused.value.code


def test_every_number_issued_with_the_real_random_source_is_valid_and_never_starts_with_0() -> None:
    issued = [card_numbers.new_card_number() for _ in range(2_000)]
    assert all(card_numbers.is_valid(card) for card in issued)
    assert all(len(card) == 8 and card.isdigit() and card[0] != "0" for card in issued)
    # Nine million numbers: two thousand draws that mostly collide would mean no randomness.
    assert len(set(issued)) > 1_990


@given(random_values)
def test_every_generated_number_validates_whatever_the_draw(value: int) -> None:
    card = card_numbers.new_card_number(DrawnOnce(value))
    assert card_numbers.normalise(card) == card
    assert card[0] != "0"
    assert damm.is_valid(card)


def test_the_smallest_and_largest_draws_give_numbers_from_1000000_to_9999999() -> None:
    assert card_numbers.new_card_number(DrawnOnce(0))[:7] == "1000000"
    assert card_numbers.new_card_number(DrawnOnce(-1))[:7] == "9999999"


@given(valid_cards, st.integers(min_value=0, max_value=7), st.integers(min_value=1, max_value=9))
def test_every_single_mistyped_digit_is_refused_as_a_wrong_check_digit(
    card: str, position: int, shift: int
) -> None:
    wrong = str((int(card[position]) + shift) % 10)
    typo = card[:position] + wrong + card[position + 1 :]
    assert not card_numbers.is_valid(typo)
    assert _refusal(typo) is CardNumberProblem.WRONG_CHECK_DIGIT


@given(valid_cards, st.integers(min_value=0, max_value=6))
def test_every_swap_of_two_neighbouring_digits_is_refused(card: str, position: int) -> None:
    first, second = card[position], card[position + 1]
    swapped = card[:position] + second + first + card[position + 2 :]
    if first == second:
        assert card_numbers.is_valid(swapped)  # the same number: nothing was swapped
    else:
        assert _refusal(swapped) is CardNumberProblem.WRONG_CHECK_DIGIT


@pytest.mark.parametrize("typed", ["1234 5671", "1234-5671", "12345671", " 12 34 56 71 "])
def test_a_number_typed_as_printed_with_hyphens_or_run_together_is_accepted(typed: str) -> None:
    assert card_numbers.normalise(typed) == CARD
    assert card_numbers.is_valid(typed)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("1234 567", CardNumberProblem.WRONG_LENGTH),
        ("1234 56710", CardNumberProblem.WRONG_LENGTH),
        ("2345671", CardNumberProblem.WRONG_LENGTH),  # a spreadsheet ate a digit
        ("1234 567l", CardNumberProblem.NOT_DIGITS),
        ("1234 ５６７１", CardNumberProblem.NOT_DIGITS),  # full-width digits are not 0-9
        ("1234 5671²", CardNumberProblem.NOT_DIGITS),
        ("", CardNumberProblem.NOT_DIGITS),
        (" - ", CardNumberProblem.NOT_DIGITS),
        ("1234 5672", CardNumberProblem.WRONG_CHECK_DIGIT),
        ("0000 0000", CardNumberProblem.STARTS_WITH_ZERO),
    ],
)
def test_a_number_that_cannot_be_a_card_is_refused_saying_what_to_check(
    typed: str, problem: CardNumberProblem
) -> None:
    assert _refusal(typed) is problem
    assert not card_numbers.is_valid(typed)


def test_each_problem_has_its_own_code_and_message_and_the_message_repeats_nothing_typed() -> None:
    refusals = {}
    for typed in ["1234 567", "1234 567x", "1234 5672", "0000 0000"]:
        with pytest.raises(ValueError, match=r".") as refused:
            card_numbers.normalise(typed)
        assert isinstance(refused.value, CardNumberRefused)
        assert typed.replace(" ", "")[:4] not in str(refused.value)
        refusals[refused.value.code] = str(refused.value)
    assert set(refusals) == set(CardNumberProblem)
    assert len(set(refusals.values())) == len(CardNumberProblem)


def test_a_card_is_shown_in_two_groups_of_four_whatever_way_it_was_typed() -> None:
    assert card_numbers.display(CARD) == "1234 5671"
    assert card_numbers.display("1234-5671") == "1234 5671"
    with pytest.raises(CardNumberRefused):
        card_numbers.display("1234 5672")


def _parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output, not untrusted input)


def _width_mm(svg: str) -> float:
    root = _parsed(svg)
    assert root.get("width") == root.get("height")
    return float(root.get("width", "").removesuffix("mm"))


def _tag(element: ET.Element) -> str:
    # Inline SVG in HTML needs no namespace; segno leaves it out, a standalone file has it.
    return element.tag.removeprefix(SVG)


def _dark_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules segno's path draws: horizontal strokes along each row's middle."""
    (line,) = [p for p in _parsed(svg).iter() if _tag(p) == "path" and p.get("class") == "qrline"]
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for command, first, second in re.findall(
        r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", line.get("d", "")
    ):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            dark.update((int(x) + n, int(y)) for n in range(int(float(first))))
            x += float(first)
    return dark


def _modules_of(code: segno.QRCode) -> set[tuple[int, int]]:
    border = 4
    return {
        (col + border, row + border)
        for row, values in enumerate(code.matrix)
        for col, value in enumerate(values)
        if value
    }


def test_the_qr_code_is_a_printable_svg_holding_the_card_number_and_nothing_else() -> None:
    svg = card_numbers.qr_svg("1234 5671")
    root = _parsed(svg)
    assert _tag(root) == "svg"
    # 1 mm a module: 21 modules and a quiet zone of 4 on each side.
    assert _width_mm(svg) == 29
    # Shapes only: no text, title or description a person's details could hide in.
    assert {_tag(element) for element in root.iter()} <= {"svg", "g", "path"}
    assert "1234" not in svg
    # The modules drawn are exactly segno's regular QR code of the eight digits.
    assert _dark_modules(svg) == _modules_of(segno.make_qr(CARD))
    assert _dark_modules(svg) != _modules_of(segno.make_qr("1234 5671"))
    assert _dark_modules(svg) != _dark_modules(card_numbers.qr_svg(OTHER_CARD))


def test_the_qr_code_is_a_regular_one_phones_read_not_a_micro_qr_code() -> None:
    # segno's own choice for eight digits would be a Micro QR code.
    assert segno.make(CARD).is_micro
    drawn = _dark_modules(card_numbers.qr_svg(CARD))
    # A version 1 QR code is 21 modules wide inside its quiet zone of 4; Micro ones are 11-17.
    assert max(x for x, _ in drawn) == max(y for _, y in drawn) == 4 + 21 - 1


def test_the_qr_code_can_be_printed_larger_and_keeps_its_modules() -> None:
    larger = card_numbers.qr_svg(CARD, module_mm=1.5)
    assert _width_mm(larger) == 43.5
    assert _dark_modules(larger) == _dark_modules(card_numbers.qr_svg(CARD))


def test_no_qr_code_is_made_for_a_number_that_is_not_a_card() -> None:
    with pytest.raises(CardNumberRefused):
        card_numbers.qr_svg("1234 5672")
