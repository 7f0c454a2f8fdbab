"""The people of Programme C: a card issued at the first registration, and the look-up by it.

A person is pseudonymous by default: nothing but the card is needed, most have no
personnummer, and many distrust registration (domain.md §7). An alias, birth year, gender
and country of origin may be given, all sealed under the person's own key. Before a second
card is issued to what may be the same person (same alias, birth year and country), the desk
is shown the cards already issued to that likeness and must confirm that this is someone else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from audit.actions import Action
from audit.record import record
from referral import card_numbers
from referral.actors import Actor
from referral.db.encryption import session_cipher
from referral.db.nights import NightPerson, NightPlace, Shelter
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.i18n import _
from referral.policy import Permission, require
from referral.services.nights.capacity import GIVEN
from referral.text_rules import has_refused_character
from referral.text_rules import message as refused_message

MAX_ALIAS = 80
MAX_COUNTRY = 60
# "woman" and "man" decide the places reserved for each (seed §2.9); "other" takes an
# unreserved place, as does a person whose gender is not recorded.
GENDERS = ("woman", "man", "other")
_LIKENESS_KIND = "night_person"
_CARD_ATTEMPTS = 20


@dataclass(frozen=True)
class NewPerson:
    alias: str | None = None
    birth_year: int | None = None
    gender: str | None = None
    country_of_origin: str | None = None


@dataclass(frozen=True)
class PersonCard:
    """What the desk sees of a person: the card and what the person chose to tell, and on a
    look-up where they sleep tonight (the public ranking does not say who got a place)."""

    id: str
    card_number: str
    alias: str | None
    birth_year: int | None
    gender: str | None
    country_of_origin: str | None
    shelter_tonight: str | None = None


class LikelyCardHolder(Conflict):
    """A card may already have been issued to this person: the cards to check first."""

    def __init__(self, cards: list[str]) -> None:
        super().__init__(
            _(
                "A card may already have been issued to this person: %(cards)s. Look it up, "
                "or confirm that this is someone else.",
                cards=", ".join(card_numbers.display(c) for c in cards),
            ),
            field="alias",
        )
        self.cards = cards


def optional_text(value: str | None, field: str, most: int) -> str | None:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        return None
    if len(cleaned) > most:
        raise InvalidInput(_("At most %(n)s characters.", n=most), field=field)
    if has_refused_character(cleaned):
        raise InvalidInput(refused_message(), field=field)
    return cleaned


def _birth_year(value: int | None, today: date) -> int | None:
    if value is None:
        return None
    if not today.year - 110 <= value <= today.year:
        raise InvalidInput(
            _("Give a birth year between %(a)s and %(b)s.", a=today.year - 110, b=today.year),
            field="birth_year",
        )
    return value


def _gender(value: str | None) -> str | None:
    if not value:
        return None
    if value not in GENDERS:
        raise InvalidInput(
            _("Choose one of: %(values)s.", values=", ".join(GENDERS)), field="gender"
        )
    return value


def card_number_of(raw: str | None, field: str = "card_number") -> str:
    """The card number typed or scanned, or a 422 saying what to check (never repeating it)."""
    try:
        return card_numbers.normalise(raw or "")
    except card_numbers.CardNumberRefused as refused:
        messages = {
            card_numbers.CardNumberProblem.NOT_DIGITS: _(
                "A card number has digits only (spaces and hyphens are fine)."
            ),
            card_numbers.CardNumberProblem.WRONG_LENGTH: _(
                "A card number has %(n)s digits.", n=card_numbers.LENGTH
            ),
            card_numbers.CardNumberProblem.WRONG_CHECK_DIGIT: _(
                "The check digit does not match: is a digit mistyped?"
            ),
            card_numbers.CardNumberProblem.STARTS_WITH_ZERO: _("No card number starts with 0."),
        }
        raise InvalidInput(messages[refused.code], field=field) from None


def _likeness(uow: UnitOfWork, alias: str, birth_year: int, country: str) -> int:
    return session_cipher(uow.session).keyword_index(
        _LIKENESS_KIND, f"{alias}|{birth_year}|{country}"
    )


def likely_holders(
    uow: UnitOfWork, alias: str | None, birth_year: int | None, country: str | None
) -> list[NightPerson]:
    """The people with this alias, birth year and country: the index narrows, decryption
    confirms (the index is deliberately coarse). Nothing to compare without all three."""
    if not (alias and birth_year is not None and country):
        return []
    candidates = uow.session.scalars(
        select(NightPerson).where(
            NightPerson.likeness_index == _likeness(uow, alias, birth_year, country),
            NightPerson.purged_at.is_(None),
        )
    )

    def folded(text: str | None) -> str:
        return " ".join((text or "").casefold().split())

    return [
        person
        for person in candidates
        if folded(person.alias) == folded(alias)
        and person.birth_year == str(birth_year)
        and folded(person.country_of_origin) == folded(country)
    ]


def _view(person: NightPerson) -> PersonCard:
    assert person.card_number is not None  # a purged person is never viewed
    return PersonCard(
        id=person.id,
        card_number=person.card_number,
        alias=person.alias,
        birth_year=int(person.birth_year) if person.birth_year else None,
        gender=person.gender,
        country_of_origin=person.country_of_origin,
    )


def issue_card(
    uow: UnitOfWork, actor: Actor, new: NewPerson, today: date, *, someone_else: bool = False
) -> PersonCard:
    """Issue a card to a person at their first registration. Refused (409, naming the cards)
    when the same alias, birth year and country already hold a card, unless the desk has
    confirmed that this is someone else."""
    require(actor, Permission.NIGHT_REGISTER)
    alias = optional_text(new.alias, "alias", MAX_ALIAS)
    birth_year = _birth_year(new.birth_year, today)
    gender = _gender(new.gender)
    country = optional_text(new.country_of_origin, "country_of_origin", MAX_COUNTRY)
    if not someone_else and (likely := likely_holders(uow, alias, birth_year, country)):
        for person in likely:  # the desk is shown their card numbers: a read of each
            _record(uow, actor, Action.NIGHT_PERSON_READ, person)
        uow.commit()
        raise LikelyCardHolder(sorted(p.card_number for p in likely if p.card_number))
    taken = True
    number = ""
    for _attempt in range(_CARD_ATTEMPTS):  # nine million numbers: a clash is rare
        number = card_numbers.new_card_number()
        taken = (
            uow.session.scalar(select(NightPerson.id).where(NightPerson.card_number == number))
            is not None
        )
        if not taken:
            break
    if taken:
        raise Conflict(_("No free card number was found; try again."), field="card_number")
    person = NightPerson(
        card_number=number,
        alias=alias,
        birth_year=str(birth_year) if birth_year is not None else None,
        gender=gender,
        country_of_origin=country,
        likeness_index=(
            _likeness(uow, alias, birth_year, country)
            if alias and birth_year is not None and country
            else None
        ),
        issued_by=actor.user_id,
    )
    require(actor, Permission.NIGHT_REGISTER, person)
    uow.session.add(person)
    try:
        uow.session.flush()
    except IntegrityError:  # the same number issued at the same moment elsewhere
        uow.rollback()
        raise Conflict(
            _("No free card number was found; try again."), field="card_number"
        ) from None
    _record(uow, actor, Action.NIGHT_CARD_ISSUE, person)
    view = _view(person)
    uow.commit()
    return view


def person_by_card(
    uow: UnitOfWork, actor: Actor, raw: str | None, *, lock: bool = False
) -> NightPerson:
    """The person holding this card, or 404 naming the card field (a purged card is gone)."""
    number = card_number_of(raw)
    query = select(NightPerson).where(
        NightPerson.card_number == number, NightPerson.purged_at.is_(None)
    )
    if lock:
        query = query.with_for_update()
    person = uow.session.scalar(query)
    if person is None:
        raise NotFound(_("No card with this number."), field="card_number")
    require(actor, Permission.NIGHT_PERSON_READ, person)
    return person


def look_up(
    uow: UnitOfWork, actor: Actor, raw: str | None, night: date | None = None
) -> PersonCard:
    """The desk's look-up by card number (typed, or scanned from the card's QR code), with
    the shelter the person has a place in on `night` (tonight), if any."""
    require(actor, Permission.NIGHT_PERSON_READ)
    person = person_by_card(uow, actor, raw)
    _record(uow, actor, Action.NIGHT_PERSON_READ, person)
    uow.commit()  # on record before anything is shown
    shelter = (
        uow.session.scalar(
            select(Shelter.name)
            .join(NightPlace, NightPlace.shelter_id == Shelter.id)
            .where(
                NightPlace.person_id == person.id,
                NightPlace.night == night,
                NightPlace.status.in_(GIVEN),
            )
        )
        if night is not None
        else None
    )
    return replace(_view(person), shelter_tonight=shelter)


def _record(uow: UnitOfWork, actor: Actor, action: Action, person: NightPerson) -> None:
    record(
        uow.session,
        actor,
        action,
        object_type="night_person",
        object_id=person.id,
        subject=person.key_scope(),
    )
