"""The district's register of children: the first personal data the service stores.

Personnummer and name are encrypted under the child's district key; look-up by personnummer
goes through the blind index and confirms each candidate by decrypting it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from audit.actions import Action
from audit.record import Entry, record, record_many
from crypto import InvalidPersonnummer, blind_index, constant_time_equal, normalise_personnummer
from referral import clock
from referral.actors import Actor
from referral.db.encryption import session_cipher
from referral.db.models import Organisation, User
from referral.db.people import Child
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput
from referral.i18n import _
from referral.policy import Permission, organisation_scope, require
from referral.roles import Role
from referral.services.loading import get_for

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class NewChild:
    personnummer: str
    name: str


def valid_personnummer(raw: str) -> str:
    try:
        return normalise_personnummer(raw)
    except InvalidPersonnummer:
        # The message never repeats what was typed: it may be a real person's number.
        raise InvalidInput(
            _("Not a valid personnummer or samordningsnummer (check the digits)."),
            field="personnummer",
        ) from None


OLDEST_AGE = 120  # years: a birth date further back is a typing error, not a person


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def plausible_personnummer(raw: str, today: date) -> str:
    """A valid number (as valid_personnummer) whose birth date is neither after `today` nor
    more than OLDEST_AGE years before it; the message names the rule, never the number."""
    personnummer = valid_personnummer(raw)
    try:  # a samordningsnummer has 60 added to the day
        born = date(int(personnummer[:4]), int(personnummer[4:6]), int(personnummer[6:8]) % 60)
    except ValueError:  # the library took it; the calendar does not
        raise InvalidInput(
            _("Not a valid personnummer or samordningsnummer (check the digits)."),
            field="personnummer",
        ) from None
    if born > today:
        raise InvalidInput(
            _("The birth date in the personnummer cannot be in the future."),
            field="personnummer",
        )
    if born < _years_before(today, OLDEST_AGE):
        raise InvalidInput(
            _(
                "The birth date in the personnummer is more than %(n)s years ago.",
                n=OLDEST_AGE,
            ),
            field="personnummer",
        )
    return personnummer


def _lock_district(uow: UnitOfWork, district_id: str) -> None:
    """Serialise registrations per district: the blind index has 16 bits, so no unique index
    can refuse a second record of one person; instead each registration holds the district's
    organisation row (SELECT ... FOR UPDATE on PostgreSQL) from its duplicate check to its
    commit. SQLite has one writer at a time, so there the write transaction does it."""
    uow.session.execute(
        select(Organisation.id).where(Organisation.id == district_id).with_for_update()
    )


def _records_of(uow: UnitOfWork, personnummer: str, district_id: str | None) -> list[Child]:
    """The records of this person (in one district, or in all for city-wide roles): the
    blind index narrows, decryption confirms each candidate in constant time."""
    db = uow.session
    index_key = session_cipher(db).index_key
    query = select(Child).where(Child.personnummer_index == blind_index(personnummer, index_key))
    if district_id is not None:
        query = query.where(Child.district_id == district_id)
    return [c for c in db.scalars(query) if constant_time_equal(c.personnummer, personnummer)]


def records_of_person(uow: UnitOfWork, personnummer: str) -> list[Child]:
    """Every district's records of this person, for routing what must reach the person's
    district whoever sends it (a concern report). The caller shows none of them to its
    actor; a record read for display goes through find_children_by_personnummer."""
    return _records_of(uow, personnummer, None)


@dataclass(frozen=True)
class RegisteredChild:
    """The new record, for the caller that made it: its id (the page to open next)."""

    id: str


def _registering_social_worker(uow: UnitOfWork, actor: Actor, district_id: str) -> str | None:
    """Who a newly registered child's responsible social worker is: the one registering it,
    when they are an active social worker of the district (a command or an import is no
    one's, until a social worker takes the child on)."""
    if actor.system or Role.SOCIAL_WORKER not in actor.roles:
        return None
    user = uow.session.get(User, actor.user_id)
    if user is None or not user.active or user.organisation_id != district_id:
        return None
    return user.id if Role.SOCIAL_WORKER in user.role_names else None


def register_child(
    uow: UnitOfWork, actor: Actor, new: NewChild, today: date | None = None
) -> RegisteredChild:
    """A social worker registers a child of their own district, once: a second record of
    the same personnummer in the district is a conflict naming the existing record. The
    social worker registering the child becomes responsible for it."""
    require(actor, Permission.CHILD_CREATE)
    personnummer = plausible_personnummer(new.personnummer, today or clock.today())
    name = new.name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(
            _("The name must be 1-%(n)s characters.", n=MAX_NAME_LENGTH), field="name"
        )
    assert actor.organisation_id is not None  # social workers belong to a district
    _lock_district(uow, actor.organisation_id)
    existing = _records_of(uow, personnummer, actor.organisation_id)
    if existing:
        raise Conflict(
            _(
                "This person is already registered in your district: record %(id)s.",
                id=existing[0].id,
            ),
            field="personnummer",
        )
    child = Child(
        district_id=actor.organisation_id,
        personnummer=personnummer,
        name=name,
        responsible_worker_id=_registering_social_worker(uow, actor, actor.organisation_id),
    )
    uow.session.add(child)
    uow.session.flush()
    record_child_access(uow, actor, Action.CHILD_CREATE, child)
    uow.commit()
    return RegisteredChild(child.id)


GENDERS = frozenset({"girl", "boy", "other"})
MAX_DETAIL = 200


@dataclass(frozen=True)
class ChildDetails:
    """What the district records beside identity: gender, the family home the child lives
    in, and for a child placed by another municipality, the municipality that pays."""

    gender: str | None = None
    family_home_name: str | None = None
    family_home_address: str | None = None
    family_home_phone: str | None = None
    paying_municipality: str | None = None
    child_views: str | None = None  # noted for every child (Article 12), whatever the age


MAX_VIEWS = 2000
MAX_MUNICIPALITY = 100  # the column's width: a municipality's name, never more


def _detail(value: str | None, field: str, longest: int = MAX_DETAIL) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > longest:
        raise InvalidInput(_("At most %(n)s characters.", n=longest), field=field)
    return cleaned or None


@dataclass(frozen=True)
class SavedDetails:
    """The child's details as saved, for the caller that saved them."""

    id: str
    gender: str | None
    family_home_name: str | None
    family_home_address: str | None
    family_home_phone: str | None
    paying_municipality: str | None
    child_views: str | None


@dataclass(frozen=True)
class ChildMatch:
    """A match of a look-up by personnummer: enough to open the record, not the number."""

    id: str
    name: str


def update_details(
    uow: UnitOfWork, actor: Actor, child_id: str, details: ChildDetails
) -> SavedDetails:
    require(actor, Permission.CHILD_UPDATE)
    child = get_for(uow, actor, Permission.CHILD_UPDATE, Child, child_id, field="child")
    saved = SavedDetails(
        id=child.id,
        gender=_detail(details.gender, "gender"),
        family_home_name=_detail(details.family_home_name, "family_home_name"),
        family_home_address=_detail(details.family_home_address, "family_home_address"),
        family_home_phone=_detail(details.family_home_phone, "family_home_phone"),
        paying_municipality=_detail(
            details.paying_municipality, "paying_municipality", MAX_MUNICIPALITY
        ),
        child_views=_detail(details.child_views, "child_views", MAX_VIEWS),
    )
    if saved.gender is not None and saved.gender not in GENDERS:
        raise InvalidInput(_("Gender is girl, boy or other."), field="gender")
    child.gender = saved.gender
    child.family_home_name = saved.family_home_name
    child.family_home_address = saved.family_home_address
    child.family_home_phone = saved.family_home_phone
    child.paying_municipality = saved.paying_municipality
    child.child_views = saved.child_views
    uow.session.flush()
    record_child_access(uow, actor, Action.CHILD_UPDATE, child)
    uow.commit()
    return saved  # what was saved, without reading the sealed fields back


def look_up_children(uow: UnitOfWork, actor: Actor, raw: str) -> list[ChildMatch]:
    """A social worker's look-up by personnummer: each match by id and name, each logged."""
    return [ChildMatch(c.id, c.name) for c in find_children_by_personnummer(uow, actor, raw)]


def find_children_by_personnummer(uow: UnitOfWork, actor: Actor, raw: str) -> list[Child]:
    """Exact look-up within the actor's scope: the index narrows, decryption confirms."""
    require(actor, Permission.CHILD_SEARCH)
    personnummer = valid_personnummer(raw)
    found = _records_of(uow, personnummer, organisation_scope(actor))
    for child in found:  # one entry per person shown, so each person's access report has it
        record_child_access(uow, actor, Action.CHILD_SEARCH, child)
    uow.commit()
    return found


def record_child_access(
    uow: UnitOfWork, actor: Actor, action: Action, child: Child, legal_basis: str | None = None
) -> None:
    """One access-log entry about this child, under the child's pseudonymous id."""
    record(
        uow.session,
        actor,
        action,
        object_type="child",
        object_id=child.id,
        subject=child.key_scope(),
        legal_basis=legal_basis,
    )


def record_children_access(
    uow: UnitOfWork, actor: Actor, action: Action, children: Iterable[Child]
) -> None:
    """One access-log entry about each child, as `record_child_access` writes it, all in one
    write: a list of a hundred children is three statements, not three hundred."""
    entries = [
        Entry(action, object_type="child", object_id=child.id, subject=child.key_scope())
        for child in children
    ]
    record_many(uow.session, actor, entries)
