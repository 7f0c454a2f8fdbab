"""Consent paperwork pages: the city publishes activity descriptions (administrators); the
social worker prints the information letter and consent form for one child, and works
through the queue of consents about to lapse.

URLs carry ids only, never a personnummer. Every page that shows a child's data is audited
by its service before the page is rendered.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from referral import clock
from referral.errors import DomainError
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.rules import Status
from referral.services import activity_descriptions, consent_documents, consent_queue
from referral.text_rules import PlainTextForm
from referral.web.access import current_actor, requires
from referral.web.casework_forms import CATEGORY_LABELS
from referral.web.choices import SelectChoice, choices_from

admin_blueprint = Blueprint(
    "activity_descriptions", __name__, url_prefix="/admin/activity-descriptions"
)
blueprint = Blueprint("consent_documents", __name__)

PROGRAMME_LABELS = {
    activity_descriptions.SUPPORT_GROUP: _l("Support groups for children in family homes"),
}
STATUS_LABELS = {
    Status.DRAFT: _l("draft"),
    Status.SUBMITTED: _l("submitted"),
    Status.AWAITING_CONSENT: _l("awaiting consent"),
    Status.SHARED: _l("shared with the partner"),
    Status.ACCEPTED: _l("accepted by the partner"),
    Status.PLACED: _l("placed in a group"),
    Status.PARTICIPATING: _l("participating"),
}
# The letter goes to guardians in Swedish, whatever language the social worker reads.
LETTER_LOCALE = "sv"


class DescriptionForm(PlainTextForm):
    programme = SelectField(
        _l("Programme"),
        choices=choices_from(PROGRAMME_LABELS),
    )
    partner_id = SelectField(_l("Partner"), choices=[])
    version = StringField(
        _l("Version label, e.g. 2026:1"),
        validators=[DataRequired(), Length(max=activity_descriptions.MAX_VERSION)],
    )
    text = TextAreaField(
        _l("Text given to guardians"),
        validators=[DataRequired(), Length(max=activity_descriptions.MAX_TEXT)],
        render_kw={"rows": 16},
    )


def _description_form() -> tuple[DescriptionForm, dict[str, str]]:
    """The publishing form, and the partners' names by id (for the list of versions)."""
    form = DescriptionForm()
    with request_uow() as uow:
        partners = {
            p.id: p.name for p in activity_descriptions.partner_choices(uow, current_actor())
        }
    form.partner_id.choices = [SelectChoice(key, name) for key, name in partners.items()]
    return form, partners


def _current_ids(versions: list[activity_descriptions.DescriptionView]) -> set[str]:
    """The first (newest) version of each (programme, partner) is the current one."""
    seen: dict[tuple[str, str], str] = {}
    for version in versions:
        seen.setdefault((version.programme, version.partner_id), version.id)
    return set(seen.values())


def _descriptions_page(
    form: DescriptionForm, partner_names: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    with request_uow() as uow:
        versions = activity_descriptions.list_versions(uow, current_actor())
    return render_template(
        "consent/descriptions.html",
        form=form,
        versions=versions,
        current_ids=_current_ids(versions),
        partner_names=partner_names,
        programme_labels=PROGRAMME_LABELS,
    ), status


@admin_blueprint.route("", methods=["GET"])
@requires(Permission.ACTIVITY_DESCRIPTION_LIST)
def descriptions() -> ResponseReturnValue:
    return _descriptions_page(*_description_form())


@admin_blueprint.route("", methods=["POST"])
@requires(Permission.ACTIVITY_DESCRIPTION_PUBLISH)
def publish() -> ResponseReturnValue:
    form, partner_names = _description_form()
    if not form.validate_on_submit():
        return _descriptions_page(form, partner_names, 422)
    new = activity_descriptions.NewDescription(
        programme=form.programme.data or "",
        partner_id=form.partner_id.data or "",
        version=form.version.data or "",
        text=form.text.data or "",
    )
    try:
        with request_uow() as uow:
            published = activity_descriptions.publish(uow, current_actor(), new)
    except DomainError as error:
        field = error.field if error.field in form else "version"
        form[field].errors.append(error.message)
        return _descriptions_page(form, partner_names, error.status)
    flash(_("Version %(version)s is published and is now current.", version=published.version))
    return redirect(url_for("activity_descriptions.descriptions"))


@blueprint.route("/children/<child_id>/consent-form")
@requires(Permission.CONSENT_FORM_READ)
def consent_form(child_id: str) -> ResponseReturnValue:
    """The partner is a query parameter (an organisation id): the URL holds ids only. A child
    placed under LVU is refused (409, saying why): the guardians' consent is not asked."""
    with request_uow() as uow:
        form = consent_documents.consent_form(
            uow,
            current_actor(),
            child_id,
            request.args.get("partner"),
            clock.today(),
        )
    with force_locale(LETTER_LOCALE):
        g.lang = LETTER_LOCALE  # so that the page says lang="sv" too
        # The categories in the words of the child's page: one term per thing, screen and paper.
        return render_template("consent/form.html", form=form, category_labels=CATEGORY_LABELS)


@blueprint.route("/consents/expiring")
@requires(Permission.CONSENT_QUEUE_READ)
def expiring() -> ResponseReturnValue:
    days = current_app.config["REFERRAL_SETTINGS"].consent_lapse_warning_days
    with request_uow() as uow:
        lines = consent_queue.lapse_queue(uow, current_actor(), clock.today(), days)
    return render_template(
        "consent/expiring.html", lines=lines, warning_days=days, status_labels=STATUS_LABELS
    )
