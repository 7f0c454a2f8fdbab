"""The one place that decides who may do what: deny by default, organisation-scoped.

Permissions are named `resource:action`, the same grammar as audit actions. Views declare
their coarse permission; services call `require()` with the object before touching it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

from referral.actors import Actor
from referral.db.models import Role
from referral.errors import Denial, NotFound, NotPermitted
from referral.i18n import _


class Permission(StrEnum):
    HOME_VIEW = "home:view"
    PROFILE_READ = "profile:read"
    API_DOCS_READ = "api_docs:read"
    ORGANISATION_LIST = "organisation:list"
    ORGANISATION_CREATE = "organisation:create"
    USER_LIST = "user:list"
    USER_CREATE = "user:create"
    USER_DISABLE = "user:disable"
    USER_RESET_MFA = "user:reset_mfa"
    CHILD_CREATE = "child:create"
    CHILD_SEARCH = "child:search"
    KEYS_MANAGE = "keys:manage"
    PLACEMENT_RECORD = "placement:record"
    GUARDIAN_CREATE = "guardian:create"
    CONSENT_RECORD = "consent:record"
    REFERRAL_CREATE = "referral:create"
    REFERRAL_READ = "referral:read"
    REFERRAL_WITHDRAW = "referral:withdraw"
    REFERRAL_INBOX = "referral:inbox"
    REFERRAL_RESPOND = "referral:respond"
    AUDIT_SEARCH = "audit:search"
    AUDIT_EXPORT = "audit:export"
    AUDIT_SUBJECT_REPORT = "audit:subject_report"
    AUDIT_VERIFY = "audit:verify"


_EVERY_ROLE = frozenset({Permission.HOME_VIEW, Permission.PROFILE_READ, Permission.API_DOCS_READ})

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.SOCIAL_WORKER: _EVERY_ROLE
    | {
        Permission.CHILD_CREATE,
        Permission.CHILD_SEARCH,
        Permission.PLACEMENT_RECORD,
        Permission.GUARDIAN_CREATE,
        Permission.CONSENT_RECORD,
        Permission.REFERRAL_CREATE,
        Permission.REFERRAL_READ,
        Permission.REFERRAL_WITHDRAW,
    },
    Role.GROUP_LEADER: _EVERY_ROLE | {Permission.REFERRAL_INBOX, Permission.REFERRAL_RESPOND},
    Role.LINK_WORKER: _EVERY_ROLE,
    # The DPO audits access; reading case content is not among these.
    Role.DPO: _EVERY_ROLE
    | {
        Permission.AUDIT_SEARCH,
        Permission.AUDIT_EXPORT,
        Permission.AUDIT_SUBJECT_REPORT,
        Permission.AUDIT_VERIFY,
    },
    Role.ADMIN: _EVERY_ROLE
    | {
        Permission.ORGANISATION_LIST,
        Permission.ORGANISATION_CREATE,
        Permission.USER_LIST,
        Permission.USER_CREATE,
        Permission.USER_DISABLE,
        Permission.USER_RESET_MFA,
        Permission.KEYS_MANAGE,
    },
}

# Roles whose work spans the city: their object scope is not limited to their organisation.
# (The DPO reads the city-wide access log, which the audit services scope themselves.)
CITY_WIDE_ROLES = frozenset({Role.ADMIN})


@runtime_checkable
class OrganisationScoped(Protocol):
    @property
    def organisation_id(self) -> str: ...


def granted(actor: Actor) -> frozenset[Permission]:
    permissions: frozenset[Permission] = frozenset()
    for role in actor.roles:
        permissions |= GRANTS.get(role, frozenset())
    return permissions


def can(actor: Actor | None, permission: Permission, obj: object | None = None) -> bool:
    """May `actor` do `permission` (on `obj`, when given)? Anything not granted is refused."""
    if actor is None or permission not in granted(actor):
        return False
    if obj is None:
        return True
    return in_scope(actor, obj)


@runtime_checkable
class SentToPartner(Protocol):
    """A record sent to a partner organisation (a referral): in that partner's scope too.
    Whether the partner may see the child's data is the consent rules' question, not this."""

    @property
    def partner_organisation_id(self) -> str: ...


PARTNER_ROLES = frozenset({Role.GROUP_LEADER})


def in_scope(actor: Actor, obj: object) -> bool:
    if actor.roles & CITY_WIDE_ROLES:
        return True
    if (
        actor.roles & PARTNER_ROLES
        and isinstance(obj, SentToPartner)
        and obj.partner_organisation_id == actor.organisation_id
    ):
        return True
    if isinstance(obj, OrganisationScoped):
        return actor.organisation_id is not None and obj.organisation_id == actor.organisation_id
    # An object the policy knows no scope rule for is refused, never shown.
    return False


def require(actor: Actor | None, permission: Permission, obj: object | None = None) -> None:
    """Raise unless permitted. An object outside the actor's scope answers 404, not 403,
    so that a refusal does not reveal that the record exists. Either refusal carries what
    the access log records about it (see UnitOfWork)."""
    error: NotPermitted | NotFound
    if actor is None or permission not in granted(actor):
        error = NotPermitted(_("This needs the permission %(p)s.", p=permission.value))
    elif obj is not None and not in_scope(actor, obj):
        error = NotFound(_("No such record."))
    else:
        return
    error.denial = Denial(
        actor,
        permission.value,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
    )
    raise error


def organisation_scope(actor: Actor) -> str | None:
    """For repositories: the one organisation an actor's lists are limited to, or None for
    city-wide roles. Lists filter with this so they can never show what `require` refuses."""
    if actor.roles & CITY_WIDE_ROLES:
        return None
    if actor.organisation_id is None:
        raise NotPermitted(_("An actor without an organisation sees no records."))
    return actor.organisation_id
