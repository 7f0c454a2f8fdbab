"""The rules of sharing and a referral's life as tables: which moves a referral may make and
what a refused move says, which consent dates are in force today, and which ages may be
referred and enrolled. Mutation testing of referral/rules.py runs these (`make assurance`)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from referral import rules
from referral.rules import (
    TERMINAL,
    TRANSITIONS,
    BasisKind,
    Category,
    Consent,
    Decision,
    Guardian,
    LawfulBasis,
    NotLawful,
    Placement,
    PlacementBasis,
    Status,
    age_fits,
    may_be_referred,
    sharing_basis,
    transition_refusal,
)

# A referral's life, written out by hand: each status and the statuses it may become.
LIFECYCLE: dict[Status, set[Status]] = {
    Status.DRAFT: {Status.SUBMITTED, Status.CANCELLED},
    Status.SUBMITTED: {Status.AWAITING_CONSENT, Status.SHARED, Status.CANCELLED},
    Status.AWAITING_CONSENT: {Status.SHARED, Status.CANCELLED},
    Status.SHARED: {Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN},
    Status.ACCEPTED: {Status.PLACED, Status.WITHDRAWN},
    Status.PLACED: {Status.PARTICIPATING, Status.WITHDRAWN},
    Status.PARTICIPATING: {Status.COMPLETED, Status.WITHDRAWN},
    Status.COMPLETED: set(),
    Status.DECLINED: set(),
    Status.WITHDRAWN: set(),
    Status.CANCELLED: set(),
}
ENDS = {Status.COMPLETED, Status.DECLINED, Status.WITHDRAWN, Status.CANCELLED}


def test_the_lifecycle_snapshot_is_the_one_the_rules_enforce() -> None:
    assert set(TERMINAL) == ENDS
    assert {s: set(TRANSITIONS.get(s, ())) for s in Status} == LIFECYCLE


EVERY_MOVE = [(current, target) for current in Status for target in Status]


@pytest.mark.parametrize(("current", "target"), EVERY_MOVE)
@pytest.mark.asvs("V2.3.1")
def test_a_referral_makes_only_the_moves_of_its_lifecycle_and_a_refusal_names_both_ends(
    current: Status, target: Status
) -> None:
    if current in ENDS:
        expected: str | None = f"The referral is {current.value}: it can no longer change."
    elif target in LIFECYCLE[current]:
        expected = None
    else:
        expected = f"A referral that is {current.value} cannot become {target.value}."
    assert transition_refusal(current, target) == expected


REFUSED_MOVES = {
    "a draft cannot skip to the partner": (
        Status.DRAFT,
        Status.SHARED,
        "A referral that is draft cannot become shared.",
    ),
    "a shared referral is withdrawn, no longer cancelled": (
        Status.SHARED,
        Status.CANCELLED,
        "A referral that is shared cannot become cancelled.",
    ),
    "a completed referral stays completed": (
        Status.COMPLETED,
        Status.PARTICIPATING,
        "The referral is completed: it can no longer change.",
    ),
    "a declined referral cannot be accepted after all": (
        Status.DECLINED,
        Status.ACCEPTED,
        "The referral is declined: it can no longer change.",
    ),
}


@pytest.mark.parametrize(
    ("current", "target", "refusal"), list(REFUSED_MOVES.values()), ids=list(REFUSED_MOVES)
)
def test_what_a_refused_move_says(current: Status, target: Status, refusal: str) -> None:
    assert transition_refusal(current, target) == refusal


def test_a_status_whose_moves_are_not_listed_may_make_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Deny by default: a status left out of the table (say, a new one) is refused, not a crash.
    monkeypatch.delitem(rules.TRANSITIONS, Status.PARTICIPATING)
    assert transition_refusal(Status.PARTICIPATING, Status.COMPLETED) == (
        "A referral that is participating cannot become completed."
    )


TODAY = date(2026, 11, 23)
TEN_YEAR_OLD = date(2016, 5, 1)
CUSTODY = [Guardian("mother", True), Guardian("father", True)]


def given(party: str, decided: date, until: date) -> Consent:
    return Consent(f"c-{party}", party, Decision.GIVEN, frozenset(Category), decided, until)


DAY = timedelta(days=1)
CONSENT_DATES = {
    "decided today, in force to next year": (TODAY, TODAY + 365 * DAY, None),
    "decided a month ago, last day today": (TODAY - 30 * DAY, TODAY, None),
    "decided and ending today": (TODAY, TODAY, None),
    "decided tomorrow": (
        TODAY + DAY,
        TODAY + 90 * DAY,
        "A required consent is dated after today.",
    ),
    "ended yesterday": (TODAY - 90 * DAY, TODAY - DAY, "A required consent has expired."),
    "ended long ago": (
        TODAY - 800 * DAY,
        TODAY - 400 * DAY,
        "A required consent has expired.",
    ),
}


@pytest.mark.parametrize(
    ("decided", "until", "refusal"), list(CONSENT_DATES.values()), ids=list(CONSENT_DATES)
)
def test_which_consent_dates_make_sharing_lawful_today(
    decided: date, until: date, refusal: str | None
) -> None:
    consents = [given("mother", decided, until), given("father", TODAY - DAY, TODAY + DAY)]
    found = sharing_basis(
        Placement(PlacementBasis.SOL), CUSTODY, consents, Category.NAME, TEN_YEAR_OLD, TODAY
    )
    if refusal is None:
        assert found == LawfulBasis(BasisKind.SOL_CONSENT, "c-father,c-mother")
    else:
        assert found == NotLawful(refusal)


AGES = {
    # born, group start, fits at that start, may be referred on the start day
    "seven on the start day": (date(2020, 2, 1), date(2027, 2, 1), True, True),
    "seven the day after the start": (date(2020, 2, 2), date(2027, 2, 1), False, True),
    "eighteen until the last day before turning nineteen": (
        date(2008, 2, 2),
        date(2027, 2, 1),
        True,
        True,
    ),
    "nineteen on the start day": (date(2008, 2, 1), date(2027, 2, 1), False, False),
    "six a year from the start day": (date(2021, 2, 2), date(2027, 2, 1), False, False),
    "seven exactly a year from the start day": (date(2021, 2, 1), date(2027, 2, 1), False, True),
}


@pytest.mark.parametrize(
    ("born", "start", "fits", "referable"), list(AGES.values()), ids=list(AGES)
)
def test_which_ages_may_be_referred_and_enrolled(
    born: date, start: date, fits: bool, referable: bool
) -> None:
    assert age_fits(born, start) is fits
    assert may_be_referred(born, start) is referable


ON = date(2027, 6, 15)


@pytest.mark.parametrize(
    ("born", "allowed"),
    [
        (date(2006, 6, 15), False),  # 21 today
        (date(2006, 6, 16), True),  # 20 until tomorrow
        (date(2027, 6, 15), True),  # born today
        (date(2027, 6, 16), False),  # not yet born
    ],
)
def test_programme_b_takes_youths_up_to_and_including_twenty(born: date, allowed: bool) -> None:
    assert rules.is_programme_b_age(born, ON) is allowed


@pytest.mark.parametrize(
    ("year", "allowed"),
    [(2005, False), (2006, True), (2027, True), (2028, False)],
)
def test_a_birth_year_alone_is_refused_only_when_the_youth_must_be_over_twenty(
    year: int, allowed: bool
) -> None:
    assert rules.could_be_programme_b_age(year, ON) is allowed


def _given(
    given_by: rules.ConsentGiver,
    authority: str = "migrationsverket",
    categories: frozenset[rules.YouthCategory] = frozenset({rules.YouthCategory.IDENTITY}),
    start: date = date(2027, 1, 1),
    end: date = date(2027, 12, 31),
    revoked: bool = False,
    consent_id: str = "c1",
) -> rules.YouthConsentFact:
    return rules.YouthConsentFact(consent_id, authority, categories, given_by, start, end, revoked)


YOUTH, GOD_MAN, GUARDIAN, SOCIAL = (
    rules.ConsentGiver.YOUTH,
    rules.ConsentGiver.GOD_MAN,
    rules.ConsentGiver.GUARDIAN,
    rules.ConsentGiver.SOCIAL_SERVICES,
)
HANDOVER_CASES = {
    "17, the god man's consent": (17, [_given(GOD_MAN)], "representative_consent"),
    "17, a guardian's consent": (17, [_given(GUARDIAN)], "representative_consent"),
    "17, social services acting": (17, [_given(SOCIAL)], "social_services"),
    "17, the youth alone": (17, [_given(YOUTH)], rules.MINOR_NEEDS_REPRESENTATIVE),
    "18, the youth alone": (18, [_given(YOUTH)], "youth_consent"),
    "18, the god man's consent": (18, [_given(GOD_MAN)], rules.ADULT_CONSENTS_ALONE),
    "18, social services acting": (18, [_given(SOCIAL)], rules.ADULT_CONSENTS_ALONE),
    "another authority": (18, [_given(YOUTH, "police")], rules.NO_CONSENT_FOR_AUTHORITY),
    "another category": (
        18,
        [_given(YOUTH, categories=frozenset({rules.YouthCategory.NEEDS}))],
        rules.NO_CONSENT_FOR_AUTHORITY,
    ),
    "revoked": (18, [_given(YOUTH, revoked=True)], rules.NO_CONSENT_FOR_AUTHORITY),
    "not yet begun": (
        18,
        [_given(YOUTH, start=ON + timedelta(days=1))],
        rules.NO_CONSENT_FOR_AUTHORITY,
    ),
    "begins today": (18, [_given(YOUTH, start=ON)], "youth_consent"),
    "ends today": (18, [_given(YOUTH, end=ON)], "youth_consent"),
    "ended yesterday": (
        18,
        [_given(YOUTH, end=ON - timedelta(days=1))],
        rules.NO_CONSENT_FOR_AUTHORITY,
    ),
    "no consent at all": (17, [], rules.NO_CONSENT_FOR_AUTHORITY),
}


@pytest.mark.parametrize("case", list(HANDOVER_CASES.values()), ids=list(HANDOVER_CASES))
def test_whether_a_category_may_be_handed_over_and_on_what_basis(
    case: tuple[int, list[rules.YouthConsentFact], str],
) -> None:
    age, consents, expected = case
    basis = rules.handover_basis(
        age, consents, "migrationsverket", rules.YouthCategory.IDENTITY, ON
    )
    if isinstance(basis, rules.LawfulBasis):
        assert (basis.kind.value, basis.reference) == (expected, "c1")
    else:
        assert basis.reason == expected


def test_of_two_fitting_consents_the_basis_names_the_same_one_every_time() -> None:
    consents = [_given(GOD_MAN, consent_id="b"), _given(GUARDIAN, consent_id="a")]
    basis = rules.handover_basis(16, consents, "migrationsverket", rules.YouthCategory.IDENTITY, ON)
    assert isinstance(basis, rules.LawfulBasis) and basis.reference == "a"
    reversed_basis = rules.handover_basis(
        16, consents[::-1], "migrationsverket", rules.YouthCategory.IDENTITY, ON
    )
    assert reversed_basis == basis


@pytest.mark.parametrize(
    ("age", "consents", "flagged"),
    [
        (18, [_given(GOD_MAN)], True),
        (17, [_given(GOD_MAN)], False),
        (18, [_given(GUARDIAN)], True),
        (18, [_given(YOUTH)], False),
        (18, [_given(SOCIAL)], False),
        (18, [_given(GOD_MAN, revoked=True)], False),
        (18, [_given(GOD_MAN, end=ON - timedelta(days=1))], False),
        (18, [_given(GOD_MAN, start=ON + timedelta(days=1))], False),
        (18, [_given(GOD_MAN, start=ON, end=ON)], True),
    ],
)
def test_a_youth_who_has_turned_eighteen_under_a_representatives_consent_is_flagged(
    age: int, consents: list[rules.YouthConsentFact], flagged: bool
) -> None:
    assert rules.needs_own_consent_now(age, consents, ON) is flagged


@pytest.mark.parametrize(
    ("year", "age"),
    [(2006, 20), (2005, 21), (2027, 0), (2028, -1)],
)
def test_a_birth_year_alone_gives_the_youngest_age_the_year_allows(year: int, age: int) -> None:
    assert rules.youngest_age(year, ON) == age
