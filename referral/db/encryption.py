"""Personal fields, encrypted on the way into the database and decrypted on the way out.

A model declares a sealed column (type `EncryptedText`) and a `personal(...)` attribute over
it; domain code reads and writes plain strings through the attribute. At flush, pending
plaintext is sealed with the data key of the row's person and record holder, bound to table,
column, row and person. The column type accepts nothing but sealed values, so plaintext
cannot reach the database by any path, including a forgotten flush hook.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, LargeBinary, String, TypeDecorator, event, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    Mapped,
    Session,
    column_property,
    declared_attr,
    mapped_column,
    object_session,
)

from crypto import (
    FieldContext,
    blind_index,
    decrypt_field,
    encrypt_field,
    identifier_index,
    keyword_index,
)
from crypto.hazmat import dek_id_text_of
from referral.db.base import new_id
from referral.db.data_keys import DataKey, KeyStore
from referral.scopes import KeyScope

SESSION_KEY = "field_cipher"


class FieldValue:
    """What a sealed column holds in Python: ciphertext, or plaintext waiting for the flush."""

    __slots__ = ()


class Sealed(FieldValue):
    __slots__ = ("blob",)

    def __init__(self, blob: bytes) -> None:
        self.blob = blob

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.blob == self.blob

    def __hash__(self) -> int:
        return hash(self.blob)

    def __repr__(self) -> str:
        return f"Sealed(<{len(self.blob)} bytes>)"


class Pending(FieldValue):
    __slots__ = ("plaintext",)

    def __init__(self, plaintext: str) -> None:
        self.plaintext = plaintext

    def __repr__(self) -> str:
        return "Pending(<not yet sealed>)"  # never the value itself


class EncryptedText(TypeDecorator[FieldValue]):
    """A column that stores only ciphertext and refuses anything else."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: FieldValue | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        if not isinstance(value, Sealed):
            raise TypeError("an encrypted column accepts only sealed values")
        return value.blob

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> FieldValue | None:
        return None if value is None else Sealed(bytes(value))


class EncryptedRecord:
    """Mixin for rows that hold personal fields: which key seals them, and which row id."""

    __personal_fields__: ClassVar[dict[str, personal]]
    # True for rows that may never be updated (the access log): their fields stay under the
    # key they were sealed with, so re-encryption leaves them where they are.
    append_only: ClassVar[bool] = False

    id: Mapped[str]

    @declared_attr
    def data_key_id(cls) -> Mapped[str | None]:  # noqa: N805 - SQLAlchemy's declared_attr
        table = cls.__dict__.get("__table__")
        if table is not None:  # mapped onto a table declared elsewhere (the access log's)
            return column_property(table.c.data_key_id)
        return mapped_column(String(36), ForeignKey("data_keys.id"), index=True)

    def key_scope(self) -> KeyScope:
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__personal_fields__ = {
            name: value for name, value in vars(cls).items() if isinstance(value, personal)
        }


# Where a row keeps the plaintext of the sealed values it has opened (not a mapped attribute).
_OPENED = "_personal_fields_opened"


