"""One term per thing in the Swedish interface (issue 16, finding 4): a referral is an
"anmälan" (to a support group), a concern report always an "orosanmälan", an interest
registration an "intresseanmälan", and the non-profit a "partner" — never "remiss", and
"idéburen organisation" only where the word partner is explained."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

CATALOGUE = Path(__file__).resolve().parents[2] / "referral/translations/sv/LC_MESSAGES/messages.po"
WHERE_PARTNER_IS_EXPLAINED = {"Non-profit partner (idéburen organisation)"}


def _pairs() -> list[tuple[str, str]]:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    pairs = []
    for message in catalogue:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, str) else message.id[0]
        swedish = message.string if isinstance(message.string, str) else message.string[0]
        pairs.append((english, swedish))
    return pairs


def test_a_referral_is_never_called_a_remiss() -> None:
    assert [english for english, swedish in _pairs() if re.search("remiss", swedish, re.I)] == []


def test_a_concern_report_is_always_an_orosanmalan() -> None:
    vague = [
        english
        for english, swedish in _pairs()
        if re.search(r"\bconcern reports?\b", english, re.I) and "orosanmäl" not in swedish.lower()
    ]
    assert vague == []


def test_the_non_profit_is_the_partner_everywhere_but_where_the_word_is_explained() -> None:
    other_word = [
        english
        for english, swedish in _pairs()
        if re.search(r"idébur(en|na) organisation", swedish, re.I)
        and english not in WHERE_PARTNER_IS_EXPLAINED
    ]
    assert other_word == []
