"""The partner's own file on a child's participation over the API (group leaders): the notes
on one referral, read and written.

Everything goes through referral.services.partner_files. A referral the caller's partner may
not see today (another partner's, withdrawn, completed, or no longer lawful to share) answers
404, as if it did not exist. Reading a file with notes is written to the log first; a note
written answers with its id and time, not its text.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields

from referral import clock
from referral.api.base import NOT_FOUND, Blueprint
from referral.api.schemas import StrictSchema, text_field
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import partner_files
from referral.services.partner_files import MAX_NOTE
from referral.web.access import current_actor, requires

blueprint = Blueprint(
    "api_partner_files",
    __name__,
    url_prefix="/api/v1/partner/referrals",
    description="The partner's own notes on a child's participation (group leaders)",
)


class NoteIn(StrictSchema):
    text = text_field(MAX_NOTE, True, required=True)


class WrittenNoteOut(StrictSchema):
    """Exactly `partner_files.WrittenNote`."""

    id = fields.String()
    written_at = fields.AwareDateTime()


class NoteOut(StrictSchema):
    """Exactly `partner_files.NoteView`."""

    id = fields.String()
    written_at = fields.AwareDateTime()
    written_by = fields.String()
    text = fields.String()


class PartnerFileOut(StrictSchema):
    """Exactly `partner_files.PartnerFileView`: the notes, oldest first."""

    referral_id = fields.String()
    notes = fields.List(fields.Nested(NoteOut))


@blueprint.route("/<referral_id>/notes")
class Notes(MethodView):
    @requires(Permission.PARTNER_FILE_KEEP)
    @blueprint.response(200, PartnerFileOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def get(self, referral_id: str) -> partner_files.PartnerFileView:
        """The partner's notes on this referral, oldest first; a file with notes is written
        to the log before it is sent."""
        with request_uow() as uow:
            return partner_files.notes_of(uow, current_actor(), referral_id, clock.today())

    @requires(Permission.PARTNER_FILE_KEEP)
    @blueprint.arguments(NoteIn)
    @blueprint.response(201, WrittenNoteOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def post(self, data: dict[str, Any], referral_id: str) -> partner_files.WrittenNote:
        """Write a note in the partner's file on this referral (made with the first note).
        It is purged after the participation ends; what social services must keep is
        returned to them first."""
        today = clock.today()
        with request_uow() as uow:
            return partner_files.write_note(uow, current_actor(), referral_id, data["text"], today)
