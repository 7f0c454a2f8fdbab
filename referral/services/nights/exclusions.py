"""Exclusions from a shelter: a shelter's own staff exclude a person for a time, with a
reason and an expiry; the person may ask for a review; the staff or the coordinator lift it.
Every exclusion listed is in the access log under the person's key scope (issue 14)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from referral import card_numbers
from referral.actors import Actor
from referral.clock import STOCKHOLM
from referral.db.nights import Exclusion, NightPerson, Shelter
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.i18n import _
from referral.policy import Permission, can, organisation_scope, require
from referral.services.loading import get_for
from referral.services.nights.people import optional_text, person_by_card

MAX_REASON = 500
# An exclusion is for a time, never for good: at most a year, then it must be set anew.
LONGEST = timedelta(days=365)


@dataclass(frozen=True)
class ExclusionView:
    id: str
    shelter_id: str
    shelter_name: str
    card_number: str  # as printed on the card
    reason: str | None
    starts_on: date
    expires_on: date
    review_requested_at: datetime | None
    lifted_at: datetime | None
    active: bool  # not lifted, and in force on the day it was read


def _active(exclusion: Exclusion, today: date) -> bool:
    return exclusion.lifted_at is None and exclusion.starts_on <= today <= exclusion.expires_on


def _view(
    exclusion: Exclusion, shelter: Shelter, person: NightPerson, today: date
) -> ExclusionView:
    assert person.card_number is not None  # a purged person's exclusions are never shown
    return ExclusionView(
        id=exclusion.id,
        shelter_id=shelter.id,
        shelter_name=shelter.name,
        card_number=card_numbers.display(person.card_number),
        reason=exclusion.reason,
        starts_on=exclusion.starts_on,
        expires_on=exclusion.expires_on,
        review_requested_at=exclusion.review_requested_at,
        lifted_at=exclusion.lifted_at,
        active=_active(exclusion, today),
    )


def _record(uow: UnitOfWork, actor: Actor, action: Action, exclusion: Exclusion) -> None:
    record(
        uow.session,
        actor,
        action,
        object_type="night_exclusion",
        object_id=exclusion.id,
        subject=exclusion.key_scope(),
    )


def exclude(
    uow: UnitOfWork,
    actor: Actor,
    shelter_id: str,
    card_number_raw: str | None,
    reason: str | None,
    expires_on: date | None,
    today: date,
) -> ExclusionView:
    """Exclude the card's holder from the actor's own shelter from today until `expires_on`.
    One exclusion in force per person and shelter: a second is a conflict."""
    require(actor, Permission.NIGHT_EXCLUDE)
    # The shelter's own staff only (the coordinator lifts, but does not exclude).
    shelter = get_for(
        uow, actor, Permission.NIGHT_SHELTER_KEEP, Shelter, shelter_id, field="shelter_id"
    )
    # Locked: two exclusions of one person at once take turns, and a purge waits.
    person = person_by_card(uow, actor, card_number_raw, lock=True)
    cleaned = optional_text(reason, "reason", MAX_REASON)  # one paragraph: breaks become spaces
    if cleaned is None:
        raise InvalidInput(_("Say why the person is excluded."), field="reason")
    if expires_on is None:
        raise InvalidInput(_("This field is required."), field="expires_on")
    if not today < expires_on <= today + LONGEST:
        raise InvalidInput(
            _("An exclusion ends after today and at most %(n)s days ahead.", n=LONGEST.days),
            field="expires_on",
        )
    in_force = uow.session.scalar(
        select(Exclusion.id).where(
            Exclusion.shelter_id == shelter.id,
            Exclusion.person_id == person.id,
            Exclusion.lifted_at.is_(None),
            Exclusion.expires_on >= today,
        )
    )
    if in_force is not None:
        raise Conflict(
            _("This person is excluded from this shelter already; lift that exclusion first."),
            field="card_number",
        )
    exclusion = Exclusion(
        shelter_id=shelter.id,
        person_id=person.id,
        reason=cleaned,
        starts_on=today,
        expires_on=expires_on,
        set_by=actor.user_id,
    )
    uow.session.add(exclusion)
    uow.session.flush()
    _record(uow, actor, Action.NIGHT_EXCLUDE, exclusion)
    view = _view(exclusion, shelter, person, today)
    uow.commit()
    return view


def exclusions(
    uow: UnitOfWork, actor: Actor, today: date, include_past: bool = False
) -> list[ExclusionView]:
    """The exclusions in force (with `include_past`, also the lifted and expired ones): the
    coordinator's every shelter's, a night worker's own organisation's. Each is logged."""
    require(actor, Permission.NIGHT_EXCLUDE)
    query = (
        select(Exclusion, Shelter, NightPerson)
        .join(Shelter, Shelter.id == Exclusion.shelter_id)
        .join(NightPerson, NightPerson.id == Exclusion.person_id)
        .where(NightPerson.purged_at.is_(None))
        .order_by(Shelter.name, Exclusion.expires_on, Exclusion.id)
    )
    if not include_past:
        query = query.where(Exclusion.lifted_at.is_(None), Exclusion.expires_on >= today)
    if not can(actor, Permission.NIGHT_COORDINATE):
        scope = organisation_scope(actor)
        if scope is not None:
            query = query.where(Shelter.organisation_id == scope)
    rows = list(uow.session.execute(query))
    for exclusion, _shelter, _person in rows:
        _record(uow, actor, Action.NIGHT_EXCLUSION_READ, exclusion)
    views = [_view(exclusion, shelter, person, today) for exclusion, shelter, person in rows]
    uow.commit()  # on record before anything is shown
    return views


def _loaded(
    uow: UnitOfWork, actor: Actor, exclusion_id: str
) -> tuple[Exclusion, Shelter, NightPerson]:
    exclusion = get_for(
        uow,
        actor,
        Permission.NIGHT_EXCLUDE,
        Exclusion,
        exclusion_id,
        field="exclusion_id",
        lock=True,
    )
    shelter = uow.session.get(Shelter, exclusion.shelter_id)
    person = uow.session.get(NightPerson, exclusion.person_id)
    if shelter is None or person is None or person.purged_at is not None:
        raise NotFound(_("No such record."), field="exclusion_id")
    return exclusion, shelter, person


def _keeps(actor: Actor, shelter: Shelter) -> bool:
    """Does the actor keep this shelter's exclusions: the coordinator, or its own staff?"""
    return can(actor, Permission.NIGHT_COORDINATE) or can(
        actor, Permission.NIGHT_SHELTER_KEEP, shelter
    )


