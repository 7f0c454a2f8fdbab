"""The consent-lapse queue: the social worker's list of consents to renew before the partner
loses the child, and of consents that have already lapsed while a partner still has a
referral (the partner lost access the day after the end date: referral.rules.sharing_basis).

Only each party's latest decision counts, and only a consent given can lapse. Children placed
under LVU are left out: their sharing rests on the LVU decision, not on consent. Every child
shown is one audited read of that child's record, written before the list is returned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from audit.actions import Action
from crypto import DecryptionError
from referral.actors import Actor
from referral.db.base import chunks, one_of
from referral.db.people import Child, ConsentRecord, Guardian
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.policy import Permission, organisation_scope, require
from referral.rules import CHILD_PARTY, TERMINAL, WITH_PARTNER, Decision, PlacementBasis, Status
from referral.services import organisations
from referral.services.children import record_children_access
from referral.services.sharing import children_by_id


@dataclass(frozen=True)
class AffectedReferral:
    referral_id: str
    status: str
    partner_id: str
    partner_name: str


@dataclass(frozen=True)
class LapseLine:
    child_id: str
    child_name: str
    consent_id: str
    party: str  # a guardian id, or CHILD_PARTY
    party_name: str | None  # the guardian's name; None for the child's own consent
    valid_until: date
    days_left: int  # negative once lapsed
    referrals: tuple[AffectedReferral, ...]

    @property
    def lapsed(self) -> bool:
        return self.days_left < 0

    @property
    def is_child(self) -> bool:
        return self.party == CHILD_PARTY


def latest_given_by_child(rows: Iterable[ConsentRecord]) -> dict[str, list[ConsentRecord]]:
    """Per child, each party's current decision where that decision is a consent (`rows`
    in the order recorded: a later record replaces an earlier one)."""
    latest: dict[tuple[str, str], ConsentRecord] = {}
    for row in rows:
        latest[(row.child_id, row.party)] = row
    given: dict[str, list[ConsentRecord]] = defaultdict(list)
    for row in latest.values():
        if row.decision == Decision.GIVEN.value:
            given[row.child_id].append(row)
    return given


def _latest_given(uow: UnitOfWork, district_id: str) -> list[ConsentRecord]:
    """Each party's current decision in the district, where that decision is a consent."""
    rows = uow.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.district_id == district_id)
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    )
    return [row for given in latest_given_by_child(rows).values() for row in given]


def _open_referrals(uow: UnitOfWork, child_ids: set[str]) -> dict[str, list[Referral]]:
    found: dict[str, list[Referral]] = defaultdict(list)
    if not child_ids:
        return found
    rows = uow.session.scalars(
        select(Referral)
        .where(
            Referral.child_id.in_(child_ids),
            Referral.status.not_in([s.value for s in TERMINAL]),
        )
        .order_by(Referral.created_at, Referral.id)
    )
    for referral in rows:
        found[referral.child_id].append(referral)
    return found


def _affected(consent: ConsentRecord, open_referrals: list[Referral], today: date) -> bool:
    """Ending soon: always worth renewing. Lapsed: only while a partner has a referral."""
    if consent.valid_until >= today:
        return True
    return any(Status(r.status) in WITH_PARTNER for r in open_referrals)


def _described(referral: Referral, partner_names: Mapping[str, str]) -> AffectedReferral:
    name = partner_names.get(referral.partner_id, referral.partner_id)
    return AffectedReferral(referral.id, referral.status, referral.partner_id, name)


def _under_lvu(child: Child) -> bool:
    try:
        basis: str | None = child.placement_basis
    except DecryptionError:
        return False  # unreadable: listed, so that someone looks at the record
    return basis == PlacementBasis.LVU.value


def _party_name(consent: ConsentRecord, guardians: Mapping[str, Guardian]) -> str | None:
    if consent.party == CHILD_PARTY:
        return None
    guardian = guardians.get(consent.party)
    return guardian.name if guardian is not None else None


def _guardians(uow: UnitOfWork, consents: Iterable[ConsentRecord]) -> dict[str, Guardian]:
    ids = sorted({c.party for c in consents if c.party != CHILD_PARTY})
    db = uow.session
    found: dict[str, Guardian] = {}
    for chunk in chunks(ids):
        query = select(Guardian).where(one_of(db, Guardian.id, chunk))
        found.update((guardian.id, guardian) for guardian in db.scalars(query))
    return found


def lapse_queue(uow: UnitOfWork, actor: Actor, today: date, warning_days: int) -> list[LapseLine]:
    """Consents of the actor's district ending within `warning_days` of `today`, and those
    lapsed while a referral is with a partner; the most urgent first."""
    require(actor, Permission.CONSENT_QUEUE_READ)
    district_id = organisation_scope(actor)
    if district_id is None:
        return []  # city-wide roles have no district queue (and are not granted this)
    horizon = today + timedelta(days=warning_days)
    due = [c for c in _latest_given(uow, district_id) if c.valid_until <= horizon]
    open_referrals = _open_referrals(uow, {c.child_id for c in due})
    # Read for the whole queue at once (each line alone would cost a query for its child, its
    # child's key, its guardian and each referral's partner).
    children = children_by_id(uow, {c.child_id for c in due})
    guardians = _guardians(uow, due)
    partner_names = organisations.names_by_id(
        uow, (r.partner_id for rs in open_referrals.values() for r in rs)
    )
    lines: list[LapseLine] = []
    shown: dict[str, Child] = {}
    for consent in sorted(due, key=lambda c: (c.valid_until, c.child_id, c.party)):
        child_referrals = open_referrals.get(consent.child_id, [])
        if not _affected(consent, child_referrals, today):
            continue
        child = children.get(consent.child_id)
        if child is None or _under_lvu(child):
            continue
        require(actor, Permission.CONSENT_QUEUE_READ, child)
        shown[child.id] = child
        lines.append(
            LapseLine(
                child_id=child.id,
                child_name=child.name,
                consent_id=consent.id,
                party=consent.party,
                party_name=_party_name(consent, guardians),
                valid_until=consent.valid_until,
                days_left=(consent.valid_until - today).days,
                referrals=tuple(_described(r, partner_names) for r in child_referrals),
            )
        )
    # One entry per child, however many of its consents, all in one write.
    record_children_access(uow, actor, Action.CONSENT_QUEUE_READ, shown.values())
    uow.commit()
    return lines
