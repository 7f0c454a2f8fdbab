"""The group leader's notes in the partner's own file on a child's participation: written and
read back by the partner's leaders while the partner may see the referral, sealed under the
file's own key (never in clear in the database), and in the access log under the file's
holder without their text. Another partner, or a partner whose consent was withdrawn, is told
the referral does not exist."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from config.settings import Settings
from referral import clock
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation
from referral.db.people import Guardian, PartnerFile, PartnerNote
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput, NotFound, NotPermitted
from referral.request_scope import get_database, request_session
from referral.roles import Role
from referral.services import children, consent, partner_files, referrals
from tests.factories import Factory, invented_personnummer, social_worker_actor
from tests.integration.test_canary_scan import (
    PlaintextCipher,
    _app_on,
    _as_bytes,
    _postgres_tables,
    _sqlite_files,
    encodings,
)
from tests.own_database import (
    ROW_LOCKS,
    empty_postgres_database,
    only_on_postgres,
    own_postgres_app,
)

VERSION = "A-notes:1"
CANARY = "Kanarienot Vbxqzyt grät på träffen"


@dataclass
class World:
    worker: Actor
    partner: Organisation
    leader: Actor  # a group leader of the partner, with an account (a display name)
    counter: int = 0


def _leader_of(factory: Factory, partner: Organisation) -> Actor:
    account = factory.account("group_leader", organisation=partner)
    return Actor(account.user.id, account.username, partner.id, frozenset({Role.GROUP_LEADER}))


def _world(factory: Factory) -> World:
    partner = factory.organisation("partner")
    factory.activity_description(VERSION, partner)  # what the consents below cite
    return World(social_worker_actor(factory), partner, _leader_of(factory, partner))


@pytest.fixture
def world(factory: Factory) -> World:
    return _world(factory)


def _consent(party: str) -> consent.ConsentInput:
    return consent.ConsentInput(
        party=party,
        decision="given",
        categories=("name", "age", "participation"),
        decided_on=clock.today(),
        valid_until=clock.today() + timedelta(days=120),
        method="written",
        description_version=VERSION,
    )


def _accepted(uow: UnitOfWork, world: World) -> referrals.ReferralState:
    """A referral of an SoL child, consented to by its one custodial guardian and accepted."""
    world.counter += 1
    child = children.register_child(
        uow,
        world.worker,
        children.NewChild(
            invented_personnummer(clock.today().year - 10, 5, 1), f"Anteckningsbarn {world.counter}"
        ),
    )
    consent.record_placement(uow, world.worker, child.id, "SoL", today=clock.today())
    guardian = consent.add_guardian(
        uow, world.worker, child.id, "Vårdnadshavare", None, True, today=clock.today()
    )
    consent.record_consent(uow, world.worker, child.id, _consent(guardian.id), today=clock.today())
    referral = referrals.create_referral(
        uow,
        world.worker,
        referrals.NewReferral(child.id, world.partner.id, "weekly"),
        today=clock.today(),
    )
    referrals.submit_referral(uow, world.worker, referral.id, clock.today())
    referrals.respond(uow, world.leader, referral.id, accept=True, today=clock.today())
    return referral


def _withdraw_consent(uow: UnitOfWork, world: World, referral: referrals.ReferralState) -> None:
    (guardian_id,) = uow.session.scalars(
        select(Guardian.id).where(Guardian.child_id == referral.child_id)
    )
    withdrawal = replace(_consent(guardian_id), decision="withdrawn", valid_until=clock.today())
    consent.record_consent(uow, world.worker, referral.child_id, withdrawal, today=clock.today())


def _entries(uow: UnitOfWork, action: str) -> list[AuditEntry]:
    return list(
        uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.sequence)
        )
    )


def _file_of(uow: UnitOfWork, referral_id: str) -> PartnerFile:
    found = uow.session.scalar(select(PartnerFile).where(PartnerFile.referral_id == referral_id))
    assert found is not None
    return found


# --- writing and reading ---------------------------------------------------------------------


def test_the_leader_writes_notes_and_reads_them_back_with_who_wrote_them(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        referral = _accepted(uow, world)
        first = partner_files.write_note(
            uow, world.leader, referral.id, "  Kom i tid, glad.  ", clock.today()
        )
        second = partner_files.write_note(
            uow, world.leader, referral.id, "Rad ett\nRad två", clock.today()
        )
        file = partner_files.notes_of(uow, world.leader, referral.id, clock.today())
    assert file.referral_id == referral.id
    assert [(n.id, n.text) for n in file.notes] == [
        (first.id, "Kom i tid, glad."),  # trimmed
        (second.id, "Rad ett\nRad två"),  # line breaks kept
    ]
    assert {n.written_by for n in file.notes} == {"Test group_leader"}
    assert file.notes[0].written_at == first.written_at < second.written_at


def test_the_first_note_makes_the_file_for_the_referral_under_a_key_of_its_own(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        referral = _accepted(uow, world)
        assert partner_files.notes_of(uow, world.leader, referral.id, clock.today()).notes == ()
        partner_files.write_note(uow, world.leader, referral.id, "Första", clock.today())
        partner_files.write_note(uow, world.leader, referral.id, "Andra", clock.today())
        files = uow.session.scalars(
            select(PartnerFile).where(PartnerFile.referral_id == referral.id)
        ).all()
        assert len(files) == 1
        (file,) = files
        assert (file.child_id, file.partner_id) == (referral.child_id, world.partner.id)
        notes = uow.session.scalars(select(PartnerNote).where(PartnerNote.file_id == file.id))
        scopes = {note.key_scope() for note in notes}
        assert scopes == {file.key_scope()}
        assert file.key_scope().holder == f"partner-file:{file.id}"


def test_another_leader_of_the_same_partner_reads_the_notes(
    app: Flask, factory: Factory, world: World
) -> None:
    colleague = _leader_of(factory, world.partner)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        referral = _accepted(uow, world)
        partner_files.write_note(uow, world.leader, referral.id, "Till kollegan", clock.today())
        file = partner_files.notes_of(uow, colleague, referral.id, clock.today())
    assert [n.text for n in file.notes] == ["Till kollegan"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "Write the note."), ("   \n ", "Write the note."), ("x" * 4001, "At most 4000")],
)
def test_an_empty_or_over_long_note_is_refused_naming_the_field_and_writes_nothing(
    app: Flask, world: World, text: str, message: str
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        referral = _accepted(uow, world)
        with pytest.raises(InvalidInput) as refused:
            partner_files.write_note(uow, world.leader, referral.id, text, clock.today())
        assert refused.value.field == "text" and message in refused.value.message
        assert partner_files.notes_of(uow, world.leader, referral.id, clock.today()).notes == ()
        assert _entries(uow, "partner_file:write") == []


def test_a_note_of_exactly_4000_characters_is_kept(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        referral = _accepted(uow, world)
        partner_files.write_note(uow, world.leader, referral.id, "å" * 4000, clock.today())
        (note,) = partner_files.notes_of(uow, world.leader, referral.id, clock.today()).notes
    assert note.text == "å" * 4000


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.asvs("V8.2.2", "V8.4.1")
def test_another_partners_leader_is_told_the_referral_does_not_exist(
    app: Flask, factory: Factory, world: World
) -> None:
    stranger = _leader_of(factory, factory.organisation("partner"))
    with app.app_context(), UnitOfWork(request_session()) as uow:
        referral = _accepted(uow, world)
        partner_files.write_note(uow, world.leader, referral.id, "Bara vår", clock.today())
        with pytest.raises(NotFound) as reading:
            partner_files.notes_of(uow, stranger, referral.id, clock.today())
        with pytest.raises(NotFound) as writing:
            partner_files.write_note(uow, stranger, referral.id, "Intrång", clock.today())
        with pytest.raises(NotFound) as missing:
            partner_files.notes_of(uow, stranger, "no-such-referral", clock.today())
        assert reading.value.message == writing.value.message == missing.value.message
        assert reading.value.field == missing.value.field == "referral"
        texts = [
            n.text
            for n in partner_files.notes_of(uow, world.leader, referral.id, clock.today()).notes
        ]
        assert texts == ["Bara vår"]


def test_the_district_social_worker_may_not_open_the_partners_file(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        referral = _accepted(uow, world)
        partner_files.write_note(uow, world.leader, referral.id, "Partnerns egen", clock.today())
        with pytest.raises(NotPermitted):
            partner_files.notes_of(uow, world.worker, referral.id, clock.today())


@pytest.mark.asvs("V8.2.2")
def test_after_the_guardian_withdraws_consent_the_leader_can_neither_read_nor_write(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        referral = _accepted(uow, world)
        partner_files.write_note(
            uow, world.leader, referral.id, "Före återkallelsen", clock.today()
        )
        _withdraw_consent(uow, world, referral)
        with pytest.raises(NotFound):
            partner_files.notes_of(uow, world.leader, referral.id, clock.today())
        with pytest.raises(NotFound):
            partner_files.write_note(uow, world.leader, referral.id, "Efter", clock.today())
        file = _file_of(uow, referral.id)
        count = uow.session.scalars(select(PartnerNote).where(PartnerNote.file_id == file.id))
        assert len(count.all()) == 1
        denied = [
            e for e in _entries(uow, "access:denied") if e.object_id == referral.id
        ]  # both attempts are in the log, as for the partner's other reads of a referral
        assert len(denied) == 2


def test_a_referral_the_district_withdrew_is_not_found(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        referral = _accepted(uow, world)
        partner_files.write_note(uow, world.leader, referral.id, "Före", clock.today())
        referrals.withdraw_referral(uow, world.worker, referral.id)
        with pytest.raises(NotFound):
            partner_files.notes_of(uow, world.leader, referral.id, clock.today())
        with pytest.raises(NotFound):
            partner_files.write_note(uow, world.leader, referral.id, "Efter", clock.today())


# --- the access log --------------------------------------------------------------------------


@pytest.mark.asvs("V16.2.5")
def test_the_log_names_the_files_holder_and_never_the_text(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        referral = _accepted(uow, world)
        written = partner_files.write_note(uow, world.leader, referral.id, CANARY, clock.today())
        partner_files.notes_of(uow, world.leader, referral.id, clock.today())
        file = _file_of(uow, referral.id)
        (write,) = _entries(uow, "partner_file:write")
        (read,) = _entries(uow, "partner_file:read")
        for entry in (write, read):
            assert entry.subject_holder == f"partner-file:{file.id}"
            assert entry.subject_id == referral.child_id
            assert entry.actor_id == world.leader.user_id
            assert entry.legal_basis == "sol_consent"
            assert entry._details is None  # nothing sealed beside it: no text
            assert CANARY not in repr(
                [getattr(entry, c) for c in ("object_id", "object_type", "legal_basis")]
            )
        assert (write.object_type, write.object_id) == ("partner_note", written.id)
        assert (read.object_type, read.object_id) == ("partner_file", file.id)


def test_reading_an_empty_file_writes_nothing_to_the_log(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        referral = _accepted(uow, world)
        assert partner_files.notes_of(uow, world.leader, referral.id, clock.today()).notes == ()
        assert _entries(uow, "partner_file:read") == []


# --- never in clear --------------------------------------------------------------------------


def _write_the_canary(app: Flask, settings: Settings, plaintext: bool) -> None:
    """The note written through the service. For the negative control, only the note itself
    is stored in clear (the child's record, which the service reads, stays sealed)."""
    factory = Factory(app, settings)
    world = _world(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        referral_id = _accepted(uow, world).id
    if plaintext:  # sessions from now on seal nothing
        database = get_database(app)
        assert database.cipher is not None
        database.use_cipher(PlaintextCipher(database.cipher.keys, database.cipher.index_key))
    with app.app_context(), UnitOfWork(request_session()) as uow:
        partner_files.write_note(uow, world.leader, referral_id, CANARY, clock.today())
        if not plaintext:
            file = partner_files.notes_of(uow, world.leader, referral_id, clock.today())
            assert [note.text for note in file.notes] == [CANARY]


def _found(blob: bytes) -> list[bytes]:
    return [form for form in encodings(CANARY) if form in blob]


@pytest.mark.parametrize("plaintext", [False, True], ids=["encrypted", "negative-control"])
def test_the_note_is_in_no_byte_of_the_sqlite_files(
    base_settings: Settings, tmp_path: Path, plaintext: bool
) -> None:
    path = tmp_path / "notes.sqlite3"
    app = _app_on(base_settings, f"sqlite:///{path}", plaintext=False)
    _write_the_canary(app, base_settings, plaintext)
    raw = _sqlite_files(path)  # before the engine closes: the WAL still holds the writes
    get_database(app).engine.dispose()
    raw += _sqlite_files(path)
    if plaintext:  # the scan finds the note where it is stored in clear
        assert CANARY.encode() in raw
    else:
        assert _found(raw) == []


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the PostgreSQL scan runs in the PostgreSQL pass",
)
@pytest.mark.parametrize("plaintext", [False, True], ids=["encrypted", "negative-control"])
def test_the_note_is_in_no_value_of_any_postgresql_table(
    base_settings: Settings, plaintext: bool
) -> None:
    url = empty_postgres_database(os.environ["TEST_DATABASE_URL"], "test_notes_canary")
    app = _app_on(base_settings, url, plaintext=False)
    _write_the_canary(app, base_settings, plaintext)
    contents = b"".join(
        _as_bytes(value) for _table, rows in _postgres_tables(app) for row in rows for value in row
    )
    get_database(app).engine.dispose()
    if plaintext:
        assert CANARY.encode() in contents
    else:
        assert _found(contents) == []


# --- two first notes at once (PostgreSQL) ----------------------------------------------------


@only_on_postgres(ROW_LOCKS)
def test_two_first_notes_written_at_once_make_one_file_with_both(
    base_settings: Settings,
) -> None:
    app = own_postgres_app(base_settings, "notes_concurrency")
    factory = Factory(app, base_settings)
    world = _world(factory)
    second_leader = _leader_of(factory, world.partner)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        referral_id = _accepted(uow, world).id
    start = threading.Barrier(2)
    errors: list[Exception] = []
    looked_up = partner_files._file_of

    def slow_lookup(uow: UnitOfWork, wanted: str) -> PartnerFile | None:
        found = looked_up(uow, wanted)
        threading.Event().wait(0.5)  # without the lock, both would find no file meanwhile
        return found

    def write(leader: Actor, text: str) -> None:
        try:
            with app.app_context(), UnitOfWork(request_session()) as uow:
                start.wait()
                partner_files.write_note(uow, leader, referral_id, text, clock.today())
        except Exception as error:
            errors.append(error)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(partner_files, "_file_of", slow_lookup)
        threads = [
            threading.Thread(target=write, args=(leader, text))
            for leader, text in ((world.leader, "Från den ena"), (second_leader, "Från den andra"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with app.app_context(), UnitOfWork(request_session()) as uow:
        files = uow.session.scalars(
            select(PartnerFile).where(PartnerFile.referral_id == referral_id)
        ).all()
        texts = sorted(
            n.text
            for n in partner_files.notes_of(uow, world.leader, referral_id, clock.today()).notes
        )
    get_database(app).engine.dispose()
    assert errors == []
    assert len(files) == 1
    assert texts == ["Från den andra", "Från den ena"]