def request_review(
    uow: UnitOfWork, actor: Actor, exclusion_id: str, now: datetime
) -> ExclusionView:
    """Record that the person asked for the exclusion to be reviewed (their right), at any
    desk of the partnership: it need not be the shelter that excluded them."""
    require(actor, Permission.NIGHT_EXCLUDE)
    exclusion, shelter, person = _loaded(uow, actor, exclusion_id)
    if exclusion.lifted_at is not None:
        raise Conflict(_("This exclusion has been lifted."), field="exclusion_id")
    if exclusion.review_requested_at is not None:
        raise Conflict(_("A review has been asked for already."), field="exclusion_id")
    exclusion.review_requested_at = now
    uow.session.flush()
    _record(uow, actor, Action.NIGHT_EXCLUSION_REVIEW, exclusion)
    view = _view(exclusion, shelter, person, now.astimezone(STOCKHOLM).date())
    if not _keeps(actor, shelter):
        # Another partner's desk records the request, but the reason stays with the shelter
        # that wrote it and the coordinator (the lists show it to no one else either).
        view = replace(view, reason=None)
    uow.commit()
    return view


def lift(uow: UnitOfWork, actor: Actor, exclusion_id: str, now: datetime) -> ExclusionView:
    """Lift an exclusion before it expires: the shelter's own staff, or the coordinator."""
    require(actor, Permission.NIGHT_EXCLUDE)
    exclusion, shelter, person = _loaded(uow, actor, exclusion_id)
    if not _keeps(actor, shelter):
        try:
            require(actor, Permission.NIGHT_SHELTER_KEEP, shelter)
        except NotFound as hidden:
            hidden.field = "exclusion_id"  # another shelter's exclusion: as if there were none
            raise
    if exclusion.lifted_at is not None:
        raise Conflict(_("This exclusion has been lifted already."), field="exclusion_id")
    exclusion.lifted_by, exclusion.lifted_at = actor.user_id, now
    uow.session.flush()
    _record(uow, actor, Action.NIGHT_EXCLUSION_LIFT, exclusion)
    view = _view(exclusion, shelter, person, now.astimezone(STOCKHOLM).date())
    uow.commit()
    return view
