"""Who a subject at an identity provider may become here, and the invitations that say so.

A login never creates an account: a subject with no link to an account is refused, unless it
arrives with a one-time invitation an administrator made for a provisioned, active account of
the provider's organisation; then the link is made and the invitation is spent. A disabled
account is refused whatever the provider says. Every sign-in, refusal (with its reason, never
a token) and link is written to the access log, the entry naming the provider; the session is
the same server-side session a password login opens.

Flask-free, like the services: the views hand in the unit of work, the checked identity and
the request's origin.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from audit.actions import Action, Outcome
from audit.record import record
from config.settings import OidcProvider
from referral.actors import Actor, Origin
from referral.auth.oidc_client import VerifiedIdentity
from referral.auth.sessions import LiveSession, actor_of, close_session, open_session
from referral.db.base import utcnow
from referral.db.identity import IdentityLink, SignInInvitation
from referral.db.models import Organisation, User
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput
from referral.i18n import _
from referral.policy import Permission
from referral.services import users

PROVIDER_OBJECT = "identity_provider"


def token_hash(token: str) -> str:
    """The only form in which an invitation's token is kept (tables, Flask session)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Refused(Exception):
    """A sign-in this service refuses; `reason` is a short code for the access log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def record_refusal(
    uow: UnitOfWork, provider_key: str, reason: str, origin: Origin, user: User | None = None
) -> None:
    """The refusal, its reason and the provider; the account's when it is known."""
    who: Actor | Origin = actor_of(user, origin) if user is not None else origin
    record(
        uow.session,
        who,
        Action.PROVIDER_LOGIN_REFUSED,
        outcome=Outcome.DENIED,
        object_type=PROVIDER_OBJECT,
        object_id=f"{provider_key}:{reason}"[:64],
    )
    uow.commit()


def _organisation_id(uow: UnitOfWork, provider: OidcProvider) -> str | None:
    """The configured organisation, by id or exact name."""
    db = uow.session
    found = db.get(Organisation, provider.organisation) or db.scalar(
        select(Organisation).where(Organisation.name == provider.organisation)
    )
    return found.id if found is not None else None


def _domain_allowed(provider: OidcProvider, identity: VerifiedIdentity) -> bool:
    if not provider.email_domains:
        return True
    address = identity.email or (identity.subject if "@" in identity.subject else "")
    domain = address.rpartition("@")[2].lower()
    return bool(address) and domain in provider.email_domains


def _usable_invitation(
    uow: UnitOfWork, provider: OidcProvider, invitation_hash: str, now: datetime
) -> SignInInvitation:
    invitation = uow.session.scalar(
        select(SignInInvitation).where(SignInInvitation.token_hash == invitation_hash)
    )
    if invitation is None or invitation.provider != provider.key:
        raise Refused("invitation_unknown")
    if invitation.used_at is not None:
        raise Refused("invitation_used")
    if invitation.expires_at <= now:
        raise Refused("invitation_expired")
    return invitation


def _link_by_invitation(
    uow: UnitOfWork,
    provider: OidcProvider,
    identity: VerifiedIdentity,
    invitation_hash: str | None,
    now: datetime,
) -> tuple[User, bool]:
    """The account the subject is linked to, linking it first when an invitation says so;
    the flag says whether a link was made now."""
    db = uow.session
    link = db.scalar(
        select(IdentityLink).where(
            IdentityLink.provider == provider.key, IdentityLink.subject == identity.subject
        )
    )
    if link is not None:
        user = db.get(User, link.user_id)
        assert user is not None  # the link's foreign key cascades with the account
        if invitation_hash is not None:
            # An invitation for another account cannot move a linked subject.
            invitation = _usable_invitation(uow, provider, invitation_hash, now)
            if invitation.user_id != user.id:
                raise Refused("subject_already_linked")
            invitation.used_at = now
        return user, False
    if invitation_hash is None:
        raise Refused("unlinked_subject")
    invitation = _usable_invitation(uow, provider, invitation_hash, now)
    user = db.get(User, invitation.user_id)
    assert user is not None
    other = db.scalar(
        select(IdentityLink).where(
            IdentityLink.provider == provider.key, IdentityLink.user_id == user.id
        )
    )
    if other is not None:
        # One subject per account at a provider: an administrator removes the old link.
        raise Refused("account_already_linked")
    invitation.used_at = now
    db.add(IdentityLink(user_id=user.id, provider=provider.key, subject=identity.subject))
    return user, True


