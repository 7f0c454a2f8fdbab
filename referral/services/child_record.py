"""The district's view of its children: the list a social worker works from and one child's
whole record (placement, guardians, consent history, referrals and their history).

Both are reads of personal data: each child shown is written to the access log before the
data is returned, so the child's subject-access report lists every look.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from audit.actions import Action
from referral.actors import Actor
from referral.db.base import id_param
from referral.db.encryption import session_cipher
from referral.db.models import Organisation
from referral.db.people import Child, ConsentRecord, Guardian
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput
from referral.i18n import _
from referral.policy import (
    Permission,
    belongs_to,
    emergency_legal_basis,
    organisation_scope,
    require,
)
from referral.rules import (
    CHILD_PARTY,
    OWN_CONSENT_AGE,
    TERMINAL,
    Category,
    Decision,
    LawfulBasis,
    NotLawful,
    PlacementBasis,
    Status,
    age_on,
)
from referral.services import case_numbers, concern_reports, organisations
from referral.services.children import record_child_access, record_children_access
from referral.services.group_dates import groups_of
from referral.services.loading import get_for
from referral.services.personnummer_reveal import masked
from referral.services.sharing import (
    LvuShare,
    birth_date_of,
    lvu_decisions,
    sharing_basis_for,
    sharing_facts,
)
from referral.services.users import staff_names


@dataclass(frozen=True)
class GuardianView:
    id: str
    name: str
    contact: str | None
    has_custody: bool


@dataclass(frozen=True)
class ConsentView:
    id: str
    party: str
    party_name: str
    decision: str
    categories: tuple[str, ...]
    decided_on: date
    valid_until: date
    method: str
    description_version: str
    recorded_by: str
    recorded_at: datetime
    current: bool  # the party's latest decision; earlier ones are history


@dataclass(frozen=True)
class EventView:
    from_status: str | None
    to_status: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ReferralView:
    id: str
    partner_id: str
    partner_name: str
    status: str
    preferred_format: str
    notes: str | None
    created_at: datetime
    open: bool
    events: tuple[EventView, ...]
    # The group the child is placed in, when placed: the district arranges travel by its
    # dates, and a consent should last until its last session.
    group_name: str | None = None
    group_starts_on: date | None = None
    group_ends_on: date | None = None


@dataclass(frozen=True)
class LvuShareView:
    """The social worker's decision on one category under LVU, and who made it when."""

    category: str
    shared: bool
    decided_by: str
    decided_on: date


@dataclass(frozen=True)
class ChildRecord:
    id: str
    name: str
    birth_date: date
    age: int
    # YYYYMMDD-****: the full number is revealed on request only (personnummer_reveal).
    personnummer_masked: str
    case_number: str | None  # the district's own reference in its case system
    responsible_worker_id: str | None
    responsible_worker: str | None  # the social worker's display name
    placement_basis: str | None
    lvu_decision: str | None
    lvu_decided_by: str | None
    lvu_decided_on: str | None
    gender: str | None
    family_home_name: str | None
    family_home_address: str | None
    family_home_phone: str | None
    paying_municipality: str | None
    child_views: str | None
    lvu_sharing: tuple[LvuShareView, ...]  # empty unless placed under LVU
    guardians: tuple[GuardianView, ...]
    consents: tuple[ConsentView, ...]
    referrals: tuple[ReferralView, ...]
    # Per category: on what ground a partner may see it today, or why not.
    sharing: tuple[tuple[Category, LawfulBasis | NotLawful], ...]
    # A concern report about the child is open (for the child's own district only).
    concern: bool = False

    @property
    def group_ends_on(self) -> date | None:
        """When the last group the child is placed in ends (open referrals only)."""
        ends = [r.group_ends_on for r in self.referrals if r.open and r.group_ends_on]
        return max(ends) if ends else None

    @property
    def consents_ending_before_the_group(self) -> tuple[ConsentView, ...]:
        """Current consents given that run out before the child's group ends: the partner
        would lose access half-way."""
        end = self.group_ends_on
        if end is None:
            return ()
        return tuple(
            c
            for c in self.consents
            if c.current and c.decision == Decision.GIVEN.value and c.valid_until < end
        )

    @property
    def needs_own_consent(self) -> bool:
        return self.placement_basis == PlacementBasis.SOL.value and self.age >= OWN_CONSENT_AGE


