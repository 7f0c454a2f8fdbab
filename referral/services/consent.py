"""Placement basis, guardians and consent: what the district records so that the rules in
referral.rules can say whether, and on what ground, a partner may see a child's data.

Every change is recorded in the access log against the child. Consent history is kept:
a withdrawal is a new record, and the latest record per party is that party's decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.people import Child, ConsentRecord, Guardian
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput
from referral.i18n import _
from referral.policy import Permission, require
from referral.rules import CHILD_PARTY, Category, Decision, PlacementBasis
from referral.services.activity_descriptions import SUPPORT_GROUP, version_exists
from referral.services.loading import get_for
from referral.services.referrals import lawful_with_partner, settle_sharing
from referral.services.sharing import (
    LVU_DEFAULT_SHARED,
    LvuShare,
    encode_lvu_decisions,
    lvu_decisions,
)

METHODS = frozenset({"written", "oral"})
# Consents are recorded for Programme A (seed 004), the only programme that asks for them.
CONSENT_PROGRAMME = SUPPORT_GROUP
MAX_TEXT = 200


def _child(uow: UnitOfWork, actor: Actor, child_id: str, permission: Permission) -> Child:
    require(actor, permission)
    child = get_for(
        uow, actor, permission, Child, child_id, field="child"
    )  # another district's child answers 404
    return child


def _text(
    value: str | None, field: str, required: bool = True, longest: int = MAX_TEXT
) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise InvalidInput(_("This field is required."), field=field)
        return None
    if len(cleaned) > longest:
        raise InvalidInput(_("At most %(n)s characters.", n=longest), field=field)
    return cleaned


def record_placement(
    uow: UnitOfWork,
    actor: Actor,
    child_id: str,
    basis: str,
    lvu_decision: str | None = None,
    lvu_decided_by: str | None = None,
    lvu_decided_on: date | None = None,
    *,
    today: date,
    lvu_shared: Iterable[str] | None = None,
) -> PlacementView:
    """SoL, or LVU with the decision, its date and the deciding body documented. Under LVU
    the social worker also decides which categories the partner may see (`lvu_shared`; name
    and age when a child is first placed under LVU and nothing is said)."""
    child = _child(uow, actor, child_id, Permission.PLACEMENT_RECORD)
    try:
        placement = PlacementBasis(basis)
    except ValueError:
        raise InvalidInput(_("The placement basis is SoL or LVU."), field="basis") from None
    lvu = placement is PlacementBasis.LVU
    decision = _text(lvu_decision, "lvu_decision", required=lvu) if lvu else None
    decided_by = _text(lvu_decided_by, "lvu_decided_by", required=lvu) if lvu else None
    if lvu and lvu_decided_on is None:
        raise InvalidInput(_("The date of the LVU decision is required."), field="lvu_decided_on")
    if lvu and lvu_decided_on is not None and lvu_decided_on > today:
        raise InvalidInput(
            _("The LVU decision cannot be dated in the future."), field="lvu_decided_on"
        )
    shared = _categories(lvu_shared, "lvu_shared") if lvu_shared is not None else None
    before = lawful_with_partner(uow, child, today)
    child.placement_basis = placement.value
    child.lvu_decision = decision
    child.lvu_decided_by = decided_by
    child.lvu_decided_on = lvu_decided_on.isoformat() if lvu and lvu_decided_on else None
    child.placement_noted_by = actor.user_id
    uow.session.flush()
    record(
        uow.session,
        actor,
        Action.PLACEMENT_RECORD,
        object_type="child",
        object_id=child.id,
        subject=child.key_scope(),
    )
    if not lvu:
        child.lvu_sharing = None  # a later LVU placement starts from a fresh decision
    elif shared is not None or not lvu_decisions(child):
        # An empty list is a decision to share nothing, not a decision left unsaid.
        default = shared if shared is not None else LVU_DEFAULT_SHARED
        _decide_lvu_sharing(uow, actor, child, default, today)
    settle_sharing(uow, actor, child, today, before)
    uow.commit()
    return placement_view(child)


@dataclass(frozen=True)
class PlacementView:
    """The placement as recorded, for the social worker who recorded it; under LVU with the
    categories the partner may see now (None under SoL)."""

    id: str
    placement_basis: str | None
    lvu_decision: str | None
    lvu_decided_by: str | None
    lvu_decided_on: str | None
    lvu_shared: tuple[str, ...] | None


def placement_view(child: Child) -> PlacementView:
    shared = None
    if child.placement_basis == PlacementBasis.LVU.value:
        decided = lvu_decisions(child)
        shared = tuple(c.value for c in Category if c in decided and decided[c].shared)
    return PlacementView(
        id=child.id,
        placement_basis=child.placement_basis,
        lvu_decision=child.lvu_decision,
        lvu_decided_by=child.lvu_decided_by,
        lvu_decided_on=child.lvu_decided_on,
        lvu_shared=shared,
    )


def decide_lvu_sharing(
    uow: UnitOfWork, actor: Actor, child_id: str, shared: Iterable[str], today: date
) -> PlacementView:
    """Under LVU the guardians do not consent, but secrecy still holds: the social worker
    decides, category by category, what the partner may see. Narrowing cuts the partner's
    access at once (and tells it to stop); widening releases a referral that was waiting."""
    child = _child(uow, actor, child_id, Permission.PLACEMENT_RECORD)
    if child.placement_basis != PlacementBasis.LVU.value:
        raise Conflict(
            _("Sharing decisions of this kind apply only to a child placed under LVU."),
            field="basis",
        )
    categories = _categories(shared, "lvu_shared")
    before = lawful_with_partner(uow, child, today)
    _decide_lvu_sharing(uow, actor, child, categories, today)
    settle_sharing(uow, actor, child, today, before)
    uow.commit()
    return placement_view(child)


def _decide_lvu_sharing(
    uow: UnitOfWork, actor: Actor, child: Child, shared: frozenset[Category], today: date
) -> None:
    """One documented decision per category: a category whose answer changes (or that was
    never decided) is stamped with who decided and when; the others keep their stamp."""
    decisions = lvu_decisions(child)
    for category in Category:
        wanted = category in shared
        earlier = decisions.get(category)
        if earlier is None or earlier.shared != wanted:
            decisions[category] = LvuShare(wanted, actor.user_id, today)
    child.lvu_sharing = encode_lvu_decisions(decisions)
    uow.session.flush()
    record(
        uow.session,
        actor,
        Action.LVU_SHARING_DECIDE,
        object_type="child",
        object_id=child.id,
        subject=child.key_scope(),
        details={"shared": sorted(c.value for c in shared)},
    )


@dataclass(frozen=True)
class AddedGuardian:
    """The new guardian by id (a consent's `party`), for the social worker who added them: the
    name and contact they just sent are not repeated."""

    id: str
    child_id: str
    has_custody: bool


def add_guardian(
    uow: UnitOfWork,
    actor: Actor,
    child_id: str,
    name: str,
    contact: str | None,
    has_custody: bool,
    *,
    today: date,
) -> AddedGuardian:
    """A guardian of the child. A new custodian is one more consent that SoL needs: until it
    is given, the partner loses access (and is told so)."""
    child = _child(uow, actor, child_id, Permission.GUARDIAN_CREATE)
    before = lawful_with_partner(uow, child, today)
    guardian = Guardian(
        child_id=child.id,
        district_id=child.district_id,
        name=_text(name, "name"),
        contact=_text(contact, "contact", required=False),
        has_custody=has_custody,
    )
    uow.session.add(guardian)
    uow.session.flush()
    record(
        uow.session,
        actor,
        Action.GUARDIAN_CREATE,
        object_type="guardian",
        object_id=guardian.id,
        subject=child.key_scope(),
    )
    settle_sharing(uow, actor, child, today, before)
    uow.commit()
    return AddedGuardian(guardian.id, guardian.child_id, guardian.has_custody)


@dataclass(frozen=True)
class ConsentInput:
    party: str  # a guardian id of this child, or "child"
    decision: str
    categories: Iterable[str]
    decided_on: date
    valid_until: date
    method: str
    description_version: str


def _categories(raw: Iterable[str], field: str = "categories") -> frozenset[Category]:
    chosen: set[Category] = set()
    for name in raw:
        try:
            chosen.add(Category(name))
        except ValueError:
            allowed = ", ".join(c.value for c in Category)
            raise InvalidInput(
                _(
                    "Unknown data category %(name)s; categories are %(allowed)s.",
                    name=name,
                    allowed=allowed,
                ),
                field=field,
            ) from None
    return frozenset(chosen)


def _description_version(uow: UnitOfWork, decision: Decision, raw: str) -> str:
    """The version of the activity description the party received. A consent given must cite
    a version published for the programme (for any partner: a consent belongs to the child,
    not to one referral). A refusal or withdrawal is never blocked by the paperwork, so it
    only needs a label, e.g. for consents recorded before descriptions were published."""
    version = _text(raw, "description_version", longest=40) or ""
    if decision is Decision.GIVEN and not version_exists(uow.session, CONSENT_PROGRAMME, version):
        raise InvalidInput(
            _(
                "No activity description %(version)s is published for this programme: "
                "cite the version the guardian received.",
                version=version,
            ),
            field="description_version",
        )
    return version


@dataclass(frozen=True)
class RecordedConsent:
    """One party's decision as recorded, for the social worker who recorded it. The party is
    named by guardian id (or "child"), never by name."""

    id: str
    child_id: str
    party: str
    decision: str
    categories: tuple[str, ...]  # Category values, sorted
    decided_on: date
    valid_until: date
    method: str
    description_version: str
    recorded_at: datetime


def record_consent(
    uow: UnitOfWork, actor: Actor, child_id: str, new: ConsentInput, *, today: date
) -> RecordedConsent:
    """One party's decision. A decision cannot be dated after `today`; a consent that has
    already ended may be recorded (history), but shares nothing: what the partner may see is
    decided for `today`, the same day as the partner's own read."""
    child = _child(uow, actor, child_id, Permission.CONSENT_RECORD)
    db = uow.session
    if new.party != CHILD_PARTY:
        guardian = db.get(Guardian, new.party)
        if guardian is None or guardian.child_id != child.id:
            raise InvalidInput(_("No such guardian of this child."), field="party")
    try:
        decision = Decision(new.decision)
    except ValueError:
        raise InvalidInput(
            _("The decision is given, refused or withdrawn."), field="decision"
        ) from None
    categories = _categories(new.categories)
    if decision is Decision.GIVEN and not categories:
        raise InvalidInput(_("A consent covers at least one data category."), field="categories")
    if new.decided_on > today:
        raise InvalidInput(
            _("A decision cannot be dated after today: record it on the day it is made."),
            field="decided_on",
        )
    if new.valid_until < new.decided_on:
        raise InvalidInput(_("The end date comes before the decision date."), field="valid_until")
    if new.method not in METHODS:
        raise InvalidInput(_("Consent is obtained in writing or orally."), field="method")
    version = _description_version(uow, decision, new.description_version)
    before = lawful_with_partner(uow, child, today)
    consent = ConsentRecord(
        child_id=child.id,
        district_id=child.district_id,
        party=new.party,
        decision=decision.value,
        categories=",".join(sorted(c.value for c in categories)),
        decided_on=new.decided_on,
        valid_until=new.valid_until,
        method=new.method,
        description_version=version,
        recorded_by=actor.user_id,
    )
    db.add(consent)
    db.flush()
    action = Action.CONSENT_WITHDRAW if decision is Decision.WITHDRAWN else Action.CONSENT_RECORD
    record(
        db, actor, action, object_type="consent", object_id=consent.id, subject=child.key_scope()
    )
    # In the same transaction: a referral waiting for this consent goes to the partner now;
    # a partner that loses access is told at once that participation must stop.
    settle_sharing(uow, actor, child, today, before)
    uow.commit()
    return RecordedConsent(
        id=consent.id,
        child_id=consent.child_id,
        party=consent.party,
        decision=consent.decision,
        categories=tuple(c for c in consent.categories.split(",") if c),
        decided_on=consent.decided_on,
        valid_until=consent.valid_until,
        method=consent.method,
        description_version=consent.description_version,
        recorded_at=consent.recorded_at,
    )
