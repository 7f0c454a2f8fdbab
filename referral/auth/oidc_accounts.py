"""Who a subject at an identity provider may become here, and the invitations that say so.

A login never creates an account: a subject with no link to an account is refused, unless it
arrives with a one-time invitation an administrator made for a provisioned, active account of
the provider's organisation. A disabled account is refused whatever the provider says. Every
sign-in, refusal (with its reason, never a token) and link is written to the access log, the
entry naming the provider; the session is the same server-side session a password login
opens.

Whoever opens an invitation first would become its account, so an invitation links at once
only an account nobody signs in to yet (no confirmed second factor: the invitation is the
administrator's provisioning act, as the first password is). An account already in use
(`totp_confirmed`) is linked only once its own TOTP code is accepted: the callback opens a
session that is not verified, whatever the provider's `acr` says, and hands back a
PendingLink; the /mfa step completes it with complete_link, in the same transaction as the
verification, after checking the invitation again. An invitation is spent by a conditional
update (`used_at IS NULL`), and the database holds one subject per account and provider, so
two callbacks spending it at once cannot link two subjects.

Flask-free, like the services: the views hand in the unit of work, the checked identity and
the request's origin.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from audit.actions import Action, Outcome
from audit.record import record
from config.settings import OidcProvider
from referral.actors import Actor, Origin
from referral.auth.oidc_client import VerifiedIdentity
from referral.auth.sessions import LiveSession, actor_of, close_session, open_session
from referral.db.base import utcnow
from referral.db.identity import IdentityLink, SignInInvitation
from referral.db.models import Organisation, User
from referral.db.uow import StepOf, UnitOfWork
from referral.errors import InvalidInput
from referral.i18n import _
from referral.policy import Permission
from referral.services import authentication, users

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


def _spend(uow: UnitOfWork, invitation: SignInInvitation, now: datetime) -> None:
    """Mark the invitation used, unless another callback has meanwhile: the check above it
    read the row without a lock, so only the update's own condition decides."""
    spent = uow.session.execute(
        update(SignInInvitation)
        .where(SignInInvitation.id == invitation.id, SignInInvitation.used_at.is_(None))
        .values(used_at=now)
    )
    if int(getattr(spent, "rowcount", 0) or 0) != 1:
        raise Refused("invitation_used")


def _link_of_account(uow: UnitOfWork, provider_key: str, user_id: str) -> IdentityLink | None:
    return uow.session.scalar(
        select(IdentityLink).where(
            IdentityLink.provider == provider_key, IdentityLink.user_id == user_id
        )
    )


def _link_of_subject(uow: UnitOfWork, provider_key: str, subject: str) -> IdentityLink | None:
    return uow.session.scalar(
        select(IdentityLink).where(
            IdentityLink.provider == provider_key, IdentityLink.subject == subject
        )
    )


def _make_link(
    uow: UnitOfWork,
    provider_key: str,
    subject: str,
    invitation: SignInInvitation,
    user: User,
    now: datetime,
) -> None:
    """Spend the invitation and link the subject to its account, or Refused (the caller
    rolls back). The spend comes first: it is where two callbacks with the same invitation
    meet (the second waits for the first's row lock, then finds the invitation used)."""
    _spend(uow, invitation, now)
    if _link_of_account(uow, provider_key, user.id) is not None:
        # One subject per account at a provider: an administrator removes the old link.
        raise Refused("account_already_linked")
    try:
        with uow.session.begin_nested():
            uow.session.add(IdentityLink(user_id=user.id, provider=provider_key, subject=subject))
    except IntegrityError:
        # Another link for the account (or the subject) was made since the check above.
        raise Refused("account_already_linked") from None


@dataclass(frozen=True)
class PendingLink:
    """A subject to link to an account in use once that account's own TOTP code is
    accepted; kept in the signed Flask session meanwhile (the invitation by its hash)."""

    provider: str
    subject: str
    invitation_hash: str
    user_id: str

    def as_session(self) -> dict[str, str]:
        return {
            "provider": self.provider,
            "subject": self.subject,
            "invitation": self.invitation_hash,
            "user_id": self.user_id,
        }

    @classmethod
    def from_session(cls, value: object) -> PendingLink | None:
        if not isinstance(value, Mapping):
            return None
        fields: Mapping[str, Any] = value
        try:
            return cls(
                provider=str(fields["provider"]),
                subject=str(fields["subject"]),
                invitation_hash=str(fields["invitation"]),
                user_id=str(fields["user_id"]),
            )
        except KeyError:
            return None


@dataclass(frozen=True)
class Linking:
    """The account a subject signs in to; whether a link was made now, or waits for the
    account's own code."""

    user: User
    linked: bool = False
    pending: PendingLink | None = None


