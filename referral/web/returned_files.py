"""The district's inbox of files returned by partners (återlämnande, seed 004): before the
purge takes a partner's file on a child, what social services must keep of it arrives here
as a signed document. A social worker of the district lists, reads (and prints), downloads
and acknowledges it; anyone may check the signature with the public key offered here.

Everything goes through referral.services.returned_files, which writes each read and the
acknowledgement to the access log before anything is shown.
"""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from audit.checkpoints import key_id_of, public_pem
from referral import clock, return_signing
from referral.auth.forms import PostOnlyForm
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import returned_files
from referral.services.returned_files import Attended, ReturnedFileView
from referral.web import concern, formatting
from referral.web.access import current_actor, requires
from referral.web.casework_forms import FORMAT_LABELS, STATUS_LABELS
from referral.web.consent_documents import PROGRAMME_LABELS

blueprint = Blueprint("returned_files", __name__, url_prefix="/returned-files")

ATTENDANCE_LABELS = {
    Attended.PRESENT: _l("Present"),
    Attended.ABSENT: _l("Absent"),
    Attended.NOT_RECORDED: _l("Not recorded"),
}
VISIT_LABELS = {
    "home": _l("Home visit"),
    "at_partner": _l("Meeting at the partner's premises"),
}
SESSION_LABELS = {
    "meeting": _l("Meeting"),
    "full_day": _l("Full day"),
    "follow_up": _l("Follow-up day"),
}


def _signing_key_path() -> str:
    return str(current_app.config["REFERRAL_SETTINGS"].return_signing_key_path)


def _public_key() -> Ed25519PublicKey | None:
    """The public key to check signatures with, or None when no key was ever made (the page
    then says the signature could not be checked, rather than failing)."""
    try:
        return return_signing.public_key(_signing_key_path())
    except return_signing.MissingSigningKey:
        return None


def _labels() -> dict[str, object]:
    return {
        "local": formatting.local,
        "status_labels": STATUS_LABELS,
        "format_labels": FORMAT_LABELS,
        "session_labels": SESSION_LABELS,
        "programme_labels": PROGRAMME_LABELS,
        "attendance_labels": ATTENDANCE_LABELS,
        "visit_labels": VISIT_LABELS,
        "concern_status_labels": concern.STATUS_LABELS,
    }


def render_html(view: ReturnedFileView) -> str:
    """The readable, printable document: the signed contents, the signature's status and the
    key id, with the acknowledgement below (never printed)."""
    return render_template(
        "returned/file.html",
        view=view,
        contents=view.contents,
        signature_b64=base64.b64encode(view.signature).decode("ascii"),
        acknowledge_form=PostOnlyForm(),
        now=clock.now(),
        **_labels(),
    )


@blueprint.route("")
@requires(Permission.RETURNED_FILE_READ)
def inbox() -> ResponseReturnValue:
    with request_uow() as uow:
        lines = returned_files.inbox(uow, current_actor(), clock.today())
    return render_template("returned/inbox.html", lines=lines, **_labels())


@blueprint.route("/public-key.pem")
@requires(Permission.RETURNED_FILE_READ)
def public_key() -> ResponseReturnValue:
    """The public key that checks every returned file's signature (no personal data)."""
    key = return_signing.public_key(_signing_key_path())
    return Response(
        public_pem(key),
        mimetype="application/x-pem-file",
        headers={
            "Content-Disposition": (f"attachment; filename=returned-files-{key_id_of(key)}.pub.pem")
        },
    )


@blueprint.route("/<file_id>")
@requires(Permission.RETURNED_FILE_READ)
def document(file_id: str) -> ResponseReturnValue:
    with request_uow() as uow:
        view = returned_files.read(
            uow, current_actor(), file_id, clock.today(), public_key=_public_key()
        )
    return render_html(view)


@blueprint.route("/<file_id>/document.json")
@requires(Permission.RETURNED_FILE_READ)
def download(file_id: str) -> ResponseReturnValue:
    """The signed file itself: the document exactly as signed, its signature (base64) and
    the signing key's id, to keep in the district's own records or check elsewhere."""
    with request_uow() as uow:
        view = returned_files.read(
            uow,
            current_actor(),
            file_id,
            clock.today(),
            public_key=None,
            downloading=True,
        )
    envelope = {
        "document": view.document,
        "signature": base64.b64encode(view.signature).decode("ascii"),
        "key_id": view.key_id,
    }
    return Response(
        json.dumps(envelope, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=returned-file-{view.file_id}.json"},
    )


@blueprint.route("/<file_id>/acknowledge", methods=["POST"])
@requires(Permission.RETURNED_FILE_READ)
def acknowledge(file_id: str) -> ResponseReturnValue:
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("returned_files.document", file_id=file_id))
    # A file already acknowledged (409) is the error page's to show, like a refusal.
    with request_uow() as uow:
        returned_files.acknowledge(uow, current_actor(), file_id)
    flash(_("Acknowledged: the district has the returned file."), "info")
    return redirect(url_for("returned_files.document", file_id=file_id))
