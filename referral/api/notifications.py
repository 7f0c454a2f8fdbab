"""Notices to the caller's organisation over the API: what happened to its referrals and
interest registrations, by reference only (referral.services.notifications). No child's data
is read, so nothing is written to the log; the district's child record, which a notice points
at by id, is a separate, audited read."""

from __future__ import annotations

from flask.views import MethodView

from referral.api.base import NOT_FOUND, Blueprint
from referral.api.group_schemas import NoticeOut
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import notifications
from referral.web.access import current_actor, requires

blueprint = Blueprint(
    "api_notifications",
    __name__,
    url_prefix="/api/v1/notifications",
    description="Notices to the caller's organisation",
)


@blueprint.route("")
class Notices(MethodView):
    @requires(Permission.NOTIFICATION_READ)
    @blueprint.response(200, NoticeOut(many=True))
    def get(self) -> list[notifications.NoticeView]:
        """The newest notices, newest first."""
        with request_uow() as uow:
            return notifications.notices_for(uow, current_actor())


@blueprint.route("/<notice_id>/read")
class MarkRead(MethodView):
    @requires(Permission.NOTIFICATION_READ)
    @blueprint.response(204)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def post(self, notice_id: str) -> None:
        """Marked read for the whole organisation; another organisation's notice is a 404."""
        with request_uow() as uow:
            notifications.mark_read(uow, current_actor(), notice_id)
