"""The one place that decides who may do what: deny by default, organisation-scoped.

Permissions are named `resource:action`, the same grammar as audit actions. Views declare
their coarse permission; services call `require()` with the object before touching it.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from enum import StrEnum
from typing import Protocol, runtime_checkable

from referral.actors import Actor
from referral.errors import Denial, NotFound, NotPermitted
from referral.i18n import _
from referral.roles import Role
from referral.scopes import KeyScope


class Permission(StrEnum):
    HOME_VIEW = "home:view"
    PROFILE_READ = "profile:read"
    API_DOCS_READ = "api_docs:read"
    # A person's own password, changed from a fully verified session (never by an API client:
    # a client has no password).
    OWN_PASSWORD_CHANGE = "own_password:change"  # noqa: S105 - a permission, not a password
    # A person's own sessions: see which are live and end any but the one in use (never an
    # API client's: a client has no session).
    OWN_SESSIONS_MANAGE = "own_sessions:manage"
    ORGANISATION_LIST = "organisation:list"
    # The partner organisations by id and name, so a social worker can choose whom to refer
    # to (administrators, who also hold ORGANISATION_LIST, see every organisation in full).
    PARTNER_LIST = "organisation:list_partners"
    ORGANISATION_CREATE = "organisation:create"
    USER_LIST = "user:list"
    USER_CREATE = "user:create"
    USER_DISABLE = "user:disable"
    USER_RESET_MFA = "user:reset_mfa"
    # A one-time invitation that links an account to its subject at an identity provider.
    USER_INVITE = "user:invite"
    # A staff account's work details (the work phone printed on the consent form); and an
    # organisation's postal address (the return address on it).
    USER_UPDATE = "user:update"
    # End every session of one account at once, without disabling it or resetting its
    # second factor (a lost phone, a shared computer left signed in).
    USER_END_SESSIONS = "user:end_sessions"
    ORGANISATION_UPDATE = "organisation:update"
    CHILD_CREATE = "child:create"
    CHILD_SEARCH = "child:search"
    CHILD_READ = "child:read"
    CHILD_UPDATE = "child:update"
    NOTIFICATION_READ = "notification:read"
    FEE_REPORT_READ = "fee_report:read"
    KEYS_MANAGE = "keys:manage"
    PLACEMENT_RECORD = "placement:record"
    GUARDIAN_CREATE = "guardian:create"
    CONSENT_RECORD = "consent:record"
    # The printable information letter and consent form for one child, and the queue of
    # consents about to lapse (or lapsed while the partner still has the referral).
    CONSENT_FORM_READ = "consent_form:read"
    CONSENT_QUEUE_READ = "consent_queue:read"
    # Activity descriptions (the text guardians receive before consenting) are the city's
    # information material, agreed with the partner (seed 004 §3.1.3): the city publishes.
    ACTIVITY_DESCRIPTION_LIST = "activity_description:list"
    ACTIVITY_DESCRIPTION_PUBLISH = "activity_description:publish"
    REFERRAL_CREATE = "referral:create"
    REFERRAL_READ = "referral:read"
    REFERRAL_WITHDRAW = "referral:withdraw"
    REFERRAL_INBOX = "referral:inbox"
    REFERRAL_RESPOND = "referral:respond"
    # The partner's support groups: plan, enrol, visits, attendance, start, complete; and
    # reading a group (its roster shows the children whose sharing is lawful now).
    GROUP_MANAGE = "group:manage"
    GROUP_READ = "group:read"
    AUDIT_SEARCH = "audit:search"
    AUDIT_EXPORT = "audit:export"
    AUDIT_SUBJECT_REPORT = "audit:subject_report"
    AUDIT_VERIFY = "audit:verify"
    # Emergency access ("break the glass"): a social worker opens a child's record outside
    # their district by giving a reason, for a limited time; the DPO reviews every grant.
    EMERGENCY_ACCESS = "emergency:access"
    EMERGENCY_REVIEW = "emergency:review"
    # Interest registrations (intresseanmälan): a partner records a family home's direct
    # request; the responsible district reads its queue and confirms or declines each one.
    INTEREST_REGISTER = "interest:register"
    INTEREST_CONFIRM = "interest:confirm"
    # Concern reports (orosanmälan): anyone who works with children files one, whatever the
    # consent, and follows its receipt; the receiving organisation (the placing district, or
    # the social emergency service) reads, acknowledges and closes it; the DPO sees who
    # filed and who read each one; the DPO and administrators see which are overdue.
    CONCERN_FILE = "concern_report:file"
    CONCERN_RECEIVE = "concern_report:receive"
    CONCERN_AUDIT = "concern_report:audit"
    CONCERN_OVERDUE_READ = "concern_report:overdue"
    # Programme B: the outreach worker's youths (the organisation's own records) and
    # encounters, anonymous or linked to a youth who agreed.
    YOUTH_REGISTER = "youth:register"
    YOUTH_READ = "youth:read"
    ENCOUNTER_RECORD = "encounter:record"
    ENCOUNTER_LINK = "encounter:link"
    # An absconded or missing youth found: recorded, and for a minor reported at once.
    YOUTH_FOUND = "youth:found"
    # Link cases (länkning) to authorities, and the youths' consents they hand over on; the
    # district reads what was handed over to its social services.
    LINK_CASE_MANAGE = "link_case:manage"
    YOUTH_CONSENT_RECORD = "youth_consent:record"
    HANDOVER_READ = "handover:read"
    # The partner's own file on a child's participation (the group leader's notes), purged
    # after completion; what social services must keep of it is returned to the district's
    # inbox first, where its social workers read and acknowledge it.
    PARTNER_FILE_KEEP = "partner_file:keep"
    RETURNED_FILE_READ = "returned_file:read"
    # Retention (gallring): the plan, the runs and the holds are for the DPO and
    # administrators; a hold (which stops a purge) is set and released by either, with a
    # reason; a run purges, so only administrators (and the operator's timer) start one.
    GALLRING_READ = "gallring:read"
    GALLRING_RUN = "gallring:run"
    LEGAL_HOLD_SET = "legal_hold:set"
    # Programme C, night places (seed 002): the registration desk issues cards, looks them up
    # and registers people in the morning window (with an override when life is in danger or
    # children are involved); a shelter's staff keep tonight's list (check-in, no-show) and
    # exclude a person from their own shelter; the city's coordinator keeps the shelters and
    # their capacity, runs the allocation and follows demand. The published ranking names
    # card numbers only, and is public by design (anyone can recompute it).
    NIGHT_REGISTER = "night_registration:record"
    NIGHT_PERSON_READ = "night_person:read"
    NIGHT_SHELTER_KEEP = "night_shelter:keep"
    NIGHT_EXCLUDE = "night_exclusion:manage"
    NIGHT_COORDINATE = "night_allocation:coordinate"
    # Governance (domain.md §6): the half-year and annual activity reports (aggregates only,
    # small counts suppressed), and complaints and suggestions (synpunkter och klagomål). A
    # partner's staff see their own programme's (PROGRAMMES_OF_ROLE); the city's coordinator
    # and the DPO every programme's. Staff record a complaint on a participant's behalf and
    # the response to it; anyone may send one through the public form, which needs no login.
    ACTIVITY_REPORT_READ = "activity_report:read"
    COMPLAINT_RECORD = "complaint:record"
    COMPLAINT_RESPOND = "complaint:respond"
    COMPLAINT_READ = "complaint:read"
    # The API clients the city's own systems call with (issue, rotate, revoke): for
    # administrators, and never a scope of a client itself (see NEVER_CLIENT_SCOPES).
    API_CLIENT_MANAGE = "api_client:manage"


_EVERY_ROLE = frozenset(
    {
        Permission.HOME_VIEW,
        Permission.PROFILE_READ,
        Permission.API_DOCS_READ,
        Permission.OWN_PASSWORD_CHANGE,
        Permission.OWN_SESSIONS_MANAGE,
    }
)

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.SOCIAL_WORKER: _EVERY_ROLE
    | {
        Permission.CHILD_CREATE,
        Permission.CHILD_SEARCH,
        Permission.CHILD_READ,
        Permission.CHILD_UPDATE,
        Permission.PARTNER_LIST,
        Permission.NOTIFICATION_READ,
        Permission.PLACEMENT_RECORD,
        Permission.GUARDIAN_CREATE,
        Permission.CONSENT_RECORD,
        Permission.CONSENT_FORM_READ,
        Permission.CONSENT_QUEUE_READ,
        Permission.REFERRAL_CREATE,
        Permission.REFERRAL_READ,
        Permission.REFERRAL_WITHDRAW,
        Permission.EMERGENCY_ACCESS,
        Permission.INTEREST_CONFIRM,
        Permission.CONCERN_FILE,
        Permission.CONCERN_RECEIVE,
        Permission.HANDOVER_READ,
        Permission.RETURNED_FILE_READ,
    },
    Role.GROUP_LEADER: _EVERY_ROLE
    | {
        Permission.REFERRAL_INBOX,
        Permission.REFERRAL_RESPOND,
        Permission.NOTIFICATION_READ,
        Permission.FEE_REPORT_READ,
        Permission.GROUP_MANAGE,
        Permission.GROUP_READ,
        Permission.INTEREST_REGISTER,
        Permission.CONCERN_FILE,
        Permission.PARTNER_FILE_KEEP,
        Permission.ACTIVITY_REPORT_READ,
        Permission.COMPLAINT_RECORD,
        Permission.COMPLAINT_RESPOND,
        Permission.COMPLAINT_READ,
    },
    Role.LINK_WORKER: _EVERY_ROLE
    | {
        Permission.CONCERN_FILE,
        Permission.YOUTH_REGISTER,
        Permission.YOUTH_READ,
        Permission.ENCOUNTER_RECORD,
        Permission.ENCOUNTER_LINK,
        Permission.LINK_CASE_MANAGE,
        Permission.YOUTH_CONSENT_RECORD,
        Permission.YOUTH_FOUND,
        Permission.ACTIVITY_REPORT_READ,
        Permission.COMPLAINT_RECORD,
        Permission.COMPLAINT_RESPOND,
        Permission.COMPLAINT_READ,
    },
    Role.SOCIAL_EMERGENCY: _EVERY_ROLE | {Permission.CONCERN_FILE, Permission.CONCERN_RECEIVE},
    Role.NIGHT_STAFF: _EVERY_ROLE
    | {
        Permission.CONCERN_FILE,
        Permission.NIGHT_REGISTER,
        Permission.NIGHT_PERSON_READ,
        Permission.NIGHT_SHELTER_KEEP,
        Permission.NIGHT_EXCLUDE,
        Permission.ACTIVITY_REPORT_READ,
        Permission.COMPLAINT_RECORD,
        Permission.COMPLAINT_RESPOND,
        Permission.COMPLAINT_READ,
    },
    Role.NIGHT_COORDINATOR: _EVERY_ROLE
    | {
        Permission.CONCERN_FILE,
        Permission.NIGHT_REGISTER,
        Permission.NIGHT_PERSON_READ,
        Permission.NIGHT_EXCLUDE,
        Permission.NIGHT_COORDINATE,
        Permission.ACTIVITY_REPORT_READ,
        Permission.COMPLAINT_RECORD,
        Permission.COMPLAINT_RESPOND,
        Permission.COMPLAINT_READ,
    },
    Role.COORDINATOR: _EVERY_ROLE | {Permission.ACTIVITY_REPORT_READ, Permission.COMPLAINT_READ},
    # The DPO audits access; reading case content is not among these.
    Role.DPO: _EVERY_ROLE
    | {
        Permission.AUDIT_SEARCH,
        Permission.AUDIT_EXPORT,
        Permission.AUDIT_SUBJECT_REPORT,
        Permission.AUDIT_VERIFY,
        Permission.EMERGENCY_REVIEW,
        Permission.CONCERN_AUDIT,
        Permission.CONCERN_OVERDUE_READ,
        Permission.GALLRING_READ,
        Permission.LEGAL_HOLD_SET,
        Permission.ACTIVITY_REPORT_READ,
        Permission.COMPLAINT_READ,
    },
    Role.ADMIN: _EVERY_ROLE
    | {
        Permission.ORGANISATION_LIST,
        Permission.PARTNER_LIST,
        Permission.ORGANISATION_CREATE,
        Permission.USER_LIST,
        Permission.USER_CREATE,
        Permission.USER_DISABLE,
        Permission.USER_RESET_MFA,
        Permission.USER_INVITE,
        Permission.USER_UPDATE,
        Permission.USER_END_SESSIONS,
        Permission.ORGANISATION_UPDATE,
        Permission.KEYS_MANAGE,
        Permission.ACTIVITY_DESCRIPTION_LIST,
        Permission.ACTIVITY_DESCRIPTION_PUBLISH,
        Permission.FEE_REPORT_READ,
        Permission.CONCERN_OVERDUE_READ,
        Permission.GALLRING_READ,
        Permission.GALLRING_RUN,
        Permission.LEGAL_HOLD_SET,
        Permission.API_CLIENT_MANAGE,
    },
}

# Each partnership is one programme (domain.md §2-4, 7): a partner's staff follow their own
# programme's reports and complaints; the city's coordinator and the DPO follow them all.
PROGRAMMES = ("A", "B", "C")
PROGRAMMES_OF_ROLE: dict[Role, frozenset[str]] = {
    Role.GROUP_LEADER: frozenset({"A"}),
    Role.LINK_WORKER: frozenset({"B"}),
    Role.NIGHT_STAFF: frozenset({"C"}),
    Role.NIGHT_COORDINATOR: frozenset({"C"}),
    Role.COORDINATOR: frozenset(PROGRAMMES),
    Role.DPO: frozenset(PROGRAMMES),
}


def programmes_of(actor: Actor) -> frozenset[str]:
    """The programmes whose governance (reports, complaints) the actor follows: none unless
    a role names them (deny by default)."""
    found: frozenset[str] = frozenset()
    for role in actor.roles:
        found |= PROGRAMMES_OF_ROLE.get(role, frozenset())
    return found


# Roles whose work spans the city: their object scope is not limited to their organisation.
# (The DPO reads the city-wide access log, which the audit services scope themselves.)
CITY_WIDE_ROLES = frozenset({Role.ADMIN})


@runtime_checkable
class OrganisationScoped(Protocol):
    @property
    def organisation_id(self) -> str: ...


# What a system's API client may never be issued, whatever its role: a client that could
# issue clients would outlive every revocation; and a client has no password to change, nor
# sessions to end.
NEVER_CLIENT_SCOPES = frozenset(
    {
        Permission.API_CLIENT_MANAGE,
        Permission.OWN_PASSWORD_CHANGE,
        Permission.OWN_SESSIONS_MANAGE,
    }
)


def client_scopes(role: Role) -> frozenset[Permission]:
    """The scopes an API client acting in `role` may be issued: the role's grants, less
    what no client is given."""
    return GRANTS.get(role, frozenset()) - NEVER_CLIENT_SCOPES


def granted(actor: Actor) -> frozenset[Permission]:
    permissions: frozenset[Permission] = frozenset()
    for role in actor.roles:
        permissions |= GRANTS.get(role, frozenset())
    if actor.scopes is not None:
        # An API client: its role's grants narrowed to the scopes it was issued, never more.
        return frozenset(p for p in permissions - NEVER_CLIENT_SCOPES if p.value in actor.scopes)
    return permissions


def can(actor: Actor | None, permission: Permission, obj: object | None = None) -> bool:
    """May `actor` do `permission` (on `obj`, when given)? Anything not granted is refused."""
    if actor is None or permission not in granted(actor):
        return False
    if obj is None:
        return True
    return in_scope(actor, obj, permission)


@runtime_checkable
class SentToPartner(Protocol):
    """A record sent to a partner organisation (a referral): in that partner's scope too.
    Whether the partner may see the child's data is the consent rules' question, not this."""

    @property
    def partner_organisation_id(self) -> str: ...


PARTNER_ROLES = frozenset({Role.GROUP_LEADER})


@runtime_checkable
class SentToDistrict(Protocol):
    """A record a partner sends to a district (an interest registration): in that district's
    scope too, for the district's social workers. What they may do with it is the permission's
    question, not this."""

    @property
    def district_organisation_id(self) -> str: ...


DISTRICT_ROLES = frozenset({Role.SOCIAL_WORKER})


@runtime_checkable
class ReceivedBy(Protocol):
    """A record sent to an organisation that must act on it (a concern report): in the scope
    of that organisation's receiving staff, and of no one else's. The sender's organisation is
    deliberately not its scope: having reported gives no access to what was reported, not
    even to a reporter who works for the receiver (who would learn from the inbox where the
    report went, and could acknowledge it): a colleague receives it."""

    @property
    def receiving_organisation_id(self) -> str: ...

    @property
    def reported_by(self) -> str: ...


RECEIVING_ROLES = frozenset({Role.SOCIAL_WORKER, Role.SOCIAL_EMERGENCY})


@runtime_checkable
class HeldByNightPartnership(Protocol):
    """A record of Programme C's registration holder (a person's card, a morning's
    registration, a night place): held by the partnership as one, not by the organisation
    whose staff wrote it, since a person registers at whichever desk is open and sleeps at
    whichever shelter has a place. In the scope of the partnership's night staff and its
    coordinator, and of no one else."""

    @property
    def night_partnership_holder(self) -> str: ...


NIGHT_ROLES = frozenset({Role.NIGHT_STAFF, Role.NIGHT_COORDINATOR})


def in_scope(actor: Actor, obj: object, permission: Permission | None = None) -> bool:
    """Is `obj` within the actor's reach: their own organisation's (or, for `permission`
    only, a child they hold a live emergency grant for)? Without a permission named, an
    emergency grant unlocks nothing."""
    return in_own_scope(actor, obj) or through_emergency_access(actor, obj, permission)


def in_own_scope(actor: Actor, obj: object) -> bool:
    if actor.roles & CITY_WIDE_ROLES:
        return True
    if (
        actor.roles & PARTNER_ROLES
        and isinstance(obj, SentToPartner)
        and obj.partner_organisation_id == actor.organisation_id
    ):
        return True
    if (
        actor.roles & DISTRICT_ROLES
        and isinstance(obj, SentToDistrict)
        and obj.district_organisation_id == actor.organisation_id
    ):
        return True
    if isinstance(obj, HeldByNightPartnership):
        return bool(actor.roles & NIGHT_ROLES)
    if isinstance(obj, ReceivedBy):
        return (
            bool(actor.roles & RECEIVING_ROLES)
            and belongs_to(actor, obj.receiving_organisation_id)
            and obj.reported_by != actor.user_id
        )
    if isinstance(obj, OrganisationScoped):
        return belongs_to(actor, obj.organisation_id)
    # An object the policy knows no scope rule for is refused, never shown.
    return False


# Emergency access (domain.md §1, "except through an explicit, audited emergency access"):
# only social workers hold it, and it unlocks reading a child's record, never changing it.
# Deny by default: a permission not named here stays within the actor's own district.
EMERGENCY_ROLES = frozenset({Role.SOCIAL_WORKER})
EMERGENCY_UNLOCKS = frozenset({Permission.CHILD_READ})
# What the access log records as the legal basis of a read made through a grant.
EMERGENCY_LEGAL_BASIS = "emergency_access"


def child_id_of(obj: object) -> str | None:
    """The child a record is about: a child's own record (which says so through
    `about_child_id`), or a record that names one (`child_id`)."""
    child_id = getattr(obj, "about_child_id", None) or getattr(obj, "child_id", None)
    return child_id if isinstance(child_id, str) else None


def through_emergency_access(
    actor: Actor, obj: object, permission: Permission | None = None
) -> bool:
    """Does a live emergency grant (loaded into the actor per request) let the actor do
    `permission` on `obj`? Only for the unlocked permissions and the emergency roles."""
    if permission not in EMERGENCY_UNLOCKS or not actor.roles & EMERGENCY_ROLES:
        return False
    if isinstance(obj, ReceivedBy):  # addressed to one organisation: a grant is not its reach
        return False
    child_id = child_id_of(obj)
    return child_id is not None and child_id in actor.emergency_children


def _held_through_emergency(actor: Actor, obj: object) -> bool:
    """Is `obj` about a child the actor holds a live grant for (whatever the permission)?"""
    return bool(actor.roles & EMERGENCY_ROLES) and child_id_of(obj) in actor.emergency_children


def emergency_legal_basis(actor: Actor, permission: Permission, obj: object) -> str | None:
    """The legal basis to record for `permission` on `obj`: "emergency_access" when only a
    grant lets the actor in (the record is outside their own scope), else None."""
    if in_own_scope(actor, obj) or not through_emergency_access(actor, obj, permission):
        return None
    return EMERGENCY_LEGAL_BASIS


def require(actor: Actor | None, permission: Permission, obj: object | None = None) -> None:
    """Raise unless permitted. An object outside the actor's scope answers 404, not 403,
    so that a refusal does not reveal that the record exists (except to an actor reading it
    through an emergency grant, who knows it exists and is told the grant is read-only).
    Either refusal carries what the access log records about it (see UnitOfWork)."""
    error: NotPermitted | NotFound
    if actor is None or permission not in granted(actor):
        error = NotPermitted(_("This needs the permission %(p)s.", p=permission.value))
    elif obj is not None and not in_scope(actor, obj, permission):
        if _held_through_emergency(actor, obj):
            error = NotPermitted(
                _("Emergency access lets you read the child's record, and nothing more.")
            )
        else:
            error = NotFound(_("No such record."))
    else:
        return
    error.denial = Denial(
        actor,
        permission.value,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        subject=_subject_of(obj),
    )
    raise error


def _subject_of(obj: object) -> KeyScope | None:
    """The person a refused record is about, when it is about one (a child's record, or a
    record naming a child): the refusal belongs in that person's subject-access report."""
    key_scope = getattr(obj, "key_scope", None)
    if key_scope is None:
        return None
    try:
        scope = key_scope()
    except (NotImplementedError, ValueError):
        return None
    return scope if isinstance(scope, KeyScope) else None


