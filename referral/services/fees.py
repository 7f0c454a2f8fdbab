"""The fee report: children placed by other municipalities who took a place in the partner's
groups, 5 000 SEK each, per paying municipality (domain.md §2, rule 6 of Programme A).

The report names no child: a referral reference, the group and the paying municipality are
what an invoice needs. The paying municipality is sealed in the district's record of the
child (it says where the child comes from), so each line is a read of that child's record,
decrypted here and written to the access log before the report is returned.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from audit.actions import Action
from referral.actors import Actor
from referral.db.groups import Enrolment, Group
from referral.db.people import Child
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.policy import Permission, organisation_scope, require
from referral.rules import FEE_OTHER_MUNICIPALITY_SEK, Status
from referral.services.children import record_child_access

# A place that was taken: the child was in the group (not withdrawn before it ended).
TAKEN = frozenset({Status.PLACED, Status.PARTICIPATING, Status.COMPLETED})


@dataclass(frozen=True)
class FeeLine:
    referral_ref: str
    group_name: str
    group_start: date
    municipality: str
    fee_sek: int


@dataclass(frozen=True)
class FeeReport:
    year: int
    lines: tuple[FeeLine, ...]
    per_municipality: tuple[tuple[str, int, int], ...]  # (municipality, children, SEK)

    @property
    def total_sek(self) -> int:
        return sum(line.fee_sek for line in self.lines)


def fee_report(uow: UnitOfWork, actor: Actor, year: int) -> FeeReport:
    require(actor, Permission.FEE_REPORT_READ)
    # By the year's groups, the places taken picked here: asked for the referrals' status too,
    # SQLite (without statistics) began at the index on the status and read every place
    # ever taken in the city; a year's groups hold a few hundred.
    query = (
        select(Referral.id, Referral.status, Group.name, Group.start_date, Child)
        .join(Enrolment, Enrolment.referral_id == Referral.id)
        .join(Group, Group.id == Enrolment.group_id)
        .join(Child, Child.id == Referral.child_id)
        .where(
            Child._paying_municipality.is_not(None),
            Group.start_date >= date(year, 1, 1),
            Group.start_date <= date(year, 12, 31),
        )
        .order_by(Group.start_date, Referral.id)
    )
    scope = organisation_scope(actor)
    if scope is not None:
        query = query.where(Group.partner_id == scope)
    taken = {s.value for s in TAKEN}
    found = [
        (referral_id, name, start, child)
        for referral_id, status, name, start, child in uow.session.execute(query)
        if status in taken
    ]
    for *_line, child in found:
        record_child_access(uow, actor, Action.FEE_REPORT_READ, child)
    uow.commit()  # each child's line is on record before any is shown
    lines = tuple(
        sorted(
            (
                FeeLine(
                    referral_id[:8],
                    name,
                    start,
                    str(child.paying_municipality),
                    FEE_OTHER_MUNICIPALITY_SEK,
                )
                for referral_id, name, start, child in found
            ),
            key=lambda line: (line.municipality, line.group_start, line.referral_ref),
        )
    )
    counts = Counter(line.municipality for line in lines)
    return FeeReport(
        year=year,
        lines=lines,
        per_municipality=tuple(
            (name, n, n * FEE_OTHER_MUNICIPALITY_SEK) for name, n in sorted(counts.items())
        ),
    )
