"""Retention and purge (gallring), the whole way: a canary child is referred, placed in a group,
documented by the group leader and reported on; the group completes; after the retention
period (frozen clock) `flask gallring run` purges the partner's file. Then the canary is in no
byte of the database, the partner cannot open the child, the district's record still opens, no
key decrypts what the file held, the access log verifies, the fee report is unchanged, and the
district holds the signed returned file. A held case survives; a run that dies half-way loses
nothing and the next finishes it; two runs at once purge each unit once.

Every test commits for real, on a database of its own (SQLite file or PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from config.settings import Settings
from crypto import DecryptionError, FieldContext, decrypt_field
from crypto.hazmat import dek_id_of
from referral import clock, create_app, return_signing
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.data_keys import DataKey
from referral.db.encryption import Sealed, session_cipher
from referral.db.groups import GroupSession
from referral.db.models import Organisation
from referral.db.outreach import Encounter, LinkCase, Youth
from referral.db.people import PartnerFile, PartnerNote
from referral.db.retention import GallringRun, LegalHold, PurgeRecord
from referral.db.returned import ReturnedFile
from referral.db.uow import UnitOfWork
from referral.errors import NotFound
from referral.request_scope import get_database, request_session
from referral.roles import Role
from referral.services import (
    audit_integrity,
    child_record,
    children,
    concern_reports,
    consent,
    fees,
    gallring,
    groups,
    link_cases,
    outreach,
    partner_files,
    referrals,
    returned_files,
)
from referral.services.concern_reports import AcknowledgementRule, NewConcernReport
from referral.services.gallring import erasure, holds, rules
from referral.working_time import WorkingDay
from tests.conftest import FrozenClock
from tests.factories import SYSTEM, Factory, invented_personnummer, social_worker_actor
from tests.integration.test_canary_scan import encodings
from tests.own_database import own_database

CANARY_NAME = "Gallringsbarn Qzxvörlund"
CANARY_PERSONNUMMER = invented_personnummer(2016, 4, 9, serial=871)
CANARY_NOTE = "Anteckning Wybbqlurft om gruppträffen"
CANARY_ALIAS = "Ungdom Xylofryd"
DESCRIPTION = "A-2027:1"
START = date(2027, 3, 15)  # a Monday: the weekly group's first meeting
BUILT_AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
COMPLETED_AT = datetime(2027, 5, 4, 9, 0, tzinfo=UTC)  # the day after the eighth meeting


@pytest.fixture
def own_app(
    base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, Settings]]:
    url = own_database(base_settings.database_url, tmp_path_factory, "gallring")
    settings = replace(base_settings, database_url=url)
    app = create_app(settings)
    yield app, settings
    get_database(app).engine.dispose()


@dataclass
class World:
    worker: Actor
    leader: Actor
    partner: Organisation
    canary_referral: str
    canary_child: str
    referrals: list[str]
    held_referral: str  # its child has an unacknowledged concern report
    fee_year: int = 2027


def _consent(party: str) -> consent.ConsentInput:
    return consent.ConsentInput(
        party=party,
        decision="given",
        categories=("name", "age", "participation"),
        decided_on=BUILT_AT.date(),
        valid_until=BUILT_AT.date() + timedelta(days=365),
        method="written",
        description_version=DESCRIPTION,
    )


def _referred(
    uow: UnitOfWork, world_worker: Actor, leader: Actor, partner: str, name: str, personnummer: str
) -> tuple[str, str]:
    today = clock.today()
    child = children.register_child(uow, world_worker, children.NewChild(personnummer, name))
    consent.record_placement(uow, world_worker, child.id, "SoL", today=today)
    guardian = consent.add_guardian(
        uow, world_worker, child.id, "Vårdnadshavare Påhittad", None, True, today=today
    )
    consent.record_consent(uow, world_worker, child.id, _consent(guardian.id), today=today)
    referral = referrals.create_referral(
        uow, world_worker, referrals.NewReferral(child.id, partner, "weekly"), today=today
    )
    referrals.submit_referral(uow, world_worker, referral.id, today)
    referrals.respond(uow, leader, referral.id, accept=True, today=today)
    return referral.id, child.id


def _build(app: Flask, settings: Settings, frozen: FrozenClock) -> World:
    """Six children through a weekly group to completion; the canary's file holds a note,
    a concern report was filed from its referral and acknowledged; another child has a
    report nobody has acknowledged yet."""
    frozen.moment = BUILT_AT
    factory = Factory(app, settings)
    worker = social_worker_actor(factory)
    assert worker.organisation_id is not None
    partner = factory.organisation("partner")
    factory.activity_description(DESCRIPTION, partner)
    account = factory.account("group_leader", organisation=partner)
    leader = Actor(account.user.id, account.username, partner.id, frozenset({Role.GROUP_LEADER}))
    colleague = social_worker_actor(factory)
    colleague = replace(colleague, organisation_id=worker.organisation_id)
    rule = AcknowledgementRule(4, WorkingDay(8, 17))
    with app.app_context(), UnitOfWork(request_session()) as uow:
        city = uow.session.get(Organisation, factory.organisation("city").id)
        assert city is not None
        city.social_emergency_service = True
        uow.commit()
        today = clock.today()
        canary_referral, canary_child = _referred(
            uow, worker, leader, partner.id, CANARY_NAME, CANARY_PERSONNUMMER
        )
        children.update_details(
            uow, worker, canary_child, children.ChildDetails(paying_municipality="Påhittby")
        )
        ids = [canary_referral]
        for n in range(5):
            referral_id, _child = _referred(
                uow,
                worker,
                leader,
                partner.id,
                f"Gruppbarn {n}",
                invented_personnummer(2015, 2, n + 1),
            )
            ids.append(referral_id)
        group = groups.create_group(
            uow,
            leader,
            groups.NewGroup("Vårgrupp", "weekly", START, 7, 12, [leader.user_id]),
            today,
        )
        enrolments = [groups.enrol(uow, leader, group.group_id, r, today) for r in ids]
        for enrolment in enrolments:
            groups.record_visit(
                uow,
                leader,
                group.group_id,
                groups.NewVisit(enrolment.enrolment_id, "home", today),
                today,
            )
        partner_files.write_note(uow, leader, canary_referral, CANARY_NOTE, today)
        filed = concern_reports.file_report(
            uow,
            leader,
            NewConcernReport("Oro efter träffen", "070-000 00 01", referral_id=canary_referral),
            rule,
            today,
        )
        concern_reports.acknowledge(uow, worker, filed.report_id)
        concern_reports.file_report(
            uow,
            leader,
            NewConcernReport("Oro som ingen kvitterat", "070-000 00 02", referral_id=ids[1]),
            rule,
            today,
        )
        groups.start_group(uow, leader, group.group_id, START)
        sessions = uow.session.scalars(
            select(GroupSession.id)
            .where(GroupSession.group_id == group.group_id)
            .order_by(GroupSession.number)
        ).all()
        for number, session_id in enumerate(sessions):
            marks = {e.enrolment_id: (number + i) % 3 != 0 for i, e in enumerate(enrolments)}
            groups.record_attendance(
                uow, leader, group.group_id, session_id, marks, COMPLETED_AT.date()
            )
        frozen.moment = COMPLETED_AT
        groups.complete_group(uow, leader, group.group_id, clock.today())
    return World(worker, leader, partner, canary_referral, canary_child, ids, ids[1])


def _sqlite_bytes(settings: Settings) -> bytes:
    path = make_url(settings.database_url).database
    blob = b""
    for suffix in ("", "-wal", "-journal"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            blob += candidate.read_bytes()
    return blob


def _canary_forms() -> list[bytes]:
    forms: list[bytes] = []
    for canary in (CANARY_NAME, CANARY_PERSONNUMMER, CANARY_PERSONNUMMER[2:], CANARY_NOTE):
        forms.extend(encodings(canary))
    return forms


def _run(app: Flask, settings: Settings) -> gallring.RunResult:
    key = return_signing.load_key(settings.return_signing_key_path)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        return gallring.purge_due(uow, SYSTEM, settings, clock.today(), key)


def _plan(app: Flask, settings: Settings) -> gallring.Plan:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        return gallring.plan(uow, SYSTEM, settings, clock.today())


@dataclass(frozen=True)
class SealedValue:
    blob: bytes
    context: FieldContext


def _file_ciphertexts(app: Flask, child_id: str) -> list[SealedValue]:
    """Every sealed value of the partner's file on the child: its notes, and the access
    log's sealed details under the file's holders."""
    with app.app_context():
        db = request_session()
        found = []
        for note in db.scalars(select(PartnerNote).where(PartnerNote.child_id == child_id)):
            assert isinstance(note._text, Sealed)
            found.append(
                SealedValue(
                    note._text.blob, FieldContext("partner_notes", "text", note.id, child_id)
                )
            )
        for entry in db.scalars(
            select(AuditEntry).where(
                AuditEntry.subject_id == child_id,
                AuditEntry.subject_holder.like("partner-file:%"),
                AuditEntry._details.is_not(None),
            )
        ):
            assert isinstance(entry._details, Sealed)
            found.append(
                SealedValue(
                    entry._details.blob,
                    FieldContext("audit_entries", "details", entry.id, child_id),
                )
            )
        return found


def _fee_lines(app: Flask, world: World) -> tuple[object, ...]:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        report = fees.fee_report(uow, world.leader, world.fee_year)
        return (report.lines, report.per_municipality, report.total_sek)


def _purges(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            tuple(row)
            for row in request_session().execute(select(PurgeRecord.rule, PurgeRecord.unit_id))
        ]  # type: ignore[misc]


def _purge_entries(app: Flask, unit_id: str) -> int:
    with app.app_context():
        return (
            request_session().scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "gallring:purge", AuditEntry.object_id == unit_id)
            )
            or 0
        )


@pytest.mark.asvs("V14.2.7")
def test_a_completed_canary_childs_partner_file_is_purged_and_returned_the_district_keeps_its_own(
    own_app: tuple[Flask, Settings], frozen_clock: FrozenClock
) -> None:
    app, settings = own_app
    world = _build(app, settings, frozen_clock)
    sealed = _file_ciphertexts(app, world.canary_child)
    assert sealed  # the note (the log's entry of its writing seals no details)
    fee_before = _fee_lines(app, world)

    frozen_clock.moment = COMPLETED_AT + timedelta(days=settings.partner_retention_days - 1)
    assert _plan(app, settings).due_count == 0  # not yet: the retention runs 30 days
    frozen_clock.moment = COMPLETED_AT + timedelta(days=settings.partner_retention_days + 1)
    plan = _plan(app, settings)
    due = {u.unit_id for u in plan.due if u.rule == "partner_file"}
    held = {u.unit_id: u.held_by for u in plan.held}
    assert world.canary_referral in due and world.held_referral not in due
    assert held[world.held_referral] == (holds.HoldKind.OPEN_CONCERN_REPORT,)

    result = _run(app, settings)

    assert result.purged == len(world.referrals) - 1 and result.held == 1
    # Not a byte of the canary in the file, the WAL or a journal (SQLite).
    if settings.uses_sqlite:
        raw = _sqlite_bytes(settings)
        assert [form for form in _canary_forms() if form in raw] == []
    with app.app_context(), UnitOfWork(request_session()) as uow:
        today = clock.today()
        # The partner's file is gone: rows deleted, keys shredded, nothing decrypts.
        assert (
            uow.session.scalars(
                select(PartnerFile).where(PartnerFile.referral_id == world.canary_referral)
            ).all()
            == []
        )
        live_keys = [
            (row.id, session_cipher(uow.session).keys.unwrap(row))
            for row in uow.session.scalars(select(DataKey).where(DataKey.wrapped.is_not(None)))
        ]
        for value in sealed:
            key_row = uow.session.get(DataKey, str(dek_id_of(value.blob)))
            assert key_row is not None and key_row.wrapped is None
            for _key_id, dek in live_keys:
                with pytest.raises(DecryptionError):
                    decrypt_field(value.blob, dek, value.context)
        with pytest.raises(NotFound):
            partner_files.notes_of(uow, world.leader, world.canary_referral, today)
        inbox = referrals.partner_inbox(uow, world.leader, today)
        assert world.canary_referral not in {view.referral_id for view in inbox}
        # The district's record still opens, whole.
        record = child_record.read_child_record(uow, world.worker, world.canary_child, today)
        assert record.name == CANARY_NAME
        # The district holds the returned file, signed, with the attendance in it.
        returned = uow.session.scalars(
            select(ReturnedFile).where(ReturnedFile.referral_id == world.canary_referral)
        ).one()
        assert returned.district_id == world.worker.organisation_id
        public = return_signing.public_key(settings.return_signing_key_path)
        assert returned_files.verify(returned.document, returned.signature, public)
        document = returned_files.parse_document(returned.document)
        assert document.participation is not None
        assert len(document.attendance) == 8
        # The canary was absent from the first, fourth and seventh meetings.
        assert (document.participation.sessions_attended, document.participation.absences) == (5, 3)
        assert document.child_name == CANARY_NAME
        assert len(document.concern_reports) == 1
        assert audit_integrity.verify(uow.session).ok  # the chain verifies after the purge
    # The held case is untouched.
    assert ("partner_file", world.held_referral) not in _purges(app)
    assert _fee_lines(app, world) == fee_before
    assert _purge_entries(app, world.canary_referral) == 1

    # Idempotent: a second run purges nothing more.
    again = _run(app, settings)
    assert again.purged == 0 and _purge_entries(app, world.canary_referral) == 1


def _returned_files(app: Flask) -> dict[str, tuple[str, datetime]]:
    """Per referral, its returned file's id and when it was delivered."""
    with app.app_context():
        rows = request_session().execute(
            select(ReturnedFile.referral_id, ReturnedFile.id, ReturnedFile.delivered_at)
        )
        return {referral_id: (file_id, at) for referral_id, file_id, at in rows}


