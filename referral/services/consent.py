"""Placement basis, guardians and consent: what the district records so that the rules in
referral.rules can say whether, and on what ground, a partner may see a child's data.

Every change is recorded in the access log against the child. Consent history is kept:
a withdrawal is a new record, and the latest record per party is that party's decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from crypto import DecryptionError
from referral.actors import Actor
from referral.db.people import Child, ConsentRecord, Guardian
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput, NotFound
from referral.i18n import _
from referral.policy import Permission, require
from referral.rules import (
    CHILD_PARTY,
    Category,
    Consent,
    Decision,
    LawfulBasis,
    NotLawful,
    Placement,
    PlacementBasis,
    sharing_basis,
)
from referral.rules import Guardian as GuardianFact
from referral.services.activity_descriptions import SUPPORT_GROUP, version_exists

METHODS = frozenset({"written", "oral"})
# Consents are recorded for Programme A (seed 004), the only programme that asks for them.
CONSENT_PROGRAMME = SUPPORT_GROUP
MAX_TEXT = 200


def _child(uow: UnitOfWork, actor: Actor, child_id: str, permission: Permission) -> Child:
    require(actor, permission)
    child = uow.session.get(Child, child_id)
    if child is None:
        raise NotFound(_("No such record."), field="child")
    require(actor, permission, child)  # another district's child answers 404
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
) -> Child:
    """SoL, or LVU with the decision, its date and the deciding body documented."""
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
    if lvu and lvu_decided_on is not None and lvu_decided_on > date.today():
        raise InvalidInput(
            _("The LVU decision cannot be dated in the future."), field="lvu_decided_on"
        )
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
    uow.commit()
    return child


def add_guardian(
    uow: UnitOfWork, actor: Actor, child_id: str, name: str, contact: str | None, has_custody: bool
) -> Guardian:
    child = _child(uow, actor, child_id, Permission.GUARDIAN_CREATE)
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
    uow.commit()
    return guardian


@dataclass(frozen=True)
class ConsentInput:
    party: str  # a guardian id of this child, or "child"
    decision: str
    categories: Iterable[str]
    decided_on: date
    valid_until: date
    method: str
    description_version: str


def _categories(raw: Iterable[str]) -> frozenset[Category]:
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
                field="categories",
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


def record_consent(
    uow: UnitOfWork, actor: Actor, child_id: str, new: ConsentInput
) -> ConsentRecord:
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
    if new.valid_until < new.decided_on:
        raise InvalidInput(_("The end date comes before the decision date."), field="valid_until")
    if new.method not in METHODS:
        raise InvalidInput(_("Consent is obtained in writing or orally."), field="method")
    version = _description_version(uow, decision, new.description_version)
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
    # after a withdrawal or refusal the partner is told at once that participation must stop.
    from referral.services.referrals import release_awaiting, stop_unlawful_participation

    if decision is Decision.GIVEN:
        release_awaiting(uow, actor, child, new.decided_on)
    else:
        stop_unlawful_participation(uow, child, new.decided_on)
    uow.commit()
    return consent


def current_consents(uow: UnitOfWork, child: Child) -> list[Consent]:
    rows = uow.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.child_id == child.id)
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    )
    latest: dict[str, ConsentRecord] = {}
    for row in rows:
        latest[row.party] = row  # later records replace earlier ones
    return [
        Consent(
            consent_id=row.id,
            party=row.party,
            decision=Decision(row.decision),
            categories=frozenset(Category(c) for c in row.categories.split(",") if c),
            valid_until=row.valid_until,
        )
        for row in latest.values()
    ]


def birth_date_of(child: Child) -> date:
    """From the personnummer (a samordningsnummer has 60 added to the day)."""
    number = child.personnummer
    return date(int(number[:4]), int(number[4:6]), int(number[6:8]) % 60)


def sharing_basis_for(
    uow: UnitOfWork, child: Child, category: Category, today: date
) -> LawfulBasis | NotLawful:
    """The ground on which a partner may see `category` of this child today, or why not.
    Deny by default: no placement recorded, or an unreadable record, is not lawful."""
    try:
        basis = child.placement_basis
        if basis is None:
            return NotLawful("No placement basis is recorded.")
        placement = Placement(PlacementBasis(basis), child.lvu_decision, child.lvu_decided_by)
        birth_date = birth_date_of(child)
    except DecryptionError:
        return NotLawful("The child's record cannot be read.")
    guardians = uow.session.scalars(select(Guardian).where(Guardian.child_id == child.id))
    facts = [GuardianFact(g.id, g.has_custody) for g in guardians]
    return sharing_basis(
        placement, facts, current_consents(uow, child), category, birth_date, today
    )
