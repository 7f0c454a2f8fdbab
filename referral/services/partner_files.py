"""The partner's own file on a child's participation: the group leader's notes.

One file per referral (`PartnerFile.referral_id`), made with its first note; each note is
sealed under the file's own key (holder "partner-file:<id>"), not the district's, so the
purge after completion (referral.services.gallring) shreds that key and deletes the rows
without touching the district's record. What social services must keep is returned to the
district before that.

The partner's leaders reach the file exactly as they reach the referral: a referral of their
own organisation that is with the partner (shared, accepted, placed or participating) and
that the partner may lawfully see today (referral.services.sharing). Otherwise the answer is
404, and the attempt is in the access log, as for the partner's other reads of a referral.
Every note written and every non-empty read is in the access log under the file's key
scope; no entry carries a note's text.

The text's characters are refused by the views (referral.text_rules, in the web form and the
API schema); the service decides what every caller is refused alike: empty or too long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.people import Child, PartnerFile, PartnerNote
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput
from referral.i18n import _
from referral.policy import Permission, require
from referral.rules import WITH_PARTNER, LawfulBasis, Status
from referral.services.loading import get_for
from referral.services.referrals import refuse_unlawful
from referral.services.sharing import visible_to_partner
from referral.services.users import staff_names

MAX_NOTE = 4000
FILE_OBJECT = "partner_file"
NOTE_OBJECT = "partner_note"


@dataclass(frozen=True)
class WrittenNote:
    """A note just written, by id and time: its text stays in the file."""

    id: str
    written_at: datetime


@dataclass(frozen=True)
class NoteView:
    id: str
    written_at: datetime
    written_by: str  # the group leader's display name (a work identity)
    text: str


@dataclass(frozen=True)
class PartnerFileView:
    """The partner's file on one referral: its notes, oldest first (none before the first)."""

    referral_id: str
    notes: tuple[NoteView, ...]


def _referral_with_partner(
    uow: UnitOfWork, actor: Actor, referral_id: str, today: date, *, lock: bool = False
) -> tuple[Referral, LawfulBasis]:
    """The referral if it is the actor's partner's, with the partner, and lawful to see
    today, and the ground it rests on; otherwise 404 (and the attempt is logged)."""
    require(actor, Permission.PARTNER_FILE_KEEP)
    referral = get_for(
        uow,
        actor,
        Permission.PARTNER_FILE_KEEP,
        Referral,
        referral_id,
        field="referral",
        lock=lock,
    )
    child = uow.session.get(Child, referral.child_id)
    assert child is not None
    basis = (
        visible_to_partner(uow, child, today) if Status(referral.status) in WITH_PARTNER else None
    )
    if not isinstance(basis, LawfulBasis):
        refuse_unlawful(uow, actor, referral, "referral")
    return referral, basis


def _file_of(uow: UnitOfWork, referral_id: str) -> PartnerFile | None:
    return uow.session.scalar(select(PartnerFile).where(PartnerFile.referral_id == referral_id))


def _note_text(text: str | None) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidInput(_("Write the note."), field="text")
    if len(cleaned) > MAX_NOTE:
        raise InvalidInput(_("At most %(n)s characters.", n=MAX_NOTE), field="text")
    return cleaned


def write_note(
    uow: UnitOfWork, actor: Actor, referral_id: str, text: str, today: date
) -> WrittenNote:
    """A group leader writes a note in the partner's file on this referral (the file is made
    with the first note). The referral's row is locked until commit, so two first notes at
    once make one file, and a withdrawal committed meanwhile is seen."""
    referral, basis = _referral_with_partner(uow, actor, referral_id, today, lock=True)
    cleaned = _note_text(text)
    partner_file = _file_of(uow, referral.id)
    if partner_file is None:
        partner_file = PartnerFile(
            child_id=referral.child_id, partner_id=referral.partner_id, referral_id=referral.id
        )
        uow.session.add(partner_file)
        uow.session.flush()
    note = PartnerNote(
        file_id=partner_file.id,
        child_id=partner_file.child_id,
        written_by=actor.user_id,
        text=cleaned,
    )
    uow.session.add(note)
    uow.session.flush()
    record(
        uow.session,
        actor,
        Action.PARTNER_NOTE_WRITE,
        object_type=NOTE_OBJECT,
        object_id=note.id,
        subject=partner_file.key_scope(),
        legal_basis=basis.kind.value,
    )
    uow.commit()
    return WrittenNote(id=note.id, written_at=note.written_at)


def notes_of(uow: UnitOfWork, actor: Actor, referral_id: str, today: date) -> PartnerFileView:
    """The partner's file on this referral, for its group leaders. A file with notes is
    recorded in the access log before it is returned; no file, no notes, nothing read."""
    referral, basis = _referral_with_partner(uow, actor, referral_id, today)
    partner_file = _file_of(uow, referral.id)
    if partner_file is None:
        return PartnerFileView(referral_id=referral.id, notes=())
    rows = list(
        uow.session.scalars(
            select(PartnerNote)
            .where(PartnerNote.file_id == partner_file.id)
            .order_by(PartnerNote.written_at, PartnerNote.id)
        )
    )
    if not rows:
        return PartnerFileView(referral_id=referral.id, notes=())
    record(
        uow.session,
        actor,
        Action.PARTNER_FILE_READ,
        object_type=FILE_OBJECT,
        object_id=partner_file.id,
        subject=partner_file.key_scope(),
        legal_basis=basis.kind.value,
    )
    names = staff_names(uow, {row.written_by for row in rows})
    view = PartnerFileView(
        referral_id=referral.id,
        notes=tuple(
            NoteView(
                id=row.id,
                written_at=row.written_at,
                written_by=names.get(row.written_by, "—"),
                text=row.text,
            )
            for row in rows
        ),
    )
    uow.commit()
    return view
