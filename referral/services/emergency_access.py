"""Emergency access ("break the glass", after DHIS2): a social worker may open the record of a
child of another district only by giving a reason, for a limited time, and every such access
is reported to the data-protection officer.

Three steps, each on the access log:
1. `find_child_anywhere`: a city-wide look-up by personnummer that tells only that a record
   exists in another district and its pseudonymous id (no name, no district, nothing else);
2. `break_glass`: the reason is recorded (sealed under the child's district key) and a grant
   runs for `emergency_access_hours`; the log entry (action emergency:access, the child as
   subject, the reason sealed as its purpose) is what raises the DPO's alert;
3. while the grant is live, the policy lets the social worker *read* the record, and each read
   is logged with the legal basis "emergency_access" (referral.policy, child_record).

The DPO sees every grant with its reason (`grants_for_review`): judging whether the reason held
is the DPO's job, and each reason opened is itself logged against the child.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from audit.actions import Action
from audit.record import record, timestamp
from config import Settings
from crypto import DecryptionError, blind_index, constant_time_equal
from referral.actors import Actor
from referral.db.emergency import EmergencyGrant
from referral.db.encryption import session_cipher
from referral.db.models import Organisation, User
from referral.db.people import Child
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.i18n import _
from referral.policy import EMERGENCY_LEGAL_BASIS, Permission, belongs_to, require
from referral.services.children import valid_personnummer

# A reason must say something: "akut" or "x" says nothing the DPO could judge.
MIN_REASON = 10
MAX_REASON = 1000
MAX_GRANTS_REVIEWED = 200


@dataclass(frozen=True)
class RecordElsewhere:
    """All a city-wide look-up reveals: a record of that person is held by another district,
    under this pseudonymous id."""

    child_id: str


def find_child_anywhere(uow: UnitOfWork, actor: Actor, personnummer: str) -> list[RecordElsewhere]:
    """Records of this personnummer held by other districts than the actor's. The actor's
    own district's children are left out: the ordinary search finds them without a grant."""
    require(actor, Permission.EMERGENCY_ACCESS)
    number = valid_personnummer(personnummer)
    db = uow.session
    index = blind_index(number, session_cipher(db).index_key)
    candidates = db.scalars(
        select(Child).where(
            Child.personnummer_index == index, Child.district_id != actor.organisation_id
        )
    )
    # The index narrows to a few candidates; decrypting confirms (never shown).
    found = [c for c in candidates if constant_time_equal(c.personnummer, number)]
    for child in found:  # on each person's access report: someone looked for them city-wide
        record(
            db,
            actor,
            Action.EMERGENCY_SEARCH,
            object_type="child",
            object_id=child.id,
            subject=child.key_scope(),
        )
    if not found:  # the attempt is on record too, though it names nobody
        record(db, actor, Action.EMERGENCY_SEARCH, object_type="child", object_id="no-match")
    uow.commit()
    return [RecordElsewhere(child.id) for child in found]


def _valid_reason(reason: str) -> str:
    cleaned = reason.strip()
    if len(cleaned) < MIN_REASON:
        raise InvalidInput(
            _("Give the reason for emergency access (at least %(n)s characters).", n=MIN_REASON),
            field="reason",
        )
    if len(cleaned) > MAX_REASON:
        raise InvalidInput(_("At most %(n)s characters.", n=MAX_REASON), field="reason")
    return cleaned


def break_glass(
    uow: UnitOfWork,
    actor: Actor,
    child_id: str,
    reason: str,
    now: datetime,
    hours: int = Settings.emergency_access_hours,
) -> EmergencyGrant:
    """Grant `actor` read access to another district's child for `hours`, with a reason."""
    require(actor, Permission.EMERGENCY_ACCESS)
    cleaned = _valid_reason(reason)
    db = uow.session
    child = db.get(Child, child_id)
    if child is None:
        raise NotFound(_("No such record."), field="child")
    if belongs_to(actor, child.district_id):
        raise Conflict(
            _("This child belongs to your own district: open the record without emergency access.")
        )
    grant = EmergencyGrant(
        user_id=actor.user_id,
        child_id=child.id,
        district_id=child.district_id,
        granted_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    grant.reason = cleaned
    db.add(grant)
    db.flush()
    record(
        db,
        actor,
        Action.EMERGENCY_ACCESS,
        object_type="emergency_grant",
        object_id=grant.id,
        subject=child.key_scope(),
        legal_basis=EMERGENCY_LEGAL_BASIS,
        # Sealed under the child's key: the subject-access report shows it as the "why".
        details={"purpose": cleaned, "until": timestamp(grant.expires_at)},
    )
    uow.commit()
    return grant


@dataclass(frozen=True)
class GrantReview:
    """One grant as the DPO reviews it: who, from which organisation, when, until when, the
    child by pseudonymous id and the child's district, and the reason (None once purged)."""

    id: str
    username: str
    display_name: str
    organisation: str
    child_id: str
    child_district: str
    granted_at: datetime
    expires_at: datetime
    live: bool
    reason: str | None


def _opened_reason(grant: EmergencyGrant) -> str | None:
    try:
        reason: str = grant.reason
    except DecryptionError:
        return None  # the child's key is shredded: the reason went with the record
    return reason


def grants_for_review(
    uow: UnitOfWork, actor: Actor, now: datetime, limit: int = MAX_GRANTS_REVIEWED
) -> list[GrantReview]:
    """The newest grants, with their reasons, for the DPO. Reading the list is reading the
    log; each reason opened is a read about that child and is logged against the child."""
    require(actor, Permission.EMERGENCY_REVIEW)
    db = uow.session
    grants = db.scalars(
        select(EmergencyGrant)
        .order_by(EmergencyGrant.granted_at.desc(), EmergencyGrant.id)
        .limit(limit)
    ).all()
    users = {
        u.id: u for u in db.scalars(select(User).where(User.id.in_({g.user_id for g in grants})))
    }
    organisations = {
        org_id: name for org_id, name in db.execute(select(Organisation.id, Organisation.name))
    }
    reviews: list[GrantReview] = []
    for grant in grants:
        user = users.get(grant.user_id)
        reason = _opened_reason(grant)
        if reason is not None:
            record(
                db,
                actor,
                Action.EMERGENCY_REVIEW,
                object_type="emergency_grant",
                object_id=grant.id,
                subject=grant.key_scope(),
            )
        reviews.append(
            GrantReview(
                id=grant.id,
                username=user.username if user else grant.user_id,
                display_name=user.display_name if user else "—",
                organisation=organisations.get(user.organisation_id or "", "—") if user else "—",
                child_id=grant.child_id,
                child_district=organisations.get(grant.district_id, "—"),
                granted_at=grant.granted_at,
                expires_at=grant.expires_at,
                live=grant.live_at(now),
                reason=reason,
            )
        )
    # The list names staff members: reading it is reading the log, even when it is empty.
    record(db, actor, Action.EMERGENCY_REVIEW, object_type="emergency_grants")
    uow.commit()
    return reviews
