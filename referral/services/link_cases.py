"""Programme B, linking (länkning): a link case takes one youth to one authority through
ordered, dated steps (initiated → contact made → handed over → closed); at hand-over it
records exactly which categories were disclosed and on what basis. A category is disclosed
only on a basis `referral.rules.handover_basis` finds on the day: from 18 the youth's own
consent, under 18 a god man's or a guardian's, or social services acting where the law lets
it (the provision recorded). A revoked consent counts for nothing from the next request on.

The youth's age decides whose consent counts. Known only by birth year, the youth is taken
to be as young as the year allows; with no birth date or year at all, a minor: the stricter
reading, so that no hand-over rests on a consent that might not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.base import utcnow
from referral.db.models import Organisation
from referral.db.outreach import (
    Authority,
    Disclosure,
    Encounter,
    LinkCase,
    LinkStep,
    LinkStepKind,
    Outcome,
    Youth,
    YouthConsent,
)
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.i18n import _
from referral.policy import Permission, organisation_scope, require
from referral.rules import (
    ConsentGiver,
    LawfulBasis,
    YouthCategory,
    YouthConsentFact,
    handover_basis,
    needs_own_consent_now,
)
from referral.services import duplicates, organisations
from referral.services.loading import get_for
from referral.services.outreach import youth_age

MAX_PURPOSE = 500
MAX_REFERENCE = 120
ORDER = list(LinkStepKind)
OBJECT_TYPE = "link_case"


@dataclass(frozen=True)
class NewLinkCase:
    youth_id: str
    authority: str
    purpose: str
    next_due_on: date  # when contact should be made
    district_id: str | None = None  # required for a district's social services


@dataclass(frozen=True)
class NewStep:
    step: str
    done_on: date
    next_due_on: date | None = None  # required unless closing
    categories: tuple[str, ...] = ()  # at hand-over: what is disclosed
    outcome: str | None = None  # at closing


@dataclass(frozen=True)
class NewYouthConsent:
    authority: str
    purpose: str
    categories: tuple[str, ...]
    given_by: str
    valid_from: date
    valid_until: date
    legal_reference: str | None = None  # required when social services acts


@dataclass(frozen=True)
class StepView:
    step: str
    done_on: date


@dataclass(frozen=True)
class DisclosureView:
    category: str
    basis: str
    consent_id: str
    disclosed_on: date


@dataclass(frozen=True)
class ConsentView:
    id: str
    authority: str
    categories: tuple[str, ...]
    given_by: str
    valid_from: date
    valid_until: date
    revoked: bool


@dataclass(frozen=True)
class LinkCaseView:
    id: str
    youth_id: str
    authority: str
    district_name: str | None
    purpose: str
    step: str
    next_due_on: date | None
    overdue: bool
    outcome: str | None
    steps: tuple[StepView, ...]
    disclosures: tuple[DisclosureView, ...]
    # The youth has turned 18 under a representative's consent: ask the youth now.
    needs_own_consent: bool


@dataclass(frozen=True)
class Handover:
    """What a district's social services was handed: only the categories disclosed."""

    case_id: str
    youth_id: str
    from_organisation: str
    handed_over_on: date
    categories: tuple[str, ...]
    alias: str | None
    identifiers: tuple[str, ...]
    situation: str | None
    needs: tuple[str, ...]


def _choice(value: str | None, allowed: Iterable[str], field: str) -> str:
    options = sorted(allowed)
    if value not in options:
        raise InvalidInput(_("Choose one of: %(values)s.", values=", ".join(options)), field=field)
    return value


def _categories(raw: Iterable[str]) -> list[str]:
    allowed = [x.value for x in YouthCategory]
    return sorted({_choice(c, allowed, "categories") for c in raw})


