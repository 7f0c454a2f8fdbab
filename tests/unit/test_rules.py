"""The law of sharing, as pure rules: SoL needs every custodial guardian's consent (and the
child's own from 15) covering the category and in force today; LVU needs a documented
decision and the social worker's decision to share the category; withdrawal or expiry ends
it at once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
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
    a_year_after,
    age_fits,
    group_can_start,
    group_has_room,
    may_be_referred,
    sharing_basis,
)

TODAY = date(2026, 11, 23)
TEN_YEAR_OLD = date(2016, 5, 1)
SIXTEEN_YEAR_OLD = date(2010, 5, 1)
SOL = Placement(PlacementBasis.SOL)
JOINT_CUSTODY = [Guardian("mother", True), Guardian("father", True)]
ALL = frozenset(Category)


def consent(
    party: str,
    decision: Decision = Decision.GIVEN,
    categories=ALL,
    days: int = 90,
    decided_days_ago: int = 30,
) -> Consent:  # type: ignore[no-untyped-def]
    return Consent(
        f"c-{party}",
        party,
        decision,
        frozenset(categories),
        TODAY - timedelta(days=decided_days_ago),
        TODAY + timedelta(days=days),
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


@pytest.mark.asvs("V8.2.3")
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
    lvu = Placement(PlacementBasis.LVU, "Förvaltningsrätten mål 1234-26", "Förvaltningsrätten", ALL)
    assert basis([], placement=lvu) == LawfulBasis(BasisKind.LVU, "Förvaltningsrätten mål 1234-26")
    undocumented = Placement(PlacementBasis.LVU, lvu_categories=ALL)
    assert isinstance(basis([], placement=undocumented), NotLawful)


UNDOCUMENTED_LVU = "LVU placement without a documented decision and deciding body."


def test_an_lvu_decision_without_a_deciding_body_is_not_documented() -> None:
    no_body = Placement(PlacementBasis.LVU, "Beslut 17/2026", None, ALL)
    assert basis([], placement=no_body) == NotLawful(UNDOCUMENTED_LVU)
    empty_body = Placement(PlacementBasis.LVU, "Beslut 17/2026", "", ALL)
    assert basis([], placement=empty_body) == NotLawful(UNDOCUMENTED_LVU)


def test_a_deciding_body_without_an_lvu_decision_is_not_documented() -> None:
    no_decision = Placement(PlacementBasis.LVU, None, "Förvaltningsrätten", ALL)
    assert basis([], placement=no_decision) == NotLawful(UNDOCUMENTED_LVU)
    empty_decision = Placement(PlacementBasis.LVU, "", "Förvaltningsrätten", ALL)
    assert basis([], placement=empty_decision) == NotLawful(UNDOCUMENTED_LVU)


@pytest.mark.asvs("V8.2.3")
def test_under_lvu_the_partner_sees_only_the_categories_the_social_worker_decided() -> None:
    lvu = Placement(
        PlacementBasis.LVU, "Beslut 17/2026", "Socialnämnden", {Category.NAME, Category.AGE}
    )
    assert isinstance(basis([], Category.NAME, placement=lvu), LawfulBasis)
    assert isinstance(basis([], Category.AGE, placement=lvu), LawfulBasis)
    assert basis([], Category.CONTACT, placement=lvu) == NotLawful(
        "Under LVU, the social worker has not decided to share this category."
    )
    nothing_decided = Placement(PlacementBasis.LVU, "Beslut 17/2026", "Socialnämnden")
    assert isinstance(basis([], Category.NAME, placement=nothing_decided), NotLawful)


def test_a_consent_counts_from_its_decision_day_and_not_before() -> None:
    decided_today = [consent("mother", decided_days_ago=0), consent("father")]
    assert isinstance(basis(decided_today), LawfulBasis)
    decided_tomorrow = [consent("mother", decided_days_ago=-1), consent("father")]
    assert basis(decided_tomorrow) == NotLawful("A required consent is dated after today.")
    sixty_days_ahead = [consent("mother", decided_days_ago=-60), consent("father")]
    assert basis(sixty_days_ahead) == NotLawful("A required consent is dated after today.")


def test_a_consent_counts_on_its_last_day_and_not_the_day_after() -> None:
    last_day_today = [consent("mother", days=0), consent("father")]
    assert isinstance(basis(last_day_today), LawfulBasis)
    ended_yesterday = [consent("mother", days=-1, decided_days_ago=60), consent("father")]
    assert basis(ended_yesterday) == NotLawful("A required consent has expired.")


def test_a_child_who_turns_fifteen_today_must_consent_today() -> None:
    fifteen_today = date(TODAY.year - 15, TODAY.month, TODAY.day)
    guardians_only = [consent("mother"), consent("father")]
    assert basis(guardians_only, born=fifteen_today) == NotLawful("A required consent is missing.")
    fifteen_tomorrow = fifteen_today + timedelta(days=1)
    assert isinstance(basis(guardians_only, born=fifteen_tomorrow), LawfulBasis)


def test_every_way_of_not_being_lawful_gives_its_own_reason() -> None:
    cases = {
        "No guardian with custody is recorded.": basis(
            [consent("mother")], guardians=[Guardian("mother", False)]
        ),
        "A required consent is missing.": basis([consent("mother")]),
        "A required consent is refused.": basis(
            [consent("mother"), consent("father", Decision.REFUSED)]
        ),
        "A required consent is withdrawn.": basis(
            [consent("mother"), consent("father", Decision.WITHDRAWN)]
        ),
        "A required consent has expired.": basis([consent("mother"), consent("father", days=-1)]),
        "A required consent is dated after today.": basis(
            [consent("mother"), consent("father", decided_days_ago=-1)]
        ),
        "A required consent does not cover this category.": basis(
            [consent("mother"), consent("father", categories={Category.AGE})]
        ),
        UNDOCUMENTED_LVU: basis([], placement=Placement(PlacementBasis.LVU)),
        "Under LVU, the social worker has not decided to share this category.": basis(
            [], placement=Placement(PlacementBasis.LVU, "Beslut 1", "Socialnämnden")
        ),
    }
    for reason, found in cases.items():
        assert found == NotLawful(reason)
        assert reason in NOT_LAWFUL_REASONS


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


@st.composite
def party_consents(draw: st.DrawFn, party: str) -> Consent | None:
    """A party's latest decision, or none: any decision, categories, and a decision day and
    end day anywhere around today."""
    if draw(st.booleans()) and draw(st.booleans()):
        return None
    decided = TODAY + timedelta(days=draw(st.integers(-60, 3)))
    return Consent(
        f"c-{party}",
        party,
        draw(decisions),
        draw(categories),
        decided,
        decided + timedelta(days=draw(st.integers(0, 90))),
    )


@given(
    custody=st.lists(st.booleans(), min_size=0, max_size=3),
    age=st.integers(7, 18),
    born_days_later=st.integers(0, 364),
    category=st.sampled_from(list(Category)),
    data=st.data(),
)
def test_sol_sharing_is_lawful_exactly_when_every_required_party_gave_a_consent_in_force(
    custody: list[bool], age: int, born_days_later: int, category: Category, data: st.DataObject
) -> None:
    guardians = [Guardian(f"g{i}", has) for i, has in enumerate(custody)]
    born = date(TODAY.year - age - 1, TODAY.month, TODAY.day) + timedelta(days=born_days_later)
    parties = [g.guardian_id for g in guardians] + [CHILD_PARTY]
    drawn = {party: data.draw(party_consents(party)) for party in parties}
    consents = [c for c in drawn.values() if c is not None]

    found = basis(consents, category, born=born, guardians=guardians)

    required = [g.guardian_id for g in guardians if g.has_custody]
    child_age = TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
    if child_age >= 15:
        required.append(CHILD_PARTY)

    def in_force(c: Consent | None) -> bool:
        return (
            c is not None
            and c.decision is Decision.GIVEN
            and c.decided_on <= TODAY <= c.valid_until
            and category in c.categories
        )

    expected = bool(custody) and any(custody) and all(in_force(drawn[p]) for p in required)
    # Every refusal is a fixed sentence the page can show in Swedish.
    assert isinstance(found, LawfulBasis) or found.reason in NOT_LAWFUL_REASONS
    assert isinstance(found, LawfulBasis) == expected
    if isinstance(found, LawfulBasis):  # the share names exactly the consents it rests on
        assert found.reference == ",".join(sorted(f"c-{p}" for p in required))


@given(
    consents=st.lists(
        st.builds(consent, st.sampled_from(["mother", "father", CHILD_PARTY]), decisions)
    ),
    shared=categories,
    category=st.sampled_from(list(Category)),
)
def test_under_lvu_consents_never_matter_only_the_social_workers_decision(
    consents: list[Consent], shared: frozenset[Category], category: Category
) -> None:
    lvu = Placement(PlacementBasis.LVU, "beslut 1", "Farsta socialnämnd", shared)
    assert isinstance(basis(consents, category, placement=lvu), LawfulBasis) == (category in shared)


def test_a_child_may_be_referred_who_can_be_seven_to_eighteen_within_a_year() -> None:
    assert may_be_referred(date(TODAY.year - 6, TODAY.month, TODAY.day), TODAY)  # 7 in a year
    six_next_year = date(TODAY.year - 6, TODAY.month, TODAY.day) + timedelta(days=1)
    assert not may_be_referred(six_next_year, TODAY)
    assert may_be_referred(date(TODAY.year - 18, TODAY.month, TODAY.day), TODAY)  # 18 today
    nineteen = date(TODAY.year - 19, TODAY.month, TODAY.day)
    assert not may_be_referred(nineteen, TODAY)
    assert not may_be_referred(date(TODAY.year - 2, 1, 1), TODAY)


def test_a_year_after_a_leap_day_is_the_last_day_of_february() -> None:
    assert a_year_after(date(2028, 2, 29)) == date(2029, 2, 28)
    assert a_year_after(date(2026, 12, 1)) == date(2027, 12, 1)