def test_the_night_after_a_group_ends_the_district_has_its_files_and_the_purge_only_checks_them(
    own_app: tuple[Flask, Settings], frozen_clock: FrozenClock
) -> None:
    app, settings = own_app
    world = _build(app, settings, frozen_clock)
    frozen_clock.moment = COMPLETED_AT + timedelta(hours=15)  # the nightly run after the end

    first = _run(app, settings)

    # Every participation is returned, the held one too (a return copies; only the purge
    # waits for a hold), and nothing is purged before its retention is over.
    assert (first.returned, first.purged, first.due) == (len(world.referrals), 0, 0)
    returned = _returned_files(app)
    assert set(returned) == set(world.referrals)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        inbox = returned_files.inbox(uow, world.worker, clock.today())
        assert returned[world.canary_referral][0] in {summary.file_id for summary in inbox}
        # The partner's file stays until its retention is over.
        assert uow.session.scalars(
            select(PartnerFile).where(PartnerFile.referral_id == world.canary_referral)
        ).all()

    # The next night returns nothing twice.
    frozen_clock.moment += timedelta(days=1)
    assert _run(app, settings).returned == 0

    frozen_clock.moment = COMPLETED_AT + timedelta(days=settings.partner_retention_days + 1)
    purge = _run(app, settings)

    assert (purge.returned, purge.purged) == (0, len(world.referrals) - 1)
    assert _returned_files(app) == returned  # the same files, delivered the night after
    with app.app_context():
        runs = request_session().scalars(select(GallringRun).order_by(GallringRun.started_at))
        assert [run.returned for run in runs] == [len(world.referrals), 0, 0]


