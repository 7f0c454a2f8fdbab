"""A person's own sessions: the live ones listed, and any but the one in use ended (OWASP ASVS
5.0 V7.5.2). An account may hold several sessions at once (a desk and a phone); this is where
its holder sees them and ends those they do not recognise or no longer need.

A session is named on the page by a handle: an HMAC of its stored hash under a key derived
from the service's secret for this purpose alone. The handle is stable from one request to
the next (a form posted minutes later still names the same session), but neither the token
nor its hash ever leaves the server, and the handle cannot be turned back into either. It is
only ever matched against the person's own live sessions, so a handle crafted, guessed or
copied from another account's page matches nothing and ends nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from audit.actions import Action
from audit.record import Entry, record_many
from crypto.kdf import derive_key
from referral.actors import Actor
from referral.auth.sessions import (
    SessionPolicy,
    close_other_sessions,
    is_session_of,
    live_sessions_of,
)
from referral.db.models import AuthSession
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput, NotFound
from referral.i18n import _
from referral.policy import Permission, require

HANDLE_PURPOSE = "referral: handles naming a person's own sessions on their sessions page"
# 128 bits: as hard to guess as a random id, and short enough for a form field.
HANDLE_CHARACTERS = 32


def handle_key(secret_key: str) -> bytes:
    """The handles' own key, derived from the service's secret (so there is no secret more to
    keep), and independent of every other key derived from it."""
    return derive_key(secret_key.encode(), HANDLE_PURPOSE)


def _handle(key: bytes, row: AuthSession) -> str:
    return hmac.new(key, row.token_hash.encode(), hashlib.sha256).hexdigest()[:HANDLE_CHARACTERS]


@dataclass(frozen=True)
class OwnSession:
    handle: str
    started_at: datetime
    last_active_at: datetime
    # Only the password given so far: the second factor is still to come (or never will).
    second_factor_given: bool
    current: bool


@dataclass(frozen=True)
class Asking:
    """Who asks, from which session, and what the service needs to answer: the key that
    makes handles, the session limits, and the moment."""

    actor: Actor
    token: str  # the session the request came with
    key: bytes
    policy: SessionPolicy
    now: datetime


def list_own_sessions(uow: UnitOfWork, asking: Asking) -> list[OwnSession]:
    """The person's live sessions, the most recently active first, the one in use marked."""
    require(asking.actor, Permission.OWN_SESSIONS_MANAGE)
    rows = live_sessions_of(uow.session, asking.actor.user_id, asking.policy, asking.now)
    return [
        OwnSession(
            handle=_handle(asking.key, row),
            started_at=row.created_at,
            last_active_at=row.last_seen_at,
            second_factor_given=row.mfa_verified,
            current=is_session_of(row, asking.token),
        )
        for row in rows
    ]


def end_own_session(uow: UnitOfWork, asking: Asking, handle: str) -> None:
    """End one of the person's other sessions: its client is signed out at its next request.
    404 when the handle names none of their live sessions (ended already, or never theirs);
    422 for the session in use, which the person ends by logging out."""
    require(asking.actor, Permission.OWN_SESSIONS_MANAGE)
    rows = live_sessions_of(uow.session, asking.actor.user_id, asking.policy, asking.now)
    # Every row is compared, in constant time, whatever matches first.
    matching = [row for row in rows if hmac.compare_digest(_handle(asking.key, row), handle)]
    if not matching:
        raise NotFound(
            _("No such session: it has ended already, or it is not one of yours."),
            field="session",
        )
    (row,) = matching
    if is_session_of(row, asking.token):
        raise InvalidInput(
            _("This is the session you are using now: log out to end it."), field="session"
        )
    uow.session.delete(row)
    record_many(uow.session, asking.actor, [_ended(asking.actor)])
    uow.commit()


def end_other_sessions(uow: UnitOfWork, asking: Asking) -> int:
    """End every session of the person but the one in use; returns how many live ones ended
    (each is written to the access log; expired ones, already over, are removed too)."""
    require(asking.actor, Permission.OWN_SESSIONS_MANAGE)
    rows = live_sessions_of(uow.session, asking.actor.user_id, asking.policy, asking.now)
    others = [row for row in rows if not is_session_of(row, asking.token)]
    close_other_sessions(uow.session, asking.actor.user_id, asking.token)
    record_many(uow.session, asking.actor, [_ended(asking.actor) for _row in others])
    uow.commit()
    return len(others)


def _ended(actor: Actor) -> Entry:
    # The account is the object: a session has no name the log could keep that would not
    # be a credential or lead back to one.
    return Entry(Action.SESSION_ENDED, object_type="user", object_id=actor.user_id)
