"""What a partner may see of a child today, read from the district's record: the one
predicate that a share, a notification, a roster and a partner's read all ask.

The law itself is in referral.rules (pure functions); this module gathers its facts (the
placement, the LVU sharing decisions, the guardians, each party's latest consent) from the
database, and deny by default: no placement, or a record that cannot be read, is not lawful.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select

from crypto import DecryptionError
from referral.db.base import IDS, ByIds, chunks, in_ids
from referral.db.encryption import session_cipher
from referral.db.people import Child, ConsentRecord, Guardian
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.rules import (
    WITH_PARTNER,
    Category,
    Consent,
    Decision,
    LawfulBasis,
    NotLawful,
    Placement,
    PlacementBasis,
    Status,
    sharing_basis,
)
from referral.rules import Guardian as GuardianFact

# The category whose sharing makes a referral visible to the partner at all: a partner cannot
# work with a child it may not name, and it never learns that an unnamed referral exists.
VISIBLE_WITH = Category.NAME
# What a new LVU placement shares until the social worker decides otherwise (issue: default
# name and age; contact details and registering participation are decided one by one).
LVU_DEFAULT_SHARED = frozenset({Category.NAME, Category.AGE})


@dataclass(frozen=True)
class LvuShare:
    """The social worker's documented decision on one category under LVU."""

    shared: bool
    decided_by: str  # a user id
    decided_on: date


def lvu_decisions(child: Child) -> dict[Category, LvuShare]:
    """The child's LVU sharing decisions, per category (empty when none are recorded)."""
    raw = child.lvu_sharing
    if not raw:
        return {}
    return {
        Category(name): LvuShare(
            bool(entry["shared"]), str(entry["by"]), date.fromisoformat(entry["on"])
        )
        for name, entry in json.loads(raw).items()
    }


def encode_lvu_decisions(decisions: dict[Category, LvuShare]) -> str:
    return json.dumps(
        {
            category.value: {
                "shared": share.shared,
                "by": share.decided_by,
                "on": share.decided_on.isoformat(),
            }
            for category, share in sorted(decisions.items())
        },
        sort_keys=True,
    )


def birth_date_of(child: Child) -> date:
    """From the personnummer (a samordningsnummer has 60 added to the day)."""
    number = child.personnummer
    return date(int(number[:4]), int(number[4:6]), int(number[6:8]) % 60)


@dataclass(frozen=True)
class SharingFacts:
    """What the law asks of a child's record besides the child's own row: who has custody,
    and each party's latest consent decision."""

    guardians: tuple[GuardianFact, ...]
    consents: tuple[Consent, ...]


def _consent(row: ConsentRecord) -> Consent:
    return Consent(
        consent_id=row.id,
        party=row.party,
        decision=Decision(row.decision),
        categories=frozenset(Category(c) for c in row.categories.split(",") if c),
        decided_on=row.decided_on,
        valid_until=row.valid_until,
    )


def _latest_consents(arrays: bool) -> Select[ConsentRecord]:
    """Each party's latest record for the children bound as :ids, and no other: the records
    are append-only, so a child's history grows with every renewal and withdrawal, and the
    database ranks it (in its index on child_id) rather than the service loading all of it
    to keep one row per party. Latest: recorded last; between two recorded at the same
    moment, the greater id, as the order the rows were read in before."""
    ranked = (
        select(
            ConsentRecord.id,
            func.row_number()
            .over(
                partition_by=(ConsentRecord.child_id, ConsentRecord.party),
                order_by=(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc()),
            )
            .label("rank"),
        )
        .where(in_ids(ConsentRecord.child_id, arrays))
        .subquery()
    )
    return (
        select(ConsentRecord)
        .join(ranked, ranked.c.id == ConsentRecord.id)
        .where(ranked.c.rank == 1)
        .order_by(ConsentRecord.child_id, ConsentRecord.party)
    )


_LATEST_CONSENTS = ByIds(_latest_consents)
_GUARDIANS = ByIds(
    lambda arrays: (
        select(Guardian.child_id, Guardian.id, Guardian.has_custody)
        .where(in_ids(Guardian.child_id, arrays))
        .order_by(Guardian.created_at, Guardian.id)
    )
)
_CHILDREN = ByIds(lambda arrays: select(Child).where(in_ids(Child.id, arrays)))


