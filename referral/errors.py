"""Domain errors: each carries an HTTP status and a message that names the field or rule.

Messages never contain personal data; they are shown to users and written to logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from referral.actors import Actor
    from referral.scopes import KeyScope


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # Set by the policy when this error is a refusal: what the access log must record.
        self.denial: Denial | None = None


@dataclass(frozen=True)
class Denial:
    """A refusal by the policy, to be written to the access log even though the request's
    own changes are rolled back."""

    actor: Actor | None
    permission: str
    object_type: str | None = None
    object_id: str | None = None
    # The person the refused record is about (pseudonymous id and holder), so that the
    # refusal appears in that person's subject-access report.
    subject: KeyScope | None = None


class NotFound(DomainError):
    """Also what a record outside the actor's scope answers: its existence is not revealed."""

    status = 404
    code = "not_found"


class NotPermitted(DomainError):
    status = 403
    code = "forbidden"


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"
