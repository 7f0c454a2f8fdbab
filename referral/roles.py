"""The vocabulary the policy decides with: roles, organisation kinds, and which kind of
organisation each role belongs to. No models: the database stores these values, the policy
(referral.policy) and its callers name them."""

from __future__ import annotations

from enum import StrEnum


class OrganisationKind(StrEnum):
    DISTRICT = "district"  # stadsdelsförvaltning
    PARTNER = "partner"  # idéburen organisation
    CITY = "city"  # Stockholms stad, e.g. socialförvaltningen


class Role(StrEnum):
    SOCIAL_WORKER = "social_worker"
    GROUP_LEADER = "group_leader"
    LINK_WORKER = "link_worker"
    # The city's social emergency service (socialjouren): receives the concern reports about
    # children no district is known to be responsible for, around the clock.
    SOCIAL_EMERGENCY = "social_emergency"
    # Programme C (seed 002): the night-place partnership's staff at the morning registration
    # desk and at a shelter (a partner's, or the city's EU team), and the city's central
    # officer (central handläggare) who coordinates shelters, capacity and the allocation.
    NIGHT_STAFF = "night_staff"
    NIGHT_COORDINATOR = "night_coordinator"
    # The city's coordinator of the idea-based partnerships (IOP-samordnare): follows every
    # programme for the steering group (activity reports, complaints), reads no case.
    COORDINATOR = "coordinator"
    DPO = "dpo"
    ADMIN = "admin"


# Which kind of organisation each role may belong to: a group leader works for a partner,
# a social worker for a district, the DPO and administrators for the city. The policy's
# partner and district scoping is safe only because accounts keep to this table.
ROLE_HOMES: dict[Role, frozenset[OrganisationKind]] = {
    Role.SOCIAL_WORKER: frozenset({OrganisationKind.DISTRICT}),
    Role.GROUP_LEADER: frozenset({OrganisationKind.PARTNER}),
    Role.LINK_WORKER: frozenset({OrganisationKind.PARTNER, OrganisationKind.CITY}),
    Role.SOCIAL_EMERGENCY: frozenset({OrganisationKind.CITY}),
    Role.NIGHT_STAFF: frozenset({OrganisationKind.PARTNER, OrganisationKind.CITY}),
    Role.NIGHT_COORDINATOR: frozenset({OrganisationKind.CITY}),
    Role.COORDINATOR: frozenset({OrganisationKind.CITY}),
    Role.DPO: frozenset({OrganisationKind.CITY}),
    Role.ADMIN: frozenset({OrganisationKind.CITY}),
}