def sign_in(
    uow: UnitOfWork,
    provider: OidcProvider,
    identity: VerifiedIdentity,
    invitation_hash: str | None,
    origin: Origin,
    previous_session: str | None = None,
) -> LiveSession:
    """A new session for the account the subject is linked to: verified when the provider
    proved a second factor, else waiting for the TOTP step. Raises Refused (recorded)."""
    db = uow.session
    now = utcnow()
    try:
        if not _domain_allowed(provider, identity):
            raise Refused("domain")
        user, linked = _link_by_invitation(uow, provider, identity, invitation_hash, now)
    except Refused as refusal:
        uow.rollback()
        record_refusal(uow, provider.key, refusal.reason, origin)
        raise
    reason = None
    if not user.active:
        reason = "disabled"
    elif user.locked_until is not None and user.locked_until > now:
        reason = "locked"
    elif user.organisation_id != _organisation_id(uow, provider):
        reason = "organisation"
    if reason is not None:
        uow.rollback()  # nothing is linked or spent for an account that may not sign in
        record_refusal(uow, provider.key, reason, origin, user)
        raise Refused(reason)
    actor = actor_of(user, origin)
    if linked:
        record(
            db, actor, Action.PROVIDER_LINKED, object_type=PROVIDER_OBJECT, object_id=provider.key
        )
    if previous_session is not None:
        close_session(db, previous_session)
    token = open_session(db, user, mfa_verified=identity.second_factor)
    record(db, actor, Action.PROVIDER_LOGIN, object_type=PROVIDER_OBJECT, object_id=provider.key)
    if identity.second_factor:
        # The provider's second factor stands for ours: the entry says whose it was.
        record(db, actor, Action.MFA_VERIFIED, object_type=PROVIDER_OBJECT, object_id=provider.key)
    uow.commit()
    return LiveSession(token=token, user=user, mfa_verified=identity.second_factor)


def invitation_provider(uow: UnitOfWork, invitation_hash: str, origin: Origin) -> str:
    """The provider an invitation is for, when it can still be used; else Refused
    (recorded, without the token)."""
    invitation = uow.session.scalar(
        select(SignInInvitation).where(SignInInvitation.token_hash == invitation_hash)
    )
    reason = None
    if invitation is None:
        reason = "invitation_unknown"
    elif invitation.used_at is not None:
        reason = "invitation_used"
    elif invitation.expires_at <= utcnow():
        reason = "invitation_expired"
    if reason is not None:
        provider = invitation.provider if invitation is not None else "-"
        record_refusal(uow, provider, reason, origin)
        raise Refused(reason)
    assert invitation is not None
    return invitation.provider


# The administrator's side ---------------------------------------------------------------


@dataclass(frozen=True)
class LinkView:
    provider: str
    linked_at: datetime


@dataclass(frozen=True)
class InvitationView:
    provider: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.used_at is not None:
            return "used"
        return "expired" if self.expires_at <= now else "open"


@dataclass(frozen=True)
class AccountSignIn:
    """An account's links and invitations, and the providers it may be invited through."""

    account: users.AccountView
    providers: list[OidcProvider]
    links: list[LinkView]
    invitations: list[InvitationView]


@dataclass(frozen=True)
class NewInvitation:
    token: str  # shown once, in the link; only its hash is kept
    provider: OidcProvider
    expires_at: datetime


def providers_for(
    uow: UnitOfWork, providers: tuple[OidcProvider, ...], organisation_id: str
) -> list[OidcProvider]:
    """The providers that sign in staff of this organisation."""
    return [p for p in providers if _organisation_id(uow, p) == organisation_id]


def account_sign_in(
    uow: UnitOfWork, actor: Actor, user_id: str, providers: tuple[OidcProvider, ...]
) -> AccountSignIn:
    account = users.find_user(uow, actor, user_id, Permission.USER_INVITE)
    db = uow.session
    links = [
        LinkView(link.provider, link.linked_at)
        for link in db.scalars(
            select(IdentityLink)
            .where(IdentityLink.user_id == account.id)
            .order_by(IdentityLink.linked_at)
        )
    ]
    invitations = [
        InvitationView(i.provider, i.created_by, i.created_at, i.expires_at, i.used_at)
        for i in db.scalars(
            select(SignInInvitation)
            .where(SignInInvitation.user_id == account.id)
            .order_by(SignInInvitation.created_at.desc())
        )
    ]
    # A staff member's account read in full: recorded before it shows, as the list is.
    record(db, actor, Action.USER_LIST, object_type="user", object_id=account.id)
    uow.commit()
    return AccountSignIn(
        account=account,
        providers=providers_for(uow, providers, account.organisation_id),
        links=links,
        invitations=invitations,
    )


def invite(
    uow: UnitOfWork,
    actor: Actor,
    user_id: str,
    provider: OidcProvider,
    valid_for: timedelta,
) -> NewInvitation:
    """A one-time invitation for an active account of the provider's organisation. Any
    earlier invitation of the account to the same provider that is still open ends now."""
    account = users.find_user(uow, actor, user_id, Permission.USER_INVITE)
    if not account.active:
        raise InvalidInput(_("A disabled account cannot be invited."), field="provider")
    if _organisation_id(uow, provider) != account.organisation_id:
        raise InvalidInput(
            _("This identity provider signs in staff of another organisation."), field="provider"
        )
    db = uow.session
    now = utcnow()
    db.execute(
        update(SignInInvitation)
        .where(
            SignInInvitation.user_id == account.id,
            SignInInvitation.provider == provider.key,
            SignInInvitation.used_at.is_(None),
            SignInInvitation.expires_at > now,
        )
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + valid_for
    db.add(
        SignInInvitation(
            user_id=account.id,
            provider=provider.key,
            token_hash=token_hash(token),
            created_by=actor.username,
            expires_at=expires_at,
        )
    )
    record(db, actor, Action.USER_INVITE, object_type="user", object_id=account.id)
    uow.commit()
    return NewInvitation(token=token, provider=provider, expires_at=expires_at)