def _purpose(value: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned or len(cleaned) > MAX_PURPOSE:
        raise InvalidInput(_("Write 1-%(n)s characters.", n=MAX_PURPOSE), field="purpose")
    return cleaned


def _facts(uow: UnitOfWork, youth_id: str) -> list[YouthConsentFact]:
    rows = uow.session.scalars(select(YouthConsent).where(YouthConsent.youth_id == youth_id))
    return [
        YouthConsentFact(
            consent_id=c.id,
            authority=c.authority,
            categories=frozenset(YouthCategory(x) for x in c.categories.split(",") if x),
            given_by=ConsentGiver(c.given_by),
            valid_from=c.valid_from,
            valid_until=c.valid_until,
            revoked=c.revoked_at is not None,
        )
        for c in rows
    ]


def _youth(
    uow: UnitOfWork, actor: Actor, youth_id: str, permission: Permission, lock: bool = False
) -> Youth:
    """The youth, in the actor's reach. A write locks its row, so that it waits for a purge
    of the youth going on (and then finds it gone) rather than write into a purged record."""
    return get_for(uow, actor, permission, Youth, youth_id, field="youth_id", lock=lock)


# --- consents ------------------------------------------------------------------------------


def record_consent(
    uow: UnitOfWork, actor: Actor, youth_id: str, new: NewYouthConsent, today: date
) -> ConsentView:
    """Record a consent to disclose to one authority. Whose consent counts follows the
    youth's age on the day (refused at once when it could not count today)."""
    require(actor, Permission.YOUTH_CONSENT_RECORD)
    youth = _youth(uow, actor, youth_id, Permission.YOUTH_CONSENT_RECORD, lock=True)
    authority = _choice(new.authority, (a.value for a in Authority), "authority")
    given_by = ConsentGiver(_choice(new.given_by, (g.value for g in ConsentGiver), "given_by"))
    categories = sorted(
        {_choice(c, (x.value for x in YouthCategory), "categories") for c in new.categories}
    )
    if not categories:
        raise InvalidInput(_("Choose at least one category."), field="categories")
    if new.valid_until < new.valid_from:
        raise InvalidInput(_("A consent ends on or after the day it begins."), field="valid_until")
    if new.valid_from > today:
        raise InvalidInput(_("The decision cannot be dated after today."), field="valid_from")
    age = youth_age(youth, today)
    if age >= 18 and given_by is not ConsentGiver.YOUTH:
        raise InvalidInput(
            _("From 18 the youth consents alone: a representative's consent no longer counts."),
            field="given_by",
        )
    if age < 18 and given_by is ConsentGiver.YOUTH:
        raise InvalidInput(
            _("Under 18 a god man, a guardian or social services decides, not the youth alone."),
            field="given_by",
        )
    reference = (new.legal_reference or "").strip() or None
    if given_by is ConsentGiver.SOCIAL_SERVICES and not reference:
        raise InvalidInput(
            _("Name the provision social services acts on."), field="legal_reference"
        )
    if reference and len(reference) > MAX_REFERENCE:
        raise InvalidInput(_("At most %(n)s characters.", n=MAX_REFERENCE), field="legal_reference")
    consent = YouthConsent(
        youth_id=youth.id,
        organisation_id=youth.organisation_id,
        authority=authority,
        categories=",".join(categories),
        given_by=given_by.value,
        valid_from=new.valid_from,
        valid_until=new.valid_until,
        recorded_by=actor.user_id,
        purpose=_purpose(new.purpose),
        legal_reference=reference,
    )
    uow.session.add(consent)
    uow.session.flush()
    _record(uow, actor, Action.YOUTH_CONSENT_RECORD, youth, "youth_consent", consent.id)
    view = _consent_view(consent)
    uow.commit()
    return view


def revoke_consent(uow: UnitOfWork, actor: Actor, consent_id: str) -> ConsentView:
    """Revoked from this moment: the next hand-over that needed it is refused."""
    require(actor, Permission.YOUTH_CONSENT_RECORD)
    consent = get_for(
        uow,
        actor,
        Permission.YOUTH_CONSENT_RECORD,
        YouthConsent,
        consent_id,
        field="consent",
        lock=True,
    )
    youth = uow.session.get(Youth, consent.youth_id)
    assert youth is not None  # a foreign key
    if youth.purged_at is not None:  # purged with the youth's record: gone, as the record is
        raise NotFound(_("No such record."), field="consent")
    if consent.revoked_at is not None:
        raise Conflict(_("This consent is revoked already."), field="consent")
    consent.revoked_at, consent.revoked_by = utcnow(), actor.user_id
    uow.session.flush()
    _record(uow, actor, Action.YOUTH_CONSENT_REVOKE, youth, "youth_consent", consent.id)
    view = _consent_view(consent)
    uow.commit()
    return view


def _consent_view(consent: YouthConsent) -> ConsentView:
    return ConsentView(
        id=consent.id,
        authority=consent.authority,
        categories=tuple(c for c in consent.categories.split(",") if c),
        given_by=consent.given_by,
        valid_from=consent.valid_from,
        valid_until=consent.valid_until,
        revoked=consent.revoked_at is not None,
    )


def consents_of(uow: UnitOfWork, actor: Actor, youth_id: str) -> list[ConsentView]:
    require(actor, Permission.YOUTH_CONSENT_RECORD)
    youth = _youth(uow, actor, youth_id, Permission.YOUTH_CONSENT_RECORD)
    rows = uow.session.scalars(
        select(YouthConsent)
        .where(YouthConsent.youth_id == youth.id)
        .order_by(YouthConsent.recorded_at, YouthConsent.id)
    )
    return [_consent_view(c) for c in rows]


# --- link cases ----------------------------------------------------------------------------


def open_case(uow: UnitOfWork, actor: Actor, new: NewLinkCase, today: date) -> LinkCaseView:
    require(actor, Permission.LINK_CASE_MANAGE)
    youth = _youth(uow, actor, new.youth_id, Permission.LINK_CASE_MANAGE, lock=True)
    authority = _choice(new.authority, (a.value for a in Authority), "authority")
    district_id: str | None = None
    if authority == Authority.DISTRICT_SOCIAL_SERVICES.value:
        district_id = organisations.responsible_district(uow, new.district_id).id
    if new.next_due_on < today:
        raise InvalidInput(_("The next step cannot be due before today."), field="next_due_on")
    case = LinkCase(
        youth_id=youth.id,
        organisation_id=youth.organisation_id,
        authority=authority,
        district_id=district_id,
        step=LinkStepKind.INITIATED.value,
        next_due_on=new.next_due_on,
        opened_by=actor.user_id,
        purpose=_purpose(new.purpose),
    )
    uow.session.add(case)
    uow.session.flush()
    uow.session.add(
        LinkStep(case_id=case.id, step=case.step, done_on=today, recorded_by=actor.user_id)
    )
    uow.session.flush()
    _record(uow, actor, Action.LINK_CASE_OPEN, youth, OBJECT_TYPE, case.id)
    view = _view(uow, case, youth, today)
    uow.commit()
    return view


def _steps(uow: UnitOfWork, case_id: str) -> Sequence[LinkStep]:
    return uow.session.scalars(
        select(LinkStep)
        .where(LinkStep.case_id == case_id)
        .order_by(LinkStep.done_on, LinkStep.recorded_at)
    ).all()


def record_step(
    uow: UnitOfWork, actor: Actor, case_id: str, new: NewStep, today: date
) -> LinkCaseView:
    """The next step, in order, dated no earlier than the last and no later than today; at
    hand-over, each category disclosed on a basis that holds today; at closing, an outcome."""
    require(actor, Permission.LINK_CASE_MANAGE)
    case = get_for(
        uow, actor, Permission.LINK_CASE_MANAGE, LinkCase, case_id, field="case", lock=True
    )
    step = _choice(new.step, (s.value for s in LinkStepKind), "step")
    if case.step == LinkStepKind.CLOSED.value:
        raise Conflict(_("This link case is closed."), field="case")
    expected = ORDER[ORDER.index(LinkStepKind(case.step)) + 1]
    if step != expected.value:
        raise InvalidInput(_("The next step is %(step)s.", step=expected.value), field="step")
    last = _steps(uow, case.id)[-1]
    if new.done_on < last.done_on:
        raise InvalidInput(_("A step cannot be dated before the previous one."), field="done_on")
    if new.done_on > today:
        raise InvalidInput(_("A step cannot be dated after today."), field="done_on")
    closing = expected is LinkStepKind.CLOSED
    if not closing and (new.next_due_on is None or new.next_due_on < new.done_on):
        raise InvalidInput(_("Say when the next step is due."), field="next_due_on")
    youth = uow.session.get(Youth, case.youth_id)
    assert youth is not None  # a foreign key
    if expected is LinkStepKind.HANDED_OVER:
        _disclose(uow, actor, case, youth, new.categories, new.done_on, today)
    if closing:
        case.outcome = _choice(new.outcome, (o.value for o in Outcome), "outcome")
    case.step = expected.value
    case.next_due_on = None if closing else new.next_due_on
    uow.session.add(
        LinkStep(case_id=case.id, step=case.step, done_on=new.done_on, recorded_by=actor.user_id)
    )
    uow.session.flush()
    _record(uow, actor, Action.LINK_CASE_STEP, youth, OBJECT_TYPE, case.id)
    view = _view(uow, case, youth, today)
    uow.commit()
    return view


def _disclose(
    uow: UnitOfWork,
    actor: Actor,
    case: LinkCase,
    youth: Youth,
    raw: Sequence[str],
    on: date,
    today: date,
) -> None:
    categories = _categories(raw)
    if not categories:
        raise InvalidInput(_("Choose what is handed over."), field="categories")
    # This record and any linked to it (the same youth): each must allow the category, so
    # the more restrictive consent wins.
    linked = [uow.session.get(Youth, other) for other in duplicates.linked_records(uow, youth.id)]
    records = [(youth_age(r, today), _facts(uow, r.id)) for r in (youth, *linked) if r]
    bases: dict[str, LawfulBasis] = {}
    for category in categories:  # every category decided before anything is written
        found = [
            handover_basis(age, facts, case.authority, YouthCategory(category), today)
            for age, facts in records
        ]
        basis = next((b for b in found if not isinstance(b, LawfulBasis)), found[0])
        if not isinstance(basis, LawfulBasis):
            raise InvalidInput(
                _("%(category)s: %(reason)s", category=category, reason=_(basis.reason)),
                field="categories",
            )
        bases[category] = basis
    for category, basis in bases.items():
        uow.session.add(
            Disclosure(
                case_id=case.id,
                category=category,
                basis=basis.kind.value,
                consent_id=basis.reference,
                disclosed_on=on,
                recorded_by=actor.user_id,
            )
        )
        record(
            uow.session,
            actor,
            Action.HANDOVER,
            object_type=OBJECT_TYPE,
            object_id=case.id,
            subject=youth.key_scope(),
            legal_basis=basis.kind.value,
        )


def _view(uow: UnitOfWork, case: LinkCase, youth: Youth, today: date) -> LinkCaseView:
    district = uow.session.get(Organisation, case.district_id) if case.district_id else None
    disclosures = uow.session.scalars(
        select(Disclosure).where(Disclosure.case_id == case.id).order_by(Disclosure.category)
    )
    open_case_ = case.step != LinkStepKind.CLOSED.value
    return LinkCaseView(
        id=case.id,
        youth_id=case.youth_id,
        authority=case.authority,
        district_name=district.name if district else None,
        purpose=case.purpose,
        step=case.step,
        next_due_on=case.next_due_on,
        overdue=case.next_due_on is not None and case.next_due_on < today,
        outcome=case.outcome,
        steps=tuple(StepView(s.step, s.done_on) for s in _steps(uow, case.id)),
        disclosures=tuple(
            DisclosureView(d.category, d.basis, d.consent_id, d.disclosed_on) for d in disclosures
        ),
        needs_own_consent=open_case_
        and needs_own_consent_now(youth_age(youth, today), _facts(uow, youth.id), today),
    )


def cases_of(
    uow: UnitOfWork, actor: Actor, youth_id: str, today: date, *, logged: bool = False
) -> list[LinkCaseView]:
    """A youth's link cases, overdue first. Each shown is a read of the youth, logged unless
    the caller has `logged` this read of the youth already (the youth's page does)."""
    require(actor, Permission.LINK_CASE_MANAGE)
    youth = _youth(uow, actor, youth_id, Permission.LINK_CASE_MANAGE)
    cases = uow.session.scalars(
        select(LinkCase).where(LinkCase.youth_id == youth.id).order_by(LinkCase.created_at)
    ).all()
    views = sorted(
        (_view(uow, case, youth, today) for case in cases),
        key=lambda v: (not v.overdue, v.step == LinkStepKind.CLOSED.value),
    )
    for view in views if not logged else ():
        _record(uow, actor, Action.LINK_CASE_READ, youth, OBJECT_TYPE, view.id)
    uow.commit()
    return views


@dataclass(frozen=True)
class DueCase:
    """An open link case whose next step is due, for the worker's start page: the youth's
    record by id, the authority and the day; nothing personal."""

    case_id: str
    youth_id: str
    authority: str
    step: str
    next_due_on: date
    overdue: bool


def due_cases(uow: UnitOfWork, actor: Actor, today: date, within_days: int = 7) -> list[DueCase]:
    """The organisation's open link cases due within `within_days`, overdue first."""
    require(actor, Permission.LINK_CASE_MANAGE)
    scope = organisation_scope(actor)
    query = (
        select(LinkCase)
        .where(
            LinkCase.next_due_on.is_not(None),
            LinkCase.next_due_on <= today + timedelta(days=within_days),
        )
        .order_by(LinkCase.next_due_on, LinkCase.id)
    )
    if scope is not None:
        query = query.where(LinkCase.organisation_id == scope)
    return [
        DueCase(c.id, c.youth_id, c.authority, c.step, c.next_due_on, c.next_due_on < today)
        for c in uow.session.scalars(query)
        if c.next_due_on is not None
    ]


# --- the district --------------------------------------------------------------------------


def handovers_to_district(uow: UnitOfWork, actor: Actor) -> list[Handover]:
    """What was handed over to the actor's district's social services, newest first, each
    shown only as far as its disclosures reach, each read logged with its basis."""
    require(actor, Permission.HANDOVER_READ)
    district_id = organisation_scope(actor)
    query = (
        select(LinkCase)
        .join(Youth, Youth.id == LinkCase.youth_id)
        .where(
            LinkCase.step.in_([LinkStepKind.HANDED_OVER.value, LinkStepKind.CLOSED.value]),
            LinkCase.authority == Authority.DISTRICT_SOCIAL_SERVICES.value,
            # Once the outreach record is purged, what it handed over is gone from here too
            # (the district keeps what it took into its own case file).
            Youth.purged_at.is_(None),
        )
    )
    if district_id is not None:
        query = query.where(LinkCase.district_id == district_id)
    found: list[Handover] = []
    for case in uow.session.scalars(query.order_by(LinkCase.created_at.desc())):
        require(actor, Permission.HANDOVER_READ, case)
        youth = uow.session.get(Youth, case.youth_id)
        holder = uow.session.get(Organisation, case.organisation_id)
        assert youth is not None and holder is not None
        disclosed = list(
            uow.session.scalars(select(Disclosure).where(Disclosure.case_id == case.id))
        )
        categories = {d.category for d in disclosed}
        for basis in sorted({d.basis for d in disclosed}):
            record(
                uow.session,
                actor,
                Action.HANDOVER_READ,
                object_type=OBJECT_TYPE,
                object_id=case.id,
                subject=youth.key_scope(),
                legal_basis=basis,
            )
        identity = YouthCategory.IDENTITY.value in categories
        found.append(
            Handover(
                case_id=case.id,
                youth_id=youth.id,
                from_organisation=holder.name,
                handed_over_on=min(d.disclosed_on for d in disclosed),
                categories=tuple(sorted(categories)),
                alias=youth.alias if identity else None,
                identifiers=tuple(
                    v for v in (youth.personnummer, youth.lma_number, youth.dossier_number) if v
                )
                if identity
                else (),
                situation=youth.situation if YouthCategory.SITUATION.value in categories else None,
                needs=_needs(uow, youth.id) if YouthCategory.NEEDS.value in categories else (),
            )
        )
    uow.commit()
    return found


def _needs(uow: UnitOfWork, youth_id: str) -> tuple[str, ...]:
    rows = uow.session.scalars(select(Encounter.needs).where(Encounter.youth_id == youth_id))
    return tuple(sorted({need for needs in rows for need in needs.split(",") if need}))


def _record(
    uow: UnitOfWork,
    actor: Actor,
    action: Action,
    youth: Youth,
    object_type: str,
    object_id: str,
) -> None:
    record(
        uow.session,
        actor,
        action,
        object_type=object_type,
        object_id=object_id,
        subject=youth.key_scope(),
    )
