"""The rules of sharing and participation as pure functions: no Flask, no database, no clock.

Domain.md §2-§3 and seed 004. The policy module and the consent service call these; tests
exercise them directly (including Hypothesis properties), so the law is checked in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

MIN_AGE = 7
MAX_AGE = 18
OWN_CONSENT_AGE = 15  # from this age a child placed under SoL gives or refuses consent too
MAX_YOUTH_AGE = 20  # Programme B: unaccompanied youths up to and including 20 (domain.md §4)
GROUP_MIN = 5
GROUP_MAX = 8


class PlacementBasis(StrEnum):
    SOL = "SoL"  # voluntary (socialtjänstlagen): guardian consent needed
    LVU = "LVU"  # care under compulsion: social services decides, no guardian consent needed


class Decision(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class Category(StrEnum):
    """The data categories a consent covers; the partner sees only these."""

    NAME = "name"
    AGE = "age"
    CONTACT = "contact_details"
    PARTICIPATION = "participation"


class BasisKind(StrEnum):
    SOL_CONSENT = "sol_consent"
    LVU = "lvu"
    CONCERN_REPORT = "concern_report"
    # Programme B: a hand-over to an authority on a consent (the youth's own from 18, else
    # a god man's or a guardian's), or through social services where the law lets it act.
    YOUTH_CONSENT = "youth_consent"
    REPRESENTATIVE_CONSENT = "representative_consent"
    SOCIAL_SERVICES = "social_services"


CHILD_PARTY = "child"


@dataclass(frozen=True)
class Consent:
    """One party's latest decision: a guardian's (by id) or the child's own (CHILD_PARTY).
    A consent given is in force from `decided_on` to `valid_until`, both days included."""

    consent_id: str
    party: str
    decision: Decision
    categories: frozenset[Category]
    decided_on: date
    valid_until: date


@dataclass(frozen=True)
class Guardian:
    guardian_id: str
    has_custody: bool


@dataclass(frozen=True)
class Placement:
    basis: PlacementBasis
    lvu_decision: str | None = None  # which decision (reference), required under LVU
    lvu_decided_by: str | None = None  # the deciding body, required under LVU
    # Under LVU no guardian consents, but secrecy still holds: the social worker decides, and
    # documents, which categories the partner may see (domain.md §3). None are shared otherwise.
    lvu_categories: frozenset[Category] = frozenset()


@dataclass(frozen=True)
class LawfulBasis:
    """Why a share is lawful, as recorded with every share and every partner read."""

    kind: BasisKind
    reference: str  # the consents' ids, or the LVU decision


@dataclass(frozen=True)
class NotLawful:
    reason: str  # one of NOT_LAWFUL_REASONS: a fixed English sentence, translated on display


def _mark(message: str) -> str:
    """Marks a message for the translation catalogue; the page translates it on display."""
    return message


NOT_LAWFUL_REASONS = (
    _mark("LVU placement without a documented decision and deciding body."),
    _mark("Under LVU, the social worker has not decided to share this category."),
    _mark("No guardian with custody is recorded."),
    _mark("A required consent is missing."),
    _mark("A required consent is refused."),
    _mark("A required consent is withdrawn."),
    _mark("A required consent has expired."),
    _mark("A required consent is dated after today."),
    _mark("A required consent does not cover this category."),
    _mark("No placement basis is recorded."),
    _mark("The child's record cannot be read."),
    NO_CONSENT_FOR_AUTHORITY := _mark("No consent covers this authority and category."),
    ADULT_CONSENTS_ALONE := _mark(
        "From 18 the youth consents alone: a representative's consent no longer counts."
    ),
    MINOR_NEEDS_REPRESENTATIVE := _mark(
        "Under 18 a god man, a guardian or social services decides, not the youth alone."
    ),
)


def age_on(birth_date: date, day: date) -> int:
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def age_fits(birth_date: date, group_start: date) -> bool:
    """Programme A takes children aged 7-18 at the group's start date."""
    return MIN_AGE <= age_on(birth_date, group_start) <= MAX_AGE


def is_programme_b_age(birth_date: date, day: date) -> bool:
    """Programme B meets unaccompanied youths up to and including the age of 20."""
    return 0 <= age_on(birth_date, day) <= MAX_YOUTH_AGE