def belongs_to(actor: Actor, organisation_id: str | None) -> bool:
    """Is the actor a member of this organisation (city-wide roles are members of theirs
    only)? For what is the organisation's own: its notices, its district's children, what
    is sent or addressed to it."""
    return actor.organisation_id is not None and actor.organisation_id == organisation_id


def may_report_concern_about(actor: Actor, child: object, referrals: Iterable[object]) -> bool:
    """Does the actor work with this child, so that a report may name the district's record
    of it? A social worker who may read the child's record (their district's, or through an
    emergency grant); a partner's staff whose organisation the child was referred to (with
    or without consent: the duty to report does not wait for it). Anyone may still report
    on a child described only by what they know; that names no record."""
    if Permission.CONCERN_FILE not in granted(actor):
        return False
    if in_scope(actor, child, Permission.CHILD_READ) and actor.roles & DISTRICT_ROLES:
        return True
    return bool(actor.roles & PARTNER_ROLES) and any(
        isinstance(r, SentToPartner) and belongs_to(actor, r.partner_organisation_id)
        for r in referrals
    )


def may_lead_groups_of(roles: Set[Role], organisation_id: str | None, partner_id: str) -> bool:
    """May a staff member with `roles`, of `organisation_id`, lead `partner_id`'s groups?
    Only the partner's own group leaders (a leader sees the children of the group)."""
    return Role.GROUP_LEADER in roles and organisation_id == partner_id


def partner_scope(actor: Actor) -> str:
    """For a partner's lists (the inbox): the partner organisation they are limited to."""
    if not actor.roles & PARTNER_ROLES or actor.organisation_id is None:
        raise NotPermitted(_("Only a partner organisation's staff see its referrals."))
    return actor.organisation_id


def organisation_scope(actor: Actor) -> str | None:
    """For repositories: the one organisation an actor's lists are limited to, or None for
    city-wide roles. Lists filter with this so they can never show what `require` refuses."""
    if actor.roles & CITY_WIDE_ROLES:
        return None
    if actor.organisation_id is None:
        raise NotPermitted(_("An actor without an organisation sees no records."))
    return actor.organisation_id
