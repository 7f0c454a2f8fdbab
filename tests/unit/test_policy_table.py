"""The policy as tables a reviewer can read: which permissions each role holds (a snapshot),
which records each role reaches (its own organisation's, a referral sent to its partner, an
interest registration sent to its district, a child held through an emergency grant), the
legal basis the access log records for a read, and what a refusal says and leaves for the
access log. Mutation testing of referral/policy.py runs these (`make assurance`)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import NamedTuple

import pytest

from referral import policy
from referral.actors import Actor
from referral.errors import Denial, NotFound, NotPermitted
from referral.policy import (
    GRANTS,
    Permission,
    can,
    child_id_of,
    emergency_legal_basis,
    granted,
    may_report_concern_about,
    organisation_scope,
    partner_scope,
    require,
)
from referral.roles import Role
from referral.scopes import KeyScope

# The grants matrix, written out by hand: a change to who may do what shows up here, in review.
GRANTS_SNAPSHOT: dict[Role, list[str]] = {
    Role.SOCIAL_WORKER: [
        "api_docs:read",
        "child:create",
        "child:read",
        "child:search",
        "child:update",
        "concern_report:file",
        "concern_report:receive",
        "consent:record",
        "consent_form:read",
        "consent_queue:read",
        "emergency:access",
        "guardian:create",
        "handover:read",
        "home:view",
        "interest:confirm",
        "notification:read",
        "organisation:list_partners",
        "own_password:change",
        "own_sessions:manage",
        "placement:record",
        "profile:read",
        "referral:create",
        "referral:read",
        "referral:withdraw",
        "returned_file:read",
    ],
    Role.GROUP_LEADER: [
        "activity_report:read",
        "api_docs:read",
        "complaint:read",
        "complaint:record",
        "complaint:respond",
        "concern_report:file",
        "fee_report:read",
        "group:manage",
        "group:read",
        "home:view",
        "interest:register",
        "notification:read",
        "own_password:change",
        "own_sessions:manage",
        "partner_file:keep",
        "profile:read",
        "referral:inbox",
        "referral:respond",
    ],
    Role.LINK_WORKER: [
        "activity_report:read",
        "api_docs:read",
        "complaint:read",
        "complaint:record",
        "complaint:respond",
        "concern_report:file",
        "encounter:link",
        "encounter:record",
        "home:view",
        "link_case:manage",
        "own_password:change",
        "own_sessions:manage",
        "profile:read",
        "youth:found",
        "youth:read",
        "youth:register",
        "youth_consent:record",
    ],
    Role.SOCIAL_EMERGENCY: [
        "api_docs:read",
        "concern_report:file",
        "concern_report:receive",
        "home:view",
        "own_password:change",
        "own_sessions:manage",
        "profile:read",
    ],
    Role.NIGHT_STAFF: [
        "activity_report:read",
        "api_docs:read",
        "complaint:read",
        "complaint:record",
        "complaint:respond",
        "concern_report:file",
        "home:view",
        "night_exclusion:manage",
        "night_person:read",
        "night_registration:record",
        "night_shelter:keep",
        "own_password:change",
        "own_sessions:manage",
        "profile:read",
    ],
    Role.NIGHT_COORDINATOR: [
        "activity_report:read",
        "api_docs:read",
        "complaint:read",
        "complaint:record",
        "complaint:respond",
        "concern_report:file",
        "home:view",
        "night_allocation:coordinate",
        "night_exclusion:manage",
        "night_person:read",
        "night_registration:record",
        "own_password:change",
        "own_sessions:manage",
        "profile:read",
    ],
    Role.COORDINATOR: [
        "activity_report:read",
        "api_docs:read",
        "complaint:read",
        "home:view",
        "own_password:change",
        "own_sessions:manage",
        "profile:read",
    ],
    Role.DPO: [
        "activity_report:read",
        "api_docs:read",
        "audit:export",
        "audit:search",
        "audit:subject_report",
        "audit:verify",
        "complaint:read",
        "concern_report:audit",
        "concern_report:overdue",
        "emergency:review",
        "gallring:read",
        "home:view",
        "legal_hold:set",
        "own_password:change",
        "own_sessions:manage",
        "profile:read",
    ],
    Role.ADMIN: [
        "activity_description:list",
        "activity_description:publish",
        "api_client:manage",
        "api_docs:read",
        "concern_report:overdue",
        "fee_report:read",
        "gallring:read",
        "gallring:run",
        "home:view",
        "keys:manage",
        "legal_hold:set",
        "organisation:create",
        "organisation:list",
        "organisation:list_partners",
        "organisation:update",
        "own_password:change",
        "own_sessions:manage",
        "profile:read",
        "user:create",
        "user:disable",
        "user:end_sessions",
        "user:invite",
        "user:list",
        "user:reset_mfa",
        "user:update",
    ],
}


def staff(role: Role, org: str | None, *, grants: frozenset[str] = frozenset()) -> Actor:
    """A staff member of `org` with one role (and live emergency grants for `grants`)."""
    return Actor(
        user_id=f"{role.value}@{org}",
        username=f"{role.value}@{org}",
        organisation_id=org,
        roles=frozenset({role}),
        emergency_children=grants,
    )


# Records shaped like the models the policy sees (referral/db): only the attributes it reads.
@dataclass(frozen=True)
class Child:
    """A child's record in a district (people.Child): about itself."""

    id: str
    district_id: str

    @property
    def organisation_id(self) -> str:
        return self.district_id

    @property
    def about_child_id(self) -> str:
        return self.id

    def key_scope(self) -> KeyScope:
        return KeyScope(self.id, f"district:{self.district_id}")