def youngest_age(birth_year: int, day: date) -> int:
    """Only the year is known: the age on `day` of someone born as late in it as possible
    (on 31 December, or today). Negative for a year still to come."""
    return age_on(min(date(birth_year, 12, 31), day), day) if birth_year <= day.year else -1


def could_be_programme_b_age(birth_year: int, day: date) -> bool:
    """Only the year is known: could the youth be born and still 20 or younger on `day`?"""
    return 0 <= youngest_age(birth_year, day) <= MAX_YOUTH_AGE


def a_year_after(day: date) -> date:
    """The same date next year (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def may_be_referred(birth_date: date, today: date) -> bool:
    """A child may be referred who can be 7-18 when a group starts within the coming year:
    not yet past 18 today, and at least 7 a year from today. (The age at the actual group's
    start is checked again at enrolment.)"""
    return (
        age_on(birth_date, today) <= MAX_AGE and age_on(birth_date, a_year_after(today)) >= MIN_AGE
    )


def sharing_basis(
    placement: Placement,
    guardians: Iterable[Guardian],
    consents: Iterable[Consent],
    category: Category,
    child_birth_date: date,
    today: date,
) -> LawfulBasis | NotLawful:
    """May the partner see `category` of this child today, and on what ground?

    LVU: on the documented decision, for the categories the social worker decided to share.
    SoL: only when every guardian with custody (and the child from 15) has given consent
    covering the category and in force today (decided on or before it, ending on or after it).
    Every caller asks with the same `today`: a share, a notification and a partner's read."""
    if placement.basis is PlacementBasis.LVU:
        if not placement.lvu_decision or not placement.lvu_decided_by:
            return NotLawful("LVU placement without a documented decision and deciding body.")
        if category not in placement.lvu_categories:
            return NotLawful("Under LVU, the social worker has not decided to share this category.")
        return LawfulBasis(BasisKind.LVU, placement.lvu_decision)
    custodians = [g.guardian_id for g in guardians if g.has_custody]
    if not custodians:
        return NotLawful("No guardian with custody is recorded.")
    parties = list(custodians)
    if age_on(child_birth_date, today) >= OWN_CONSENT_AGE:
        parties.append(CHILD_PARTY)
    latest = {c.party: c for c in consents}
    used = []
    for party in parties:
        consent = latest.get(party)
        if consent is None:
            return NotLawful("A required consent is missing.")
        if consent.decision is not Decision.GIVEN:
            return NotLawful(
                "A required consent is refused."
                if consent.decision is Decision.REFUSED
                else "A required consent is withdrawn."
            )
        if consent.decided_on > today:
            return NotLawful("A required consent is dated after today.")
        if consent.valid_until < today:
            return NotLawful("A required consent has expired.")
        if category not in consent.categories:
            return NotLawful("A required consent does not cover this category.")
        used.append(consent.consent_id)
    return LawfulBasis(BasisKind.SOL_CONSENT, ",".join(sorted(used)))


def group_has_room(enrolled: int) -> bool:
    return enrolled < GROUP_MAX


def group_can_start(enrolled: int) -> bool:
    return GROUP_MIN <= enrolled <= GROUP_MAX


