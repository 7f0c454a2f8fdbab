"""The district's referrals over the API (social workers): create, submit, withdraw, and
read the list and one referral's status history.

Changes answer with the referral's state only (ids and status, no personal data); the two
reads show the child's name, so they go through referral.services.casework, which writes
the access log before returning. A refused transition is a 409 naming the rule.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from referral import clock
from referral.api.base import CONFLICT, NOT_FOUND, Blueprint
from referral.api.programme_schemas import (
    ConcernFilterArgs,
    ReferralHistoryOut,
    ReferralIn,
    ReferralStateOut,
    ReferralSummaryOut,
)
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import casework, referrals
from referral.web.access import current_actor, requires

blueprint = Blueprint(
    "api_referrals",
    __name__,
    url_prefix="/api/v1/referrals",
    description="The district's referrals to partners (social workers)",
)


@blueprint.route("")
class Referrals(MethodView):
    @requires(Permission.REFERRAL_READ)
    @blueprint.arguments(ConcernFilterArgs, location="query")
    @blueprint.response(200, ReferralSummaryOut(many=True))
    def get(self, args: dict[str, bool]) -> list[casework.ReferralSummary]:
        """The district's referrals, newest first (`?concern=true`: only those of children
        with an open concern report); each child shown is written to the log."""
        with request_uow() as uow:
            return casework.district_referrals(uow, current_actor(), concern_only=args["concern"])

    @requires(Permission.REFERRAL_CREATE)
    @blueprint.arguments(ReferralIn)
    @blueprint.response(201, ReferralStateOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, Any]) -> referrals.ReferralState:
        """A draft referral of a child of the caller's district to a partner."""
        with request_uow() as uow:
            return referrals.create_referral(
                uow, current_actor(), referrals.NewReferral(**data), today=clock.today()
            )


@blueprint.route("/<referral_id>")
class OneReferral(MethodView):
    @requires(Permission.REFERRAL_READ)
    @blueprint.response(200, ReferralHistoryOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def get(self, referral_id: str) -> casework.ReferralHistory:
        """One referral with every status change (who, when); another district's is a 404."""
        with request_uow() as uow:
            return casework.referral_history(uow, current_actor(), referral_id)


@blueprint.route("/<referral_id>/submit")
class Submit(MethodView):
    @requires(Permission.REFERRAL_CREATE)
    @blueprint.response(200, ReferralStateOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, referral_id: str) -> referrals.ReferralState:
        """Submitted: shared with the partner at once where lawful, else awaiting consent."""
        with request_uow() as uow:
            return referrals.submit_referral(uow, current_actor(), referral_id, clock.today())


@blueprint.route("/<referral_id>/withdraw")
class Withdraw(MethodView):
    @requires(Permission.REFERRAL_WITHDRAW)
    @blueprint.response(200, ReferralStateOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, referral_id: str) -> referrals.ReferralState:
        """Withdrawn from the partner (or cancelled before it reached them)."""
        with request_uow() as uow:
            return referrals.withdraw_referral(uow, current_actor(), referral_id)
