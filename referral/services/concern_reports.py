"""Concern reports (orosanmälan): the duty to report that no missing consent can block.

Anyone who works with children in the partnerships must report concern that a child is being
harmed (14 kap. 1 § SoL 2001:453; 19 kap. 1 § in the new act; domain.md §3). So:

- **Filing** needs no consent, no LVU and no identity: a report names a child the reporter
  works with (a referral sent to the reporter's organisation, or a child of the social
  worker's own district), a personnummer, or only what the reporter knows (a name or alias,
  an approximate age, the place, a description).
- **Routing** goes to the placing district of a child the service knows (found by the
  referral, the record, or the personnummer the reporter typed), else to the city's social
  emergency service (socialjouren). It never depends on consent, and it never widens the
  reporter's access: the reporter is told only that social services received the report, not
  who, and not whether the service knew the child (the routing would say where the child
  lives). The report is not in the reporter's scope either (referral.policy.ReceivedBy).
- **Receipt** (kvittens): the receiving organisation acknowledges it (who, when, its own case
  reference); the reporter sees "received / acknowledged at T", nothing of the case. Not
  acknowledged within the configured working hours, it is overdue.
- **Audit**: filing, routing, every read and the acknowledgement are in the access log with
  the legal basis `concern_report`, under the report's own key scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, select

from audit.actions import Action
from audit.record import record, timestamp
from config import Settings
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.base import ByIds, in_ids, utcnow
from referral.db.concern import ConcernReport, ConcernStatus, Routing, SubjectKind
from referral.db.encryption import EncryptedRecord
from referral.db.models import Organisation, User
from referral.db.outreach import Youth
from referral.db.people import Child
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import (
    Conflict,
    Denial,
    DomainError,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from referral.i18n import _
from referral.policy import (
    Permission,
    can,
    may_report_concern_about,
    organisation_scope,
    require,
)
from referral.rules import BasisKind
from referral.services import children, organisations
from referral.services.loading import get_for
from referral.services.users import staff_names
from referral.working_time import WorkingDay

OBJECT_TYPE = "concern_report"
TRAIL_CLOCK_MARGIN = timedelta(days=1)
LEGAL_BASIS = BasisKind.CONCERN_REPORT.value
MAX_TEXT = 4000
MAX_SHORT = 200
MAX_CONTACT = 300
MAX_CASE_REFERENCE = 60


class NoReceiver(DomainError):
    """No organisation is set up to receive a report about a child without a known district:
    the service cannot route it, so it says so at once (and the reporter calls instead)."""

    status = 503
    code = "no_receiver"


@dataclass(frozen=True)
class NewConcernReport:
    what_happened: str
    reporter_contact: str
    seen_or_said: str | None = None
    actions_taken: str | None = None
    # Who the child is, as far as the reporter knows: a record (by referral or child id), a
    # personnummer, or a description. At least one of them.
    referral_id: str | None = None
    child_id: str | None = None
    youth_id: str | None = None  # a youth of the reporter's outreach organisation
    # For a youth whose record names no responsible district: the one the reporter chose.
    district_id: str | None = None
    personnummer: str | None = None
    subject_name: str | None = None
    approximate_age: str | None = None
    place: str | None = None
    subject_description: str | None = None


@dataclass(frozen=True)
class AcknowledgementRule:
    """How long the receiver has to acknowledge: `hours` working hours at a district, the
    same number of hours around the clock at the social emergency service."""

    hours: int
    working_day: WorkingDay

    @classmethod
    def from_settings(cls, settings: Settings) -> AcknowledgementRule:
        return cls(
            settings.concern_acknowledge_hours,
            WorkingDay(settings.working_hours_start, settings.working_hours_end),
        )

    def due(self, filed_at: datetime, around_the_clock: bool) -> datetime:
        if around_the_clock:
            return filed_at + timedelta(hours=self.hours)
        return self.working_day.add(filed_at, self.hours)


def reference_of(report_id: str) -> str:
    return report_id[:8].upper()


@dataclass(frozen=True)
class FiledReceipt:
    """What the reporting organisation sees of a report it filed: that social services has it
    and whether it was acknowledged. Not who received it, not their case, not the child."""

    report_id: str
    reference: str
    filed_at: datetime
    filed_by: str  # the reporter's display name
    acknowledged_at: datetime | None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


@dataclass(frozen=True)
class InboxLine:
    """A report waiting at the receiving organisation: nothing personal (opening it is)."""

    report_id: str
    reference: str
    status: str
    filed_at: datetime
    acknowledge_by: datetime
    overdue: bool
    reporter_organisation: str
    subject_kind: str
    child_id: str | None
    referral_id: str | None
    acknowledged_at: datetime | None


@dataclass(frozen=True)
class ReportView:
    """A report as its receiver reads it (and prints it)."""

    report_id: str
    reference: str
    status: str
    routing: str
    filed_at: datetime
    acknowledge_by: datetime
    overdue: bool
    reporter_name: str
    reporter_organisation: str
    reporter_contact: str
    subject_kind: str
    child_id: str | None
    referral_id: str | None
    subject_name: str | None
    subject_personnummer: str | None
    approximate_age: str | None
    place: str | None
    subject_description: str | None
    what_happened: str
    seen_or_said: str | None
    actions_taken: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None  # display name
    case_reference: str | None
    closed_at: datetime | None


@dataclass(frozen=True)
class OverdueReport:
    """An unacknowledged report past its time, for the DPO's and administrators' alerts:
    which organisation has not acknowledged which report since when; nothing personal."""

    report_id: str
    reference: str
    receiving_organisation: str
    filed_at: datetime
    acknowledge_by: datetime


@dataclass(frozen=True)
class TrailEntry:
    occurred_at: datetime
    who: str
    action: str


@dataclass(frozen=True)
class ReportTrail:
    """For the DPO: who filed a report, who received it, and every access to it."""

    report_id: str
    reference: str
    filed_at: datetime
    reporter_organisation: str
    receiving_organisation: str
    status: str
    acknowledged_at: datetime | None
    entries: tuple[TrailEntry, ...]


# --- filing --------------------------------------------------------------------------------


def _required(value: str | None, field: str, most: int) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput(_("This field is required."), field=field)
    if len(cleaned) > most:
        raise InvalidInput(_("At most %(n)s characters.", n=most), field=field)
    return cleaned


def _optional(value: str | None, field: str, most: int) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > most:
        raise InvalidInput(_("At most %(n)s characters.", n=most), field=field)
    return cleaned or None


@dataclass(frozen=True)
class _Subject:
    child: Child | None
    referral_id: str | None
    personnummer: str | None
    youth: Youth | None = None
    district_id: str | None = None  # a youth's responsible district


def _referrals_to(uow: UnitOfWork, actor: Actor, child_id: str) -> list[Referral]:
    """The child's referrals to the actor's organisation (whatever their status)."""
    return list(
        uow.session.scalars(
            select(Referral).where(
                Referral.child_id == child_id, Referral.partner_id == actor.organisation_id
            )
        )
    )


def _hidden(
    actor: Actor,
    field: str,
    record_type: str,
    record_id: str | None,
    person: EncryptedRecord | None,
) -> NotFound:
    """404 on `field`, as for a record that does not exist; when it does exist (outside the
    reporter's reach), the refusal carries what the access log records about it, under the
    person, so that probing ids leaves a trace in that person's access report."""
    error = NotFound(_("No such record."), field=field)
    if person is not None:
        error.denial = Denial(
            actor,
            Permission.CONCERN_FILE.value,
            object_type=record_type,
            object_id=record_id,
            subject=person.key_scope(),
        )
    return error


def _known_subject(uow: UnitOfWork, actor: Actor, new: NewConcernReport) -> _Subject | None:
    """The district's record the report names, if it names one the reporter works with. A
    record outside every scope the reporter has answers 404 on its field, as if it did not
    exist (the refusal is logged like any other)."""
    db = uow.session
    if new.referral_id:
        referral = db.get(Referral, new.referral_id)
        child = db.get(Child, referral.child_id) if referral else None
        if (
            referral is None
            or child is None
            or not may_report_concern_about(actor, child, [referral])
        ):
            raise _hidden(actor, "referral_id", "Referral", None, child)
        if new.child_id and new.child_id != child.id:
            raise InvalidInput(_("The referral is about another child."), field="child_id")
        return _Subject(child, referral.id, None)
    if new.youth_id:
        return _youth_subject(uow, actor, new)
    if new.child_id:
        child = db.get(Child, new.child_id)
        if child is None or not may_report_concern_about(
            actor, child, _referrals_to(uow, actor, child.id)
        ):
            raise _hidden(actor, "child_id", "Child", child.id if child else None, child)
        return _Subject(child, None, None)
    return None


def _youth_subject(uow: UnitOfWork, actor: Actor, new: NewConcernReport) -> _Subject:
    """A youth of the reporter's own outreach organisation, routed to the district its record
    names (or the reporter chose), else to socialjouren."""
    youth = uow.session.get(Youth, new.youth_id)
    if youth is not None and youth.purged_at is not None:
        youth = None  # purged: no record names the youth any more
    if youth is None or not can(actor, Permission.CONCERN_FILE, youth):
        raise _hidden(actor, "youth_id", "Youth", youth.id if youth else None, youth)
    district_id = youth.district_id or new.district_id
    if district_id:
        organisations.responsible_district(uow, district_id)
    return _Subject(None, None, None, youth, district_id)


def _subject(uow: UnitOfWork, actor: Actor, new: NewConcernReport, today: date) -> _Subject:
    known = _known_subject(uow, actor, new)
    if known is not None:
        return known
    # Whether or not the personnummer matches, the receiver of last resort must exist: were
    # it missing, a match (201) and no match (503) would answer differently, and the reporter
    # would learn whether the service knows the child.
    _social_emergency_service(uow)
    if new.personnummer and new.personnummer.strip():
        personnummer = children.plausible_personnummer(new.personnummer, today)
        # The city's records of this person, whatever the district: routing only. The
        # reporter is told nothing of what was found.
        found = children.records_of_person(uow, personnummer)
        districts = {child.district_id for child in found}
        if len(districts) == 1:
            oldest = min(found, key=lambda child: (child.created_at, child.id))
            return _Subject(oldest, None, personnummer)
        return _Subject(None, None, personnummer)
    described = (new.subject_name, new.approximate_age, new.place, new.subject_description)
    if not any((value or "").strip() for value in described):
        raise InvalidInput(
            _(
                "Say who the child is: a name or alias, an approximate age, the place or a "
                "description (or a personnummer, if you know it)."
            ),
            field="subject_name",
        )
    return _Subject(None, None, None)


def _social_emergency_service(uow: UnitOfWork) -> Organisation:
    found = uow.session.scalars(
        select(Organisation).where(Organisation.social_emergency_service.is_(True))
    ).first()
    if found is None:
        raise NoReceiver(
            _(
                "No social emergency service (socialjouren) is set up to receive this report: "
                "call socialjouren now, and ask an administrator to set it up."
            ),
            field="subject_name",
        )
    return found


def file_report(
    uow: UnitOfWork,
    actor: Actor,
    new: NewConcernReport,
    rule: AcknowledgementRule,
    today: date,
) -> FiledReceipt:
    """File a report, route it, and log both. Consent is never asked for."""
    require(actor, Permission.CONCERN_FILE)
    if actor.organisation_id is None:
        raise NotPermitted(_("A concern report is filed by a member of an organisation."))
    what_happened = _required(new.what_happened, "what_happened", MAX_TEXT)
    reporter_contact = _required(new.reporter_contact, "reporter_contact", MAX_CONTACT)
    texts = {
        "seen_or_said": _optional(new.seen_or_said, "seen_or_said", MAX_TEXT),
        "actions_taken": _optional(new.actions_taken, "actions_taken", MAX_TEXT),
        "subject_name": _optional(new.subject_name, "subject_name", MAX_SHORT),
        "approximate_age": _optional(new.approximate_age, "approximate_age", MAX_SHORT),
        "place": _optional(new.place, "place", MAX_SHORT),
        "subject_description": _optional(new.subject_description, "subject_description", MAX_TEXT),
    }
    subject = _subject(uow, actor, new, today)
    if subject.child is not None:
        receiver_id, routing, around_the_clock = (
            subject.child.district_id,
            Routing.PLACING_DISTRICT,
            False,
        )
    elif subject.district_id is not None:
        receiver_id, routing, around_the_clock = (
            subject.district_id,
            Routing.RESPONSIBLE_DISTRICT,
            False,
        )
    else:
        receiver_id, routing, around_the_clock = (
            _social_emergency_service(uow).id,
            Routing.NO_KNOWN_DISTRICT,
            True,
        )
    filed_at = utcnow()
    report = ConcernReport(
        subject_kind=(
            SubjectKind.KNOWN_CHILD
            if subject.child is not None
            else SubjectKind.YOUTH
            if subject.youth is not None
            else SubjectKind.DESCRIBED
        ).value,
        child_id=subject.child.id if subject.child is not None else None,
        youth_id=subject.youth.id if subject.youth is not None else None,
        referral_id=subject.referral_id,
        reporter_organisation_id=actor.organisation_id,
        reported_by=actor.user_id,
        receiving_organisation_id=receiver_id,
        routing=routing.value,
        status=ConcernStatus.OPEN.value,
        filed_at=filed_at,
        acknowledge_by=rule.due(filed_at, around_the_clock),
        what_happened=what_happened,
        reporter_contact=reporter_contact,
        subject_personnummer=subject.personnummer,
        **texts,
    )
    uow.session.add(report)
    uow.session.flush()
    _record(uow, actor, Action.CONCERN_FILE, report)
    _record(uow, actor, Action.CONCERN_ROUTE, report, details={"routing": routing.value})
    uow.commit()
    filed_by = staff_names(uow, [actor.user_id]).get(actor.user_id, actor.username)
    return FiledReceipt(report.id, reference_of(report.id), report.filed_at, filed_by, None)


def filed_reports(uow: UnitOfWork, actor: Actor) -> list[FiledReceipt]:
    """The reports the actor's organisation has filed, newest first: reference, who filed,
    when, and whether social services has acknowledged. Nothing personal is read."""
    require(actor, Permission.CONCERN_FILE)
    if actor.organisation_id is None:
        return []
    rows = uow.session.execute(
        select(ConcernReport, User.display_name)
        .join(User, User.id == ConcernReport.reported_by, isouter=True)
        .where(
            ConcernReport.reporter_organisation_id == actor.organisation_id,
            ConcernReport.purged_at.is_(None),
        )
        .order_by(ConcernReport.filed_at.desc(), ConcernReport.id)
    )
    return [
        FiledReceipt(
            report.id,
            reference_of(report.id),
            report.filed_at,
            name or "—",
            report.acknowledged_at,
        )
        for report, name in rows
    ]


# --- receiving -----------------------------------------------------------------------------


def _is_overdue(report: ConcernReport, now: datetime) -> bool:
    return report.status == ConcernStatus.OPEN.value and report.acknowledge_by <= now


def received_reports(uow: UnitOfWork, actor: Actor, now: datetime) -> list[InboxLine]:
    """The reports the actor's organisation has received and not closed: overdue first, then
    the other unacknowledged ones, oldest first, then the acknowledged ones. No personal
    field is read, so listing is not logged; opening one is."""
    require(actor, Permission.CONCERN_RECEIVE)
    receiver = organisation_scope(actor)
    overdue_first = case(
        (
            (ConcernReport.status == ConcernStatus.OPEN.value)
            & (ConcernReport.acknowledge_by <= now),
            0,
        ),
        (ConcernReport.status == ConcernStatus.OPEN.value, 1),
        else_=2,
    )
    query = (
        select(ConcernReport, Organisation.name)
        .join(Organisation, Organisation.id == ConcernReport.reporter_organisation_id)
        .where(
            ConcernReport.status != ConcernStatus.CLOSED.value, ConcernReport.purged_at.is_(None)
        )
        .order_by(overdue_first, ConcernReport.filed_at, ConcernReport.id)
    )
    if receiver is not None:
        query = query.where(ConcernReport.receiving_organisation_id == receiver)
    # The reporter's own reports are a colleague's to receive (policy.ReceivedBy).
    query = query.where(ConcernReport.reported_by != actor.user_id)
    return [
        InboxLine(
            report_id=report.id,
            reference=reference_of(report.id),
            status=report.status,
            filed_at=report.filed_at,
            acknowledge_by=report.acknowledge_by,
            overdue=_is_overdue(report, now),
            reporter_organisation=reporter,
            subject_kind=report.subject_kind,
            child_id=report.child_id,
            referral_id=report.referral_id,
            acknowledged_at=report.acknowledged_at,
        )
        for report, reporter in uow.session.execute(query)
    ]


def _received(
    uow: UnitOfWork, actor: Actor, report_id: str, *, lock: bool = False
) -> ConcernReport:
    require(actor, Permission.CONCERN_RECEIVE)
    return get_for(
        uow, actor, Permission.CONCERN_RECEIVE, ConcernReport, report_id, field="report", lock=lock
    )


def read_report(
    uow: UnitOfWork, actor: Actor, report_id: str, now: datetime, *, printing: bool = False
) -> ReportView:
    """The receiver opens (or prints) a report; the access is logged before it is shown."""
    report = _received(uow, actor, report_id)
    _record(
        uow,
        actor,
        Action.CONCERN_PRINT if printing else Action.CONCERN_READ,
        report,
    )
    db = uow.session
    names = staff_names(uow, {report.reported_by, report.acknowledged_by or report.reported_by})
    reporter_organisation = db.get(Organisation, report.reporter_organisation_id)
    view = ReportView(
        report_id=report.id,
        reference=reference_of(report.id),
        status=report.status,
        routing=report.routing,
        filed_at=report.filed_at,
        acknowledge_by=report.acknowledge_by,
        overdue=_is_overdue(report, now),
        reporter_name=names.get(report.reported_by, "—"),
        reporter_organisation=reporter_organisation.name if reporter_organisation else "—",
        reporter_contact=report.reporter_contact,
        subject_kind=report.subject_kind,
        child_id=report.child_id,
        referral_id=report.referral_id,
        subject_name=report.subject_name,
        subject_personnummer=report.subject_personnummer,
        approximate_age=report.approximate_age,
        place=report.place,
        subject_description=report.subject_description,
        what_happened=report.what_happened,
        seen_or_said=report.seen_or_said,
        actions_taken=report.actions_taken,
        acknowledged_at=report.acknowledged_at,
        acknowledged_by=names.get(report.acknowledged_by) if report.acknowledged_by else None,
        case_reference=report.case_reference,
        closed_at=report.closed_at,
    )
    uow.commit()
    return view


def acknowledge(
    uow: UnitOfWork, actor: Actor, report_id: str, case_reference: str | None = None
) -> FiledReceipt:
    """The receiving organisation confirms it has the report (kvittens), once."""
    report = _received(uow, actor, report_id, lock=True)
    if report.status != ConcernStatus.OPEN.value:
        raise Conflict(_("This report has already been acknowledged."), field="report")
    reference = _optional(case_reference, "case_reference", MAX_CASE_REFERENCE)
    report.status = ConcernStatus.ACKNOWLEDGED.value
    report.acknowledged_at = utcnow()
    report.acknowledged_by = actor.user_id
    report.case_reference = reference
    uow.session.flush()
    _record(uow, actor, Action.CONCERN_ACKNOWLEDGE, report)
    uow.commit()
    reporter = staff_names(uow, [report.reported_by]).get(report.reported_by, "—")
    return FiledReceipt(
        report.id, reference_of(report.id), report.filed_at, reporter, report.acknowledged_at
    )


def close(uow: UnitOfWork, actor: Actor, report_id: str) -> None:
    """The receiver has taken the report into its own case handling: the concern flag on the
    child's record comes down. Only an acknowledged report can be closed."""
    report = _received(uow, actor, report_id, lock=True)
    if report.status == ConcernStatus.OPEN.value:
        raise Conflict(_("Acknowledge the report before closing it."), field="report")
    if report.status == ConcernStatus.CLOSED.value:
        raise Conflict(_("This report is already closed."), field="report")
    report.status = ConcernStatus.CLOSED.value
    report.closed_at = utcnow()
    report.closed_by = actor.user_id
    uow.session.flush()
    _record(uow, actor, Action.CONCERN_CLOSE, report)
    uow.commit()


# Built once: every list and record of a district's children asks it.
_OPEN_REPORTS_OF = ByIds(
    lambda arrays: select(ConcernReport.child_id).where(
        in_ids(ConcernReport.child_id, arrays),
        ConcernReport.status != ConcernStatus.CLOSED.value,
    )
)


def children_with_open_reports(uow: UnitOfWork, child_ids: Iterable[str]) -> frozenset[str]:
    """Of these children (already in the caller's scope), those with a report not closed:
    the concern flag on the district's record and lists. Never for a partner's view."""
    return frozenset(child_id for (child_id,) in _OPEN_REPORTS_OF.rows(uow.session, child_ids))


# --- oversight ------------------------------------------------------------------------------


def overdue_reports(uow: UnitOfWork, actor: Actor, now: datetime) -> list[OverdueReport]:
    """Reports past their time without acknowledgement, city-wide, oldest deadline first."""
    require(actor, Permission.CONCERN_OVERDUE_READ)
    rows = uow.session.execute(
        select(ConcernReport, Organisation.name)
        .join(Organisation, Organisation.id == ConcernReport.receiving_organisation_id)
        .where(
            ConcernReport.status == ConcernStatus.OPEN.value,
            ConcernReport.acknowledge_by <= now,
        )
        .order_by(ConcernReport.acknowledge_by, ConcernReport.id)
    )
    return [
        OverdueReport(
            report.id, reference_of(report.id), receiver, report.filed_at, report.acknowledge_by
        )
        for report, receiver in rows
    ]


def report_trails(
    uow: UnitOfWork, actor: Actor, reference: str | None = None, most: int = 200
) -> list[ReportTrail]:
    """For the DPO: the latest `most` reports (or those whose reference starts with
    `reference`), who filed and received each, and each access to it in the log, refusals
    included. The log names staff, so reading this is itself logged."""
    require(actor, Permission.CONCERN_AUDIT)
    db = uow.session
    names = {
        organisation_id: name
        for organisation_id, name in db.execute(select(Organisation.id, Organisation.name))
    }
    query = select(ConcernReport).order_by(ConcernReport.filed_at.desc(), ConcernReport.id)
    wanted = (reference or "").strip().lower()
    if wanted:
        if not re.fullmatch(r"[0-9a-f-]{1,36}", wanted):
            raise InvalidInput(
                _("A reference is the report's first eight characters."), field="reference"
            )
        query = query.where(ConcernReport.id.startswith(wanted, autoescape=True))
    reports = db.scalars(query.limit(most)).all()
    entries: dict[str, list[TrailEntry]] = {report.id: [] for report in reports}
    if reports:
        # Nothing about a report is logged before it was filed: the log is read from the
        # oldest listed report's filing on (by the index on the entry's time), less a day for
        # a clock set back, rather than from its first entry.
        earliest = min(report.filed_at for report in reports) - TRAIL_CLOCK_MARGIN
        rows = db.execute(
            select(
                AuditEntry.object_id,
                AuditEntry.occurred_at,
                AuditEntry.actor_name,
                AuditEntry.action,
            )
            .where(
                AuditEntry.occurred_at >= timestamp(earliest),
                # A refused read is logged under the model's name (policy.require).
                AuditEntry.object_type.in_([OBJECT_TYPE, ConcernReport.__name__]),
                AuditEntry.object_id.in_(list(entries)),
            )
            # In time, as the index runs (in the sequence, the whole log was read to sort it).
            .order_by(AuditEntry.occurred_at, AuditEntry.sequence)
        )
        for object_id, occurred_at, who, action in rows:
            when = datetime.fromisoformat(str(occurred_at).replace("Z", "+00:00"))
            entries[str(object_id)].append(TrailEntry(when, str(who or "—"), action))
    record(db, actor, Action.AUDIT_SEARCH, object_type="concern_reports")
    uow.commit()
    return [
        ReportTrail(
            report_id=report.id,
            reference=reference_of(report.id),
            filed_at=report.filed_at,
            reporter_organisation=names.get(report.reporter_organisation_id, "—"),
            receiving_organisation=names.get(report.receiving_organisation_id, "—"),
            status=report.status,
            acknowledged_at=report.acknowledged_at,
            entries=tuple(entries[report.id]),
        )
        for report in reports
    ]


def _record(
    uow: UnitOfWork,
    actor: Actor,
    action: Action,
    report: ConcernReport,
    details: dict[str, object] | None = None,
) -> None:
    record(
        uow.session,
        actor,
        action,
        object_type=OBJECT_TYPE,
        object_id=report.id,
        subject=report.key_scope(),
        legal_basis=LEGAL_BASIS,
        details=details,
    )
