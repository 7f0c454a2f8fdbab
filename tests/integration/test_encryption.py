"""Personal fields are sealed at rest: bound to their place, unreadable once shredded."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from crypto import DecryptionError
from referral.db.encryption import FieldCipher, Sealed, personal
from referral.db.people import Child
from referral.db.schema import metadata
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput
from referral.request_scope import request_session
from referral.services import children
from tests.factories import Factory, invented_personnummer, social_worker_actor

# Column names that hold personal data wherever they appear, and the few columns with such a
# name that hold something else (and why).
PERSONAL_NAME_PARTS = (
    "name",
    "personnummer",
    "address",
    "phone",
    "email",
    "e_mail",
    "guardian",
    "notes",
    "note",
    "concern",
    "text",
    "contact",
    "birth",
    "gender",
)
NOT_PERSONAL = {
    ("organisations", "name"): "an organisation's name",
    ("users", "username"): "a staff member's work login",
    ("users", "display_name"): "a staff member's work identity, shown in the audit log",
    ("audit_entries", "actor_name"): "the acting staff member's login name",
    ("audit_entries", "client_address"): "the network address a staff member acted from",
    ("children", "placement_noted_by"): "the user id of the social worker who documented it",
    ("users", "work_phone"): "a staff member's work phone, printed on the consent form",
    ("api_clients", "name"): "the name of a system an administrator gave it, e.g. Treserva Farsta",
    ("organisations", "postal_address"): "an organisation's postal address, for the paperwork",
    ("activity_descriptions", "text"): "the information letter, the same for every guardian",
    ("groups", "name"): "a support group's label chosen by the partner, never a child's name",
    ("encounters", "gender"): "the follow-up's count by gender: an encounter names no one",
    ("gallring_purges", "gender"): "what statistics keep of a purged record: no identity left",
    ("youth_findings", "concern_report_id"): "the id of the report that told the district",
    ("night_shelters", "name"): "a night shelter's name, the partner's own",
    ("night_registrations", "concern_report_id"): "the id of the report to socialjouren",
}


@pytest.mark.asvs("V14.1.1", "V14.2.4")
def test_every_column_that_could_hold_personal_data_is_encrypted() -> None:
    from referral.db.encryption import EncryptedText

    clear = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            looks_personal = any(part in column.name for part in PERSONAL_NAME_PARTS)
            if looks_personal and (table.name, column.name) not in NOT_PERSONAL:
                if column.name.endswith("_index"):
                    continue  # a truncated HMAC, not the value
                if not isinstance(column.type, EncryptedText):
                    clear.append(f"{table.name}.{column.name}")
    assert clear == []


# Every column of a table that holds people (a model with personal fields, or a table about
# one child) is sealed, or stands here with the reason it may be clear. A new clear column in
# such a table fails until someone decides, in review, that it may be.
_ROW = "the row's own id or a time it was written"
_PSEUDONYM = "a pseudonymous id of a person or record, meaningless without the database"
_ORG = "an organisation's id: whose record it is, needed by every scope check"
_STAFF = "a staff member's user id (a work identity)"
_KEY = "which data key seals the row's fields"
CLEAR_BY_DECISION: dict[str, str] = {
    **{
        f"{table}.id": _ROW
        for table in (
            "audit_entries",
            "children",
            "consents",
            "emergency_grants",
            "guardians",
            "partner_files",
            "referrals",
            "group_enrolments",
            "interest_registrations",
            "referral_events",
            "notifications",
            "group_attendance",
            "group_visits",
        )
    },
    **{f"{table}.enrolment_id": _PSEUDONYM for table in ("group_attendance", "group_visits")},
    **{f"{table}.recorded_by": _STAFF for table in ("group_attendance", "group_visits")},
    **{f"{table}.recorded_at": _ROW for table in ("group_attendance", "group_visits")},
    "group_attendance.session_id": _PSEUDONYM,
    "group_attendance.present": "present or absent at one session: the partner's own record",
    "group_visits.kind": "a home visit or a meeting at the partner's premises",
    "group_visits.day": "the day of the pre-group visit: starting the group checks it",
    **{
        f"{table}.data_key_id": _KEY
        for table in (
            "audit_entries",
            "children",
            "emergency_grants",
            "guardians",
            "partner_files",
            "referrals",
            "interest_registrations",
        )
    },
    **{
        f"{table}.child_id": _PSEUDONYM
        for table in (
            "consents",
            "emergency_grants",
            "guardians",
            "partner_files",
            "referrals",
        )
    },
    **{
        f"{table}.referral_id": _PSEUDONYM
        for table in (
            "group_enrolments",
            "interest_registrations",
            "referral_events",
            "notifications",
        )
    },
    **{
        f"{table}.district_id": _ORG
        for table in (
            "children",
            "consents",
            "emergency_grants",
            "guardians",
            "referrals",
            "interest_registrations",
        )
    },
    **{
        f"{table}.partner_id": _ORG
        for table in (
            "partner_files",
            "referrals",
            "interest_registrations",
        )
    },
    **{
        f"{table}.created_at": _ROW
        for table in (
            "children",
            "guardians",
            "partner_files",
            "referrals",
            "interest_registrations",
            "notifications",
        )
    },
    "audit_entries.sequence": "the entry's place in the hash chain",
    "audit_entries.occurred_at": "when the access happened: the log's purpose",
    "audit_entries.actor_id": _STAFF,
    "audit_entries.actor_name": "the acting staff member's login name",
    "audit_entries.actor_organisation_id": _ORG,
    "audit_entries.actor_roles": "the acting staff member's roles",
    "audit_entries.action": "a fixed action name from the catalogue",
    "audit_entries.outcome": "allowed or denied",
    "audit_entries.object_type": "a fixed record type name",
    "audit_entries.object_id": _PSEUDONYM,
    "audit_entries.subject_id": _PSEUDONYM,
    "audit_entries.subject_holder": "whose record (district:<id>, partner-file:<id>)",
    "audit_entries.legal_basis": "a fixed basis name (sol_consent, lvu, …) for the DPO",
    "audit_entries.request_id": "a random request id",
    "audit_entries.client_address": "the network address a staff member acted from",
    "audit_entries.entry_hash": "a hash of the sealed entry",
    "audit_entries.link": "the chain's HMAC link",
    "children.personnummer_index": "a 16-bit blind index: 1.5-4.6 people share each value",
    "children.placement_noted_by": _STAFF,
    "children.responsible_worker_id": _STAFF,
    "consents.party": "a guardian's id (pseudonymous) or 'child'",
    "consents.decision": "given, refused or withdrawn: needed to decide sharing in SQL",
    "consents.categories": "category names the consent covers",
    "consents.decided_on": "the decision day: the rules' and the lapse queue's clock",
    "consents.valid_until": "the end day: the lapse queue selects on it",
    "consents.method": "written or oral",
    "consents.description_version": "the version of the city's information letter",
    "consents.recorded_by": _STAFF,
    "consents.recorded_at": _ROW,
    "emergency_grants.user_id": _STAFF,
    "emergency_grants.granted_at": "when the grant began: the DPO's review needs it",
    "emergency_grants.expires_at": "when the grant ends: checked on every request",
    "guardians.has_custody": "whether a consent is needed: the rules read it",
    "referrals.programme": "which programme (a fixed name)",
    "referrals.preferred_format": "weekly, weekend or partner decides",
    "referrals.referred_by": _STAFF,
    "referrals.status": "the lifecycle state: lists and the partner's inbox select on it",
    "referrals.updated_at": _ROW,
    "referrals.completed_at": "the retention clock of the purge",
    "group_enrolments.group_id": _PSEUDONYM,
    "group_enrolments.enrolled_by": _STAFF,
    "group_enrolments.enrolled_at": _ROW,
    "group_enrolments.completed_at": "the retention clock of the purge",
    "interest_registrations.personnummer_index": "a 16-bit blind index, as for children",
    "interest_registrations.received_on": "the day the partner received it",
    "interest_registrations.recorded_by": _STAFF,
    "interest_registrations.status": "pending, confirmed or declined",
    "interest_registrations.decided_by": _STAFF,
    "interest_registrations.decided_at": _ROW,
    "partner_files.referral_id": _PSEUDONYM,
    "partner_notes.id": _ROW,
    "partner_notes.data_key_id": _KEY,
    "partner_notes.file_id": _PSEUDONYM,
    "partner_notes.child_id": _PSEUDONYM,
    "partner_notes.written_by": _STAFF,
    "partner_notes.written_at": _ROW,
    "referral_events.from_status": "a lifecycle state",
    "referral_events.to_status": "a lifecycle state",
    "referral_events.by": _STAFF,
    "referral_events.at": _ROW,
    "notifications.organisation_id": _ORG,
    "notifications.kind": "a fixed notice kind; a notice never carries personal data",
    "notifications.interest_id": _PSEUDONYM,
    "notifications.read_at": _ROW,
    "notifications.read_by": _STAFF,
    "concern_reports.id": _ROW,
    "concern_reports.data_key_id": _KEY,
    "concern_reports.child_id": _PSEUDONYM,
    "concern_reports.referral_id": _PSEUDONYM,
    "concern_reports.youth_id": _PSEUDONYM,
    "concern_reports.reporter_organisation_id": _ORG,
    "concern_reports.receiving_organisation_id": _ORG,
    "concern_reports.reported_by": _STAFF,
    "concern_reports.acknowledged_by": _STAFF,
    "concern_reports.closed_by": _STAFF,
    "concern_reports.subject_kind": "a known child or a described one: the receiver's lists",
    "concern_reports.routing": "to the placing district or to socialjouren, and why",
    "concern_reports.status": "open, acknowledged or closed: the flag and the overdue list",
    "concern_reports.filed_at": _ROW,
    "concern_reports.acknowledge_by": "the deadline: the overdue list selects on it",
    "concern_reports.acknowledged_at": "the receipt the reporter is shown",
    "concern_reports.closed_at": _ROW,
    "youths.id": _ROW,
    "youths.data_key_id": _KEY,
    "youths.organisation_id": _ORG,
    "youths.district_id": _ORG,
    "youths.registered_by": _STAFF,
    "youths.created_at": _ROW,
    "youths.personnummer_index": "a 16-bit blind index, as for children",
    "youths.lma_number_index": "a 16-bit blind index of the LMA-card number (a key of its own)",
    "youths.dossier_number_index": "a 16-bit blind index of the dossier number (a key of its own)",
    "encounters.id": _ROW,
    "encounters.organisation_id": _ORG,
    "encounters.worker_id": _STAFF,
    "encounters.occurred_on": "the day: the follow-up counts by period",
    "encounters.place": "a kind of place from a fixed list (Sergels torg, a meeting place…)",
    "encounters.needs": "the interventions met, from a fixed list: the follow-up counts them",
    "encounters.gender": "girl, boy or other, for the follow-up's count by gender",
    "encounters.age_band": "an age band, for the follow-up's count by age",
    "encounters.youth_id": _PSEUDONYM,
    "encounters.linked_by": _STAFF,
    "encounters.linked_at": _ROW,
    "encounters.created_at": _ROW,
    **{
        f"{table}.{column}": reason
        for table in ("link_cases", "youth_consents")
        for column, reason in (
            ("id", _ROW),
            ("data_key_id", _KEY),
            ("youth_id", _PSEUDONYM),
            ("organisation_id", _ORG),
            ("authority", "which authority, from a fixed list: the hand-over checks it"),
        )
    },
    "link_cases.district_id": _ORG,
    "link_cases.step": "the last step done, from a fixed list",
    "link_cases.next_due_on": "when the next step is due: the overdue list selects on it",
    "link_cases.outcome": "the outcome, from a fixed list: the follow-up counts it",
    "link_cases.opened_by": _STAFF,
    "link_cases.created_at": _ROW,
    "youth_consents.categories": "category names the consent covers",
    "youth_consents.given_by": "youth, god man, guardian or social services: the rule reads it",
    "youth_consents.valid_from": "the first day: the hand-over checks it",
    "youth_consents.valid_until": "the last day: the hand-over checks it",
    "youth_consents.recorded_by": _STAFF,
    "youth_consents.recorded_at": _ROW,
    "youth_consents.revoked_at": "when it was revoked: the hand-over checks it",
    "youth_consents.revoked_by": _STAFF,
    **{
        f"returned_files.{column}": reason
        for column, reason in (
            ("id", _ROW),
            ("data_key_id", _KEY),
            ("district_id", _ORG),
            ("partner_id", _ORG),
            ("child_id", _PSEUDONYM),
            ("referral_id", _PSEUDONYM),
            ("delivered_at", _ROW),
            ("acknowledged_at", "when the district acknowledged it: the inbox selects on it"),
            ("acknowledged_by", _STAFF),
            ("key_id", "which signing key signed it: a hash prefix of a public key"),
            ("signature", "an Ed25519 signature over the sealed document: it reveals nothing"),
        )
    },
    **{
        f"{table}.purged_at": "when the purge emptied the row: lists and look-ups skip it"
        for table in ("concern_reports", "interest_registrations", "youths")
    },
    # Programme C: a person is a card number and what they chose to tell (sealed).
    **{
        f"{table}.{column}": reason
        for table in ("night_people", "night_registrations", "night_exclusions", "night_days")
        for column, reason in (("id", _ROW), ("data_key_id", _KEY))
    },
    "night_people.card_number": (
        "the pseudonym the person carries, the desk's look-up and the public ranking name; "
        "emptied by the purge"
    ),
    "night_people.likeness_index": "a 16-bit keyed index of alias, birth year and country",
    "night_people.issued_by": _STAFF,
    "night_people.issued_at": _ROW,
    "night_people.purged_at": "when the purge emptied the row: look-ups skip it",
    "night_registrations.day_id": _PSEUDONYM,
    "night_registrations.person_id": _PSEUDONYM,
    "night_registrations.registered_by": _STAFF,
    "night_registrations.registered_at": _ROW,
    "night_registrations.override_by": _STAFF,
    "night_registrations.concern_report_id": _PSEUDONYM,
    "night_exclusions.shelter_id": _PSEUDONYM,
    "night_exclusions.person_id": _PSEUDONYM,
    "night_exclusions.starts_on": "the first day: the allocation selects on it",
    "night_exclusions.expires_on": "the last day: the allocation selects on it",
    "night_exclusions.set_by": _STAFF,
    "night_exclusions.set_at": _ROW,
    "night_exclusions.review_requested_at": "when the person asked for a review: listed",
    "night_exclusions.lifted_by": _STAFF,
    "night_exclusions.lifted_at": "when it was lifted: the allocation checks it",
    "night_days.day": "the registration day",
    "night_days.commitment": "the SHA-256 of the day's seed, published before registration",
    "night_days.opened_at": "when the seed was drawn, published with the commitment",
    "night_days.revealed_seed": "the seed, published with the result once the run is made",
    "night_days.allocated_at": _ROW,
    **{
        f"night_runs.{column}": reason
        for column, reason in (
            ("id", _ROW),
            ("data_key_id", _KEY),
            ("day_id", _PSEUDONYM),
            ("day", "the registration day"),
            ("algorithm_version", "the allocation's version, published"),
            ("inputs_digest", "the SHA-256 of the sealed inputs, published"),
            ("seed", "the revealed seed, published"),
            ("seed_commitment", "the seed's SHA-256, published"),
            ("registered", "a count, published: statistics keep it"),
            ("placed", "a count, published: statistics keep it"),
            ("turned_away", "a count, published: statistics keep it"),
            ("ran_by", _STAFF),
            ("ran_at", _ROW),
            ("purged_at", "when the purge emptied the run's inputs and ranking"),
        )
    },
    **{
        f"legal_holds.{column}": reason
        for column, reason in (
            ("id", _ROW),
            ("data_key_id", _KEY),
            ("rule", "which retention rule the held record falls under, from a fixed list"),
            ("unit_id", _PSEUDONYM),
            ("person_id", _PSEUDONYM),
            ("set_by", _STAFF),
            ("set_at", _ROW),
            ("released_by", _STAFF),
            ("released_at", "when the hold was released: the purge checks it"),
        )
    },
    # Complaints and suggestions: what was said is sealed; what the report counts names no one.
    **{
        f"complaints.{column}": reason
        for column, reason in (
            ("id", _ROW),
            ("data_key_id", _KEY),
            ("programme", "which programme (A, B, C): the report counts by it"),
            ("kind", "complaint, suggestion or praise, from a fixed list: counted"),
            ("category", "what it is about, from a fixed list: counted"),
            ("channel", "the public form or staff, from a fixed list"),
            ("received_at", _ROW),
            ("recorded_by", _STAFF),
            ("responded_on", "the day of the response: the report's time to response"),
            ("responded_at", _ROW),
            ("responded_by", _STAFF),
            ("outcome", "what the response did, from a fixed list: counted"),
            ("purged_at", "when the purge emptied the text: lists and reads skip it"),
        )
    },
}


def _tables_that_hold_people() -> list[str]:
    from referral.db.base import Base
    from referral.db.encryption import EncryptedRecord

    sealed = {
        m.local_table.name for m in Base.registry.mappers if issubclass(m.class_, EncryptedRecord)
    }
    about_a_child = {
        t.name
        for t in metadata.sorted_tables
        if {"child_id", "referral_id", "enrolment_id"} & set(t.c.keys())
    }
    return sorted(sealed | about_a_child)


@pytest.mark.asvs("V14.1.1")
def test_every_clear_column_of_a_table_that_holds_people_is_there_by_a_recorded_decision() -> None:
    from referral.db.encryption import EncryptedText

    undecided = [
        f"{name}.{column.name}"
        for name in _tables_that_hold_people()
        for column in metadata.tables[name].columns
        if not isinstance(column.type, EncryptedText)
        and f"{name}.{column.name}" not in CLEAR_BY_DECISION
    ]
    assert undecided == []
    assert "children.paying_municipality" not in CLEAR_BY_DECISION


def test_a_registered_child_reads_back_and_is_found_by_personnummer(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    pnr = invented_personnummer(2014, 3, 9)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        registered = children.register_child(
            uow, actor, children.NewChild(pnr, "Testa Barnsdotter")
        )
        child = uow.session.get(Child, registered.id)
        assert child is not None and child.name == "Testa Barnsdotter"
        ten_digits = pnr[2:8] + "-" + pnr[8:]
        found = children.find_children_by_personnummer(uow, actor, ten_digits)
        assert [c.id for c in found] == [child.id]


@pytest.mark.asvs("V14.2.4")
def test_the_database_holds_only_ciphertext(app: Flask, factory: Factory) -> None:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, actor, children.NewChild(invented_personnummer(2012, 5, 1), "Klartext Kanariesson")
        )
        raw = uow.session.execute(
            text("SELECT name, personnummer FROM children WHERE id = :id"), {"id": child.id}
        ).one()
    assert b"Kanariesson" not in bytes(raw.name)
    assert bytes(raw.personnummer)[0] == 0x01  # the ciphertext format version


@pytest.mark.asvs("V14.2.4")
def test_plaintext_can_never_be_written_to_an_encrypted_column(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, actor, children.NewChild(invented_personnummer(2011, 1, 2), "Namn Namnsson")
        )
        with pytest.raises(Exception, match="only sealed values"):
            uow.session.execute(
                update(Child).where(Child.id == child.id).values(_name="Namn i klartext")
            )


def _copy_sealed(app: Flask, source_id: str, target_id: str, column: str) -> None:
    with app.app_context():
        db = request_session()
        value = db.execute(
            text(f"SELECT {column} FROM children WHERE id = :id"), {"id": source_id}
        ).scalar_one()
        db.execute(
            text(f"UPDATE children SET {column} = :v WHERE id = :id"), {"v": value, "id": target_id}
        )
        db.commit()


def _read(app: Flask, child_id: str, attribute: str) -> str:
    with app.app_context():
        child = request_session().get(Child, child_id)
        assert child is not None
        return str(getattr(child, attribute))


@pytest.mark.asvs("V11.3.3")
def test_a_value_moved_to_another_child_fails_to_decrypt(app: Flask, factory: Factory) -> None:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        a = children.register_child(
            uow, actor, children.NewChild(invented_personnummer(2013, 2, 3), "Alfa")
        )
        b = children.register_child(
            uow, actor, children.NewChild(invented_personnummer(2013, 2, 4), "Beta")
        )
        a_id, b_id = a.id, b.id
    _copy_sealed(app, a_id, b_id, "name")
    with pytest.raises(DecryptionError):
        _read(app, b_id, "name")


def test_a_value_moved_to_another_column_fails_to_decrypt(app: Flask, factory: Factory) -> None:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, actor, children.NewChild(invented_personnummer(2013, 2, 5), "Gamma")
        )
        child_id = child.id
    with app.app_context():
        db = request_session()
        db.execute(text("UPDATE children SET name = personnummer WHERE id = :id"), {"id": child_id})
        db.commit()
    with pytest.raises(DecryptionError):
        _read(app, child_id, "name")


@pytest.mark.asvs("V11.3.3")
def test_a_flipped_bit_is_an_integrity_error_never_wrong_data(app: Flask, factory: Factory) -> None:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        registered = children.register_child(
            uow, actor, children.NewChild(invented_personnummer(2013, 2, 6), "Delta")
        )
        child = uow.session.get(Child, registered.id)
        assert child is not None
        blob = bytearray(child._name.blob)  # type: ignore[attr-defined]
        blob[-3] ^= 0x01
        uow.session.execute(
            update(Child).where(Child.id == child.id).values(_name=Sealed(bytes(blob)))
        )
        uow.commit()
        uow.session.expire_all()
        with pytest.raises(DecryptionError) as refused:
            _ = uow.session.get(Child, child.id).name  # type: ignore[union-attr]
    assert "Delta" not in str(refused.value)


def test_a_field_read_again_is_decrypted_once_and_a_changed_value_is_read_afresh(
    app: Flask, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    actor = social_worker_actor(factory)
    opened: list[str] = []
    real_open = FieldCipher.open

    def counting_open(
        self: FieldCipher, session: Session, obj: object, field: personal, sealed: Sealed
    ) -> str:
        opened.append(field.name)
        return real_open(self, session, obj, field, sealed)  # type: ignore[arg-type]

    monkeypatch.setattr(FieldCipher, "open", counting_open)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        registered = children.register_child(
            uow, actor, children.NewChild(invented_personnummer(2013, 2, 7), "Epsilon")
        )
        uow.session.expire_all()
        child = uow.session.get(Child, registered.id)
        assert child is not None
        assert [child.name for _ in range(5)] == ["Epsilon"] * 5
        assert opened == ["name"]  # the rules of sharing may ask five times: opened once

        child.name = "Epsilon Ny"  # a new value reads as written, and is sealed at flush
        assert child.name == "Epsilon Ny"
        uow.commit()
        assert child.name == "Epsilon Ny" and opened.count("name") == 2  # the new ciphertext

        _copy_sealed(app, registered.id, registered.id, "name")  # no change: a reload
        uow.session.expire_all()
        assert uow.session.get(Child, registered.id).name == "Epsilon Ny"  # type: ignore[union-attr]
        assert opened.count("name") == 3  # a reloaded value is opened afresh, never assumed


def test_an_invalid_personnummer_is_refused_without_echoing_it(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        before = len(uow.session.scalars(select(Child)).all())
        with pytest.raises(InvalidInput) as refused:
            children.register_child(uow, actor, children.NewChild("20140309-1235", "Fel"))
        assert refused.value.field == "personnummer"
        assert "1235" not in refused.value.message
        assert len(uow.session.scalars(select(Child)).all()) == before