class Status(StrEnum):
    """A referral's life: draft -> submitted -> awaiting consent -> shared with partner ->
    accepted -> placed in group -> participating -> completed, with three exits."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    AWAITING_CONSENT = "awaiting_consent"
    SHARED = "shared"
    ACCEPTED = "accepted"
    PLACED = "placed"
    PARTICIPATING = "participating"
    COMPLETED = "completed"
    DECLINED = "declined"  # by the partner
    WITHDRAWN = "withdrawn"  # by the district
    CANCELLED = "cancelled"  # by the district, before it reached the partner


TERMINAL = frozenset({Status.COMPLETED, Status.DECLINED, Status.WITHDRAWN, Status.CANCELLED})
# Where the partner has it: only these can ever be visible to them (and then only if lawful).
WITH_PARTNER = frozenset({Status.SHARED, Status.ACCEPTED, Status.PLACED, Status.PARTICIPATING})

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.SUBMITTED, Status.CANCELLED}),
    Status.SUBMITTED: frozenset({Status.AWAITING_CONSENT, Status.SHARED, Status.CANCELLED}),
    Status.AWAITING_CONSENT: frozenset({Status.SHARED, Status.CANCELLED}),
    Status.SHARED: frozenset({Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN}),
    Status.ACCEPTED: frozenset({Status.PLACED, Status.WITHDRAWN}),
    Status.PLACED: frozenset({Status.PARTICIPATING, Status.WITHDRAWN}),
    Status.PARTICIPATING: frozenset({Status.COMPLETED, Status.WITHDRAWN}),
}


def transition_refusal(current: Status, target: Status) -> str | None:
    """Why `current` may not become `target`, or None when it may."""
    if current in TERMINAL:
        return f"The referral is {current.value}: it can no longer change."
    if target not in TRANSITIONS.get(current, frozenset()):
        return f"A referral that is {current.value} cannot become {target.value}."
    return None


# A child placed by another municipality takes a free place; that municipality pays this fee
# per child and group (domain.md §2), reported separately from the partnership's funding.
FEE_OTHER_MUNICIPALITY_SEK = 5000


# --- Programme B: hand-overs to authorities (domain.md §4) ---------------------------------

ADULT_AGE = 18


class YouthCategory(StrEnum):
    """What a link case may disclose to an authority, each only on a basis of its own."""

    IDENTITY = "identity"  # alias and identifiers
    CONTACT = "contact"  # how to reach the youth
    SITUATION = "situation"  # asylum process, absconded, …
    NEEDS = "needs"  # what the encounters met


class ConsentGiver(StrEnum):
    YOUTH = "youth"
    GOD_MAN = "god_man"  # the legal guardian of an unaccompanied minor
    GUARDIAN = "guardian"  # vårdnadshavare
    SOCIAL_SERVICES = "social_services"  # acting where the law requires (recorded which)


REPRESENTATIVES = frozenset({ConsentGiver.GOD_MAN, ConsentGiver.GUARDIAN})


@dataclass(frozen=True)
class YouthConsentFact:
    """One consent to disclose to one authority: who gave it, for which categories, when."""

    consent_id: str
    authority: str
    categories: frozenset[YouthCategory]
    given_by: ConsentGiver
    valid_from: date
    valid_until: date
    revoked: bool = False


def _giver_fits(given_by: ConsentGiver, age: int) -> bool:
    if age >= ADULT_AGE:
        return given_by is ConsentGiver.YOUTH
    return given_by in REPRESENTATIVES or given_by is ConsentGiver.SOCIAL_SERVICES


def handover_basis(
    age: int,
    consents: Iterable[YouthConsentFact],
    authority: str,
    category: YouthCategory,
    day: date,
) -> LawfulBasis | NotLawful:
    """May `category` be handed over to `authority` on `day` for a youth of `age`? From 18
    only the youth's own consent counts; under 18 a god man's or a guardian's, or social
    services acting where the law requires. A revoked or lapsed consent counts for nothing."""
    live = [
        c
        for c in consents
        if c.authority == authority
        and category in c.categories
        and not c.revoked
        and c.valid_from <= day <= c.valid_until
    ]
    fitting = [c for c in live if _giver_fits(c.given_by, age)]
    if fitting:
        chosen = min(fitting, key=lambda c: c.consent_id)
        kind = {
            ConsentGiver.YOUTH: BasisKind.YOUTH_CONSENT,
            ConsentGiver.SOCIAL_SERVICES: BasisKind.SOCIAL_SERVICES,
        }.get(chosen.given_by, BasisKind.REPRESENTATIVE_CONSENT)
        return LawfulBasis(kind, chosen.consent_id)
    if not live:
        return NotLawful(NO_CONSENT_FOR_AUTHORITY)
    if age >= ADULT_AGE:
        return NotLawful(ADULT_CONSENTS_ALONE)
    return NotLawful(MINOR_NEEDS_REPRESENTATIVE)


def needs_own_consent_now(age: int, consents: Iterable[YouthConsentFact], day: date) -> bool:
    """A youth who has turned 18 while representatives' consents are still in force: the
    link worker must now ask the youth."""
    return age >= ADULT_AGE and any(
        c.given_by in REPRESENTATIVES and not c.revoked and c.valid_from <= day <= c.valid_until
        for c in consents
    )
