"""The index of identifiers other than the personnummer (an LMA-card or a dossier number): the
same truncated HMAC, with the identifier's kind bound in and a key of its own."""

from __future__ import annotations

import pytest

from crypto import IDENTIFIER_INDEX_PURPOSE, PERSONNUMMER_INDEX_PURPOSE, derive_key
from crypto import identifier_index as index

MASTER = b"m" * 32
KEY = derive_key(MASTER, IDENTIFIER_INDEX_PURPOSE)


def test_the_same_digits_index_alike_and_within_sixteen_bits() -> None:
    assert index("dossier_number", "12345678", KEY) == index("dossier_number", "12345678", KEY)
    assert 0 <= index("dossier_number", "12345678", KEY) < 2**16


def test_equal_digits_of_two_kinds_or_under_two_keys_index_apart() -> None:
    values = {index(kind, str(n).zfill(8), KEY) for kind in ("a", "b") for n in range(50)}
    assert len(values) > 90  # 100 pairs: a few collide in 16 bits, most must not
    other_key = derive_key(MASTER, PERSONNUMMER_INDEX_PURPOSE)
    differing = sum(
        index("lma_number", str(n).zfill(9), KEY) != index("lma_number", str(n).zfill(9), other_key)
        for n in range(50)
    )
    assert differing > 45


@pytest.mark.parametrize(
    ("kind", "digits"),
    [("Dossier", "12345678"), ("dossier_number", "1234-5678"), ("x", "123"), ("x", "١٢٣٤٥")],
)
def test_anything_but_a_kind_and_ascii_digits_is_refused(kind: str, digits: str) -> None:
    with pytest.raises(ValueError):
        index(kind, digits, KEY)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError):
        index("x", "12345678", b"short")
