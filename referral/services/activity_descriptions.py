"""Activity descriptions: the versioned text that guardians receive about the whole activity
before they decide on consent (domain.md §3: "record that it was given and which version").

Who publishes: the city (administrators). Seed 004 §3.1.3 makes the social services
administration responsible for the information material, with its content agreed jointly with
the partner, so a partner's group leader does not publish on their own; the agreed text is
published by the city under ACTIVITY_DESCRIPTION_PUBLISH. Versions are immutable (see
referral.db.activity): a correction is a new version, which becomes the current one, while
consents already given keep citing the version the guardian actually received.

The text is not personal data: publishing is recorded in the access log without a subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.activity import ActivityDescription
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput
from referral.i18n import _
from referral.policy import Permission, require
from referral.roles import OrganisationKind
from referral.services.organisations import NamedOrganisation

# Programme A's support groups; the same value as referral.services.referrals.PROGRAMME (not
# imported from there, because the consent service imports this module and referrals imports
# the consent service).
SUPPORT_GROUP = "support_group"
PROGRAMMES = frozenset({SUPPORT_GROUP})
MAX_VERSION = 40  # as long as a consent record's description_version
MAX_TEXT = 20_000


@dataclass(frozen=True)
class NewDescription:
    programme: str
    partner_id: str
    version: str
    text: str


@dataclass(frozen=True)
class DescriptionView:
    """One published version as the city's page lists it (the publisher's id stays in the
    table), read inside the unit of work so that no caller reads a row after it closed."""

    id: str
    programme: str
    partner_id: str
    version: str
    text: str
    published_at: datetime


def _view(description: ActivityDescription) -> DescriptionView:
    return DescriptionView(
        id=description.id,
        programme=description.programme,
        partner_id=description.partner_id,
        version=description.version,
        text=description.text,
        published_at=description.published_at,
    )


def _partner(db: Session, partner_id: str) -> Organisation:
    partner = db.get(Organisation, partner_id) if partner_id else None
    if partner is None or partner.kind != OrganisationKind.PARTNER.value:
        raise InvalidInput(_("Choose a partner organisation."), field="partner_id")
    return partner


def _checked(db: Session, new: NewDescription) -> NewDescription:
    if new.programme not in PROGRAMMES:
        raise InvalidInput(_("Choose a programme."), field="programme")
    partner = _partner(db, new.partner_id)
    version = new.version.strip()
    if not version or len(version) > MAX_VERSION:
        raise InvalidInput(
            _("The version label must be 1-%(n)s characters.", n=MAX_VERSION), field="version"
        )
    text = new.text.strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(
            _("The description must be 1-%(n)s characters.", n=MAX_TEXT), field="text"
        )
    return NewDescription(new.programme, partner.id, version, text)


def publish(uow: UnitOfWork, actor: Actor, new: NewDescription) -> DescriptionView:
    """Publish a new version for (programme, partner); it becomes that pair's current one.
    A label already used for the pair is refused (409): a published text never changes."""
    require(actor, Permission.ACTIVITY_DESCRIPTION_PUBLISH)
    db = uow.session
    checked = _checked(db, new)
    taken = db.scalar(
        select(ActivityDescription.id).where(
            ActivityDescription.programme == checked.programme,
            ActivityDescription.partner_id == checked.partner_id,
            ActivityDescription.version == checked.version,
        )
    )
    if taken:
        raise Conflict(
            _(
                "Version %(version)s is already published and cannot change; "
                "publish a new version instead.",
                version=checked.version,
            ),
            field="version",
        )
    description = ActivityDescription(
        programme=checked.programme,
        partner_id=checked.partner_id,
        version=checked.version,
        text=checked.text,
        published_by=actor.user_id,
    )
    db.add(description)
    db.flush()
    record(
        db,
        actor,
        Action.ACTIVITY_DESCRIPTION_PUBLISH,
        object_type="activity_description",
        object_id=description.id,
    )
    uow.commit()
    return _view(description)


def list_versions(
    uow: UnitOfWork, actor: Actor, programme: str | None = None, partner_id: str | None = None
) -> list[DescriptionView]:
    """Every published version, newest first, optionally for one programme and/or partner."""
    require(actor, Permission.ACTIVITY_DESCRIPTION_LIST)
    query = select(ActivityDescription)
    if programme is not None:
        query = query.where(ActivityDescription.programme == programme)
    if partner_id is not None:
        query = query.where(ActivityDescription.partner_id == partner_id)
    order = (ActivityDescription.published_at.desc(), ActivityDescription.id)
    return [_view(description) for description in uow.session.scalars(query.order_by(*order))]


def current_description(db: Session, programme: str, partner_id: str) -> ActivityDescription | None:
    """The version a guardian receives today: the latest one published for the pair.

    Takes a session, not an actor: callers (the consent form) have checked their own
    permission, and the text is public information about the activity."""
    return db.scalar(
        select(ActivityDescription)
        .where(
            ActivityDescription.programme == programme,
            ActivityDescription.partner_id == partner_id,
        )
        .order_by(ActivityDescription.published_at.desc(), ActivityDescription.id)
        .limit(1)
    )


# Built once: every consent given asks it.
_PUBLISHED_VERSION = (
    select(ActivityDescription.id)
    .where(
        ActivityDescription.programme == bindparam("programme"),
        ActivityDescription.version == bindparam("version"),
    )
    .limit(1)
)


def version_exists(db: Session, programme: str, version: str) -> bool:
    """Whether `version` is a published description of `programme`, for any partner.

    The consent service asks this: a consent is recorded against the child, not against one
    referral, so it cannot name the partner; requiring that the label was published for the
    programme rejects typos and invented versions without tying consent to one partner."""
    found = db.scalar(_PUBLISHED_VERSION, {"programme": programme, "version": version})
    return found is not None


@dataclass(frozen=True)
class PublishedVersion:
    version: str
    partner_name: str


def published_versions(uow: UnitOfWork, actor: Actor) -> list[PublishedVersion]:
    """The support-group descriptions a consent may cite, newest first (the consent service
    refuses any other), for the social worker recording the consent."""
    require(actor, Permission.CONSENT_RECORD)
    rows = uow.session.execute(
        select(ActivityDescription.version, Organisation.name)
        .join(Organisation, Organisation.id == ActivityDescription.partner_id)
        .where(ActivityDescription.programme == SUPPORT_GROUP)
        .order_by(ActivityDescription.published_at.desc())
    )
    return [PublishedVersion(version, partner) for version, partner in rows]


def partner_choices(uow: UnitOfWork, actor: Actor) -> list[NamedOrganisation]:
    """The partner organisations a description can be published for, by name."""
    require(actor, Permission.ACTIVITY_DESCRIPTION_LIST)
    query = select(Organisation.id, Organisation.name).where(
        Organisation.kind == OrganisationKind.PARTNER.value
    )
    rows = uow.session.execute(query.order_by(Organisation.name))
    return [NamedOrganisation(partner_id, name) for partner_id, name in rows]
