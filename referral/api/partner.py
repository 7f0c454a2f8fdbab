"""The partner's inbox over the API (group leaders): the referrals that may lawfully be
shown now, and the answer to each.

What a group leader receives is the partner projection (referrals.PartnerView) through
PartnerReferralOut: never a personnummer, a social worker's notes or a guardian. A referral
that is no longer lawful to show (consent withdrawn or expired, referral withdrawn) is
absent from the inbox and answers 404, as if it had never existed.
"""

from __future__ import annotations

from flask.views import MethodView

from referral import clock
from referral.api.base import CONFLICT, NOT_FOUND, Blueprint
from referral.api.programme_schemas import PartnerReferralOut
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import referrals
from referral.web.access import current_actor, requires

blueprint = Blueprint(
    "api_partner",
    __name__,
    url_prefix="/api/v1/partner/referrals",
    description="Referrals sent to the caller's partner organisation (group leaders)",
)


def _respond(referral_id: str, accept: bool) -> referrals.PartnerView:
    with request_uow() as uow:
        return referrals.respond(uow, current_actor(), referral_id, accept, clock.today())


@blueprint.route("")
class Inbox(MethodView):
    @requires(Permission.REFERRAL_INBOX)
    @blueprint.response(200, PartnerReferralOut(many=True))
    def get(self) -> list[referrals.PartnerView]:
        """Each referral shown is written to the log with its legal basis first."""
        with request_uow() as uow:
            return referrals.partner_inbox(uow, current_actor(), clock.today())


@blueprint.route("/<referral_id>/accept")
class Accept(MethodView):
    @requires(Permission.REFERRAL_RESPOND)
    @blueprint.response(200, PartnerReferralOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, referral_id: str) -> referrals.PartnerView:
        return _respond(referral_id, accept=True)


@blueprint.route("/<referral_id>/decline")
class Decline(MethodView):
    @requires(Permission.REFERRAL_RESPOND)
    @blueprint.response(200, PartnerReferralOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, referral_id: str) -> referrals.PartnerView:
        return _respond(referral_id, accept=False)
