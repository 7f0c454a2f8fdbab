"""A child's personnummer on the district's pages: masked by default, in full on request.

The record header shows the birth date and hides the last four digits (the page shows the
birth date and age anyway, so the mask gives nothing away). Who needs the whole number (to
enter it in the case system, to check it against a letter) asks for it; each such look is
an access of its own in the log, written and committed before the number is returned, so
the child's subject-access report and the data-protection officer's log say who saw it.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit.actions import Action
from referral.actors import Actor
from referral.db.people import Child
from referral.db.uow import UnitOfWork
from referral.policy import Permission, emergency_legal_basis, require
from referral.services.children import record_child_access
from referral.services.loading import get_for

HIDDEN = "****"


def masked(personnummer: str) -> str:
    """YYYYMMDD-**** of a normalised number (YYYYMMDDNNNC): the birth date (for a
    samordningsnummer, its day + 60, as written on the person's papers), nothing more."""
    return f"{personnummer[:8]}-{HIDDEN}"


def written_out(personnummer: str) -> str:
    """YYYYMMDD-NNNC, as a social worker types it into the case system."""
    return f"{personnummer[:8]}-{personnummer[8:]}"


@dataclass(frozen=True)
class RevealedPersonnummer:
    child_id: str
    personnummer: str  # YYYYMMDD-NNNC


def reveal_personnummer(uow: UnitOfWork, actor: Actor, child_id: str) -> RevealedPersonnummer:
    """The child's full personnummer for whoever may read the child's record (a social
    worker of the district, or one holding a live emergency grant, which the log then names
    as the legal basis); another district's child answers 404 as the record does."""
    require(actor, Permission.CHILD_READ)
    child = get_for(uow, actor, Permission.CHILD_READ, Child, child_id, field="child")
    basis = emergency_legal_basis(actor, Permission.CHILD_READ, child)
    record_child_access(uow, actor, Action.CHILD_REVEAL_PERSONNUMMER, child, legal_basis=basis)
    uow.commit()  # on record before the number leaves the service
    return RevealedPersonnummer(child.id, written_out(child.personnummer))