class OpenReferral(NamedTuple):
    """One open referral of a child in a list: (partner name, status) first, as the API's
    list has always given them, then what a page needs to link to it."""

    partner_name: str
    status: str
    referral_id: str
    updated_at: datetime


@dataclass(frozen=True)
class ChildSummary:
    id: str
    name: str
    age: int
    placement_basis: str | None
    open_referrals: tuple[OpenReferral, ...]  # oldest first
    concern: bool = False  # a concern report about the child is open
    responsible_worker_id: str | None = None
    responsible_worker: str | None = None  # the social worker's display name
    birth_date: date | None = None


# The record's statements, built once (a social worker opens records all day).
_GUARDIANS = (
    select(Guardian).where(Guardian.child_id == id_param("child_id")).order_by(Guardian.created_at)
)
_CONSENTS = (
    select(ConsentRecord)
    .where(ConsentRecord.child_id == id_param("child_id"))
    .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
)
_REFERRALS = (
    select(Referral)
    .where(Referral.child_id == id_param("child_id"))
    .order_by(Referral.created_at)
    .options(selectinload(Referral.events))  # each referral's history, in one query
)


def read_child_record(uow: UnitOfWork, actor: Actor, child_id: str, today: date) -> ChildRecord:
    """One child's record for a social worker of the child's district, or one holding a
    live emergency grant for the child (404 for others)."""
    require(actor, Permission.CHILD_READ)
    child = get_for(uow, actor, Permission.CHILD_READ, Child, child_id, field="child")
    # A read through an emergency grant says so in the log ("emergency_access").
    basis = emergency_legal_basis(actor, Permission.CHILD_READ, child)
    record_child_access(uow, actor, Action.CHILD_READ, child, legal_basis=basis)
    uow.commit()  # the access is on record before anything is shown

    db = uow.session
    of_child = {"child_id": child.id}
    guardians = db.scalars(_GUARDIANS, of_child).all()
    consent_rows = db.scalars(_CONSENTS, of_child).all()
    referral_rows = db.scalars(_REFERRALS, of_child).all()
    lvu = lvu_decisions(child) if child.placement_basis == PlacementBasis.LVU.value else {}
    staff = staff_names(
        uow,
        {row.recorded_by for row in consent_rows}
        | {event.by for r in referral_rows for event in r.events}
        | {share.decided_by for share in lvu.values()}
        | ({child.responsible_worker_id} if child.responsible_worker_id else set()),
    )
    birth_date = birth_date_of(child)
    facts = sharing_facts(uow, [child.id])[child.id]  # once for every category shown
    return ChildRecord(
        id=child.id,
        name=child.name,
        birth_date=birth_date,
        age=age_on(birth_date, today),
        personnummer_masked=masked(child.personnummer),
        case_number=child.case_number,
        responsible_worker_id=child.responsible_worker_id,
        responsible_worker=(
            staff.get(child.responsible_worker_id) if child.responsible_worker_id else None
        ),
        placement_basis=child.placement_basis,
        lvu_decision=child.lvu_decision,
        lvu_decided_by=child.lvu_decided_by,
        lvu_decided_on=child.lvu_decided_on,
        gender=child.gender,
        family_home_name=child.family_home_name,
        family_home_address=child.family_home_address,
        family_home_phone=child.family_home_phone,
        paying_municipality=child.paying_municipality,
        child_views=child.child_views,
        lvu_sharing=_lvu_sharing_views(lvu, staff),
        guardians=tuple(GuardianView(g.id, g.name, g.contact, g.has_custody) for g in guardians),
        consents=_consent_views(consent_rows, {g.id: g.name for g in guardians}, staff),
        referrals=_referral_views(uow, referral_rows, staff),
        sharing=tuple(
            (category, sharing_basis_for(uow, child, category, today, facts))
            for category in Category
        ),
        # Not through an emergency grant: the flag is the placing district's to see.
        concern=belongs_to(actor, child.district_id)
        and bool(concern_reports.children_with_open_reports(uow, [child.id])),
    )


def _lvu_sharing_views(
    lvu: Mapping[Category, LvuShare], staff: Mapping[str, str]
) -> tuple[LvuShareView, ...]:
    """The social worker's documented decision per category under LVU, in category order."""
    return tuple(
        LvuShareView(
            category.value,
            lvu[category].shared,
            staff.get(lvu[category].decided_by, lvu[category].decided_by),
            lvu[category].decided_on,
        )
        for category in Category
        if category in lvu
    )


