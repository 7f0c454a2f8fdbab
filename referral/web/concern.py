"""Concern report pages (orosanmälan): anyone who works with a child files one, from the
child's or the referral's page or from a blank form; the receiving organisation (the placing
district, or socialjouren) reads, acknowledges, prints and closes it; the reporter follows the
receipt; the DPO sees who filed and who read each report.

Everything goes through referral.services.concern_reports, which writes each read and change
to the access log. A typed personnummer travels in the POST body only and is never sent back,
not even in a form re-rendered after an error; the rest of what the reporter wrote is kept, so
that a refusal loses nothing.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.errors import DomainError
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import concern_reports
from referral.services.concern_reports import (
    MAX_CASE_REFERENCE,
    MAX_CONTACT,
    MAX_SHORT,
    MAX_TEXT,
    AcknowledgementRule,
    NewConcernReport,
)
from referral.text_rules import PlainTextForm
from referral.web.access import current_actor, requires
from referral.web.casework import show_error
from referral.web.formatting import local

blueprint = Blueprint("concern", __name__)

STATUS_LABELS = {
    "open": _l("Not yet acknowledged"),
    "acknowledged": _l("Acknowledged"),
    "closed": _l("Closed"),
}
SUBJECT_LABELS = {
    "known_child": _l("A child the district records"),
    "described": _l("A child known only from the description"),
    "youth": _l("A youth met in outreach"),
}
ROUTING_LABELS = {
    "placing_district": _l("To the placing district"),
    "no_known_district": _l("To socialjouren: no district is known for the child"),
    "responsible_district": _l("To the youth's responsible district"),
}


class ConcernForm(PlainTextForm):
    # The record the report is filed from, if any (pseudonymous ids, from the page's link).
    referral_id = HiddenField()
    child_id = HiddenField()
    personnummer = StringField(
        _l("The child's personnummer, if you know it"),
        validators=[Optional(), Length(max=13)],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"},
    )
    subject_name = StringField(
        _l("Name, first name or alias"), validators=[Optional(), Length(max=MAX_SHORT)]
    )
    approximate_age = StringField(
        _l("Age, or approximate age"), validators=[Optional(), Length(max=MAX_SHORT)]
    )
    place = StringField(
        _l("Where you met the child"), validators=[Optional(), Length(max=MAX_SHORT)]
    )
    subject_description = TextAreaField(
        _l("Description of the child (appearance, language, who they were with)"),
        validators=[Optional(), Length(max=MAX_TEXT)],
    )
    what_happened = TextAreaField(
        _l("What happened, and what makes you concerned"),
        validators=[DataRequired(), Length(max=MAX_TEXT)],
    )
    seen_or_said = TextAreaField(
        _l("What you saw, or what the child or others said (in their words)"),
        validators=[Optional(), Length(max=MAX_TEXT)],
    )
    actions_taken = TextAreaField(
        _l("What has been done already (for example, police or ambulance called)"),
        validators=[Optional(), Length(max=MAX_TEXT)],
    )
    reporter_contact = StringField(
        _l("How social services reaches you (phone, and when)"),
        validators=[DataRequired(), Length(max=MAX_CONTACT)],
    )


class AcknowledgeForm(PlainTextForm):
    case_reference = StringField(
        _l("Your own case reference (optional; the reporter is not shown it)"),
        validators=[Optional(), Length(max=MAX_CASE_REFERENCE)],
    )


def acknowledgement_rule() -> AcknowledgementRule:
    return AcknowledgementRule.from_settings(current_app.config["REFERRAL_SETTINGS"])


# --- filing --------------------------------------------------------------------------------


def _form_page(form: ConcernForm, status: int = 200) -> ResponseReturnValue:
    form.personnummer.data = ""  # never send a typed personnummer back to the browser
    return render_template("concern/new.html", form=form), status


@blueprint.route("/concern-reports/new")
@requires(Permission.CONCERN_FILE)
def new() -> ResponseReturnValue:
    form = ConcernForm(
        formdata=None,
        referral_id=request.args.get("referral", ""),
        child_id=request.args.get("child", ""),
    )
    return _form_page(form)


@blueprint.route("/concern-reports", methods=["POST"])
@requires(Permission.CONCERN_FILE)
def file() -> ResponseReturnValue:
    form = ConcernForm()
    if not form.validate_on_submit():
        return _form_page(form, 422)
    new_report = NewConcernReport(
        what_happened=form.what_happened.data or "",
        reporter_contact=form.reporter_contact.data or "",
        seen_or_said=form.seen_or_said.data,
        actions_taken=form.actions_taken.data,
        referral_id=form.referral_id.data or None,
        child_id=form.child_id.data or None,
        personnummer=form.personnummer.data,
        subject_name=form.subject_name.data,
        approximate_age=form.approximate_age.data,
        place=form.place.data,
        subject_description=form.subject_description.data,
    )
    try:
        with request_uow() as uow:
            receipt = concern_reports.file_report(
                uow, current_actor(), new_report, acknowledgement_rule(), clock.today()
            )
    except DomainError as error:
        # A record outside the reporter's reach answers 404 as on any page (and is logged);
        # any other refusal keeps the form, with what was typed, at its own status (a 503
        # when no socialjouren is set up).
        show_error(form, error)
        return _form_page(form, error.status)
    flash(
        _(
            "Concern report %(ref)s was sent to social services. If the child is in acute "
            "danger, call 112.",
            ref=receipt.reference,
        ),
        "info",
    )
    return redirect(url_for("concern.filed"))


@blueprint.route("/concern-reports/filed")
@requires(Permission.CONCERN_FILE)
def filed() -> ResponseReturnValue:
    with request_uow() as uow:
        receipts = concern_reports.filed_reports(uow, current_actor())
    return render_template("concern/filed.html", receipts=receipts, local=local)


# --- receiving -----------------------------------------------------------------------------


@blueprint.route("/concern-reports")
@requires(Permission.CONCERN_RECEIVE)
def inbox() -> ResponseReturnValue:
    with request_uow() as uow:
        lines = concern_reports.received_reports(uow, current_actor(), clock.now())
    return render_template(
        "concern/inbox.html",
        lines=lines,
        local=local,
        status_labels=STATUS_LABELS,
        subject_labels=SUBJECT_LABELS,
    )


def _report_page(
    report_id: str, form: AcknowledgeForm | None = None, status: int = 200
) -> ResponseReturnValue:
    with request_uow() as uow:
        report = concern_reports.read_report(uow, current_actor(), report_id, clock.now())
    return render_template(
        "concern/report.html",
        report=report,
        local=local,
        status_labels=STATUS_LABELS,
        subject_labels=SUBJECT_LABELS,
        routing_labels=ROUTING_LABELS,
        acknowledge_form=form or AcknowledgeForm(formdata=None),
        action_form=PostOnlyForm(),
    ), status


@blueprint.route("/concern-reports/<report_id>")
@requires(Permission.CONCERN_RECEIVE)
def report(report_id: str) -> ResponseReturnValue:
    return _report_page(report_id)


@blueprint.route("/concern-reports/<report_id>/print")
@requires(Permission.CONCERN_RECEIVE)
def print_copy(report_id: str) -> ResponseReturnValue:
    with request_uow() as uow:
        report = concern_reports.read_report(
            uow, current_actor(), report_id, clock.now(), printing=True
        )
    return render_template(
        "concern/print.html",
        report=report,
        now=clock.now(),
        local=local,
        status_labels=STATUS_LABELS,
        subject_labels=SUBJECT_LABELS,
        routing_labels=ROUTING_LABELS,
    )


@blueprint.route("/concern-reports/<report_id>/acknowledge", methods=["POST"])
@requires(Permission.CONCERN_RECEIVE)
def acknowledge(report_id: str) -> ResponseReturnValue:
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        return _report_page(report_id, form, 422)
    # A report already acknowledged (409) is the error page's to show, like a refusal.
    with request_uow() as uow:
        concern_reports.acknowledge(uow, current_actor(), report_id, form.case_reference.data)
    flash(_("Acknowledged. The reporter now sees that social services has the report."), "info")
    return redirect(url_for("concern.report", report_id=report_id))


@blueprint.route("/concern-reports/<report_id>/close", methods=["POST"])
@requires(Permission.CONCERN_RECEIVE)
def close(report_id: str) -> ResponseReturnValue:
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("concern.report", report_id=report_id))
    with request_uow() as uow:
        concern_reports.close(uow, current_actor(), report_id)
    flash(_("Closed. The concern flag on the child's record is down."), "info")
    return redirect(url_for("concern.inbox"))


# --- the DPO -------------------------------------------------------------------------------


@blueprint.route("/dpo/concern-reports")
@requires(Permission.CONCERN_AUDIT)
def trails() -> ResponseReturnValue:
    reference = request.args.get("reference", "")
    with request_uow() as uow:
        found = concern_reports.report_trails(uow, current_actor(), reference)
    return render_template(
        "concern/trails.html",
        trails=found,
        local=local,
        status_labels=STATUS_LABELS,
        reference=reference,
    )
