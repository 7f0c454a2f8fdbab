"""Organisations: districts, partners and the city itself."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.base import ByIds, in_ids
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.i18n import _
from referral.orgnr import normalise_org_number
from referral.policy import Permission, organisation_scope, require
from referral.roles import OrganisationKind

MAX_NAME_LENGTH = 200
MAX_POSTAL_ADDRESS = 300


@dataclass(frozen=True)
class NewOrganisation:
    name: str
    kind: str
    org_number: str | None = None
    # The city's social emergency service (socialjouren): receives the concern reports about
    # children no district is known for. One organisation, of the city's kind.
    social_emergency_service: bool = False


@dataclass(frozen=True)
class OrganisationView:
    """An organisation as the administrator and operator see it (its columns, which name no
    person), read inside the unit of work so that no caller reads a row after it closed."""

    id: str
    name: str
    kind: str
    org_number: str | None
    social_emergency_service: bool = False
    postal_address: str | None = None


def _view(organisation: Organisation) -> OrganisationView:
    return OrganisationView(
        id=organisation.id,
        name=organisation.name,
        kind=organisation.kind,
        org_number=organisation.org_number,
        social_emergency_service=organisation.social_emergency_service,
        postal_address=organisation.postal_address,
    )


def add_organisation(uow: UnitOfWork, actor: Actor, new: NewOrganisation) -> OrganisationView:
    require(actor, Permission.ORGANISATION_CREATE)
    name = new.name.strip()
    if not name:
        raise InvalidInput(_("The name must not be empty."), field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(
            _("The name is longer than %(n)s characters.", n=MAX_NAME_LENGTH), field="name"
        )
    try:
        kind = OrganisationKind(new.kind)
    except ValueError:
        allowed = ", ".join(k.value for k in OrganisationKind)
        raise InvalidInput(
            _("The kind must be one of %(allowed)s.", allowed=allowed), field="kind"
        ) from None
    org_number = normalise_org_number(new.org_number) if new.org_number else None
    db = uow.session
    if db.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower())):
        raise Conflict(_("An organisation with this name exists already."), field="name")
    if org_number and db.scalar(
        select(Organisation.id).where(Organisation.org_number == org_number)
    ):
        raise Conflict(_("An organisation with this number exists already."), field="org_number")
    if new.social_emergency_service:
        _check_social_emergency_service(uow, kind)
    organisation = Organisation(
        name=name,
        kind=kind.value,
        org_number=org_number,
        social_emergency_service=new.social_emergency_service,
    )
    db.add(organisation)
    db.flush()
    record(
        db, actor, Action.ORGANISATION_CREATE, object_type="organisation", object_id=organisation.id
    )
    uow.commit()
    return _view(organisation)


def _check_social_emergency_service(uow: UnitOfWork, kind: OrganisationKind) -> None:
    if kind is not OrganisationKind.CITY:
        raise InvalidInput(
            _("The social emergency service is one of the city's own organisations."),
            field="social_emergency_service",
        )
    if uow.session.scalar(
        select(Organisation.id).where(Organisation.social_emergency_service.is_(True))
    ):
        raise Conflict(
            _("Another organisation is the social emergency service already."),
            field="social_emergency_service",
        )


def set_postal_address(
    uow: UnitOfWork, actor: Actor, organisation_id: str, raw: str | None
) -> OrganisationView:
    """Where letters to the organisation go (the consent form's return address): lines as
    typed, blank lines and stray spaces dropped; empty removes it."""
    require(actor, Permission.ORGANISATION_UPDATE)
    organisation = uow.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(_("No such organisation."), field="organisation")
    require(actor, Permission.ORGANISATION_UPDATE, organisation)
    lines = [" ".join(line.split()) for line in (raw or "").splitlines()]
    address = "\n".join(line for line in lines if line) or None
    if address is not None and len(address) > MAX_POSTAL_ADDRESS:
        raise InvalidInput(
            _("The address is longer than %(n)s characters.", n=MAX_POSTAL_ADDRESS),
            field="postal_address",
        )
    organisation.postal_address = address
    record(
        uow.session,
        actor,
        Action.ORGANISATION_UPDATE,
        object_type="organisation",
        object_id=organisation.id,
    )
    changed = _view(organisation)
    uow.commit()
    return changed


_NAMES_BY_ID = ByIds(
    lambda arrays: select(Organisation.id, Organisation.name).where(in_ids(Organisation.id, arrays))
)


def names_by_id(uow: UnitOfWork, organisation_ids: Iterable[str]) -> dict[str, str]:
    """The names of these organisations (the partners of a list of referrals, say), read in
    one statement per 500, built once: lists and records of children ask it on every read."""
    return {
        organisation_id: name
        for organisation_id, name in _NAMES_BY_ID.rows(uow.session, organisation_ids)
    }


def responsible_district(uow: UnitOfWork, district_id: str | None) -> Organisation:
    """The district someone names as responsible (for a family home's registration, a youth,
    a link case, a concern report), or 422 on `district_id`."""
    district = uow.session.get(Organisation, district_id) if district_id else None
    if district is None or district.kind != OrganisationKind.DISTRICT.value:
        raise InvalidInput(_("Choose the responsible district."), field="district_id")
    return district


def list_organisations(uow: UnitOfWork, actor: Actor) -> list[OrganisationView]:
    require(actor, Permission.ORGANISATION_LIST)
    query = select(Organisation).order_by(Organisation.kind, Organisation.name)
    scope = organisation_scope(actor)
    if scope is not None:
        query = query.where(Organisation.id == scope)
    return [_view(organisation) for organisation in uow.session.scalars(query)]


@dataclass(frozen=True)
class NamedOrganisation:
    """An organisation by id and name only: what a form's list of choices shows."""

    id: str
    name: str


def _named(uow: UnitOfWork, kind: OrganisationKind | None) -> list[NamedOrganisation]:
    query = select(Organisation.id, Organisation.name).order_by(Organisation.name)
    if kind is not None:
        query = query.where(Organisation.kind == kind.value)
    return [NamedOrganisation(id, name) for id, name in uow.session.execute(query)]


def partner_names(uow: UnitOfWork, actor: Actor) -> list[NamedOrganisation]:
    """The partners a referral may go to, by name: for whoever chooses one (a social
    worker's form, an API client)."""
    require(actor, Permission.PARTNER_LIST)
    return _named(uow, OrganisationKind.PARTNER)


# Who names a responsible district: a partner recording a family home's interest
# registration, an outreach worker recording a youth's district.
NAMING_A_DISTRICT = frozenset({Permission.INTEREST_REGISTER, Permission.YOUTH_REGISTER})


def district_names(
    uow: UnitOfWork, actor: Actor, purpose: Permission = Permission.INTEREST_REGISTER
) -> list[NamedOrganisation]:
    """The districts, by name, for whoever must name the responsible one (`purpose`)."""
    if purpose not in NAMING_A_DISTRICT:
        raise ValueError(f"{purpose} names no district")
    require(actor, purpose)
    return _named(uow, OrganisationKind.DISTRICT)


def names_for_the_log(uow: UnitOfWork, actor: Actor) -> list[NamedOrganisation]:
    """Every organisation, for the DPO's filter of the access log by organisation."""
    require(actor, Permission.AUDIT_SEARCH)
    return _named(uow, None)


def find_organisation(uow: UnitOfWork, actor: Actor, name_or_id: str) -> OrganisationView:
    """For operators, who type names: accepts the id or the exact name (case-insensitive)."""
    require(actor, Permission.ORGANISATION_LIST)
    db = uow.session
    organisation = db.get(Organisation, name_or_id) or db.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name_or_id.strip().lower())
    )
    if organisation is None:
        raise NotFound(_("No such organisation."), field="organisation")
    require(actor, Permission.ORGANISATION_LIST, organisation)
    return _view(organisation)