def _consent_views(
    rows: Sequence[ConsentRecord], guardian_names: Mapping[str, str], staff: Mapping[str, str]
) -> tuple[ConsentView, ...]:
    """Every consent decision, newest first; the latest per party is marked current."""
    latest = {row.party: row.id for row in rows}
    return tuple(
        ConsentView(
            id=row.id,
            party=row.party,
            party_name=(
                _("The child") if row.party == CHILD_PARTY else guardian_names.get(row.party, "?")
            ),
            decision=row.decision,
            categories=tuple(c for c in row.categories.split(",") if c),
            decided_on=row.decided_on,
            valid_until=row.valid_until,
            method=row.method,
            description_version=row.description_version,
            recorded_by=staff.get(row.recorded_by, row.recorded_by),
            recorded_at=row.recorded_at,
            current=latest[row.party] == row.id,
        )
        for row in reversed(rows)
    )


def _referral_views(
    uow: UnitOfWork, rows: Sequence[Referral], staff: Mapping[str, str]
) -> tuple[ReferralView, ...]:
    """The child's referrals, newest first, with their partner's name and their history."""
    partners = organisations.names_by_id(uow, (r.partner_id for r in rows))
    groups = groups_of(uow, [r.id for r in rows])
    return tuple(
        ReferralView(
            id=r.id,
            partner_id=r.partner_id,
            partner_name=partners.get(r.partner_id, "?"),
            status=r.status,
            preferred_format=r.preferred_format,
            notes=r.notes,
            created_at=r.created_at,
            open=Status(r.status) not in TERMINAL,
            events=tuple(
                EventView(e.from_status, e.to_status, staff.get(e.by, e.by), e.at) for e in r.events
            ),
            group_name=groups[r.id].group_name if r.id in groups else None,
            group_starts_on=groups[r.id].starts_on if r.id in groups else None,
            group_ends_on=groups[r.id].ends_on if r.id in groups else None,
        )
        for r in reversed(rows)
    )


MIN_NAME_SEARCH = 2  # letters: one would list half the district


def _named(words: Sequence[str]) -> Callable[[Child], bool]:
    return lambda child: all(word in child.name.casefold() for word in words)


def _with_case_number(key: str) -> Callable[[Child], bool]:
    return lambda child: case_numbers.matches(child.case_number, key)


def district_children_named(
    uow: UnitOfWork, actor: Actor, text: str, today: date
) -> list[ChildSummary]:
    """The district's children whose name contains `text` (any case, any order of the
    words typed), or whose case number is `text` (whole, any case, any spacing): the
    district list, filtered after decryption (names and case numbers are sealed, so no index
    can search them); each child listed is logged as the list logs it."""
    words = [word.casefold() for word in text.split()]
    long_enough = sum(len(word) for word in words) >= MIN_NAME_SEARCH
    by_name = _named(words)
    by_case = _with_case_number(case_numbers.search_key(text))
    found = district_children(
        uow,
        actor,
        today,
        matching=lambda child: (long_enough and by_name(child)) or by_case(child),
    )
    if not found and not long_enough:
        raise InvalidInput(
            _("Type at least %(n)s letters of the name.", n=MIN_NAME_SEARCH),
            field="personnummer",
        )
    return found


def district_children_with_case_number(
    uow: UnitOfWork, actor: Actor, text: str, today: date
) -> list[ChildSummary]:
    """The district's children whose case number is `text` (whole, any case, any spacing),
    each one listed logged as the list logs it."""
    key = case_numbers.search_key(text)
    return district_children(uow, actor, today, matching=_with_case_number(key))


class ChildOrder(StrEnum):
    """How the district's list is sorted (a query parameter: no personal data in it)."""

    NEWEST = "newest"  # registered most recently first
    NAME = "name"
    AGE = "age"  # youngest first
    STATUS = "status"  # the open referral furthest from the partner first; none last


# Where a referral stands on its way to the group, first what still waits on the district.
_STATUS_ORDER = [
    Status.DRAFT,
    Status.SUBMITTED,
    Status.AWAITING_CONSENT,
    Status.SHARED,
    Status.ACCEPTED,
    Status.PLACED,
    Status.PARTICIPATING,
]
# Swedish alphabetical order ends z, å, ä, ö; code points put ä before å. These three
# characters sort right after z in ASCII, in Swedish order.
_SWEDISH = str.maketrans({"å": "{", "ä": "|", "ö": "}", "æ": "|", "ø": "}"})


