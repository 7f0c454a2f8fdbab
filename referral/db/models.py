"""Models of the foundation: organisations, staff accounts and server-side login sessions.

Staff accounts hold work identities (login name, display name), not case data about the
people the service protects; their TOTP seed is encrypted (see referral.auth.totp).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db.base import Base, UtcDateTime, new_id, utcnow
from referral.roles import Role


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    # Normalised to NNNNNN-NNNN; Luhn-checked on the way in.
    org_number: Mapped[str | None] = mapped_column(String(11), unique=True)
    # The city's social emergency service (socialjouren): the one organisation that receives
    # a concern report when no district is known to be responsible for the child.
    social_emergency_service: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Where letters to the organisation go: the return address on the consent form a district
    # prints for guardians. An organisation's address, not a person's, so kept in clear.
    postal_address: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")

    @property
    def organisation_id(self) -> str:
        """An organisation is in its own scope (see referral.policy)."""
        return self.id

    __table_args__ = (
        CheckConstraint("kind IN ('district', 'partner', 'city')", name="kind_known"),
        CheckConstraint(
            "NOT social_emergency_service OR kind = 'city'", name="social_emergency_is_the_city"
        ),
        # One receiver of last resort: a unique index over the organisations that are it.
        Index(
            "ix_organisations_one_social_emergency_service",
            "social_emergency_service",
            unique=True,
            sqlite_where=text("social_emergency_service"),
            postgresql_where=text("social_emergency_service"),
        ),
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    # A first password someone else knows (the operator's `flask user add`): replaced by the
    # holder at the first sign-in with it, before any other page (ASVS 5.0 V6.4.1).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The work phone printed on the consent form the district sends, so a guardian can call.
    work_phone: Mapped[str | None] = mapped_column(String(40), default=None)
    # TOTP seed, encrypted with the MFA key; confirmed only once a first code was accepted.
    totp_seed_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The time step of the last accepted code: a code is never accepted twice.
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="users")
    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_names(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.roles)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="roles")

    __table_args__ = (
        CheckConstraint(
            "role IN ('social_worker', 'group_leader', 'link_worker', 'social_emergency', "
            "'night_staff', 'night_coordinator', 'coordinator', 'dpo', 'admin')",
            name="role_known",
        ),
    )


class AuthSession(Base):
    """Server-side session state: deleting the row ends the session at once."""

    __tablename__ = "auth_sessions"

    # SHA-256 of the token held in the cookie: a copy of this table logs no one in.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    mfa_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