class personal:  # noqa: N801 - reads like a field declaration on the model
    """A personal field over the sealed attribute `sealed_attr` (a column of EncryptedText).

    `index` names an integer column that receives the field's blind index at flush: of a
    personnummer, or with `index_kind`, of another identifier written as digits."""

    def __init__(
        self, sealed_attr: str, *, index: str | None = None, index_kind: str | None = None
    ) -> None:
        self.sealed_attr = sealed_attr
        self.index = index
        self.index_kind = index_kind
        self.name = sealed_attr
        # The sealed column's name per model: every field read binds it into the context,
        # and asking the mapper each time cost more than the decryption itself.
        self._column_names: dict[type, str] = {}

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: EncryptedRecord | None, owner: type) -> Any:
        if obj is None:
            return self
        value = getattr(obj, self.sealed_attr)
        if value is None:
            return None
        if isinstance(value, Pending):
            return value.plaintext
        # Opened once per loaded value: the rules of sharing read a child's placement and
        # personnummer for every category they weigh, and a list weighs several per child
        # (the partner's inbox decrypted each field eight times a row). The plaintext stays
        # on the row only while that very ciphertext does: a reload, a re-encryption or a
        # new value brings another Sealed object, and it is opened again; a value that does
        # not open is never remembered.
        session = object_session(obj)
        opened: dict[str, tuple[Sealed, str]] | None = obj.__dict__.get(_OPENED)
        if opened is not None and session is not None:  # as readable as unopened
            hit = opened.get(self.name)
            if hit is not None and hit[0] is value:
                return hit[1]
        if session is None:
            raise RuntimeError(_NO_SESSION)
        plaintext = session_cipher(session).open(session, obj, self, value)
        obj.__dict__.setdefault(_OPENED, {})[self.name] = (value, plaintext)
        return plaintext

    def __set__(self, obj: EncryptedRecord, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{self.name} takes a string")
        setattr(obj, self.sealed_attr, None if value is None else Pending(value))

    def column_name(self, model: type) -> str:
        name = self._column_names.get(model)
        if name is None:
            name = str(inspect(model).attrs[self.sealed_attr].columns[0].name)
            self._column_names[model] = name
        return name


def session_cipher(session: Session) -> FieldCipher:
    cipher = session.info.get(SESSION_KEY)
    if not isinstance(cipher, FieldCipher):
        raise RuntimeError("personal data needs a session with a field cipher; this one has none")
    return cipher


_NO_SESSION = "personal fields are readable only while their row is in a session"


class FieldCipher:
    def __init__(
        self, keys: KeyStore, index_key: bytes, identifier_key: bytes | None = None
    ) -> None:
        self.keys = keys
        self.index_key = index_key
        # The other identifiers' index has a key of its own (crypto.IDENTIFIER_INDEX_PURPOSE).
        self.identifier_key = identifier_key

    def index_of(self, field: personal, plaintext: str) -> int:
        if field.index_kind is None:
            return blind_index(plaintext, self.index_key)
        if self.identifier_key is None:
            raise RuntimeError("this cipher has no key for the identifiers' index")
        return identifier_index(field.index_kind, plaintext, self.identifier_key)

    def keyword_index(self, kind: str, text: str) -> int:
        """A likeness index of a short text, under the identifiers' index key."""
        if self.identifier_key is None:
            raise RuntimeError("this cipher has no key for the identifiers' index")
        return keyword_index(kind, text, self.identifier_key)

    def context(self, obj: EncryptedRecord, field: personal, person_id: str) -> FieldContext:
        table = type(obj).__table__.name  # type: ignore[attr-defined]
        return FieldContext(table, field.column_name(type(obj)), obj.id, person_id)

    def open(self, session: Session, obj: EncryptedRecord, field: personal, sealed: Sealed) -> str:
        dek = self.keys.by_id(session, dek_id_text_of(sealed.blob))
        return decrypt_field(sealed.blob, dek, self.context(obj, field, obj.key_scope().person_id))

    def seal(
        self,
        session: Session,
        obj: EncryptedRecord,
        current: dict[KeyScope, tuple[DataKey, bytes]] | None = None,
    ) -> None:
        """Seal every pending field of `obj`. If the row's key has changed (a new key after
        re-encryption), its other fields move to the new key too, so one row has one key.
        `current`: the scopes' keys, looked up for a whole flush at once."""
        if getattr(obj, "id", None) is None:
            obj.id = new_id()  # the row id is bound into each value, so it must exist now
        scope = obj.key_scope()
        if current is None:
            key_row, dek = self.keys.current(session, scope)
        else:
            if scope not in current:
                current[scope] = self.keys.current(session, scope)
            key_row, dek = current[scope]
        moving = obj.data_key_id is not None and obj.data_key_id != key_row.id
        for field in obj.__personal_fields__.values():
            value = getattr(obj, field.sealed_attr)
            if value is None or (isinstance(value, Sealed) and not moving):
                continue
            plaintext = (
                value.plaintext if isinstance(value, Pending) else field.__get__(obj, type(obj))
            )
            context = self.context(obj, field, scope.person_id)
            setattr(
                obj, field.sealed_attr, Sealed(encrypt_field(plaintext, dek, key_row.id, context))
            )
            if field.index:
                setattr(obj, field.index, self.index_of(field, plaintext))
        obj.data_key_id = key_row.id


def _pending(obj: object) -> bool:
    if not isinstance(obj, EncryptedRecord):
        return False
    return any(
        isinstance(getattr(obj, f.sealed_attr), Pending) for f in obj.__personal_fields__.values()
    )


def _objects_to_seal(session: Session) -> Iterator[EncryptedRecord]:
    for obj in list(session.new) + list(session.dirty):
        if _pending(obj):
            assert isinstance(obj, EncryptedRecord)
            yield obj


def _seal_before_flush(session: Session, _context: object, _instances: object) -> None:
    pending = list(_objects_to_seal(session))
    if not pending:
        return
    cipher = session_cipher(session)
    for obj in pending:
        if getattr(obj, "id", None) is None:
            obj.id = new_id()  # before its scope is asked for: some holders are named by it
    # Every key the flush needs, looked up together (keys do not change within a flush).
    current = cipher.keys.current_many(session, {obj.key_scope() for obj in pending})
    for obj in pending:
        cipher.seal(session, obj, current)


def install(target: Any) -> None:
    """Seal personal fields at every flush of sessions made by `target` (a sessionmaker)."""
    event.listen(target, "before_flush", _seal_before_flush)
