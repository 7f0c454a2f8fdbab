"""The law of sharing, as pure rules: SoL needs every custodial guardian's consent (and the
child's own from 15) covering the category; LVU needs a documented decision; withdrawal or
expiry ends it at once."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from referral.rules import (
    CHILD_PARTY,
    NOT_LAWFUL_REASONS,
    BasisKind,
    Category,
    Consent,
    Decision,
    Guardian,
    LawfulBasis,
    NotLawful,
    Placement,
    PlacementBasis,
    age_fits,
    group_can_start,
    group_has_room,
    sharing_basis,
)

TODAY = date(2026, 11, 23)
TEN_YEAR_OLD = date(2016, 5, 1)
SIXTEEN_YEAR_OLD = date(2010, 5, 1)
SOL = Placement(PlacementBasis.SOL)
JOINT_CUSTODY = [Guardian("mother", True), Guardian("father", True)]
ALL = frozenset(Category)


def consent(
    party: str, decision: Decision = Decision.GIVEN, categories=ALL, days: int = 90
) -> Consent:  # type: ignore[no-untyped-def]
    return Consent(
        f"c-{party}", party, decision, frozenset(categories), TODAY + timedelta(days=days)
    )


def basis(
    consents: list[Consent],
    category: Category = Category.NAME,
    born: date = TEN_YEAR_OLD,
    guardians: list[Guardian] = JOINT_CUSTODY,
    placement: Placement = SOL,
):  # type: ignore[no-untyped-def]
    return sharing_basis(placement, guardians, consents, category, born, TODAY)


def test_one_of_two_custodial_guardians_consenting_is_not_enough() -> None:
    assert isinstance(basis([consent("mother")]), NotLawful)


def test_both_custodial_guardians_consenting_makes_sharing_lawful_and_names_the_consents() -> None:
    result = basis([consent("mother"), consent("father")])
    assert result == LawfulBasis(BasisKind.SOL_CONSENT, "c-father,c-mother")


def test_a_guardian_without_custody_is_not_asked() -> None:
    guardians = [Guardian("mother", True), Guardian("father", False)]
    assert isinstance(basis([consent("mother")], guardians=guardians), LawfulBasis)


def test_a_withdrawn_or_refused_consent_ends_sharing() -> None:
    for decision in (Decision.WITHDRAWN, Decision.REFUSED):
        result = basis([consent("mother"), consent("father", decision)])
        assert isinstance(result, NotLawful) and decision.value in result.reason


def test_an_expired_consent_cuts_access_exactly_as_a_withdrawal() -> None:
    result = basis([consent("mother"), consent("father", days=-1)])
    assert isinstance(result, NotLawful) and "expired" in result.reason


def test_the_partner_sees_only_the_categories_consented_to() -> None:
    name_only = [consent("mother", categories={Category.NAME}), consent("father")]
    assert isinstance(basis(name_only, Category.NAME), LawfulBasis)
    assert isinstance(basis(name_only, Category.CONTACT), NotLawful)


def test_a_child_of_fifteen_under_sol_must_consent_too() -> None:
    guardians_only = [consent("mother"), consent("father")]
    assert isinstance(basis(guardians_only, born=SIXTEEN_YEAR_OLD), NotLawful)
    with_child = [*guardians_only, consent(CHILD_PARTY)]
    assert isinstance(basis(with_child, born=SIXTEEN_YEAR_OLD), LawfulBasis)


def test_lvu_needs_no_consent_but_a_documented_decision() -> None:
    lvu = Placement(PlacementBasis.LVU, "Förvaltningsrätten mål 1234-26", "Förvaltningsrätten")
    assert basis([], placement=lvu) == LawfulBasis(BasisKind.LVU, "Förvaltningsrätten mål 1234-26")
    undocumented = Placement(PlacementBasis.LVU)
    assert isinstance(basis([], placement=undocumented), NotLawful)


def test_children_aged_seven_to_eighteen_at_the_start_date_fit() -> None:
    start = date(2027, 2, 1)
    assert age_fits(date(2020, 2, 1), start)  # seven that day
    assert not age_fits(date(2020, 2, 2), start)  # six
    assert age_fits(date(2008, 2, 2), start)  # eighteen
    assert not age_fits(date(2008, 2, 1), start)  # nineteen that day


def test_a_group_holds_five_to_eight_children() -> None:
    assert group_has_room(7) and not group_has_room(8)
    assert not group_can_start(4) and group_can_start(5) and group_can_start(8)


decisions = st.sampled_from(list(Decision))
categories = st.frozensets(st.sampled_from(list(Category)))


@given(
    mother=decisions,
    father=decisions,
    mother_categories=categories,
    father_categories=categories,
    days=st.integers(-30, 30),
    category=st.sampled_from(list(Category)),
)
def test_sol_sharing_is_lawful_exactly_when_every_custodian_gave_a_current_covering_consent(
    mother: Decision,
    father: Decision,
    mother_categories: frozenset[Category],
    father_categories: frozenset[Category],
    days: int,
    category: Category,
) -> None:
    consents = [
        consent("mother", mother, mother_categories, days),
        consent("father", father, father_categories),
    ]
    found = basis(consents, category)
    lawful = isinstance(found, LawfulBasis)
    # Every refusal is a fixed sentence the page can show in Swedish.
    assert lawful or found.reason in NOT_LAWFUL_REASONS
    expected = (
        mother is Decision.GIVEN
        and father is Decision.GIVEN
        and days >= 0
        and category in mother_categories
        and category in father_categories
    )
    assert lawful == expected


@given(st.lists(st.builds(consent, st.sampled_from(["mother", "father", CHILD_PARTY]), decisions)))
def test_under_lvu_consents_never_matter(consents: list[Consent]) -> None:
    lvu = Placement(PlacementBasis.LVU, "beslut 1", "Farsta socialnämnd")
    assert isinstance(basis(consents, placement=lvu), LawfulBasis)
