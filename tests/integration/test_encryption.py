"""Personal fields are sealed at rest: bound to their place, unreadable once shredded."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text, update

from crypto import DecryptionError
from referral.db.encryption import Sealed
from referral.db.engine import request_session
from referral.db.people import Child
from referral.db.schema import metadata
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput
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
    ("activity_descriptions", "text"): "the information letter, the same for every guardian",
    ("groups", "name"): "a support group's label chosen by the partner, never a child's name",
}


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


def test_a_registered_child_reads_back_and_is_found_by_personnummer(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    pnr = invented_personnummer(2014, 3, 9)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(uow, actor, children.NewChild(pnr, "Testa Barnsdotter"))
        assert child.name == "Testa Barnsdotter"
        ten_digits = pnr[2:8] + "-" + pnr[8:]
        found = children.find_children_by_personnummer(uow, actor, ten_digits)
        assert [c.id for c in found] == [child.id]


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


def test_a_flipped_bit_is_an_integrity_error_never_wrong_data(app: Flask, factory: Factory) -> None:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, actor, children.NewChild(invented_personnummer(2013, 2, 6), "Delta")
        )
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
