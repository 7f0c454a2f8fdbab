"""The partner's own file on a child's participation: a group leader writes and reads the
notes on one referral of the partner's inbox or groups.

Everything goes through referral.services.partner_files, which answers 404 for a referral the
partner may not see today and writes each read and each note to the access log.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from referral import clock
from referral.errors import DomainError
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import partner_files
from referral.text_rules import PlainTextForm
from referral.web.access import current_actor, requires
from referral.web.casework import show_error
from referral.web.formatting import local

blueprint = Blueprint("partner_files", __name__, url_prefix="/partner")


class NoteForm(PlainTextForm):
    text = TextAreaField(
        _l("New note"),
        validators=[DataRequired(), Length(max=partner_files.MAX_NOTE)],
        render_kw={"rows": 6},
    )


def _page(referral_id: str, form: NoteForm, status: int = 200) -> ResponseReturnValue:
    with request_uow() as uow:
        partner_file = partner_files.notes_of(uow, current_actor(), referral_id, clock.today())
    return render_template(
        "partner/notes.html", partner_file=partner_file, form=form, local=local
    ), status


@blueprint.route("/referrals/<referral_id>/notes")
@requires(Permission.PARTNER_FILE_KEEP)
def notes(referral_id: str) -> ResponseReturnValue:
    return _page(referral_id, NoteForm(formdata=None))


@blueprint.route("/referrals/<referral_id>/notes", methods=["POST"])
@requires(Permission.PARTNER_FILE_KEEP)
def write(referral_id: str) -> ResponseReturnValue:
    form = NoteForm()
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                partner_files.write_note(
                    uow, current_actor(), referral_id, form.text.data or "", clock.today()
                )
        except DomainError as error:
            if error.status != 422:
                raise
            show_error(form, error)
        else:
            flash(_("The note was saved in your organisation's file."), "info")
            return redirect(url_for("partner_files.notes", referral_id=referral_id))
    return _page(referral_id, form, status=422)