def test_a_concern_report_filed_after_the_return_is_in_the_file_social_services_keep(
    own_app: tuple[Flask, Settings], frozen_clock: FrozenClock
) -> None:
    app, settings = own_app
    world = _build(app, settings, frozen_clock)
    frozen_clock.moment = COMPLETED_AT + timedelta(hours=15)
    assert _run(app, settings).returned == len(world.referrals)
    first_id, first_at = _returned_files(app)[world.canary_referral]
    with app.app_context(), UnitOfWork(request_session()) as uow:
        returned = returned_files.inbox(uow, world.worker, clock.today())
        returned_files.acknowledge(
            uow, world.worker, next(f.file_id for f in returned if f.file_id == first_id)
        )
    # Ten days after the end the group leader files a report from the participation, and
    # the district acknowledges it: the file returned the night after no longer says so.
    frozen_clock.moment = COMPLETED_AT + timedelta(days=10)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        filed = concern_reports.file_report(
            uow,
            world.leader,
            NewConcernReport(
                "Oro som kom efter gruppen", "070-000 00 03", referral_id=world.canary_referral
            ),
            AcknowledgementRule(4, WorkingDay(8, 17)),
            clock.today(),
        )
        concern_reports.acknowledge(uow, world.worker, filed.report_id)

    frozen_clock.moment = COMPLETED_AT + timedelta(days=settings.partner_retention_days + 1)
    purge = _run(app, settings)

    assert purge.purged == len(world.referrals) - 1
    assert purge.returned == 1  # the canary's file, built again before its purge
    file_id, delivered_at = _returned_files(app)[world.canary_referral]
    assert file_id == first_id and delivered_at > first_at
    with app.app_context(), UnitOfWork(request_session()) as uow:
        renewed = uow.session.get(ReturnedFile, file_id)
        assert renewed is not None and renewed.acknowledged_at is None  # to acknowledge again
        public = return_signing.public_key(settings.return_signing_key_path)
        assert returned_files.verify(renewed.document, renewed.signature, public)
        document = returned_files.parse_document(renewed.document)
        assert len(document.concern_reports) == 2  # the first, and the one filed after
    # The other files were not touched: still as delivered the night after.
    others = {r: at for r, (_id, at) in _returned_files(app).items() if r != world.canary_referral}
    assert all(at < COMPLETED_AT + timedelta(days=1) for at in others.values())


