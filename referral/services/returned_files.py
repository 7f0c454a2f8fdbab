"""Files returned to social services (återlämnande, seed 004; domain.md §5): before the purge
takes a partner's file on a child, what social services must keep of the participation is
delivered to the district's inbox as a signed, self-contained document.

- **What it holds**: who (the district, the partner, the child by pseudonymous id, name and
  personnummer from the district's own record), the referral, the participation (group,
  format, start, sessions planned and attended, absences, the pre-group visit), attendance
  per session, and the concern reports the partner filed from or about the referral, by
  reference, time and receipt only: the reports themselves are with their receiver already.
  Never the partner's own notes, which the purge takes.
- **How it is sealed**: canonical JSON (sorted keys, no spaces, UTF-8), signed with the
  return-signing key (Ed25519, its own purpose: referral.return_signing), stored exactly as
  signed under the district's key for the child, so the partner's purge cannot touch it and
  anyone holding the public key can check that nothing changed since.
- **Who reads it**: the district's social workers (RETURNED_FILE_READ, scoped to the
  district); every file shown, opened or downloaded is in the access log first, under the
  child's pseudonymous id, and so is its acknowledgement (once).

`deliver` is the purge engine's (referral.services.gallring): it flushes and leaves the
commit to the engine, so that the purge and the delivery stand or fall together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import Table, case, func, insert, inspect, select
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.checkpoints import key_id_of
from audit.record import Entry, record, record_many
from referral import clock
from referral.actors import Actor
from referral.db.base import chunks, new_id, one_of, utcnow
from referral.db.concern import ConcernReport
from referral.db.data_keys import DataKey
from referral.db.encryption import session_cipher
from referral.db.groups import Attendance, Enrolment, Group, GroupSession, Visit
from referral.db.models import Organisation
from referral.db.people import Child, district_holder
from referral.db.referrals import Referral, ReferralEvent
from referral.db.returned import ReturnedFile
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, NotFound
from referral.i18n import _
from referral.policy import Permission, organisation_scope, require
from referral.rules import Status
from referral.scopes import KeyScope
from referral.services.concern_reports import reference_of as concern_reference
from referral.services.loading import get_for
from referral.services.users import staff_names

OBJECT_TYPE = "returned_file"
FORMAT = "referral-return/1"
# What ends a participation with the partner holding data about the child. A cancelled
# referral never reached the partner: there is nothing to return.
ENDED = frozenset({Status.COMPLETED, Status.DECLINED, Status.WITHDRAWN})


class Attended:
    """One child's mark for one session, as the document writes it."""

    PRESENT = "present"
    ABSENT = "absent"
    NOT_RECORDED = "not_recorded"


# --- read models -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveredFile:
    """A delivery as the purge engine sees it: `created` is False when the referral's file
    was delivered before (and nothing was written now)."""

    id: str
    district_id: str
    delivered_at: datetime
    created: bool


@dataclass(frozen=True)
class SessionLine:
    number: int
    day: date
    kind: str  # referral.schedule.SessionKind
    attendance: str  # Attended


@dataclass(frozen=True)
class ConcernLine:
    """A concern report the partner filed: its reference and receipt, never its text."""

    report_id: str
    reference: str
    filed_at: datetime
    status: str
    acknowledged_at: datetime | None


@dataclass(frozen=True)
class Participation:
    group_id: str
    group_name: str
    group_format: str
    start_date: date
    sessions_planned: int
    sessions_attended: int
    absences: int
    not_recorded: int
    visit_kind: str | None  # referral.db.groups.VisitKind
    visit_day: date | None
    completed_at: datetime | None


@dataclass(frozen=True)
class ReturnedDocument:
    """The signed document, parsed (parse_document)."""

    format: str
    produced_at: datetime
    produced_on: date
    district_id: str
    district_name: str
    partner_id: str
    partner_name: str
    child_id: str
    child_name: str
    child_personnummer: str
    referral_id: str
    programme: str
    preferred_format: str
    referral_status: str
    referral_created_at: datetime
    completed_at: datetime | None
    ended_on: date
    participation: Participation | None
    attendance: tuple[SessionLine, ...]
    concern_reports: tuple[ConcernLine, ...]