def _name_key(summary: ChildSummary) -> str:
    return summary.name.casefold().translate(_SWEDISH)


def _status_key(summary: ChildSummary) -> tuple[int, str]:
    ranks = [
        _STATUS_ORDER.index(Status(r.status))
        for r in summary.open_referrals
        if Status(r.status) in _STATUS_ORDER
    ]
    return (min(ranks) if ranks else len(_STATUS_ORDER), _name_key(summary))


def _ordered(summaries: list[ChildSummary], order: ChildOrder) -> list[ChildSummary]:
    if order is ChildOrder.NAME:
        return sorted(summaries, key=_name_key)
    if order is ChildOrder.AGE:
        return sorted(
            summaries, key=lambda s: (-(s.birth_date or date.min).toordinal(), _name_key(s))
        )
    if order is ChildOrder.STATUS:
        return sorted(summaries, key=_status_key)
    return summaries  # as queried: newest first


def district_children(
    uow: UnitOfWork,
    actor: Actor,
    today: date,
    *,
    concern_only: bool = False,
    mine: bool = False,
    matching: Callable[[Child], bool] | None = None,
    order: ChildOrder = ChildOrder.NEWEST,
) -> list[ChildSummary]:
    """The children of the actor's district (with `concern_only`, only those with an open
    concern report; with `mine`, only those the actor is responsible for; with `matching`,
    only those it accepts), in `order`, each one shown written to the log (and only
    those)."""
    require(actor, Permission.CHILD_READ)
    db = uow.session
    query = select(Child).order_by(Child.created_at.desc())
    scope = organisation_scope(actor)
    if scope is not None:
        query = query.where(Child.district_id == scope)
    if mine:
        query = query.where(Child.responsible_worker_id == actor.user_id)
    found = list(db.scalars(query))
    # Every child's key at once: each name and personnummer read below would fetch its own.
    session_cipher(db).keys.load_many(db, (child.data_key_id for child in found))
    flagged = concern_reports.children_with_open_reports(uow, [c.id for c in found])
    if concern_only:
        found = [child for child in found if child.id in flagged]
    if (
        matching is not None
    ):  # (sealed fields are read here, in the service: they leave only if shown)
        found = [child for child in found if matching(child)]
    record_children_access(uow, actor, Action.CHILD_LIST, found)
    uow.commit()
    open_referrals: dict[str, list[OpenReferral]] = {}
    if found:
        rows = db.execute(
            select(
                Referral.child_id,
                Organisation.name,
                Referral.status,
                Referral.id,
                Referral.updated_at,
            )
            .join(Organisation, Organisation.id == Referral.partner_id)
            .where(
                Referral.child_id.in_([c.id for c in found]),
                Referral.status.not_in([s.value for s in TERMINAL]),
            )
            .order_by(Referral.created_at)
        )
        for child_id, partner_name, status, referral_id, updated_at in rows:
            open_referrals.setdefault(child_id, []).append(
                OpenReferral(partner_name, status, referral_id, updated_at)
            )
    workers = staff_names(uow, {c.responsible_worker_id for c in found if c.responsible_worker_id})
    summaries = []
    for child in found:
        birth_date = birth_date_of(child)
        summaries.append(
            ChildSummary(
                id=child.id,
                name=child.name,
                age=age_on(birth_date, today),
                placement_basis=child.placement_basis,
                open_referrals=tuple(open_referrals.get(child.id, ())),
                concern=child.id in flagged,
                responsible_worker_id=child.responsible_worker_id,
                responsible_worker=(
                    workers.get(child.responsible_worker_id)
                    if child.responsible_worker_id
                    else None
                ),
                birth_date=birth_date,
            )
        )
    return _ordered(summaries, order)


def children_in_care_of(uow: UnitOfWork, actor: Actor, today: date) -> list[ChildSummary]:
    """The children `actor` (a social worker) is responsible for, with each one's open
    referrals (partner, status, referral id, last change), those waiting on the social
    worker first (ChildOrder.STATUS); each child listed is written to the log as the
    district's list does, and only those."""
    return district_children(uow, actor, today, mine=True, order=ChildOrder.STATUS)