@dataclass(frozen=True)
class GuardianOf:
    """A guardian in the district's record of a child (people.Guardian): names the child."""

    id: str
    child_id: str
    district_id: str

    @property
    def organisation_id(self) -> str:
        return self.district_id

    def key_scope(self) -> KeyScope:
        return KeyScope(self.child_id, f"district:{self.district_id}")


@dataclass(frozen=True)
class Referral:
    """A district's referral sent to a partner (referrals.Referral)."""

    id: str
    child_id: str
    district_id: str
    partner_id: str

    @property
    def organisation_id(self) -> str:
        return self.district_id

    @property
    def partner_organisation_id(self) -> str:
        return self.partner_id


@dataclass(frozen=True)
class Interest:
    """A partner's interest registration addressed to a district (interest.Registration)."""

    id: str
    partner_id: str
    district_id: str

    @property
    def organisation_id(self) -> str:
        return self.partner_id

    @property
    def district_organisation_id(self) -> str:
        return self.district_id


@dataclass(frozen=True)
class Group:
    """A partner's support group (groups.Group): about no one person."""

    id: str
    partner_id: str

    @property
    def organisation_id(self) -> str:
        return self.partner_id


@dataclass(frozen=True)
class Concern:
    """A concern report (concern.ConcernReport): sent by one organisation, received by
    another; it has no `organisation_id`, so the sender's organisation is not its scope."""

    id: str
    child_id: str | None
    reporter_organisation_id: str
    receiving_organisation_id: str
    reported_by: str = "someone-else"


@dataclass(frozen=True)
class NightCard:
    """A person's card in Programme C (nights.NightPerson): the partnership's, as one."""

    id: str

    @property
    def night_partnership_holder(self) -> str:
        return "nights"


@dataclass(frozen=True)
class NightShelter:
    """A partner's night shelter (nights.Shelter): its own organisation's."""

    id: str
    organisation_id: str


@dataclass(frozen=True)
class Notice:
    """Anything else an organisation owns (a notice), without an id or a person."""

    organisation_id: str | None


FARSTA_CHILD = Child("child-farsta", "farsta")
SKARPNACK_CHILD = Child("child-skarpnack", "skarpnack")
SKARPNACK_GUARDIAN = GuardianOf("guardian-1", SKARPNACK_CHILD.id, "skarpnack")
TO_BRIS = Referral("referral-1", FARSTA_CHILD.id, "farsta", "bris")
FROM_BRIS = Interest("interest-1", "bris", "farsta")
GRANT = frozenset({SKARPNACK_CHILD.id})
BRIS_CONCERN = Concern("concern-1", FARSTA_CHILD.id, "bris", "farsta")
UNKNOWN_CHILD_CONCERN = Concern("concern-2", None, "bris", "socialjouren")

SOCIAL_WORKER = staff(Role.SOCIAL_WORKER, "farsta")
ON_EMERGENCY = staff(Role.SOCIAL_WORKER, "farsta", grants=GRANT)
BRIS_LEADER = staff(Role.GROUP_LEADER, "bris")
OTHER_LEADER = staff(Role.GROUP_LEADER, "stadsmissionen")
BRIS_LINK_WORKER = staff(Role.LINK_WORKER, "bris")
ADMIN = staff(Role.ADMIN, "city")
DPO = staff(Role.DPO, "city")