def sharing_facts(uow: UnitOfWork, child_ids: Iterable[str]) -> dict[str, SharingFacts]:
    """The facts of each child, read in two queries per 500 children: a list of referrals
    would otherwise read them once per child and category asked."""
    db = uow.session
    ids = sorted(set(child_ids))
    guardians: dict[str, list[GuardianFact]] = {child_id: [] for child_id in ids}
    latest: dict[str, dict[str, ConsentRecord]] = {child_id: {} for child_id in ids}
    for chunk in chunks(ids):
        for child_id, guardian_id, has_custody in db.execute(_GUARDIANS(db), {IDS: chunk}):
            guardians[child_id].append(GuardianFact(guardian_id, has_custody))
        for row in db.scalars(_LATEST_CONSENTS(db), {IDS: chunk}):
            latest[row.child_id][row.party] = row
    return {
        child_id: SharingFacts(
            tuple(guardians[child_id]), tuple(_consent(row) for row in latest[child_id].values())
        )
        for child_id in ids
    }


def current_consents(uow: UnitOfWork, child: Child) -> list[Consent]:
    """Each party's latest decision: later records replace earlier ones."""
    return list(sharing_facts(uow, [child.id])[child.id].consents)


def children_by_id(uow: UnitOfWork, child_ids: Iterable[str]) -> dict[str, Child]:
    """Many children in one query per 500, with their data keys unwrapped in one more, for a
    list that reads each one's sealed fields (a key fetched per child is a query per row)."""
    db = uow.session
    ids = sorted(set(child_ids))
    found: dict[str, Child] = {}
    for chunk in chunks(ids):
        found.update((child.id, child) for child in db.scalars(_CHILDREN(db), {IDS: chunk}))
    session_cipher(db).keys.load_many(db, (child.data_key_id for child in found.values()))
    return found


def _placement(child: Child) -> Placement | None:
    basis = child.placement_basis
    if basis is None:
        return None
    shared = frozenset(c for c, share in lvu_decisions(child).items() if share.shared)
    return Placement(PlacementBasis(basis), child.lvu_decision, child.lvu_decided_by, shared)


def sharing_basis_for(
    uow: UnitOfWork,
    child: Child,
    category: Category,
    today: date,
    facts: SharingFacts | None = None,
) -> LawfulBasis | NotLawful:
    """The ground on which a partner may see `category` of this child today, or why not.
    `facts`: the child's, when the caller has read them for a list (`sharing_facts`)."""
    return sharing_bases(uow, child, (category,), today, facts)[category]


def sharing_bases(
    uow: UnitOfWork,
    child: Child,
    categories: Iterable[Category],
    today: date,
    facts: SharingFacts | None = None,
) -> dict[Category, LawfulBasis | NotLawful]:
    """`sharing_basis_for` of several categories of one child, with its placement and birth
    date opened once for all of them (a partner's view weighs three per referral)."""
    wanted = tuple(categories)
    try:
        placement = _placement(child)
        if placement is None:
            return dict.fromkeys(wanted, NotLawful("No placement basis is recorded."))
        birth_date = birth_date_of(child)
    except DecryptionError:
        return dict.fromkeys(wanted, NotLawful("The child's record cannot be read."))
    if facts is None:
        facts = sharing_facts(uow, [child.id])[child.id]
    return {
        category: sharing_basis(
            placement, facts.guardians, facts.consents, category, birth_date, today
        )
        for category in wanted
    }


def visible_to_partner(
    uow: UnitOfWork, child: Child, today: date, facts: SharingFacts | None = None
) -> LawfulBasis | NotLawful:
    """May a partner holding a referral of this child see that it exists today?"""
    return sharing_basis_for(uow, child, VISIBLE_WITH, today, facts)


def partner_sees_referral(
    uow: UnitOfWork,
    referral: Referral,
    child: Child,
    today: date,
    facts: SharingFacts | None = None,
) -> LawfulBasis | None:
    """The inbox's rule for one referral: the partner holds it (shared, accepted, placed,
    participating) and may see the child's name today; the ground, or None. A notice that
    would name the child to the partner asks this, so it never shows more than the inbox."""
    if Status(referral.status) not in WITH_PARTNER:
        return None
    basis = visible_to_partner(uow, child, today, facts)
    return basis if isinstance(basis, LawfulBasis) else None
