"""Who is acting: a user of one organisation with roles, or a named system actor (CLI, jobs)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from referral.roles import Role


@dataclass(frozen=True)
class Origin:
    """Where a request came from, for the access log: never anything about a client."""

    request_id: str
    client_address: str

    @classmethod
    def command_line(cls) -> Origin:
        return cls(request_id=f"cli-{uuid.uuid4()}", client_address="cli")


@dataclass(frozen=True)
class Actor:
    user_id: str
    username: str
    organisation_id: str | None
    roles: frozenset[Role]
    # A named system actor (a CLI command or a scheduled job) rather than a person.
    system: bool = False
    origin: Origin = field(default_factory=Origin.command_line)
    # Children of other districts whose record this actor may read right now through a live
    # emergency grant (referral.services.emergency_access). Loaded per request, so that an
    # expired grant stops working on the next request; what it unlocks is the policy's call.
    emergency_children: frozenset[str] = frozenset()
    # An API client (a city system calling with a bearer token) is limited to the scopes it
    # was issued (permission values) within its role's grants; None for people and commands.
    scopes: frozenset[str] | None = None

    @classmethod
    def system_actor(cls, name: str) -> Actor:
        """Commands act as `system:<name>` so that what they do is attributable and audited."""
        return cls(
            user_id=f"system:{name}",
            username=f"system:{name}",
            organisation_id=None,
            # An operator at the console: administration and the DPO's log commands.
            roles=frozenset({Role.ADMIN, Role.DPO}),
            system=True,
        )

    @classmethod
    def api_client(
        cls,
        client_id: str,
        name: str,
        organisation_id: str,
        role: Role,
        scopes: frozenset[str],
        origin: Origin,
    ) -> Actor:
        """A system of an organisation calling the API: its calls are logged under the
        client's name, and the policy treats it as a person of that organisation and role
        whose grants are narrowed to its scopes."""
        return cls(
            user_id=f"client:{client_id}",
            username=f"client:{name}",
            organisation_id=organisation_id,
            roles=frozenset({role}),
            system=True,
            origin=origin,
            scopes=scopes,
        )

    def has_role(self, role: Role) -> bool:
        return role in self.roles
