"""Interest registrations (intresseanmälan) over the API: the group leader records what a
family home asked for and follows its status; the responsible district's social workers read
their queue and confirm or decline each one.

Everything goes through referral.services.interest. The personnummer travels in the POST body
only and is never sent back: the partner's answers name the registration by id and reference,
and its own list shows reference, district, date and status. The district's queue shows the
child's name and the family home's contact (each registration shown is written to the log
first); confirming creates the referral, which then waits for consent or LVU like any other.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from referral import clock
from referral.api.base import CONFLICT, NOT_FOUND, Blueprint
from referral.api.group_schemas import (
    ConfirmationOut,
    DeclineIn,
    InterestCreatedOut,
    InterestDecisionOut,
    InterestIn,
    PartnerRegistrationOut,
    QueueEntryOut,
)
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import interest
from referral.web.access import current_actor, requires

blueprint = Blueprint(
    "api_interest",
    __name__,
    url_prefix="/api/v1",
    description="Interest registrations: recorded by a partner, decided by the district",
)


@blueprint.route("/partner/interest")
class PartnerInterest(MethodView):
    @requires(Permission.INTEREST_REGISTER)
    @blueprint.response(200, PartnerRegistrationOut(many=True))
    def get(self) -> list[interest.PartnerRegistration]:
        """The caller's organisation's registrations, newest first: reference, district, date
        and status only (nothing personal is read, so nothing is written to the log)."""
        with request_uow() as uow:
            return interest.partner_registrations(uow, current_actor())

    @requires(Permission.INTEREST_REGISTER)
    @blueprint.arguments(InterestIn)
    @blueprint.response(201, InterestCreatedOut)
    def post(self, data: dict[str, Any]) -> interest.RegistrationState:
        """Record a family home's registration for the responsible district, which is told.
        The child can start only once the district has confirmed it."""
        today = clock.today()
        with request_uow() as uow:
            return interest.register_interest(
                uow, current_actor(), interest.NewInterest(**data), today
            )


@blueprint.route("/interest")
class Queue(MethodView):
    @requires(Permission.INTEREST_CONFIRM)
    @blueprint.response(200, QueueEntryOut(many=True))
    def get(self) -> list[interest.QueueEntry]:
        """Registrations waiting for the caller's district, oldest first; each one shown is
        written to the log."""
        with request_uow() as uow:
            return interest.district_queue(uow, current_actor())


@blueprint.route("/interest/<registration_id>/confirm")
class Confirm(MethodView):
    @requires(Permission.INTEREST_CONFIRM)
    @blueprint.response(200, ConfirmationOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, registration_id: str) -> interest.Confirmation:
        """The child's record is found (or registered) and a referral to the partner is made
        and submitted: shared at once only if consent or LVU already holds."""
        today = clock.today()
        with request_uow() as uow:
            return interest.confirm(uow, current_actor(), registration_id, today)


@blueprint.route("/interest/<registration_id>/decline")
class Decline(MethodView):
    @requires(Permission.INTEREST_CONFIRM)
    @blueprint.arguments(DeclineIn)
    @blueprint.response(200, InterestDecisionOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, Any], registration_id: str) -> interest.RegistrationState:
        """The partner is told that, not why: the reason is kept only sealed in the log."""
        with request_uow() as uow:
            return interest.decline(uow, current_actor(), registration_id, data["reason"])
