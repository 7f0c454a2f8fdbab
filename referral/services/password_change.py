"""A signed-in person changes their own password (OWASP ASVS 5.0 V6.2.2, V6.2.3, V6.4.1).

The current password is checked as at login, and a wrong one counts towards the account's
lockout exactly as a failed login does: a stolen session cannot be used to guess the
password it would need to take the account over. The new one must meet the service's rules
(referral.auth.passwords.password_problem), differ from the current one and be typed the
same twice. Once changed, every other session of the person ends (whoever knew the old
password may hold one), this one goes on, and the access log records the change; no
password or hash is ever written to it.

Flask-free, like the other services: the view hands in the unit of work, the live session,
what was typed and the request's origin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from audit.actions import Action, Outcome
from audit.record import record
from referral.actors import Origin
from referral.auth.passwords import hash_password, password_problem, verify_password
from referral.auth.sessions import LiveSession, actor_of, close_other_sessions, close_session
from referral.db.uow import UnitOfWork
from referral.i18n import _
from referral.services.authentication import LockoutPolicy, count_failure, is_locked

# The form's fields, by which each problem is named.
CURRENT = "current_password"
NEW = "new_password"
AGAIN = "new_password_again"


@dataclass(frozen=True)
class PasswordChange:
    """What the person typed, exactly as typed (nothing trimmed)."""

    current: str
    new: str
    again: str


@dataclass(frozen=True)
class ChangeOutcome:
    # The field -> why it was refused; empty when the password was changed.
    problems: Mapping[str, str] = field(default_factory=dict)
    # The wrong current password locked the account: this session has ended as well.
    locked_out: bool = False

    @property
    def changed(self) -> bool:
        return not self.problems and not self.locked_out


def change_password(
    uow: UnitOfWork,
    live: LiveSession,
    change: PasswordChange,
    policy: LockoutPolicy,
    origin: Origin,
) -> ChangeOutcome:
    """Change the password of the session's user, or say why not, field by field."""
    db = uow.session
    user = live.user
    actor = actor_of(user, origin)
    problems: dict[str, str] = {}
    # The hash is always run, as at login; a locked account's right password is refused too.
    current_ok = verify_password(user.password_hash, change.current)
    locked_before = is_locked(user)
    if not current_ok or locked_before:
        if not locked_before:
            count_failure(uow, user, policy, origin)
        record(
            db,
            actor,
            Action.PASSWORD_CHANGE_FAILED,
            outcome=Outcome.DENIED,
            object_type="user",
            object_id=user.id,
        )
        if is_locked(user) and not locked_before:
            # Guessing from inside a session ends it, as a locked second factor does. (A lock
            # someone else's failed logins set leaves this session be: it only refuses.)
            close_session(db, live.token)
            uow.commit()
            return ChangeOutcome(locked_out=True)
        uow.commit()
        problems[CURRENT] = _(
            "The current password is not right, or the account is locked for a while after "
            "too many wrong passwords."
        )
    problem = password_problem(change.new, user.username)
    if problem is not None:
        problems[NEW] = problem
    elif change.new == change.current:
        problems[NEW] = _("The new password must differ from the current one.")
    if change.again != change.new:
        problems[AGAIN] = _("The two entries of the new password are not the same.")
    if problems:
        return ChangeOutcome(problems=problems)
    user.password_hash = hash_password(change.new)
    user.must_change_password = False
    close_other_sessions(db, user.id, live.token)
    record(db, actor, Action.PASSWORD_CHANGED, object_type="user", object_id=user.id)
    uow.commit()
    return ChangeOutcome()