ALLOWED = "allowed"
EMERGENCY_READ_ONLY = "Emergency access lets you read the child's record, and nothing more."


class Reach(NamedTuple):
    actor: Actor
    permission: Permission
    record: object
    outcome: str  # ALLOWED, or what `require` raises: "not found" (hidden) or "forbidden"


REACH = {
    "a social worker reads a child of their own district": Reach(
        SOCIAL_WORKER, Permission.CHILD_READ, FARSTA_CHILD, ALLOWED
    ),
    "a social worker does not find a child of another district": Reach(
        SOCIAL_WORKER, Permission.CHILD_READ, SKARPNACK_CHILD, "not found"
    ),
    "an administrator reaches every organisation's records": Reach(
        ADMIN, Permission.USER_LIST, Notice("skarpnack"), ALLOWED
    ),
    "the DPO does not reach a district's records": Reach(
        DPO, Permission.AUDIT_SEARCH, Notice("farsta"), "not found"
    ),
    "a group leader reads a referral sent to their partner": Reach(
        BRIS_LEADER, Permission.REFERRAL_RESPOND, TO_BRIS, ALLOWED
    ),
    "a group leader of another partner does not find it": Reach(
        OTHER_LEADER, Permission.REFERRAL_RESPOND, TO_BRIS, "not found"
    ),
    "a link worker of the partner is not sent the referral": Reach(
        BRIS_LINK_WORKER, Permission.HOME_VIEW, TO_BRIS, "not found"
    ),
    "the referring district keeps its referral": Reach(
        SOCIAL_WORKER, Permission.REFERRAL_READ, TO_BRIS, ALLOWED
    ),
    "another district does not find the referral": Reach(
        staff(Role.SOCIAL_WORKER, "skarpnack"), Permission.REFERRAL_READ, TO_BRIS, "not found"
    ),
    "a social worker reads an interest registration sent to their district": Reach(
        SOCIAL_WORKER, Permission.INTEREST_CONFIRM, FROM_BRIS, ALLOWED
    ),
    "another district does not find the registration": Reach(
        staff(Role.SOCIAL_WORKER, "skarpnack"), Permission.INTEREST_CONFIRM, FROM_BRIS, "not found"
    ),
    # Accounts keep other roles out of districts (roles.ROLE_HOMES); the policy checks anyway.
    "only social workers are sent what reaches their district": Reach(
        staff(Role.LINK_WORKER, "farsta"), Permission.HOME_VIEW, FROM_BRIS, "not found"
    ),
    "the partner keeps the registration it made": Reach(
        BRIS_LEADER, Permission.INTEREST_REGISTER, FROM_BRIS, ALLOWED
    ),
    "another partner does not find the registration": Reach(
        OTHER_LEADER, Permission.INTEREST_REGISTER, FROM_BRIS, "not found"
    ),
    "a record of nobody's organisation is nobody's": Reach(
        staff(Role.SOCIAL_WORKER, None), Permission.HOME_VIEW, Notice(None), "not found"
    ),
    "a record the policy has no scope rule for is refused": Reach(
        SOCIAL_WORKER, Permission.HOME_VIEW, object(), "not found"
    ),
    "an emergency grant lets a social worker read another district's child": Reach(
        ON_EMERGENCY, Permission.CHILD_READ, SKARPNACK_CHILD, ALLOWED
    ),
    "an emergency grant covers the records naming the child": Reach(
        ON_EMERGENCY, Permission.CHILD_READ, SKARPNACK_GUARDIAN, ALLOWED
    ),
    "an emergency grant does not let a social worker change the record": Reach(
        ON_EMERGENCY, Permission.CHILD_UPDATE, SKARPNACK_CHILD, "forbidden"
    ),
    "an emergency grant is for its own child only": Reach(
        ON_EMERGENCY, Permission.CHILD_READ, Child("child-other", "skarpnack"), "not found"
    ),
    "the placing district reads a concern report sent to it": Reach(
        SOCIAL_WORKER, Permission.CONCERN_RECEIVE, BRIS_CONCERN, ALLOWED
    ),
    "another district does not find the concern report": Reach(
        staff(Role.SOCIAL_WORKER, "skarpnack"),
        Permission.CONCERN_RECEIVE,
        BRIS_CONCERN,
        "not found",
    ),
    "the reporting partner does not reach the report it filed": Reach(
        BRIS_LEADER, Permission.CONCERN_FILE, BRIS_CONCERN, "not found"
    ),
    "a social worker does not receive the report they filed themselves": Reach(
        SOCIAL_WORKER,
        Permission.CONCERN_RECEIVE,
        Concern("concern-3", FARSTA_CHILD.id, "farsta", "farsta", SOCIAL_WORKER.user_id),
        "not found",
    ),
    "a colleague of the reporter receives it": Reach(
        staff(Role.SOCIAL_WORKER, "farsta"),
        Permission.CONCERN_RECEIVE,
        Concern("concern-3", FARSTA_CHILD.id, "farsta", "farsta", "another-social-worker"),
        ALLOWED,
    ),
    "socialjouren reads a report about a child no district is known for": Reach(
        staff(Role.SOCIAL_EMERGENCY, "socialjouren"),
        Permission.CONCERN_RECEIVE,
        UNKNOWN_CHILD_CONCERN,
        ALLOWED,
    ),
    "socialjouren does not reach a report sent to a district": Reach(
        staff(Role.SOCIAL_EMERGENCY, "socialjouren"),
        Permission.CONCERN_RECEIVE,
        BRIS_CONCERN,
        "not found",
    ),
    "a link worker of the receiving organisation is not its receiver": Reach(
        staff(Role.LINK_WORKER, "socialjouren"),
        Permission.CONCERN_FILE,
        UNKNOWN_CHILD_CONCERN,
        "not found",
    ),
    "an emergency grant on the child opens no concern report about it": Reach(
        staff(Role.SOCIAL_WORKER, "skarpnack", grants=frozenset({FARSTA_CHILD.id})),
        Permission.CHILD_READ,
        BRIS_CONCERN,
        "forbidden",
    ),
    "night staff at any desk find a card of the partnership": Reach(
        staff(Role.NIGHT_STAFF, "stadsmissionen"),
        Permission.NIGHT_PERSON_READ,
        NightCard("card-1"),
        ALLOWED,
    ),
    "the city's coordinator finds a card of the partnership": Reach(
        staff(Role.NIGHT_COORDINATOR, "city"), Permission.NIGHT_PERSON_READ, NightCard("c"), ALLOWED
    ),
    "no one outside the night roles finds a card, whatever the organisation": Reach(
        staff(Role.LINK_WORKER, "stadsmissionen"), Permission.HOME_VIEW, NightCard("c"), "not found"
    ),
    "a shelter's own staff keep its list": Reach(
        staff(Role.NIGHT_STAFF, "convictus"),
        Permission.NIGHT_SHELTER_KEEP,
        NightShelter("shelter-1", "convictus"),
        ALLOWED,
    ),
    "another partner's night staff do not find the shelter": Reach(
        staff(Role.NIGHT_STAFF, "stadsmissionen"),
        Permission.NIGHT_SHELTER_KEEP,
        NightShelter("shelter-1", "convictus"),
        "not found",
    ),
    "a grant held by someone who is not a social worker opens nothing": Reach(
        staff(Role.GROUP_LEADER, "bris", grants=GRANT),
        Permission.NOTIFICATION_READ,
        SKARPNACK_CHILD,
        "not found",
    ),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.asvs("V8.1.1", "V8.2.1")
def test_each_role_holds_exactly_the_permissions_of_the_snapshot(role: Role) -> None:
    assert sorted(p.value for p in GRANTS[role]) == GRANTS_SNAPSHOT[role]


def test_the_snapshot_names_every_role_and_the_grants_no_other() -> None:
    assert set(GRANTS) == set(GRANTS_SNAPSHOT) == set(Role)


@pytest.mark.parametrize("permission", list(Permission))
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.asvs("V8.2.1")
def test_a_role_may_do_what_the_snapshot_grants_and_nothing_else(
    role: Role, permission: Permission
) -> None:
    allowed = permission.value in GRANTS_SNAPSHOT[role]
    assert can(staff(role, "farsta"), permission) is allowed
    if allowed:
        require(staff(role, "farsta"), permission)
    else:
        with pytest.raises(NotPermitted):
            require(staff(role, "farsta"), permission)


@pytest.mark.parametrize(
    "roles",
    [
        (Role.ADMIN, Role.DPO),  # an operator at the console (Actor.system_actor)
        (Role.SOCIAL_WORKER, Role.LINK_WORKER),
        (Role.GROUP_LEADER, Role.LINK_WORKER),
    ],
)
def test_someone_with_two_roles_may_do_what_either_grants(roles: tuple[Role, ...]) -> None:
    both = Actor(user_id="u", username="u", organisation_id="farsta", roles=frozenset(roles))
    expected = {value for role in roles for value in GRANTS_SNAPSHOT[role]}
    assert {p.value for p in granted(both)} == expected
    assert {p.value for p in Permission if can(both, p)} == expected


def test_a_role_taken_out_of_the_grants_table_grants_nothing_and_breaks_no_other_role(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(policy.GRANTS, Role.LINK_WORKER)
    assert not can(staff(Role.LINK_WORKER, "bris"), Permission.HOME_VIEW)
    link_and_dpo = Actor(
        user_id="u",
        username="u",
        organisation_id="city",
        roles=frozenset({Role.LINK_WORKER, Role.DPO}),
    )
    assert can(link_and_dpo, Permission.AUDIT_SEARCH)


@pytest.mark.parametrize("case", list(REACH.values()), ids=list(REACH))
@pytest.mark.asvs("V8.1.1", "V8.2.2")
def test_who_reaches_which_record(case: Reach) -> None:
    assert can(case.actor, case.permission, case.record) is (case.outcome == ALLOWED)
    if case.outcome == ALLOWED:
        require(case.actor, case.permission, case.record)
        return
    expected = NotFound if case.outcome == "not found" else NotPermitted
    with pytest.raises(expected) as refused:
        require(case.actor, case.permission, case.record)
    assert type(refused.value) is expected


class Refusal(NamedTuple):
    actor: Actor | None
    permission: Permission
    record: object
    error: type[NotFound | NotPermitted]
    message: str
    denial: Denial


@dataclass(frozen=True)
class Sealed:
    """A record whose data key scope cannot be told (or is not a person's)."""

    id: str
    organisation_id: str
    scope: object

    def key_scope(self) -> object:
        if isinstance(self.scope, Exception):
            raise self.scope
        return self.scope


SUBJECT = KeyScope(SKARPNACK_CHILD.id, "district:skarpnack")

REFUSALS = {
    "nobody logged in is told the permission it needs": Refusal(
        None,
        Permission.CHILD_READ,
        None,
        NotPermitted,
        "This needs the permission child:read.",
        Denial(None, "child:read"),
    ),
    "a role without the permission is told which one, and the log names who": Refusal(
        BRIS_LEADER,
        Permission.ORGANISATION_CREATE,
        None,
        NotPermitted,
        "This needs the permission organisation:create.",
        Denial(BRIS_LEADER, "organisation:create"),
    ),
    "a missing permission on a record still logs the record and its person": Refusal(
        BRIS_LEADER,
        Permission.CHILD_READ,
        SKARPNACK_CHILD,
        NotPermitted,
        "This needs the permission child:read.",
        Denial(BRIS_LEADER, "child:read", "Child", SKARPNACK_CHILD.id, SUBJECT),
    ),
    "another district's child is not found, and the child's report shows the refusal": Refusal(
        SOCIAL_WORKER,
        Permission.CHILD_READ,
        SKARPNACK_CHILD,
        NotFound,
        "No such record.",
        Denial(SOCIAL_WORKER, "child:read", "Child", SKARPNACK_CHILD.id, SUBJECT),
    ),
    "a guardian of another district's child is logged under the child": Refusal(
        SOCIAL_WORKER,
        Permission.CHILD_UPDATE,
        SKARPNACK_GUARDIAN,
        NotFound,
        "No such record.",
        Denial(SOCIAL_WORKER, "child:update", "GuardianOf", SKARPNACK_GUARDIAN.id, SUBJECT),
    ),
    "changing a child held through an emergency grant is refused as read-only": Refusal(
        ON_EMERGENCY,
        Permission.CHILD_UPDATE,
        SKARPNACK_CHILD,
        NotPermitted,
        EMERGENCY_READ_ONLY,
        Denial(ON_EMERGENCY, "child:update", "Child", SKARPNACK_CHILD.id, SUBJECT),
    ),
    "a record about no person is logged without a subject": Refusal(
        SOCIAL_WORKER,
        Permission.GROUP_READ,
        Group("group-1", "bris"),
        NotPermitted,
        "This needs the permission group:read.",
        Denial(SOCIAL_WORKER, "group:read", "Group", "group-1", None),
    ),
    "a record without an id is logged by its type": Refusal(
        SOCIAL_WORKER,
        Permission.HOME_VIEW,
        Notice("skarpnack"),
        NotFound,
        "No such record.",
        Denial(SOCIAL_WORKER, "home:view", "Notice", None, None),
    ),
    "a record whose key scope is not implemented is logged without a subject": Refusal(
        SOCIAL_WORKER,
        Permission.HOME_VIEW,
        Sealed("s-1", "skarpnack", NotImplementedError()),
        NotFound,
        "No such record.",
        Denial(SOCIAL_WORKER, "home:view", "Sealed", "s-1", None),
    ),
    "a record whose key scope cannot be formed is logged without a subject": Refusal(
        SOCIAL_WORKER,
        Permission.HOME_VIEW,
        Sealed("s-2", "skarpnack", ValueError("no holder")),
        NotFound,
        "No such record.",
        Denial(SOCIAL_WORKER, "home:view", "Sealed", "s-2", None),
    ),
    "a key scope that is not a person's is not taken for a subject": Refusal(
        SOCIAL_WORKER,
        Permission.HOME_VIEW,
        Sealed("s-3", "skarpnack", "district:skarpnack"),
        NotFound,
        "No such record.",
        Denial(SOCIAL_WORKER, "home:view", "Sealed", "s-3", None),
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS.values()), ids=list(REFUSALS))
def test_a_refusal_says_why_and_carries_what_the_access_log_records(case: Refusal) -> None:
    with pytest.raises(case.error) as refused:
        require(case.actor, case.permission, case.record)
    assert type(refused.value) is case.error
    assert refused.value.message == case.message
    assert refused.value.denial == case.denial


CHILD_IDS = {
    "a child's own record is about the child": (FARSTA_CHILD, FARSTA_CHILD.id),
    "a record naming a child is about that child": (SKARPNACK_GUARDIAN, SKARPNACK_CHILD.id),
    "a referral is about its child": (TO_BRIS, FARSTA_CHILD.id),
    "a record about no child yet falls back to the child it names": (
        SimpleNamespace(about_child_id=None, child_id="child-7"),
        "child-7",
    ),
    "a record naming no child is about none": (Notice("farsta"), None),
    "an id that is not a string is no child's": (SimpleNamespace(child_id=7), None),
    "an own-record id that is not a string is no child's": (
        SimpleNamespace(about_child_id=7),
        None,
    ),
}


@pytest.mark.parametrize(("record", "child_id"), list(CHILD_IDS.values()), ids=list(CHILD_IDS))
def test_which_child_a_record_is_about(record: object, child_id: str | None) -> None:
    assert child_id_of(record) == child_id


LEGAL_BASES = {
    "a read through an emergency grant is logged on the emergency basis": (
        ON_EMERGENCY,
        Permission.CHILD_READ,
        SKARPNACK_CHILD,
        "emergency_access",
    ),
    "so is a read of a record naming the granted child": (
        ON_EMERGENCY,
        Permission.CHILD_READ,
        SKARPNACK_GUARDIAN,
        "emergency_access",
    ),
    "a read of one's own district's child needs no emergency basis": (
        ON_EMERGENCY,
        Permission.CHILD_READ,
        FARSTA_CHILD,
        None,
    ),
    "nor does it when a grant covers that child too": (
        staff(Role.SOCIAL_WORKER, "farsta", grants=frozenset({FARSTA_CHILD.id})),
        Permission.CHILD_READ,
        FARSTA_CHILD,
        None,
    ),
    "a change the grant does not unlock has no emergency basis": (
        ON_EMERGENCY,
        Permission.CHILD_UPDATE,
        SKARPNACK_CHILD,
        None,
    ),
    "a grant held by someone who is not a social worker is no emergency basis": (
        staff(Role.GROUP_LEADER, "bris", grants=GRANT),
        Permission.CHILD_READ,
        SKARPNACK_CHILD,
        None,
    ),
    "without a grant there is no emergency basis": (
        SOCIAL_WORKER,
        Permission.CHILD_READ,
        SKARPNACK_CHILD,
        None,
    ),
}


@pytest.mark.parametrize(
    ("who", "permission", "record", "basis"), list(LEGAL_BASES.values()), ids=list(LEGAL_BASES)
)
def test_the_legal_basis_the_access_log_records_for_a_read(
    who: Actor, permission: Permission, record: object, basis: str | None
) -> None:
    assert emergency_legal_basis(who, permission, record) == basis


PARTNER_ONLY = "Only a partner organisation's staff see its referrals."
NO_ORGANISATION = "An actor without an organisation sees no records."

LIST_SCOPES = {
    "a social worker's lists are their district's": (SOCIAL_WORKER, "farsta", PARTNER_ONLY),
    "a group leader's lists and inbox are their partner's": (BRIS_LEADER, "bris", "bris"),
    "the DPO's lists are the city's own": (DPO, "city", PARTNER_ONLY),
    "an administrator's lists span the city": (ADMIN, None, PARTNER_ONLY),
    "an operator at the console has city-wide lists": (
        Actor.system_actor("test"),
        None,
        PARTNER_ONLY,
    ),
    "a social worker without an organisation sees no list": (
        staff(Role.SOCIAL_WORKER, None),
        NO_ORGANISATION,
        PARTNER_ONLY,
    ),
    "a group leader without an organisation has no inbox": (
        staff(Role.GROUP_LEADER, None),
        NO_ORGANISATION,
        PARTNER_ONLY,
    ),
}


@pytest.mark.parametrize(
    ("who", "lists", "inbox"), list(LIST_SCOPES.values()), ids=list(LIST_SCOPES)
)
def test_which_organisation_a_list_and_the_partner_inbox_are_limited_to(
    who: Actor, lists: str | None, inbox: str
) -> None:
    if lists == NO_ORGANISATION:
        with pytest.raises(NotPermitted, match=f"^{NO_ORGANISATION}$"):
            organisation_scope(who)
    else:
        assert organisation_scope(who) == lists
    if inbox == PARTNER_ONLY:
        with pytest.raises(NotPermitted) as refused:
            partner_scope(who)
        assert refused.value.message == PARTNER_ONLY
    else:
        assert partner_scope(who) == inbox


# Who may name a district's record in a concern report (anyone may report on a child they
# describe): the actor, the child's record, the child's referrals they can see, and the answer.
ALSO_TO_BRIS = Referral("referral-2", SKARPNACK_CHILD.id, "skarpnack", "bris")
MAY_REPORT = {
    "a social worker on a child of their district": (SOCIAL_WORKER, FARSTA_CHILD, [], True),
    "a social worker on another district's child": (SOCIAL_WORKER, SKARPNACK_CHILD, [], False),
    "a social worker on a child they hold an emergency grant for": (
        ON_EMERGENCY,
        SKARPNACK_CHILD,
        [],
        True,
    ),
    "a group leader on a child referred to their partner, consent or not": (
        BRIS_LEADER,
        SKARPNACK_CHILD,
        [ALSO_TO_BRIS],
        True,
    ),
    "a group leader of another partner": (OTHER_LEADER, SKARPNACK_CHILD, [ALSO_TO_BRIS], False),
    "a group leader on a child never referred to them": (BRIS_LEADER, FARSTA_CHILD, [], False),
    "a group leader with something that is not a referral": (
        BRIS_LEADER,
        FARSTA_CHILD,
        [Notice("bris")],
        False,
    ),
    "a link worker of the partner the child was referred to": (
        BRIS_LINK_WORKER,
        SKARPNACK_CHILD,
        [ALSO_TO_BRIS],
        False,
    ),
    "socialjouren on a district's child": (
        staff(Role.SOCIAL_EMERGENCY, "farsta"),
        FARSTA_CHILD,
        [],
        False,
    ),
    "an administrator, who files no reports": (ADMIN, FARSTA_CHILD, [TO_BRIS], False),
    "a social worker without an organisation": (
        staff(Role.SOCIAL_WORKER, None),
        Child("child-none", "None"),
        [],
        False,
    ),
}


@pytest.mark.parametrize("case", list(MAY_REPORT.values()), ids=list(MAY_REPORT))
def test_who_may_name_a_childs_record_in_a_concern_report(
    case: tuple[Actor, object, list[object], bool],
) -> None:
    actor, child, referrals, expected = case
    assert may_report_concern_about(actor, child, referrals) is expected


# Which programmes' governance (activity reports, complaints) each role follows: a partner's
# staff their own programme's, the city's coordinator and the DPO all three, anyone else none.
PROGRAMMES_FOLLOWED = {
    Role.SOCIAL_WORKER: set(),
    Role.GROUP_LEADER: {"A"},
    Role.LINK_WORKER: {"B"},
    Role.SOCIAL_EMERGENCY: set(),
    Role.NIGHT_STAFF: {"C"},
    Role.NIGHT_COORDINATOR: {"C"},
    Role.COORDINATOR: {"A", "B", "C"},
    Role.DPO: {"A", "B", "C"},
    Role.ADMIN: set(),
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_follows_the_programmes_the_table_names(role: Role) -> None:
    actor = Actor("u", "u", "org", frozenset({role}))
    assert policy.programmes_of(actor) == PROGRAMMES_FOLLOWED[role]


def test_someone_with_two_roles_follows_the_programmes_of_both() -> None:
    actor = Actor("u", "u", "org", frozenset({Role.GROUP_LEADER, Role.LINK_WORKER}))
    assert policy.programmes_of(actor) == {"A", "B"}
    assert policy.PROGRAMMES == ("A", "B", "C")


# --- API clients: a city system acting in one role, narrowed to the scopes it was issued ---


def client(role: Role, org: str, scopes: set[str]) -> Actor:
    from referral.actors import Origin

    return Actor.api_client(
        "c-1", "Ärendesystem", org, role, frozenset(scopes), Origin("r-1", "10.0.0.1")
    )


@pytest.mark.parametrize("role", list(Role))
def test_a_client_given_every_scope_its_role_allows_may_do_what_the_role_does_but_manage_clients(
    role: Role,
) -> None:
    everything = client(role, "farsta", {p.value for p in Permission})
    expected = set(GRANTS_SNAPSHOT[role]) - {
        "api_client:manage",
        "own_password:change",
        "own_sessions:manage",
    }
    assert {p.value for p in granted(everything)} == expected
    assert {p.value for p in Permission if can(everything, p)} == expected
    assert {p.value for p in policy.client_scopes(role)} == expected


@pytest.mark.asvs("V8.2.1")
def test_a_client_may_do_only_what_both_its_role_and_its_scopes_allow() -> None:
    district_system = client(
        Role.SOCIAL_WORKER, "farsta", {"referral:create", "referral:read", "audit:search"}
    )
    # audit:search is the DPO's: a scope outside the role adds nothing.
    assert granted(district_system) == {Permission.REFERRAL_CREATE, Permission.REFERRAL_READ}
    assert can(district_system, Permission.REFERRAL_CREATE)
    assert not can(district_system, Permission.CHILD_READ)
    assert not can(district_system, Permission.AUDIT_SEARCH)


def test_a_client_with_no_scopes_may_do_nothing_while_a_person_has_no_scopes_to_narrow() -> None:
    assert granted(client(Role.SOCIAL_WORKER, "farsta", set())) == frozenset()
    assert SOCIAL_WORKER.scopes is None
    assert granted(SOCIAL_WORKER) == GRANTS[Role.SOCIAL_WORKER]


def test_no_client_manages_clients_even_with_the_scope_written_into_its_row() -> None:
    admin_system = client(Role.ADMIN, "city", {"api_client:manage", "user:list"})
    assert granted(admin_system) == {Permission.USER_LIST}
    assert Permission.API_CLIENT_MANAGE in GRANTS[Role.ADMIN]
    assert Permission.API_CLIENT_MANAGE not in policy.client_scopes(Role.ADMIN)
    assert policy.client_scopes(Role.DPO) == GRANTS[Role.DPO] - {
        Permission.OWN_PASSWORD_CHANGE,
        Permission.OWN_SESSIONS_MANAGE,
    }


def test_a_client_missing_a_scope_is_refused_naming_it_and_the_refusal_is_logged() -> None:
    reader = client(Role.SOCIAL_WORKER, "farsta", {"referral:read"})
    with pytest.raises(NotPermitted) as refused:
        require(reader, Permission.REFERRAL_CREATE)
    assert refused.value.message == "This needs the permission referral:create."
    assert refused.value.denial == Denial(reader, "referral:create", None, None, None)


def test_a_client_reaches_its_own_organisations_records_only_as_a_person_would() -> None:
    farsta_system = client(Role.SOCIAL_WORKER, "farsta", {"referral:read", "child:read"})
    require(farsta_system, Permission.REFERRAL_READ, TO_BRIS)
    with pytest.raises(NotFound):
        require(farsta_system, Permission.CHILD_READ, SKARPNACK_CHILD)
    skarpnack_system = client(Role.SOCIAL_WORKER, "skarpnack", {"referral:read"})
    with pytest.raises(NotFound):
        require(skarpnack_system, Permission.REFERRAL_READ, TO_BRIS)


def test_a_client_actor_is_a_system_of_its_organisation_named_for_the_access_log() -> None:
    actor = client(Role.SOCIAL_WORKER, "farsta", {"referral:read"})
    assert (actor.user_id, actor.username) == ("client:c-1", "client:Ärendesystem")
    assert (actor.organisation_id, actor.roles, actor.system) == (
        "farsta",
        frozenset({Role.SOCIAL_WORKER}),
        True,
    )
    assert actor.emergency_children == frozenset()
