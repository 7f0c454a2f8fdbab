"""The policy: deny by default, organisation-scoped, 404 for what is out of scope."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from referral.actors import Actor
from referral.errors import NotFound, NotPermitted
from referral.policy import (
    Permission,
    belongs_to,
    can,
    may_lead_groups_of,
    organisation_scope,
    partner_scope,
    require,
)
from referral.roles import Role


def actor(*roles: Role, org: str = "farsta") -> Actor:
    return Actor(user_id="u1", username="u1", organisation_id=org, roles=frozenset(roles))


@dataclass
class Record:
    organisation_id: str


@pytest.mark.asvs("V8.2.1")
def test_nobody_may_do_what_no_role_grants() -> None:
    assert not can(None, Permission.HOME_VIEW)
    assert not can(actor(), Permission.HOME_VIEW)


def test_only_administrators_manage_accounts() -> None:
    for role in (Role.SOCIAL_WORKER, Role.GROUP_LEADER, Role.LINK_WORKER, Role.DPO):
        assert not can(actor(role), Permission.USER_DISABLE)
    assert can(actor(Role.ADMIN), Permission.USER_DISABLE)


@pytest.mark.asvs("V8.2.2", "V8.4.1")
def test_a_record_of_another_organisation_is_not_found_rather_than_forbidden() -> None:
    worker = actor(Role.SOCIAL_WORKER, org="farsta")
    require(worker, Permission.HOME_VIEW, Record("farsta"))
    with pytest.raises(NotFound):
        require(worker, Permission.HOME_VIEW, Record("skarpnack"))


@pytest.mark.asvs("V8.2.1")
def test_a_missing_permission_is_forbidden() -> None:
    with pytest.raises(NotPermitted):
        require(actor(Role.GROUP_LEADER), Permission.ORGANISATION_CREATE)


@pytest.mark.asvs("V8.2.2")
def test_an_object_without_a_scope_rule_is_refused() -> None:
    assert not can(actor(Role.SOCIAL_WORKER), Permission.HOME_VIEW, object())


@pytest.mark.asvs("V8.4.1")
def test_lists_are_limited_to_the_actors_organisation_except_for_city_wide_roles() -> None:
    assert organisation_scope(actor(Role.SOCIAL_WORKER, org="farsta")) == "farsta"
    assert organisation_scope(actor(Role.ADMIN)) is None


@pytest.mark.parametrize(
    ("roles", "organisation", "leads"),
    [
        ({Role.GROUP_LEADER}, "bris", True),
        ({Role.GROUP_LEADER}, "stadsmissionen", False),  # another partner's leader
        ({Role.LINK_WORKER}, "bris", False),  # of the partner, but not a group leader
        ({Role.GROUP_LEADER, Role.LINK_WORKER}, "bris", True),
        (set(), "bris", False),
        ({Role.GROUP_LEADER}, None, False),
    ],
)
def test_only_the_partners_own_group_leaders_may_lead_its_groups(
    roles: set[Role], organisation: str | None, leads: bool
) -> None:
    assert may_lead_groups_of(frozenset(roles), organisation, "bris") is leads


def test_an_actor_belongs_to_its_own_organisation_only() -> None:
    assert belongs_to(actor(Role.SOCIAL_WORKER, org="farsta"), "farsta")
    assert not belongs_to(actor(Role.SOCIAL_WORKER, org="farsta"), "skarpnack")
    assert not belongs_to(actor(Role.DPO, org="farsta"), None)
    city_wide = Actor.system_actor("test")  # an operator: no organisation, a member of none
    assert not belongs_to(city_wide, "farsta")


def test_a_partners_lists_are_limited_to_that_partner_and_nobody_else_has_one() -> None:
    assert partner_scope(actor(Role.GROUP_LEADER, org="bris")) == "bris"
    for other in (Role.SOCIAL_WORKER, Role.LINK_WORKER, Role.DPO, Role.ADMIN):
        with pytest.raises(NotPermitted):
            partner_scope(actor(other, org="bris"))