def _link_by_invitation(
    uow: UnitOfWork,
    provider: OidcProvider,
    identity: VerifiedIdentity,
    invitation_hash: str | None,
    now: datetime,
) -> Linking:
    """The account the subject is linked to, linking it first when an invitation says so
    and the account is not yet in use."""
    db = uow.session
    link = _link_of_subject(uow, provider.key, identity.subject)
    if link is not None:
        user = db.get(User, link.user_id)
        assert user is not None  # the link's foreign key cascades with the account
        if invitation_hash is not None:
            # An invitation for another account cannot move a linked subject.
            invitation = _usable_invitation(uow, provider, invitation_hash, now)
            if invitation.user_id != user.id:
                raise Refused("subject_already_linked")
            _spend(uow, invitation, now)
        return Linking(user)
    if invitation_hash is None:
        raise Refused("unlinked_subject")
    invitation = _usable_invitation(uow, provider, invitation_hash, now)
    user = db.get(User, invitation.user_id)
    assert user is not None
    if user.totp_confirmed:
        # In use: whoever opened the link must prove to be its holder with the account's
        # own code before the subject becomes it. Nothing is linked or spent yet.
        if _link_of_account(uow, provider.key, user.id) is not None:
            raise Refused("account_already_linked")
        return Linking(
            user, pending=PendingLink(provider.key, identity.subject, invitation_hash, user.id)
        )
    _make_link(uow, provider.key, identity.subject, invitation, user, now)
    return Linking(user, linked=True)


@dataclass(frozen=True)
class SignIn:
    session: LiveSession
    # A link that waits for the account's TOTP code (the session is then not verified).
    pending_link: PendingLink | None = None


def sign_in(
    uow: UnitOfWork,
    provider: OidcProvider,
    identity: VerifiedIdentity,
    invitation_hash: str | None,
    origin: Origin,
    previous_session: str | None = None,
) -> SignIn:
    """A new session for the account the subject is linked to: verified when the provider
    proved a second factor and no link waits for the account's code, else waiting for the
    TOTP step. Raises Refused (recorded)."""
    db = uow.session
    now = utcnow()
    try:
        if not _domain_allowed(provider, identity):
            raise Refused("domain")
        linking = _link_by_invitation(uow, provider, identity, invitation_hash, now)
    except Refused as refusal:
        uow.rollback()
        record_refusal(uow, provider.key, refusal.reason, origin)
        raise
    user = linking.user
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
    if linking.linked:
        record(
            db, actor, Action.PROVIDER_LINKED, object_type=PROVIDER_OBJECT, object_id=provider.key
        )
    if previous_session is not None:
        close_session(db, previous_session)
    verified = identity.second_factor and linking.pending is None
    token = open_session(db, user, mfa_verified=verified)
    # The entry says when the sign-in waits for the account's code to make a link.
    login_object = provider.key if linking.pending is None else f"{provider.key}:link_awaits_code"
    record(db, actor, Action.PROVIDER_LOGIN, object_type=PROVIDER_OBJECT, object_id=login_object)
    if verified:
        # The provider's second factor stands for ours: the entry says whose it was.
        record(db, actor, Action.MFA_VERIFIED, object_type=PROVIDER_OBJECT, object_id=provider.key)
    uow.commit()
    return SignIn(LiveSession(token=token, user=user, mfa_verified=verified), linking.pending)


def complete_link(uow: UnitOfWork, user: User, pending: PendingLink, origin: Origin) -> None:
    """Make the link that waited for the account's code, now accepted, in the caller's
    transaction (the caller commits). The invitation is checked again: it may have been
    spent, withdrawn or have expired meanwhile. Raises Refused (not recorded: the caller
    rolls back, then records it with record_refusal)."""
    now = utcnow()
    invitation = uow.session.scalar(
        select(SignInInvitation).where(SignInInvitation.token_hash == pending.invitation_hash)
    )
    if (
        invitation is None
        or invitation.provider != pending.provider
        or invitation.user_id != user.id
        or pending.user_id != user.id
    ):
        raise Refused("invitation_unknown")
    if invitation.used_at is not None:
        raise Refused("invitation_used")
    if invitation.expires_at <= now:
        raise Refused("invitation_expired")
    if _link_of_subject(uow, pending.provider, pending.subject) is not None:
        raise Refused("subject_already_linked")
    _make_link(uow, pending.provider, pending.subject, invitation, user, now)
    record(
        uow.session,
        actor_of(user, origin),
        Action.PROVIDER_LINKED,
        object_type=PROVIDER_OBJECT,
        object_id=pending.provider,
    )


def check_code_and_link(
    uow: UnitOfWork,
    pending_session: LiveSession,
    pending: PendingLink,
    code: str,
    mfa_key: str,
    policy: authentication.LockoutPolicy,
    origin: Origin,
) -> authentication.SecondFactorOutcome:
    """The TOTP step of a sign-in whose link waits for the account's code: the code is
    checked as always, and when it is accepted the link is made in the same transaction,
    so there is no verified session without the link nor a link without the code. A link
    that can no longer be made is Refused (recorded), with the session ended."""
    outcome = authentication.check_second_factor(
        StepOf(uow.session), pending_session, code, mfa_key, policy, origin
    )
    if outcome.session is not None:
        user = pending_session.user
        try:
            complete_link(uow, user, pending, origin)
        except Refused as refusal:
            uow.rollback()  # neither the verified session nor anything of the link
            close_session(uow.session, pending_session.token)
            record_refusal(uow, pending.provider, refusal.reason, origin, user)
            raise
    uow.commit()
    return outcome


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
