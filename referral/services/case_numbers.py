"""The district's own case number on a child's record: its reference in the case system
(Paraplyet and the like), so that a social worker can go from one to the other.

It is optional and sealed (it names a person's case). Districts write their numbers their
own way ("IFO 2026/123", "BoU-2026-00123"), so only its alphabet and length are checked;
a search matches it whole, whatever the case of its letters and the spaces typed.
"""

from __future__ import annotations

from audit.actions import Action
from referral.actors import Actor
from referral.db.people import Child
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput
from referral.i18n import _
from referral.policy import Permission, require
from referral.services.children import record_child_access
from referral.services.loading import get_for

MAX_CASE_NUMBER = 40
PUNCTUATION = frozenset(" -/.:")
DIGITS = frozenset("0123456789")


def valid_case_number(raw: str | None) -> str | None:
    """The number as typed, its spaces tidied, or None when empty (which removes it). The
    message names the rule, never what was typed."""
    cleaned = " ".join((raw or "").split())
    if not cleaned:
        return None
    if len(cleaned) > MAX_CASE_NUMBER or not all(
        character.isalpha() or character in DIGITS or character in PUNCTUATION
        for character in cleaned
    ):
        raise InvalidInput(
            _(
                "A case number has at most %(n)s characters: letters, digits, spaces and "
                "- / . : only.",
                n=MAX_CASE_NUMBER,
            ),
            field="case_number",
        )
    return cleaned


def search_key(text: str | None) -> str:
    """What two ways of writing one case number have in common: no spaces, one case."""
    return "".join((text or "").split()).casefold()


def matches(case_number: str | None, key: str) -> bool:
    """Is this the case number searched for (`key` from search_key)? Whole, not a part: a
    part of one district's numbering would match half its children."""
    return bool(key) and case_number is not None and search_key(case_number) == key


def set_case_number(uow: UnitOfWork, actor: Actor, child_id: str, raw: str | None) -> str | None:
    """Record (or, empty, remove) the district's case number of its child; a change of the
    child's record in the log."""
    require(actor, Permission.CHILD_UPDATE)
    child = get_for(uow, actor, Permission.CHILD_UPDATE, Child, child_id, field="child")
    case_number = valid_case_number(raw)
    child.case_number = case_number
    uow.session.flush()
    record_child_access(uow, actor, Action.CHILD_UPDATE, child)
    uow.commit()
    return case_number
