"""Files returned to social services: before a partner's file on a child is purged, what the
district must keep of the participation (attendance, the participation summary, the concern
reports filed) reaches the district's inbox as a signed, self-contained document, once; only
the district's social workers read it, every read and the acknowledgement are in the access
log, and the document is sealed in the database."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import func, select, text

from audit.checkpoints import key_id_of, load_private_key
from config.settings import Settings
from referral import return_signing
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation
from referral.db.returned import ReturnedFile
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, NotFound, NotPermitted
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, concern_reports, consent, groups, referrals, returned_files
from referral.working_time import WorkingDay
from tests.conftest import FrozenClock
from tests.factories import SYSTEM, Factory, invented_personnummer, social_worker_actor

TODAY = date(2027, 3, 1)  # a Monday: the referrals, the group's planning and the visits
START = date(2027, 3, 15)  # the weekly group's first meeting
LAST = START + timedelta(weeks=7)  # its eighth and last
COMPLETED = datetime(2027, 5, 3, 16, 0, tzinfo=UTC)  # the evening of the last meeting
DESCRIPTION = "A-2027:1"
CHILD_NAME = "Återlämna Barnsdotter"
CONCERN_TEXT = "Barnet berättade under träffen om bråk hemma."


@dataclass
class Completed:
    """One group of five children run to its end; the first child is the one followed."""

    district: Organisation
    partner: Organisation
    worker: Actor  # a social worker of the district (no login)
    leader: Actor  # the partner's group leader
    child_id: str
    personnummer: str
    referral_id: str
    group_id: str
    session_days: tuple[date, ...]
    report_id: str  # a concern report the leader filed from the child's referral


def _staff(factory: Factory, role: Role, organisation: Organisation) -> Actor:
    account = factory.account(role.value, organisation=organisation)
    return Actor(account.user.id, account.username, organisation.id, frozenset({role}))


def _accepted(
    uow: UnitOfWork, worker: Actor, leader: Actor, partner: Organisation, name: str, pnr: str
) -> referrals.ReferralState:
    """A referral under LVU (name, age and participation shared), accepted by the partner."""
    child = children.register_child(uow, worker, children.NewChild(pnr, name))
    consent.record_placement(
        uow,
        worker,
        child.id,
        "LVU",
        "Beslut 9/2027",
        "Farsta SDN",
        date(2026, 1, 15),
        today=TODAY,
        lvu_shared=("name", "age", "participation"),
    )
    referral = referrals.create_referral(
        uow, worker, referrals.NewReferral(child.id, partner.id, "weekly"), today=TODAY
    )
    referrals.submit_referral(uow, worker, referral.id, TODAY)
    referrals.respond(uow, leader, referral.id, accept=True, today=TODAY)
    return referral


def completed_participation(
    uow: UnitOfWork,
    factory: Factory,
    district: Organisation | None = None,
) -> Completed:
    """Five children through a weekly group: visited, attendance recorded at the first seven
    meetings (the followed child absent at the second), the eighth left unrecorded, the
    group completed; the leader filed one concern report from the followed child's referral."""
    district = district or factory.organisation("district")
    partner = factory.organisation("partner")
    factory.activity_description(DESCRIPTION, partner)
    worker = social_worker_actor(factory, district)
    leader = _staff(factory, Role.GROUP_LEADER, partner)
    personnummer = invented_personnummer(2016, 5, 1)
    followed = _accepted(uow, worker, leader, partner, CHILD_NAME, personnummer)
    others = [
        _accepted(uow, worker, leader, partner, f"Gruppbarn {n}", invented_personnummer(2016, 6, n))
        for n in range(1, 5)
    ]
    group = groups.create_group(
        uow,
        leader,
        groups.NewGroup("Vårgrupp Farsta", "weekly", START, 7, 12, [leader.user_id]),
        TODAY,
    )
    enrolments = [
        groups.enrol(uow, leader, group.group_id, referral.id, TODAY)
        for referral in [followed, *others]
    ]
    for enrolment in enrolments:
        groups.record_visit(
            uow,
            leader,
            group.group_id,
            groups.NewVisit(enrolment.enrolment_id, "home", TODAY),
            TODAY,
        )
    started = groups.start_group(uow, leader, group.group_id, TODAY)
    for session in started.sessions[:7]:
        marks = {
            e.enrolment_id: not (e is enrolments[0] and session.number == 2) for e in enrolments
        }
        groups.record_attendance(uow, leader, group.group_id, session.session_id, marks, LAST)
    report = concern_reports.file_report(
        uow,
        leader,
        concern_reports.NewConcernReport(CONCERN_TEXT, "070-111", referral_id=followed.id),
        concern_reports.AcknowledgementRule(4, WorkingDay(8, 17)),
        LAST,
    )
    groups.complete_group(uow, leader, group.group_id, LAST)
    return Completed(
        district=district,
        partner=partner,
        worker=worker,
        leader=leader,
        child_id=followed.child_id,
        personnummer=personnummer,
        referral_id=followed.id,
        group_id=group.group_id,
        session_days=tuple(s.day for s in started.sessions),
        report_id=report.report_id,
    )


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    return return_signing.load_key(settings.return_signing_key_path)


