"""Who may come in other than by our own password: a staff account linked to its subject at
the city's identity provider (OpenID Connect), the one-time invitation that makes the link,
and the API clients the city's own systems call with.

No secret is stored in clear: an invitation's and a client's token are kept as SHA-256
hashes (a copy of these tables lets no one in), and a client's prefix only tells an
administrator which token is which.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base, UtcDateTime, new_id, utcnow


class IdentityLink(Base):
    """A staff account's subject at one configured provider: linked on first sign-in through
    an invitation, never created by a login alone. One subject per account at a provider:
    the second constraint stops two invitations spent at once from linking two."""

    __tablename__ = "identity_links"
    __table_args__ = (
        UniqueConstraint("provider", "subject"),
        # Named in full: the convention (uq_<table>_<first column>) would give the
        # (provider, subject) constraint's name.
        UniqueConstraint("provider", "user_id", name="uq_identity_links_provider_user_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(64))  # the configured provider's key
    subject: Mapped[str] = mapped_column(String(255))  # the ID token's `sub`
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SignInInvitation(Base):
    """A one-time invitation for a provisioned account to link its provider subject."""

    __tablename__ = "sign_in_invitations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class ApiClient(Base):
    """A system of an organisation that calls the API with a bearer token, acting in one
    role with scopes drawn from the permission catalogue."""

    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[str] = mapped_column(String(2000))  # space-separated permission values
    token_prefix: Mapped[str] = mapped_column(String(16), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    # Rotation: the client that replaced this one (both work until this one expires or is
    # revoked, so a system can switch without a gap).
    replaced_by: Mapped[str | None] = mapped_column(String(36), default=None)
