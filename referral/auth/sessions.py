"""Server-side session state: the cookie holds a random token, the database its hash.

Deleting the row (logout, disabling the user, resetting MFA) ends the session on the next
request. Idle and absolute timeouts are checked on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session, joinedload

from referral.actors import Actor, Origin
from referral.db.base import utcnow
from referral.db.emergency import live_grant_children
from referral.db.models import AuthSession, User
from referral.policy import EMERGENCY_ROLES

# Writing last_seen on every request would turn each read into a write; a minute's
# precision is plenty for a 15-minute idle timeout.
LAST_SEEN_PRECISION = timedelta(seconds=60)


# The session, its user and the user's roles in one statement, built once: every request
# runs it, and building it anew cost a third of what running it did.
_LIVE_SESSION = (
    select(AuthSession, User)
    .join(User, User.id == AuthSession.user_id)
    .options(joinedload(User.roles))
    .where(AuthSession.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: Session, user: User, *, mfa_verified: bool) -> str:
    """Start a new session and return its token. A new token at every step of the login
    (password, then second factor) is what defeats session fixation."""
    token = secrets.token_urlsafe(32)
    db.add(AuthSession(token_hash=_hash(token), user_id=user.id, mfa_verified=mfa_verified))
    return token


def close_session(db: Session, token: str) -> None:
    db.execute(delete(AuthSession).where(AuthSession.token_hash == _hash(token)))


def close_all_sessions(db: Session, user_id: str) -> None:
    db.execute(delete(AuthSession).where(AuthSession.user_id == user_id))


def live_sessions_of(
    db: Session, user_id: str, policy: SessionPolicy, now: datetime
) -> list[AuthSession]:
    """The user's sessions that neither limit has ended yet (the same limits load_session
    applies), the most recently active first. Read by the index on user_id: an account
    holds a handful."""
    return list(
        db.scalars(
            select(AuthSession)
            .where(
                AuthSession.user_id == user_id,
                AuthSession.last_seen_at >= now - policy.idle,
                AuthSession.created_at >= now - policy.absolute,
            )
            .order_by(AuthSession.last_seen_at.desc(), AuthSession.created_at.desc())
        )
    )


def is_session_of(row: AuthSession, token: str) -> bool:
    """Is `row` the session this token opened?"""
    return hmac.compare_digest(row.token_hash, _hash(token))


def close_other_sessions(db: Session, user_id: str, token: str) -> None:
    """End every session of the user but the one this token holds (expired ones included)."""
    db.execute(
        delete(AuthSession).where(
            AuthSession.user_id == user_id, AuthSession.token_hash != _hash(token)
        )
    )


@dataclass(frozen=True)
class LiveSession:
    token: str
    user: User
    mfa_verified: bool
    # Children the user holds a live emergency grant for, as of this request.
    emergency_children: frozenset[str] = frozenset()
    # When the session ends if nothing more happens: the page warns before then (WCAG 2.2.1).
    expires_at: datetime | None = None

    def actor(self, origin: Origin) -> Actor:
        return actor_of(self.user, origin, self.emergency_children)


def actor_of(user: User, origin: Origin, emergency_children: frozenset[str] = frozenset()) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        organisation_id=user.organisation_id,
        roles=user.role_names,
        origin=origin,
        emergency_children=emergency_children,
    )


def _emergency_children(db: Session, user: User, now: datetime) -> frozenset[str]:
    """Loaded on every request, so that a grant that has expired stops working at once.
    Only the roles that can hold a grant pay for the query."""
    if not user.role_names & EMERGENCY_ROLES:
        return frozenset()
    return live_grant_children(db, user.id, now)


def _expiry(row: AuthSession, policy: SessionPolicy) -> datetime:
    """The idle limit counted from the last request, but never past the absolute limit."""
    return min(row.last_seen_at + policy.idle, row.created_at + policy.absolute)


def _expired(row: AuthSession, policy: SessionPolicy, now: datetime) -> bool:
    return now - row.last_seen_at > policy.idle or now - row.created_at > policy.absolute


def extend_session(
    db: Session, token: str, policy: SessionPolicy, now: datetime | None = None
) -> datetime | None:
    """The person asked to stay logged in: last_seen is written now, whatever the minute's
    precision, so the idle limit restarts. Returns the new expiry, or None when the session
    is unknown or has already ended (an ended session is never revived)."""
    now = now or utcnow()
    row = db.scalar(select(AuthSession).where(AuthSession.token_hash == _hash(token)))
    if row is None or _expired(row, policy, now):
        return None
    row.last_seen_at = now
    db.commit()
    return _expiry(row, policy)


def load_session(
    db: Session, token: str, policy: SessionPolicy, now: datetime | None = None
) -> LiveSession | None:
    """The live session for `token`, or None when it is unknown, expired or its user disabled.
    An expired session is deleted so that it can never come back."""
    now = now or utcnow()
    found = db.execute(_LIVE_SESSION, {"token_hash": _hash(token)}).unique().first()
    if found is None:
        return None
    row, user = found
    if _expired(row, policy, now) or not user.active:
        db.delete(row)
        db.commit()
        return None
    if now - row.last_seen_at > LAST_SEEN_PRECISION:
        row.last_seen_at = now
        db.commit()
    return LiveSession(
        token=token,
        user=user,
        mfa_verified=row.mfa_verified,
        # A half-verified session acts as nobody, so it holds no grant either.
        emergency_children=(
            _emergency_children(db, user, now) if row.mfa_verified else frozenset()
        ),
        expires_at=_expiry(row, policy),
    )
