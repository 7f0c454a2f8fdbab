"""Logging in: password, then a TOTP code, with lockout after repeated failures.

An unknown user, a wrong password, a disabled account and a locked account all get the same
answer in the same time, so the login form reveals nothing about who has an account. Every
attempt is written to the access log; for an unknown name nothing of what was typed is kept
(it could be anything, even someone's personnummer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from audit.actions import Action, Outcome
from audit.record import record
from referral.actors import Origin
from referral.auth import totp
from referral.auth.passwords import hash_password, needs_rehash, verify_password
from referral.auth.sessions import LiveSession, actor_of, close_session, open_session
from referral.db.base import utcnow
from referral.db.models import User
from referral.db.uow import UnitOfWork


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int
    lockout: timedelta


def is_locked(user: User) -> bool:
    """Locked for a while by failures; a right password is refused until then."""
    return user.locked_until is not None and user.locked_until > utcnow()


def count_failure(uow: UnitOfWork, user: User, policy: LockoutPolicy, origin: Origin) -> None:
    """One more wrong password or code (at login, or as the current password when changing
    it) towards the lockout."""
    user.failed_logins += 1
    if user.failed_logins >= policy.max_failures:
        user.locked_until = utcnow() + policy.lockout
        user.failed_logins = 0
        record(uow.session, actor_of(user, origin), Action.LOCKED_OUT, outcome=Outcome.DENIED)


def check_password(
    uow: UnitOfWork, username: str, password: str, policy: LockoutPolicy, origin: Origin
) -> LiveSession | None:
    """A new pre-MFA session when the password is right, else None (whatever the reason)."""
    db = uow.session
    user = db.scalar(select(User).where(User.username == username.strip().lower()))
    # Always run the hash, even for an unknown or locked account: equal time, equal answer.
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None:
        record(db, origin, Action.LOGIN_FAILED, outcome=Outcome.DENIED, object_type="user")
        uow.commit()
        return None
    actor = actor_of(user, origin)
    if not password_ok or not user.active or is_locked(user):
        if not password_ok and user.active and not is_locked(user):
            count_failure(uow, user, policy, origin)
        record(
            db,
            actor,
            Action.LOGIN_FAILED,
            outcome=Outcome.DENIED,
            object_type="user",
            object_id=user.id,
        )
        uow.commit()
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token = open_session(db, user, mfa_verified=False)
    record(db, actor, Action.LOGIN, object_type="user", object_id=user.id)
    uow.commit()
    return LiveSession(token=token, user=user, mfa_verified=False)


def enrolment_seed(uow: UnitOfWork, user: User, mfa_key: str) -> str:
    """The seed to show on the enrolment page: kept across reloads until it is confirmed."""
    if user.totp_confirmed:
        raise ValueError("this user has enrolled already")
    if user.totp_seed_encrypted is not None:
        return totp.open_seed(mfa_key, user.id, user.totp_seed_encrypted)
    seed = totp.new_seed()
    user.totp_seed_encrypted = totp.seal_seed(mfa_key, user.id, seed)
    uow.commit()
    return seed


@dataclass(frozen=True)
class SecondFactorOutcome:
    session: LiveSession | None  # the new, fully verified session when the code was accepted
    locked_out: bool = False  # the pre-MFA session was ended: start again from the password


def check_second_factor(
    uow: UnitOfWork,
    pending: LiveSession,
    code: str,
    mfa_key: str,
    policy: LockoutPolicy,
    origin: Origin,
) -> SecondFactorOutcome:
    """Check a TOTP code for a password-verified session.

    Confirms a pending enrolment on first success. A code already used is refused, and
    failures count towards the same lockout as wrong passwords."""
    db = uow.session
    user = pending.user
    actor = actor_of(user, origin)
    if not user.active or is_locked(user) or user.totp_seed_encrypted is None:
        close_session(db, pending.token)
        record(db, actor, Action.MFA_FAILED, outcome=Outcome.DENIED, object_id=user.id)
        uow.commit()
        return SecondFactorOutcome(session=None, locked_out=True)
    seed = totp.open_seed(mfa_key, user.id, user.totp_seed_encrypted)
    step = totp.accepted_step(seed, code, user.totp_last_step)
    if step is None:
        count_failure(uow, user, policy, origin)
        locked = is_locked(user)
        if locked:
            close_session(db, pending.token)
        record(db, actor, Action.MFA_FAILED, outcome=Outcome.DENIED, object_id=user.id)
        uow.commit()
        return SecondFactorOutcome(session=None, locked_out=locked)
    if not user.totp_confirmed:
        record(db, actor, Action.MFA_ENROLLED, object_type="user", object_id=user.id)
    user.totp_last_step = step
    user.totp_confirmed = True
    user.failed_logins = 0
    close_session(db, pending.token)
    token = open_session(db, user, mfa_verified=True)
    record(db, actor, Action.MFA_VERIFIED, object_type="user", object_id=user.id)
    uow.commit()
    return SecondFactorOutcome(session=LiveSession(token=token, user=user, mfa_verified=True))


def log_out(uow: UnitOfWork, live: LiveSession, origin: Origin) -> None:
    close_session(uow.session, live.token)
    record(uow.session, actor_of(live.user, origin), Action.LOGOUT, object_id=live.user.id)
    uow.commit()