@pytest.fixture
def uow(app: Flask) -> Iterator[UnitOfWork]:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        yield uow


@pytest.fixture
def completed(uow: UnitOfWork, factory: Factory, frozen_clock: FrozenClock) -> Completed:
    frozen_clock.moment = COMPLETED
    return completed_participation(uow, factory)


def _deliver(uow: UnitOfWork, settings: Settings, referral_id: str) -> returned_files.DeliveredFile:
    delivered = returned_files.deliver(uow, SYSTEM, referral_id, signing_key(settings), LAST)
    uow.commit()  # the purge engine's commit
    return delivered


def _read(
    uow: UnitOfWork, settings: Settings, actor: Actor, file_id: str
) -> returned_files.ReturnedFileView:
    public = return_signing.public_key(settings.return_signing_key_path)
    return returned_files.read(uow, actor, file_id, LAST, public_key=public)


def _entries(uow: UnitOfWork, action: str) -> list[AuditEntry]:
    return list(
        uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.sequence)
        )
    )


# --- delivery and the inbox --------------------------------------------------------------------


def test_the_districts_social_worker_finds_the_delivered_file_in_the_inbox(
    uow: UnitOfWork, settings: Settings, completed: Completed
) -> None:
    delivered = _deliver(uow, settings, completed.referral_id)
    lines = returned_files.inbox(uow, completed.worker, LAST)
    assert delivered.created and delivered.district_id == completed.district.id
    assert [(line.file_id, line.child_name, line.partner_name) for line in lines] == [
        (delivered.id, CHILD_NAME, completed.partner.name)
    ]
    assert lines[0].referral_status == "completed" and not lines[0].acknowledged
    assert returned_files.unacknowledged_count(uow, completed.worker) == 1
    # Each file shown names the child: one read on record, under the district's key scope.
    (shown,) = _entries(uow, "returned_file:read")
    assert (shown.object_id, shown.subject_id, shown.subject_holder) == (
        delivered.id,
        completed.child_id,
        f"district:{completed.district.id}",
    )


def test_the_document_holds_the_child_the_attendance_and_the_concern_report_reference(
    uow: UnitOfWork, settings: Settings, completed: Completed
) -> None:
    delivered = _deliver(uow, settings, completed.referral_id)
    view = _read(uow, settings, completed.worker, delivered.id)
    contents = view.contents
    assert (contents.format, contents.produced_on) == ("referral-return/1", COMPLETED.date())
    assert (contents.child_id, contents.child_name, contents.child_personnummer) == (
        completed.child_id,
        CHILD_NAME,
        completed.personnummer,
    )
    assert (contents.district_name, contents.partner_name) == (
        completed.district.name,
        completed.partner.name,
    )
    assert (contents.referral_status, contents.completed_at, contents.ended_on) == (
        "completed",
        COMPLETED,
        LAST,
    )
    participation = contents.participation
    assert participation is not None
    assert (participation.group_name, participation.group_format, participation.start_date) == (
        "Vårgrupp Farsta",
        "weekly",
        START,
    )
    assert (
        participation.sessions_planned,
        participation.sessions_attended,
        participation.absences,
        participation.not_recorded,
    ) == (8, 6, 1, 1)
    assert (participation.visit_kind, participation.visit_day) == ("home", TODAY)
    assert [(s.number, s.day, s.attendance) for s in contents.attendance] == [
        (n, day, "absent" if n == 2 else "not_recorded" if n == 8 else "present")
        for n, day in enumerate(completed.session_days, start=1)
    ]
    (report,) = contents.concern_reports
    assert (report.report_id, report.reference, report.status, report.acknowledged_at) == (
        completed.report_id,
        completed.report_id[:8].upper(),
        "open",
        None,
    )
    # The report itself stays with its receiver: the document never carries its text.
    assert CONCERN_TEXT not in view.document
    assert json.loads(view.document)["concern_reports"][0]["id"] == completed.report_id


