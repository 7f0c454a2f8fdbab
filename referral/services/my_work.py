"""The start page's "my work": what each person has to do next, most urgent first.

A social worker sees the children they are responsible for, each open referral with its
status and the next step with its date (a consent running out, a group starting); a group
leader sees the referrals waiting for an answer and the groups starting soon with the
children still missing their pre-group visit. Each child named is written to the access log
before the list is returned; the group leader's part is counts only, like the year overview.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import select

from referral.actors import Actor
from referral.db.people import ConsentRecord
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.policy import Permission, partner_scope, require
from referral.rules import WITH_PARTNER, PlacementBasis, Status
from referral.services import child_record
from referral.services.consent_queue import latest_given_by_child
from referral.services.group_dates import PlacedIn, groups_of
from referral.services.inbox_cards import days_received
from referral.services.referrals import partner_share
from referral.services.sharing import children_by_id, sharing_facts


class Step(StrEnum):
    """The next thing to happen on a case, and whose move it is."""

    RECORD_BASIS = "record_basis"  # the social worker: SoL or LVU is not recorded
    REFER = "refer"  # the social worker: no open referral
    SUBMIT = "submit"  # the social worker: a draft waits to be sent
    GET_CONSENT = "get_consent"  # the social worker: a custodian's consent is missing
    RENEW_CONSENT = "renew_consent"  # the social worker: a consent ends before the group does
    AWAIT_ANSWER = "await_answer"  # the partner: to accept or decline
    AWAIT_GROUP = "await_group"  # the partner: to place the child in a group
    ARRANGE_TRAVEL = "arrange_travel"  # the social worker: the group starts on the date
    FOLLOW_GROUP = "follow_group"  # nobody: the child takes part until the date


# Steps that are the social worker's to take: only these can be overdue.
MINE = frozenset({Step.RECORD_BASIS, Step.REFER, Step.SUBMIT, Step.GET_CONSENT, Step.RENEW_CONSENT})
# How far ahead a consent's end is worth a line of its own, when no group end tells.
CONSENT_HORIZON_DAYS = 42


@dataclass(frozen=True)
class CaseLine:
    """One line of the social worker's list: a child and one of their open referrals (or
    the child alone, when none is open)."""

    child_id: str
    child_name: str
    age: int
    placement_basis: str | None
    step: Step
    due_on: date | None = None  # when the step falls due (or the group starts or ends)
    referral_id: str | None = None
    partner_name: str | None = None
    status: str | None = None
    group_name: str | None = None
    overdue: bool = False

    @property
    def sort_key(self) -> tuple[bool, date, str]:
        # Overdue first, then by date (no date last), then by name.
        return (not self.overdue, self.due_on or date.max, self.child_name.casefold())


def _step(
    status: Status,
    placed: PlacedIn | None,
    consent_ends: date | None,
    under_sol: bool,
    today: date,
) -> tuple[Step, date | None]:
    ends = placed.ends_on if placed else None
    # A consent ending before the group does (or soon, before any group) cuts the partner
    # off half-way: renewing it comes before everything else.
    if (
        under_sol
        and consent_ends is not None
        and status in WITH_PARTNER
        and (
            (ends is not None and consent_ends < ends)
            or (ends is None and consent_ends <= today + timedelta(days=CONSENT_HORIZON_DAYS))
        )
    ):
        return Step.RENEW_CONSENT, consent_ends
    if status is Status.DRAFT:
        return Step.SUBMIT, None
    if status in (Status.SUBMITTED, Status.AWAITING_CONSENT):
        return Step.GET_CONSENT, None
    if status is Status.SHARED:
        return Step.AWAIT_ANSWER, None
    if status is Status.ACCEPTED:
        return Step.AWAIT_GROUP, None
    if status is Status.PLACED:
        return Step.ARRANGE_TRAVEL, placed.starts_on if placed else None
    return Step.FOLLOW_GROUP, ends


def social_worker_cases(uow: UnitOfWork, actor: Actor, today: date) -> list[CaseLine]:
    """The children `actor` is responsible for, one line per open referral, most urgent
    first. The children are read (and each one logged) as the district's list reads them."""
    children = child_record.children_in_care_of(uow, actor, today)
    child_ids = [child.id for child in children]
    consents: Mapping[str, list[ConsentRecord]] = {}
    if child_ids:
        consents = latest_given_by_child(
            uow.session.scalars(
                select(ConsentRecord)
                .where(ConsentRecord.child_id.in_(child_ids))
                .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
            )
        )
    placed = groups_of(uow, [r.referral_id for c in children for r in c.open_referrals])

    lines = []
    for child in children:
        basis = child.placement_basis
        given = consents.get(child.id, [])
        consent_ends = min((c.valid_until for c in given), default=None)
        if basis is None or not child.open_referrals:
            step = Step.RECORD_BASIS if basis is None else Step.REFER
            lines.append(CaseLine(child.id, child.name, child.age, basis, step))
        for referral in child.open_referrals:
            group = placed.get(referral.referral_id)
            step, due_on = _step(
                Status(referral.status),
                group,
                consent_ends,
                basis == PlacementBasis.SOL.value,
                today,
            )
            lines.append(
                CaseLine(
                    child_id=child.id,
                    child_name=child.name,
                    age=child.age,
                    placement_basis=basis,
                    referral_id=referral.referral_id,
                    partner_name=referral.partner_name,
                    status=referral.status,
                    step=step,
                    due_on=due_on,
                    group_name=group.group_name if group else None,
                    overdue=step in MINE and due_on is not None and due_on < today,
                )
            )
    return sorted(lines, key=lambda line: line.sort_key)


@dataclass(frozen=True)
class WaitingReferral:
    """A referral waiting for the partner's answer: when it came, never who it is about."""

    referral_id: str
    shared_on: date | None


def referrals_awaiting_answer(uow: UnitOfWork, actor: Actor, today: date) -> list[WaitingReferral]:
    """Referrals to the actor's organisation that wait for an answer and may lawfully be
    seen now, oldest first. No child is shown here (the inbox shows them, and logs that), so
    nothing is recorded."""
    require(actor, Permission.REFERRAL_INBOX)
    db = uow.session
    waiting = db.scalars(
        select(Referral)
        .where(
            Referral.partner_id == partner_scope(actor),
            Referral.status == Status.SHARED.value,
        )
        .order_by(Referral.created_at, Referral.id)
    ).all()
    children = children_by_id(uow, [r.child_id for r in waiting])
    facts = sharing_facts(uow, children)
    lawful = []
    for referral in waiting:
        child = children.get(referral.child_id)
        if child is None:
            continue
        if partner_share(uow, referral, child, today, facts[child.id]) is not None:
            lawful.append(referral)
    shared = days_received(uow, [r.id for r in lawful])
    return [WaitingReferral(r.id, shared.get(r.id)) for r in lawful]