def test_a_hold_set_by_the_dpo_stops_the_purge_until_released_and_its_reason_goes_with_it(
    own_app: tuple[Flask, Settings], frozen_clock: FrozenClock
) -> None:
    app, settings = own_app
    world = _build(app, settings, frozen_clock)
    # Set before the retention ends (a unit still waiting can be held too).
    frozen_clock.moment = COMPLETED_AT + timedelta(days=1)
    dpo = replace(SYSTEM, roles=frozenset({Role.DPO}), user_id="dpo-1")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        hold_id = holds.set_hold(
            uow,
            dpo,
            settings,
            "partner_file",
            world.canary_referral,
            "IVO:s tillsyn begär handlingarna",
            clock.today(),
        )
    frozen_clock.moment = COMPLETED_AT + timedelta(days=settings.partner_retention_days + 1)
    _run(app, settings)
    assert ("partner_file", world.canary_referral) not in _purges(app)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        listed = holds.holds(uow, dpo)
        assert [h.reason for h in listed] == ["IVO:s tillsyn begär handlingarna"]
        assert uow.session.scalar(select(func.count()).select_from(PartnerNote)) == 1
        holds.release_hold(uow, dpo, hold_id)
        actions = set(
            uow.session.scalars(
                select(AuditEntry.action).where(AuditEntry.object_id == world.canary_referral)
            )
        )
        assert {"legal_hold:set", "legal_hold:read", "legal_hold:release"} <= actions
    _run(app, settings)
    assert ("partner_file", world.canary_referral) in _purges(app)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        # The reason may have named the child: it is purged with the record it held.
        (listed,) = holds.holds(uow, dpo)
        assert listed.reason is None and listed.released_at is not None
        assert not uow.session.scalars(
            select(DataKey).where(DataKey.holder.like("hold:%"), DataKey.wrapped.is_not(None))
        ).all()