def test_the_signature_verifies_with_the_public_key_and_fails_on_one_changed_byte(
    uow: UnitOfWork, settings: Settings, completed: Completed, audit_paths: tuple[str, str]
) -> None:
    delivered = _deliver(uow, settings, completed.referral_id)
    view = _read(uow, settings, completed.worker, delivered.id)
    public = return_signing.public_key(settings.return_signing_key_path)
    changed = view.document.replace(CHILD_NAME, CHILD_NAME.replace("Å", "A"), 1)
    flipped = bytes([view.signature[0] ^ 1]) + view.signature[1:]
    audit_key = load_private_key(Path(audit_paths[1]).read_bytes()).public_key()
    assert view.signature_valid is True and view.key_id == key_id_of(public)
    assert returned_files.verify(view.document, view.signature, public)
    assert changed != view.document
    assert not returned_files.verify(changed, view.signature, public)
    assert not returned_files.verify(view.document, flipped, public)
    # One secret per purpose: the access log's checkpoint key did not sign it.
    assert not returned_files.verify(view.document, view.signature, audit_key)
    # Canonical: sorted keys, no spaces, the name as UTF-8 rather than escaped.
    parsed = json.loads(view.document)
    assert view.document == json.dumps(
        parsed, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert CHILD_NAME in view.document


def test_a_second_delivery_of_the_same_referral_creates_and_records_nothing(
    uow: UnitOfWork, settings: Settings, completed: Completed
) -> None:
    first = _deliver(uow, settings, completed.referral_id)
    entries_before = uow.session.scalar(select(func.count()).select_from(AuditEntry))
    second = _deliver(uow, settings, completed.referral_id)
    entries_after = uow.session.scalar(select(func.count()).select_from(AuditEntry))
    files = uow.session.scalar(
        select(func.count())
        .select_from(ReturnedFile)
        .where(ReturnedFile.referral_id == completed.referral_id)
    )
    assert (second.id, second.created, first.created) == (first.id, False, True)
    assert files == 1 and entries_after == entries_before
    (delivery,) = _entries(uow, "returned_file:deliver")
    assert (delivery.object_id, delivery.subject_id, delivery.subject_holder) == (
        first.id,
        completed.child_id,
        f"district:{completed.district.id}",
    )


def test_a_referral_still_with_the_partner_is_not_returned(
    uow: UnitOfWork, settings: Settings, factory: Factory
) -> None:
    district, partner = factory.organisation("district"), factory.organisation("partner")
    factory.activity_description(DESCRIPTION, partner)
    worker = social_worker_actor(factory, district)
    leader = _staff(factory, Role.GROUP_LEADER, partner)
    referral = _accepted(
        uow, worker, leader, partner, "Pågående Barn", invented_personnummer(2016, 7, 1)
    )
    with pytest.raises(Conflict) as refused:
        returned_files.deliver(uow, SYSTEM, referral.id, signing_key(settings), TODAY)
    assert refused.value.field == "referral"
    assert uow.session.scalar(select(func.count()).select_from(ReturnedFile)) == 0


def test_a_declined_referral_is_returned_without_a_participation(
    uow: UnitOfWork, settings: Settings, factory: Factory, frozen_clock: FrozenClock
) -> None:
    frozen_clock.moment = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    district, partner = factory.organisation("district"), factory.organisation("partner")
    factory.activity_description(DESCRIPTION, partner)
    worker = social_worker_actor(factory, district)
    leader = _staff(factory, Role.GROUP_LEADER, partner)
    child = children.register_child(
        uow, worker, children.NewChild(invented_personnummer(2016, 8, 1), "Avböjd Barn")
    )
    consent.record_placement(
        uow,
        worker,
        child.id,
        "LVU",
        "Beslut 10/2027",
        "Farsta SDN",
        date(2026, 1, 15),
        today=TODAY,
        lvu_shared=("name", "age"),
    )
    referral = referrals.create_referral(
        uow, worker, referrals.NewReferral(child.id, partner.id, "weekend"), today=TODAY
    )
    referrals.submit_referral(uow, worker, referral.id, TODAY)
    referrals.respond(uow, leader, referral.id, accept=False, today=TODAY)
    frozen_clock.move(days=40)
    delivered = _deliver(uow, settings, referral.id)
    view = _read(uow, settings, worker, delivered.id)
    assert (view.contents.referral_status, view.contents.preferred_format) == (
        "declined",
        "weekend",
    )
    assert view.contents.ended_on == TODAY and view.contents.completed_at is None
    assert view.contents.produced_on == TODAY + timedelta(days=40)
    assert view.contents.participation is None and view.contents.attendance == ()
    assert view.signature_valid is True


# --- who reads it ------------------------------------------------------------------------------


def test_another_districts_social_worker_gets_not_found(
    uow: UnitOfWork, settings: Settings, factory: Factory, completed: Completed
) -> None:
    delivered = _deliver(uow, settings, completed.referral_id)
    elsewhere = social_worker_actor(factory)
    with pytest.raises(NotFound) as not_found:
        _read(uow, settings, elsewhere, delivered.id)
    with pytest.raises(NotFound):
        returned_files.acknowledge(uow, elsewhere, delivered.id)
    assert not_found.value.field == "file"
    assert returned_files.inbox(uow, elsewhere, LAST) == []
    assert returned_files.unacknowledged_count(uow, elsewhere) == 0
    assert _entries(uow, "returned_file:read") == []


def test_the_partners_group_leader_cannot_read_what_was_returned(
    uow: UnitOfWork, settings: Settings, completed: Completed
) -> None:
    delivered = _deliver(uow, settings, completed.referral_id)
    with pytest.raises(NotPermitted):
        _read(uow, settings, completed.leader, delivered.id)
    with pytest.raises(NotPermitted):
        returned_files.inbox(uow, completed.leader, LAST)
    with pytest.raises(NotPermitted):
        returned_files.acknowledge(uow, completed.leader, delivered.id)
    assert _entries(uow, "returned_file:read") == []


def test_acknowledging_is_recorded_once_and_a_second_acknowledgement_is_a_conflict(
    uow: UnitOfWork, settings: Settings, factory: Factory, completed: Completed
) -> None:
    delivered = _deliver(uow, settings, completed.referral_id)
    worker = _staff(factory, Role.SOCIAL_WORKER, completed.district)
    acknowledged = returned_files.acknowledge(uow, worker, delivered.id)
    with pytest.raises(Conflict) as again:
        returned_files.acknowledge(uow, completed.worker, delivered.id)
    view = _read(uow, settings, completed.worker, delivered.id)
    (entry,) = _entries(uow, "returned_file:acknowledge")
    assert again.value.status == 409
    assert (view.acknowledged_at, view.acknowledged_by) == (
        acknowledged.acknowledged_at,
        "Test social_worker",
    )
    assert (entry.actor_id, entry.object_id, entry.subject_id) == (
        worker.user_id,
        delivered.id,
        completed.child_id,
    )
    assert returned_files.unacknowledged_count(uow, worker) == 0


def test_the_inbox_lists_unacknowledged_files_first(
    uow: UnitOfWork, settings: Settings, factory: Factory, frozen_clock: FrozenClock
) -> None:
    frozen_clock.moment = COMPLETED
    first = completed_participation(uow, factory)
    second = completed_participation(uow, factory, district=first.district)
    older = _deliver(uow, settings, first.referral_id)
    frozen_clock.move(days=2)
    newer = _deliver(uow, settings, second.referral_id)
    returned_files.acknowledge(uow, first.worker, newer.id)
    lines = returned_files.inbox(uow, first.worker, LAST + timedelta(days=3))
    assert [(line.file_id, line.acknowledged) for line in lines] == [
        (older.id, False),
        (newer.id, True),
    ]
    assert [line.waiting_days for line in lines] == [3, 0]


# --- sealed ----------------------------------------------------------------------------------


def test_the_document_is_sealed_in_the_database(
    uow: UnitOfWork, settings: Settings, completed: Completed
) -> None:
    delivered = _deliver(uow, settings, completed.referral_id)
    stored = uow.session.execute(
        text("SELECT document FROM returned_files WHERE id = :id"), {"id": delivered.id}
    ).scalar_one()
    raw = bytes(stored)
    for clear in (CHILD_NAME, completed.personnummer, "referral-return/1", "Vårgrupp Farsta"):
        assert clear.encode() not in raw
    row = uow.session.get(ReturnedFile, delivered.id)
    assert row is not None
    assert (row.key_scope().person_id, row.key_scope().holder) == (
        completed.child_id,
        f"district:{completed.district.id}",
    )


# --- the signing key ---------------------------------------------------------------------------


def test_the_signing_key_is_made_once_private_and_its_public_key_beside_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keys" / "return-signing-key.pem"
    made = return_signing.create_key(path)
    first = path.read_bytes()
    again = return_signing.create_key(path)
    public = tmp_path / "keys" / "return-signing-key.pub.pem"
    assert (made, again) == (True, False)
    assert path.read_bytes() == first  # never overwritten
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public.exists()
    key = return_signing.load_key(path)
    assert key_id_of(return_signing.public_key(path)) == key_id_of(key.public_key())
    signature = key.sign(b"x")
    return_signing.public_key(path).verify(signature, b"x")  # raises if not its pair


def test_a_missing_signing_key_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(return_signing.MissingSigningKey) as missing:
        return_signing.load_key(tmp_path / "absent.pem")
    with pytest.raises(return_signing.MissingSigningKey):
        return_signing.public_key(tmp_path / "absent.pem")
    assert "flask gallring init" in missing.value.message
    assert str(tmp_path / "absent.pem") in missing.value.message