@dataclass(frozen=True)
class ReturnedFileSummary:
    """One line of the district's inbox."""

    file_id: str
    child_id: str
    child_name: str
    partner_name: str
    referral_status: str
    ended_on: date
    delivered_at: datetime
    acknowledged_at: datetime | None
    waiting_days: int  # since delivery, while unacknowledged; 0 once acknowledged

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


@dataclass(frozen=True)
class ReturnedFileView:
    """A returned file as the district reads it: the document exactly as signed, parsed, its
    signature, and whether that verifies with the public key the reader was given (None
    when no public key was at hand)."""

    file_id: str
    document: str
    contents: ReturnedDocument
    signature: bytes
    key_id: str
    signature_valid: bool | None
    delivered_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None  # display name
    waiting_days: int

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


@dataclass(frozen=True)
class AcknowledgedFile:
    file_id: str
    acknowledged_at: datetime


# --- the document ----------------------------------------------------------------------------


def canonical(contents: dict[str, Any]) -> str:
    """The one text that is signed and stored: sorted keys, no spaces, UTF-8 as it is."""
    return json.dumps(contents, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _instant(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _ended_on(sources: _Sources, referral: Referral) -> date:
    """The Stockholm day the participation ended: its completion, else the last step into
    the status it ended in."""
    ended = referral.completed_at
    if ended is None:
        into_status = [
            at for status, at in sources.steps.get(referral.id, []) if status == referral.status
        ]
        ended = into_status[-1] if into_status else referral.updated_at
    return ended.astimezone(clock.STOCKHOLM).date()


@dataclass(frozen=True)
class _Session:
    id: str
    number: int
    day: date
    kind: str


@dataclass(frozen=True)
class _Group:
    id: str
    name: str
    format: str
    start_date: date
    sessions: list[_Session]  # by number


@dataclass(frozen=True)
class _Enrolment:
    id: str
    group_id: str
    completed_at: datetime | None


@dataclass(frozen=True)
class _Sources:
    """What the returned files of a batch of referrals are built from, read in a few
    queries for the whole batch (the purge returns thousands of files in one run); the
    group's side as plain rows, not loaded models, as nothing here is written."""

    children: dict[str, Child]
    organisations: dict[str, Organisation]
    enrolments: dict[str, _Enrolment]  # referral id -> its latest enrolment
    visits: dict[str, tuple[str, date]]  # enrolment id -> its latest visit (kind, day)
    groups: dict[str, _Group]
    marks: dict[str, dict[str, bool]]  # enrolment id -> session id -> present
    reports: dict[str, list[ConcernReport]]  # referral id -> reports its partner filed
    # referral id -> its steps (status, when), in order: of referrals without a completion only
    steps: dict[str, list[tuple[str, datetime]]]
    keys: dict[KeyScope, tuple[DataKey, bytes]]  # the district's current key per child


def partner_reports(uow: UnitOfWork, referrals: list[Referral]) -> dict[str, list[ConcernReport]]:
    """Per referral, the reports its partner filed from it, or about its child without one:
    what the returned file lists (and, for the purge, a reason to return a file at all)."""
    found: dict[str, list[ConcernReport]] = {referral.id: [] for referral in referrals}
    by_child: dict[str, list[Referral]] = {}
    for referral in referrals:
        by_child.setdefault(referral.child_id, []).append(referral)
    for chunk in chunks(list(by_child)):
        reports = uow.session.scalars(
            select(ConcernReport)
            .where(
                one_of(uow.session, ConcernReport.child_id, chunk),
                ConcernReport.purged_at.is_(None),
            )
            .order_by(ConcernReport.filed_at, ConcernReport.id)
        )
        for report in reports:
            for referral in by_child.get(report.child_id or "", []):
                if report.reporter_organisation_id == referral.partner_id and (
                    report.referral_id in (referral.id, None)
                ):
                    found[referral.id].append(report)
    return found


def returned_referrals(uow: UnitOfWork, referral_ids: list[str]) -> set[str]:
    """Of these referrals, those whose file has been returned to the district already."""
    db = uow.session
    returned: set[str] = set()
    for chunk in chunks(referral_ids):
        returned.update(
            db.scalars(
                select(ReturnedFile.referral_id).where(one_of(db, ReturnedFile.referral_id, chunk))
            )
        )
    return returned


def reports_filed_by_the_partner(uow: UnitOfWork, referral: Referral) -> list[ConcernReport]:
    return partner_reports(uow, [referral])[referral.id]


def _sources(uow: UnitOfWork, referrals: list[Referral]) -> _Sources:
    db = uow.session
    children: dict[str, Child] = {}
    for chunk in chunks(sorted({r.child_id for r in referrals})):
        children.update(
            (c.id, c) for c in db.scalars(select(Child).where(one_of(db, Child.id, chunk)))
        )
    # Each file is sealed under the district's current key for its child, and names the
    # child from the district's record, sealed under that same key (unless re-encryption has
    # not reached the record yet): the keys are read together, not one query per file as it
    # is sealed or per child as each name is opened.
    keys = session_cipher(db).keys
    current = keys.current_many(
        db, {KeyScope(r.child_id, district_holder(r.district_id)) for r in referrals}
    )
    keys.load_many(db, (c.data_key_id for c in children.values()))  # (cached: no query)
    enrolments: dict[str, _Enrolment] = {}
    for chunk in chunks([r.id for r in referrals]):
        latest_first = (
            select(Enrolment.referral_id, Enrolment.id, Enrolment.group_id, Enrolment.completed_at)
            .where(one_of(db, Enrolment.referral_id, chunk))
            .order_by(Enrolment.enrolled_at.desc(), Enrolment.id)
        )
        for referral_id, enrolment_id, group_id, completed_at in db.execute(latest_first):
            enrolments.setdefault(referral_id, _Enrolment(enrolment_id, group_id, completed_at))
    visits: dict[str, tuple[str, date]] = {}
    for chunk in chunks([e.id for e in enrolments.values()]):
        for enrolment_id, kind, day in db.execute(
            select(Visit.enrolment_id, Visit.kind, Visit.day)
            .where(one_of(db, Visit.enrolment_id, chunk))
            .order_by(Visit.recorded_at)  # as Enrolment.visits: the last one counts
        ):
            visits[enrolment_id] = (kind, day)
    groups: dict[str, _Group] = {}
    for chunk in chunks(sorted({e.group_id for e in enrolments.values()})):
        sessions: dict[str, list[_Session]] = {}
        for group_id, session_id, number, day, kind in db.execute(
            select(
                GroupSession.group_id,
                GroupSession.id,
                GroupSession.number,
                GroupSession.day,
                GroupSession.kind,
            )
            .where(one_of(db, GroupSession.group_id, chunk))
            .order_by(GroupSession.number)  # as Group.sessions
        ):
            sessions.setdefault(group_id, []).append(_Session(session_id, number, day, kind))
        for group_id, name, group_format, start_date in db.execute(
            select(Group.id, Group.name, Group.format, Group.start_date).where(
                one_of(db, Group.id, chunk)
            )
        ):
            groups[group_id] = _Group(
                group_id, name, group_format, start_date, sessions.get(group_id, [])
            )
    marks: dict[str, dict[str, bool]] = {}
    for chunk in chunks([e.id for e in enrolments.values()]):
        for enrolment_id, session_id, present in db.execute(
            select(Attendance.enrolment_id, Attendance.session_id, Attendance.present).where(
                one_of(db, Attendance.enrolment_id, chunk)
            )
        ):
            marks.setdefault(enrolment_id, {})[session_id] = present
    organisation_ids = sorted(
        {r.district_id for r in referrals} | {r.partner_id for r in referrals}
    )
    organisations = {
        o.id: o
        for o in db.scalars(
            select(Organisation).where(one_of(db, Organisation.id, organisation_ids))
        )
    }
    return _Sources(
        children,
        organisations,
        enrolments,
        visits,
        groups,
        marks,
        partner_reports(uow, referrals),
        _steps(uow, [r.id for r in referrals if r.completed_at is None]),
        current,
    )


def _steps(uow: UnitOfWork, referral_ids: list[str]) -> dict[str, list[tuple[str, datetime]]]:
    """Each referral's steps in order (as Referral.events), as plain rows."""
    db = uow.session
    steps: dict[str, list[tuple[str, datetime]]] = {}
    for chunk in chunks(referral_ids):
        for referral_id, to_status, at in db.execute(
            select(ReferralEvent.referral_id, ReferralEvent.to_status, ReferralEvent.at)
            .where(one_of(db, ReferralEvent.referral_id, chunk))
            .order_by(ReferralEvent.at)
        ):
            steps.setdefault(referral_id, []).append((to_status, at))
    return steps


def _participation(
    sources: _Sources, referral: Referral
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    enrolment = sources.enrolments.get(referral.id)
    if enrolment is None:  # declined or withdrawn before a place in a group
        return None, []
    group = sources.groups[enrolment.group_id]  # a foreign key
    marks = sources.marks.get(enrolment.id, {})
    attendance = []
    for session in group.sessions:
        mark = marks.get(session.id)
        attended = (
            Attended.NOT_RECORDED if mark is None else Attended.PRESENT if mark else Attended.ABSENT
        )
        attendance.append(
            {
                "number": session.number,
                "day": _day(session.day),
                "kind": session.kind,
                "attendance": attended,
            }
        )
    marked = [line["attendance"] for line in attendance]
    visit = sources.visits.get(enrolment.id)  # the latest: a correction is a new row
    summary = {
        "group_id": group.id,
        "group_name": group.name,
        "format": group.format,
        "start_date": _day(group.start_date),
        "sessions_planned": len(group.sessions),
        "sessions_attended": marked.count(Attended.PRESENT),
        "absences": marked.count(Attended.ABSENT),
        "not_recorded": marked.count(Attended.NOT_RECORDED),
        "visit": {"kind": visit[0], "day": _day(visit[1])} if visit is not None else None,
        "completed_at": _instant(enrolment.completed_at),
    }
    return summary, attendance


def _concern_reports(sources: _Sources, referral: Referral) -> list[dict[str, Any]]:
    return [
        {
            "id": report.id,
            "reference": concern_reference(report.id),
            "filed_at": _instant(report.filed_at),
            "status": report.status,
            "acknowledged_at": _instant(report.acknowledged_at),
        }
        for report in sources.reports[referral.id]
    ]


def _contents(sources: _Sources, referral: Referral, now: datetime) -> dict[str, Any]:
    district = sources.organisations[referral.district_id]  # foreign keys
    partner = sources.organisations[referral.partner_id]
    child = sources.children[referral.child_id]
    participation, attendance = _participation(sources, referral)
    return {
        "format": FORMAT,
        "produced_at": _instant(now),
        "produced_on": _day(now.astimezone(clock.STOCKHOLM).date()),
        "district": {"id": district.id, "name": district.name},
        "partner": {"id": partner.id, "name": partner.name},
        "child": {"id": child.id, "name": child.name, "personnummer": child.personnummer},
        "referral": {
            "id": referral.id,
            "programme": referral.programme,
            "preferred_format": referral.preferred_format,
            "status": referral.status,
            "created_at": _instant(referral.created_at),
            "completed_at": _instant(referral.completed_at),
            "ended_on": _day(_ended_on(sources, referral)),
        },
        "participation": participation,
        "attendance": attendance,
        "concern_reports": _concern_reports(sources, referral),
    }


def _when(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def _maybe_when(value: Any) -> datetime | None:
    return _when(value) if value is not None else None


def _maybe_day(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value is not None else None


def parse_document(document: str) -> ReturnedDocument:
    """The signed text as a read model (ValueError or KeyError for one that is not a
    returned file of this format)."""
    data = json.loads(document)
    if data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} document")
    referral, child = data["referral"], data["child"]
    participation = None
    if data["participation"] is not None:
        part = data["participation"]
        visit = part["visit"] or {}
        participation = Participation(
            group_id=part["group_id"],
            group_name=part["group_name"],
            group_format=part["format"],
            start_date=date.fromisoformat(part["start_date"]),
            sessions_planned=part["sessions_planned"],
            sessions_attended=part["sessions_attended"],
            absences=part["absences"],
            not_recorded=part["not_recorded"],
            visit_kind=visit.get("kind"),
            visit_day=_maybe_day(visit.get("day")),
            completed_at=_maybe_when(part["completed_at"]),
        )
    return ReturnedDocument(
        format=data["format"],
        produced_at=_when(data["produced_at"]),
        produced_on=date.fromisoformat(data["produced_on"]),
        district_id=data["district"]["id"],
        district_name=data["district"]["name"],
        partner_id=data["partner"]["id"],
        partner_name=data["partner"]["name"],
        child_id=child["id"],
        child_name=child["name"],
        child_personnummer=child["personnummer"],
        referral_id=referral["id"],
        programme=referral["programme"],
        preferred_format=referral["preferred_format"],
        referral_status=referral["status"],
        referral_created_at=_when(referral["created_at"]),
        completed_at=_maybe_when(referral["completed_at"]),
        ended_on=date.fromisoformat(referral["ended_on"]),
        participation=participation,
        attendance=tuple(
            SessionLine(
                line["number"], date.fromisoformat(line["day"]), line["kind"], line["attendance"]
            )
            for line in data["attendance"]
        ),
        concern_reports=tuple(
            ConcernLine(
                line["id"],
                line["reference"],
                _when(line["filed_at"]),
                line["status"],
                _maybe_when(line["acknowledged_at"]),
            )
            for line in data["concern_reports"]
        ),
    )


def sign(document: str, signing_key: Ed25519PrivateKey) -> bytes:
    return signing_key.sign(document.encode("utf-8"))


def verify(document: str, signature: bytes, public_key: Ed25519PublicKey) -> bool:
    """Did the holder of `public_key` sign exactly this text?"""
    try:
        public_key.verify(signature, document.encode("utf-8"))
    except InvalidSignature:
        return False
    return True


# --- delivery (the purge engine) ---------------------------------------------------------------


def deliver(
    uow: UnitOfWork,
    actor: Actor,
    referral_id: str,
    signing_key: Ed25519PrivateKey,
    today: date,
) -> DeliveredFile:
    """Return what social services must keep of an ended participation to the district's
    inbox, signed, once: a referral delivered before answers its file (created=False) and
    writes nothing. Flushes and leaves the commit to the caller (the purge engine commits
    the purge and the delivery together)."""
    return deliver_many(uow, actor, [referral_id], signing_key, today)[referral_id]


def deliver_many(
    uow: UnitOfWork,
    actor: Actor,
    referral_ids: list[str],
    signing_key: Ed25519PrivateKey,
    today: date,
    *,
    already_locked: bool = False,
    refresh_stale: bool = False,
) -> dict[str, DeliveredFile]:
    """`deliver` for a batch of referrals, read in a few queries: per referral id, its file.

    `already_locked`: the caller (the purge engine) has locked these referrals and read them
    afresh in this transaction, so they are taken from the session rather than locked and
    read a second time.

    `refresh_stale` (the purge, just before the partner's file goes): a file returned the
    night after the end is built again when the partner filed a concern report from or about
    the participation since, or one was acknowledged since, so what social services keep is
    complete when the partner's copy is purged. The new document replaces the old under the
    same id, signed anew, delivered now and unacknowledged again (the district acknowledges
    what it now holds); the delivery is in the access log like the first."""
    require(actor, Permission.GALLRING_RUN)
    db = uow.session
    referrals: dict[str, Referral] = {}
    if already_locked:
        for referral_id in referral_ids:
            found = db.get(Referral, referral_id)  # in the session: no query
            if found is not None:
                referrals[referral_id] = found
    else:
        for chunk in chunks(referral_ids):
            # Locked: two runs delivering the same referral at once deliver it once.
            locked = (
                select(Referral)
                .where(one_of(db, Referral.id, chunk))
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            referrals.update((r.id, r) for r in db.scalars(locked))
    delivered: dict[str, DeliveredFile] = {}
    for chunk in chunks(referral_ids):
        for file_id, referral_id, district_id, delivered_at in db.execute(
            select(
                ReturnedFile.id,
                ReturnedFile.referral_id,
                ReturnedFile.district_id,
                ReturnedFile.delivered_at,
            ).where(one_of(db, ReturnedFile.referral_id, chunk))
        ):
            delivered[referral_id] = DeliveredFile(file_id, district_id, delivered_at, False)
    stale = _stale(uow, referrals, delivered) if refresh_stale else set()
    pending: list[Referral] = []
    for referral_id in referral_ids:
        referral = referrals.get(referral_id)
        if referral is None:
            raise NotFound(_("No such record."), field="referral")
        require(actor, Permission.GALLRING_RUN, referral)
        if referral_id in delivered and referral_id not in stale:
            continue
        if Status(referral.status) not in ENDED:
            raise Conflict(
                _(
                    "Only an ended participation (completed, declined or withdrawn) is "
                    "returned; this referral is %(status)s.",
                    status=referral.status,
                ),
                field="referral",
            )
        pending.append(referral)
    if not pending:
        return delivered
    sources = _sources(uow, pending)
    key_id = key_id_of(signing_key.public_key())
    now = clock.now()
    created: list[ReturnedFile] = []
    renewed: list[ReturnedFile] = []
    for referral in pending:
        document = canonical(_contents(sources, referral, now))
        if referral.id in stale:
            renewed.append(
                _renew(db, delivered[referral.id].id, document, key_id, sign(document, signing_key))
            )
            continue
        created.append(
            ReturnedFile(
                id=new_id(),
                district_id=referral.district_id,
                partner_id=referral.partner_id,
                child_id=referral.child_id,
                referral_id=referral.id,
                delivered_at=utcnow(),
                acknowledged_at=None,
                acknowledged_by=None,
                key_id=key_id,
                signature=sign(document, signing_key),
                document=document,
            )
        )
    if created:
        _insert_sealed(uow, created, sources.keys)
    db.flush()  # the renewed documents sealed, as a delivery's are, before they are logged
    record_many(
        db,
        actor,
        [
            Entry(
                Action.RETURNED_FILE_DELIVER,
                object_type=OBJECT_TYPE,
                object_id=returned.id,
                subject=returned.key_scope(),
            )
            for returned in created + renewed
        ],
    )
    for returned in created + renewed:
        delivered[returned.referral_id] = DeliveredFile(
            returned.id, returned.district_id, returned.delivered_at, True
        )
    return delivered


def _stale(
    uow: UnitOfWork, referrals: dict[str, Referral], delivered: dict[str, DeliveredFile]
) -> set[str]:
    """Of the referrals whose file was returned, those with a concern report of the partner's
    filed or acknowledged since: their file would no longer say what is so."""
    returned = [referrals[referral_id] for referral_id in delivered if referral_id in referrals]
    if not returned:
        return set()
    stale: set[str] = set()
    for referral_id, reports in partner_reports(uow, returned).items():
        since = delivered[referral_id].delivered_at
        if any(
            report.filed_at > since
            or (report.acknowledged_at is not None and report.acknowledged_at > since)
            for report in reports
        ):
            stale.add(referral_id)
    return stale


def _renew(db: Session, file_id: str, document: str, key_id: str, signature: bytes) -> ReturnedFile:
    returned = db.get(ReturnedFile, file_id)
    assert returned is not None  # read under the referral's lock just now
    returned.document = document
    returned.signature = signature
    returned.key_id = key_id
    returned.delivered_at = utcnow()
    returned.acknowledged_at = None
    returned.acknowledged_by = None
    return returned


# Each column of the table, with the model attribute that holds it (the document's is
# `_document`).
_TABLE = cast(Table, ReturnedFile.__table__)
_COLUMNS = tuple((prop.columns[0].key, prop.key) for prop in inspect(ReturnedFile).column_attrs)


def _insert_sealed(
    uow: UnitOfWork, created: list[ReturnedFile], keys: dict[KeyScope, tuple[DataKey, bytes]]
) -> None:
    """Seal the new files' documents under the district's current key for each child (`keys`,
    read with the sources), as a flush would: the same cipher, and the column takes nothing
    but sealed values. Then insert them in one statement: the purge returns a hundred files
    a transaction, and the unit of work's insert of a hundred models cost more than building
    and signing them. The files are not left in the session: nothing in the purge reads
    them again."""
    db = uow.session
    cipher = session_cipher(db)
    for returned in created:
        cipher.seal(db, returned, keys)
    rows = [
        {column: getattr(returned, attribute) for column, attribute in _COLUMNS}
        for returned in created
    ]
    db.execute(insert(_TABLE), rows)


# --- the district's inbox ----------------------------------------------------------------------


def _waiting_days(returned: ReturnedFile, today: date) -> int:
    if returned.acknowledged_at is not None:
        return 0
    delivered_on = returned.delivered_at.astimezone(clock.STOCKHOLM).date()
    return max((today - delivered_on).days, 0)


def inbox(uow: UnitOfWork, actor: Actor, today: date) -> list[ReturnedFileSummary]:
    """The files returned to the actor's district: unacknowledged first, newest first within
    each. Each one shown names the child, so each is written to the log before the list is
    returned."""
    require(actor, Permission.RETURNED_FILE_READ)
    unacknowledged_first = case((ReturnedFile.acknowledged_at.is_(None), 0), else_=1)
    query = select(ReturnedFile).order_by(
        unacknowledged_first, ReturnedFile.delivered_at.desc(), ReturnedFile.id
    )
    district_id = organisation_scope(actor)
    if district_id is not None:
        query = query.where(ReturnedFile.district_id == district_id)
    found = list(uow.session.scalars(query))
    for returned in found:
        _record(uow, actor, Action.RETURNED_FILE_READ, returned)
    uow.commit()
    summaries = []
    for returned in found:
        contents = parse_document(returned.document)
        summaries.append(
            ReturnedFileSummary(
                file_id=returned.id,
                child_id=returned.child_id,
                child_name=contents.child_name,
                partner_name=contents.partner_name,
                referral_status=contents.referral_status,
                ended_on=contents.ended_on,
                delivered_at=returned.delivered_at,
                acknowledged_at=returned.acknowledged_at,
                waiting_days=_waiting_days(returned, today),
            )
        )
    return summaries


def unacknowledged_count(uow: UnitOfWork, actor: Actor) -> int:
    """How many files wait for the actor's district to acknowledge them (for the start page).
    Nothing personal is read, so nothing is recorded."""
    require(actor, Permission.RETURNED_FILE_READ)
    query = select(func.count()).select_from(ReturnedFile)
    district_id = organisation_scope(actor)
    if district_id is not None:
        query = query.where(ReturnedFile.district_id == district_id)
    return int(uow.session.scalar(query.where(ReturnedFile.acknowledged_at.is_(None))) or 0)


def _returned(uow: UnitOfWork, actor: Actor, file_id: str, *, lock: bool = False) -> ReturnedFile:
    require(actor, Permission.RETURNED_FILE_READ)
    return get_for(
        uow, actor, Permission.RETURNED_FILE_READ, ReturnedFile, file_id, field="file", lock=lock
    )


def read(
    uow: UnitOfWork,
    actor: Actor,
    file_id: str,
    today: date,
    *,
    public_key: Ed25519PublicKey | None,
    downloading: bool = False,
) -> ReturnedFileView:
    """A social worker of the district opens (or downloads) a returned file; the access is
    on record before anything is returned. The signature is checked with `public_key`."""
    returned = _returned(uow, actor, file_id)
    _record(
        uow,
        actor,
        Action.RETURNED_FILE_READ,
        returned,
        details={"copy": "json"} if downloading else None,
    )
    uow.commit()
    document = returned.document
    names = staff_names(uow, [returned.acknowledged_by] if returned.acknowledged_by else [])
    return ReturnedFileView(
        file_id=returned.id,
        document=document,
        contents=parse_document(document),
        signature=returned.signature,
        key_id=returned.key_id,
        signature_valid=(
            verify(document, returned.signature, public_key) if public_key is not None else None
        ),
        delivered_at=returned.delivered_at,
        acknowledged_at=returned.acknowledged_at,
        acknowledged_by=(
            names.get(returned.acknowledged_by, returned.acknowledged_by)
            if returned.acknowledged_by
            else None
        ),
        waiting_days=_waiting_days(returned, today),
    )


def acknowledge(uow: UnitOfWork, actor: Actor, file_id: str) -> AcknowledgedFile:
    """The district confirms it has the file, once (409 when it has been already)."""
    returned = _returned(uow, actor, file_id, lock=True)
    if returned.acknowledged_at is not None:
        raise Conflict(_("This returned file has already been acknowledged."), field="file")
    acknowledged_at = utcnow()
    returned.acknowledged_at = acknowledged_at
    returned.acknowledged_by = actor.user_id
    uow.session.flush()
    _record(uow, actor, Action.RETURNED_FILE_ACKNOWLEDGE, returned)
    uow.commit()
    return AcknowledgedFile(returned.id, acknowledged_at)


def _record(
    uow: UnitOfWork,
    actor: Actor,
    action: Action,
    returned: ReturnedFile,
    details: dict[str, object] | None = None,
) -> None:
    record(
        uow.session,
        actor,
        action,
        object_type=OBJECT_TYPE,
        object_id=returned.id,
        subject=returned.key_scope(),
        details=details,
    )