@pytest.mark.asvs("V2.3.3")
def test_a_unit_whose_purge_fails_is_counted_and_left_whole_while_the_others_are_purged(
    own_app: tuple[Flask, Settings], frozen_clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, settings = own_app
    world = _build(app, settings, frozen_clock)
    frozen_clock.moment = COMPLETED_AT + timedelta(days=settings.partner_retention_days + 1)
    rule = rules.RULES_BY_NAME["partner_file"]
    real_residues = type(rule).residues

    def fails_for_the_canary(
        self: rules.PurgeRule, uow: UnitOfWork, units: Sequence[rules.Unit]
    ) -> object:
        if any(unit.unit_id == world.canary_referral for unit in units):
            raise RuntimeError("the district's record could not be read")
        return real_residues(self, uow, units)  # type: ignore[arg-type]

    # The whole batch fails, and is redone a unit at a time: only the canary's stays.
    monkeypatch.setattr(type(rule), "residues", fails_for_the_canary)
    result = _run(app, settings)
    assert (result.purged, result.failed) == (len(world.referrals) - 2, 1)
    assert ("partner_file", world.canary_referral) not in _purges(app)
    with app.app_context():
        assert request_session().scalar(select(func.count()).select_from(PartnerNote)) == 1
    monkeypatch.setattr(type(rule), "residues", real_residues)
    assert _run(app, settings).purged == 1  # the next run tries it again


@pytest.mark.parametrize("units_per_transaction", [1, 2])
@pytest.mark.asvs("V2.3.3")
def test_a_run_that_dies_half_way_loses_nothing_and_the_next_run_finishes_it(
    own_app: tuple[Flask, Settings],
    frozen_clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    units_per_transaction: int,
) -> None:
    app, settings = own_app
    settings = replace(settings, gallring_units_per_transaction=units_per_transaction)
    world = _build(app, settings, frozen_clock)
    frozen_clock.moment = COMPLETED_AT + timedelta(days=settings.partner_retention_days + 1)
    real_erase = erasure.erase_many
    calls = {"n": 0}
    dies_on = 3 if units_per_transaction == 1 else 2  # the third unit, or the second batch

    def dies_half_way(uow: UnitOfWork, people: Sequence[tuple[str, tuple[str, ...]]]) -> list[int]:
        calls["n"] += 1
        shredded = real_erase(uow, people)
        if calls["n"] == dies_on:
            raise SystemExit("killed")  # after shredding, before the commit
        return shredded

    monkeypatch.setattr("referral.services.gallring.engine.erase_many", dies_half_way)
    with pytest.raises(SystemExit):
        _run(app, settings)
    purged_first = _purges(app)
    # Two whole units (one a transaction, or one batch of two); the next rolled back with its keys.
    with app.app_context():
        canary_key_live = request_session().scalar(
            select(func.count())
            .select_from(DataKey)
            .where(
                DataKey.person_id == world.canary_child,
                DataKey.holder.like("partner-file:%"),
                DataKey.wrapped.is_not(None),
            )
        )
        notes = request_session().scalar(select(func.count()).select_from(PartnerNote))
    # The canary's file is in one of the units: wholly purged, or wholly there.
    canary_done = ("partner_file", world.canary_referral) in purged_first
    assert (canary_key_live, notes) == ((0, 0) if canary_done else (1, 1))
    monkeypatch.setattr("referral.services.gallring.engine.erase_many", real_erase)
    _run(app, settings)
    assert sorted(unit for rule, unit in _purges(app) if rule == "partner_file") == sorted(
        r for r in world.referrals if r != world.held_referral
    )
    for referral_id in world.referrals:
        assert _purge_entries(app, referral_id) == (0 if referral_id == world.held_referral else 1)


def test_two_runs_at_once_purge_each_unit_once(
    own_app: tuple[Flask, Settings], frozen_clock: FrozenClock
) -> None:
    app, settings = own_app
    world = _build(app, settings, frozen_clock)
    frozen_clock.moment = COMPLETED_AT + timedelta(days=settings.partner_retention_days + 1)
    results: list[gallring.RunResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def one_run() -> None:
        try:
            barrier.wait()
            results.append(_run(app, settings))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r.purged for r in results) == len(world.referrals) - 1
    for referral_id in world.referrals:
        assert _purge_entries(app, referral_id) == (0 if referral_id == world.held_referral else 1)
    with app.app_context():
        # Every ended participation returned once, the held one too: a return copies, and
        # only the purge waits for the hold.
        assert request_session().scalar(select(func.count()).select_from(ReturnedFile)) == len(
            world.referrals
        )
        assert sum(r.returned for r in results) == len(world.referrals)


def test_a_youths_outreach_record_is_purged_once_nothing_is_open_and_encounters_stay_as_counts(
    own_app: tuple[Flask, Settings], frozen_clock: FrozenClock
) -> None:
    app, settings = own_app
    frozen_clock.moment = BUILT_AT
    factory = Factory(app, settings)
    unit = factory.organisation("partner")
    account = factory.account("link_worker", organisation=unit)
    worker = Actor(account.user.id, account.username, unit.id, frozenset({Role.LINK_WORKER}))
    with app.app_context(), UnitOfWork(request_session()) as uow:
        today = clock.today()
        youth = outreach.register_youth(
            uow,
            worker,
            outreach.NewYouth(
                alias=CANARY_ALIAS, birth_year=2009, gender="boy", country_of_origin="Påhittistan"
            ),
            today,
        )
        outreach.record_encounter(
            uow,
            worker,
            outreach.NewEncounter(today, "sergels_torg", ("basic_needs",), youth_id=youth.id),
            today,
        )
        case = link_cases.open_case(
            uow,
            worker,
            link_cases.NewLinkCase(youth.id, "healthcare", "Vårdkontakt för Xylofryd", today),
            today,
        )
        given = link_cases.record_consent(
            uow,
            worker,
            youth.id,
            link_cases.NewYouthConsent(
                "healthcare", "Vård", ("needs",), "god_man", today, today + timedelta(days=60)
            ),
            today,
        )
        for step in (
            link_cases.NewStep("contact_made", today, next_due_on=today),
            link_cases.NewStep("handed_over", today, next_due_on=today, categories=("needs",)),
            link_cases.NewStep("closed", today, outcome="back_in_welfare"),
        ):
            link_cases.record_step(uow, worker, case.id, step, today)
    frozen_clock.moment = BUILT_AT + timedelta(days=settings.outreach_retention_days + 1)
    assert _plan(app, settings).due == ()  # a consent still runs: the record is in use
    frozen_clock.moment = BUILT_AT + timedelta(days=2)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        link_cases.revoke_consent(uow, worker, given.id)
    frozen_clock.moment = BUILT_AT + timedelta(days=settings.outreach_retention_days + 1)
    assert _plan(app, settings).due == ()  # 30 days from the revocation, its last entry
    frozen_clock.moment = BUILT_AT + timedelta(days=settings.outreach_retention_days + 3)
    plan = _plan(app, settings)
    assert [u.rule for u in plan.due] == ["outreach_youth"]
    _run(app, settings)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        with pytest.raises(NotFound):
            outreach.read_youth(uow, worker, youth.id, clock.today())
        with pytest.raises(NotFound):  # its consents went with it
            link_cases.revoke_consent(uow, worker, given.id)
        with pytest.raises(NotFound):  # and no report can name it any more
            concern_reports.file_report(
                uow,
                worker,
                NewConcernReport("Oro", "070-1", youth_id=youth.id),
                AcknowledgementRule(4, WorkingDay(8, 17)),
                clock.today(),
            )
        assert outreach.youths(uow, worker, clock.today()) == []
        row = uow.session.get(Youth, youth.id)
        assert row is not None and row._alias is None and row.purged_at is not None
        case_row = uow.session.get(LinkCase, case.id)
        assert case_row is not None and case_row._purpose is None
        assert case_row.authority == "healthcare" and case_row.outcome == "back_in_welfare"
        # The encounter stays, as an anonymous count.
        (met,) = uow.session.scalars(select(Encounter)).all()
        assert (met.youth_id, met.linked_by, met.place) == (None, None, "sergels_torg")
        residue = uow.session.scalars(select(PurgeRecord)).one()
        assert (residue.programme, residue.gender, residue.country_of_origin, residue.age_band) == (
            "B",
            "boy",
            "Påhittistan",
            "15_17",
        )
        assert not uow.session.scalars(
            select(DataKey).where(DataKey.person_id == youth.id, DataKey.wrapped.is_not(None))
        ).all()
        assert audit_integrity.verify(uow.session).ok
    if settings.uses_sqlite:
        raw = _sqlite_bytes(settings)
        assert [f for f in encodings(CANARY_ALIAS) if f in raw] == []
    with app.app_context():
        assert request_session().scalar(select(func.count()).select_from(LegalHold)) == 0
