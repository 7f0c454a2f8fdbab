"""Programme B: an absconded or missing youth is found ("information is perishable", domain.md
§4). One action records the finding (when, where, by whom), and for a minor files a concern
report at once to the responsible district (from the youth's record, or as the worker
chooses; socialjouren when none is known): the report's acknowledgement is the district's
receipt, its overdue rule the escalation, and the time from finding to acknowledgement is
shown with the finding. From 18 the youth decides alone: the finding is recorded, and the
district is told only through a link case on the youth's own consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.concern import ConcernReport
from referral.db.models import Organisation
from referral.db.outreach import Finding, Place, Youth
from referral.db.uow import StepOf, UnitOfWork
from referral.errors import InvalidInput
from referral.i18n import _
from referral.policy import Permission, require
from referral.rules import ADULT_AGE
from referral.services import concern_reports
from referral.services.concern_reports import AcknowledgementRule, NewConcernReport
from referral.services.loading import get_for
from referral.services.outreach import youth_age

OBJECT_TYPE = "finding"


@dataclass(frozen=True)
class NewFinding:
    found_at: datetime  # an aware instant
    place: str
    reporter_contact: str
    what_happened: str = ""
    district_id: str | None = None  # when the youth's record names none


@dataclass(frozen=True)
class FindingView:
    id: str
    found_at: datetime
    place: str
    district_name: str | None
    # For a minor: the concern report that told the district, and when it acknowledged.
    concern_reference: str | None
    acknowledged_at: datetime | None
    minutes_to_acknowledgement: int | None


def record_finding(
    uow: UnitOfWork,
    actor: Actor,
    youth_id: str,
    new: NewFinding,
    rule: AcknowledgementRule,
    today: date,
    now: datetime,
) -> FindingView:
    require(actor, Permission.YOUTH_FOUND)
    # Locked: a purge of this youth going on finishes first, and then the youth is gone.
    youth = get_for(
        uow, actor, Permission.YOUTH_FOUND, Youth, youth_id, field="youth_id", lock=True
    )
    if new.found_at.tzinfo is None or new.found_at > now:
        raise InvalidInput(_("The time found cannot be in the future."), field="found_at")
    if new.place not in {p.value for p in Place}:
        raise InvalidInput(_("Choose the place."), field="place")
    report_id: str | None = None
    district_id = youth.district_id or new.district_id or None
    if youth_age(youth, today) < ADULT_AGE:
        what = new.what_happened.strip() or _(
            "Found after absconding or going missing: %(alias)s.", alias=youth.alias
        )
        filed = concern_reports.file_report(
            StepOf(uow.session),  # the finding and its report: both or neither
            actor,
            NewConcernReport(
                what_happened=what,
                reporter_contact=new.reporter_contact,
                youth_id=youth.id,
                district_id=new.district_id or None,
                subject_name=youth.alias,
                personnummer=None,
                place=_place_label(new.place),
            ),
            rule,
            today,
        )
        report_id = filed.report_id
        report = uow.session.get(ConcernReport, report_id)
        assert report is not None
        district_id = report.receiving_organisation_id
    finding = Finding(
        youth_id=youth.id,
        organisation_id=youth.organisation_id,
        found_at=new.found_at,
        place=new.place,
        worker_id=actor.user_id,
        district_id=district_id,
        concern_report_id=report_id,
    )
    uow.session.add(finding)
    uow.session.flush()
    record(
        uow.session,
        actor,
        Action.YOUTH_FOUND,
        object_type=OBJECT_TYPE,
        object_id=finding.id,
        subject=youth.key_scope(),
    )
    view = _view(uow, finding)
    uow.commit()
    return view


def _place_label(place: str) -> str:
    """The place as the district reads it in the report (in the reporter's language)."""
    named = {
        Place.SERGELS_TORG.value: "Sergels torg",
        Place.CENTRALSTATIONEN.value: "Centralstationen",
        Place.MEDBORGARPLATSEN.value: "Medborgarplatsen",
        Place.MEETING_PLACE.value: str(_("the partner's meeting place")),
    }
    return named.get(place, str(_("another place")))


def _view(uow: UnitOfWork, finding: Finding) -> FindingView:
    district = uow.session.get(Organisation, finding.district_id) if finding.district_id else None
    report = (
        uow.session.get(ConcernReport, finding.concern_report_id)
        if finding.concern_report_id
        else None
    )
    acknowledged = report.acknowledged_at if report else None
    return FindingView(
        id=finding.id,
        found_at=finding.found_at,
        place=finding.place,
        district_name=district.name if district else None,
        concern_reference=concern_reports.reference_of(report.id) if report else None,
        acknowledged_at=acknowledged,
        minutes_to_acknowledgement=(
            int((acknowledged - finding.found_at).total_seconds() // 60) if acknowledged else None
        ),
    )


def findings_of(uow: UnitOfWork, actor: Actor, youth_id: str) -> list[FindingView]:
    """A youth's findings, newest first (the caller has logged its read of the youth)."""
    require(actor, Permission.YOUTH_READ)
    youth = get_for(uow, actor, Permission.YOUTH_READ, Youth, youth_id, field="youth_id")
    rows = uow.session.scalars(
        select(Finding).where(Finding.youth_id == youth.id).order_by(Finding.found_at.desc())
    )
    return [_view(uow, f) for f in rows]
