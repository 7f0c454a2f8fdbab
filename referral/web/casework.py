"""The social worker's pages: the district's children, one child's record (placement basis,
guardians, consent, referrals) and the actions on it.

Every page that shows a child goes through referral.services.child_record, which writes the
access to the log first. A personnummer is only ever sent in a POST body, never in a URL.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.errors import DomainError, NotFound, NotPermitted
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.rules import CHILD_PARTY, OWN_CONSENT_AGE
from referral.services import (
    activity_descriptions,
    child_record,
    children,
    consent,
    organisations,
    referrals,
)
from referral.web.access import current_actor, requires
from referral.web.casework_forms import (
    BASIS_LABELS,
    CATEGORY_LABELS,
    DECISION_LABELS,
    FORMAT_LABELS,
    GENDER_LABELS,
    METHOD_LABELS,
    STATUS_LABELS,
    ConsentForm,
    DetailsForm,
    FindChildForm,
    GuardianForm,
    LvuSharingForm,
    PlacementForm,
    ReferralForm,
    RegisterChildForm,
    default_consent_end,
)
from referral.web.choices import SelectChoice

blueprint = Blueprint("casework", __name__)


def _today() -> date:
    return clock.today()


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal beside the field it names, or at the top of the page (also
    when the field is hidden, where no one would see it). A refusal of access is not a form
    error: it answers 403/404 (and is logged) as on any page."""
    if isinstance(error, NotFound | NotPermitted):
        raise error
    if error.field and error.field in form and not isinstance(form[error.field], HiddenField):
        form[error.field].errors = [*form[error.field].errors, error.message]
    else:
        flash(error.message, "error")


def _status_for(form: FlaskForm) -> int:
    return 422 if form.errors else 200


# --- The district's children ----------------------------------------------------------------


@blueprint.route("/children")
@requires(Permission.CHILD_READ)
def children_page() -> ResponseReturnValue:
    return _children_page(
        RegisterChildForm(formdata=None),
        FindChildForm(formdata=None, prefix="find"),
        concern_only=request.args.get("concern") == "1",
    )


def _children_page(
    register: RegisterChildForm,
    find: FindChildForm,
    found: list[tuple[str, str]] | None = None,
    status: int = 200,
    *,
    concern_only: bool = False,
) -> ResponseReturnValue:
    with request_uow() as uow:
        rows = child_record.district_children(
            uow, current_actor(), _today(), concern_only=concern_only
        )
    return render_template(
        "casework/children.html",
        children=rows,
        register_form=register,
        find_form=find,
        found=found,
        status_labels=STATUS_LABELS,
        concern_only=concern_only,
    ), status


@blueprint.route("/children", methods=["POST"])
@requires(Permission.CHILD_CREATE)
def register_child() -> ResponseReturnValue:
    form = RegisterChildForm()
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                child = children.register_child(
                    uow,
                    current_actor(),
                    children.NewChild(form.personnummer.data or "", form.name.data or ""),
                    today=clock.today(),
                )
                child_id = child.id
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The child was registered."), "info")
            return redirect(url_for("casework.child_page", child_id=child_id))
    # Never send a typed personnummer back to the browser in the re-rendered form.
    form.personnummer.data = ""
    return _children_page(form, FindChildForm(formdata=None, prefix="find"), status=422)


@blueprint.route("/children/find", methods=["POST"])
@requires(Permission.CHILD_SEARCH)
def find_child() -> ResponseReturnValue:
    form = FindChildForm(prefix="find")
    found: list[tuple[str, str]] | None = None
    if form.validate_on_submit():
        try:
            typed = (form.personnummer.data or "").strip()
            with request_uow() as uow:
                if any(character.isalpha() for character in typed):
                    named = child_record.district_children_named(
                        uow, current_actor(), typed, _today()
                    )
                    found = [(child.id, child.name) for child in named]
                else:
                    matches = children.look_up_children(uow, current_actor(), typed)
                    # Only id and name are shown; the search service logged each match.
                    found = [(child.id, child.name) for child in matches]
        except DomainError as error:
            show_error(form, error)
    form.personnummer.data = ""
    status = 422 if form.errors else 200
    return _children_page(RegisterChildForm(formdata=None), form, found=found, status=status)


# --- One child's record ----------------------------------------------------------------------


def _partner_choices() -> list[SelectChoice]:
    with request_uow() as uow:
        partners = organisations.partner_names(uow, current_actor())
    return [SelectChoice(p.id, p.name) for p in partners]


def _version_choices() -> list[SelectChoice]:
    """Published activity descriptions, newest first: a consent cites the one the guardian
    received (the consent service refuses any other)."""
    with request_uow() as uow:
        published = activity_descriptions.published_versions(uow, current_actor())
    return [SelectChoice(p.version, f"{p.version} ({p.partner_name})") for p in published]


def _render_child(child_id: str, status: int = 200, **given: FlaskForm) -> ResponseReturnValue:
    today = _today()
    with request_uow() as uow:
        record = child_record.read_child_record(uow, current_actor(), child_id, today)
    forms: dict[str, FlaskForm] = {
        "placement_form": PlacementForm(formdata=None, basis=record.placement_basis or "SoL"),
        "lvu_form": LvuSharingForm(
            formdata=None, shared=[s.category for s in record.lvu_sharing if s.shared]
        ),
        "guardian_form": GuardianForm(formdata=None),
        "details_form": DetailsForm(
            formdata=None,
            gender=record.gender or "",
            family_home_name=record.family_home_name,
            family_home_address=record.family_home_address,
            family_home_phone=record.family_home_phone,
            paying_municipality=record.paying_municipality,
            child_views=record.child_views,
        ),
        "consent_form": ConsentForm(
            formdata=None,
            decided_on=today,
            valid_until=default_consent_end(
                record.group_ends_on,
                today,
                current_app.config["REFERRAL_SETTINGS"].consent_default_days,
            ),
            categories=["name", "age", "contact_details"],
        ),
        "referral_form": ReferralForm(formdata=None),
        **given,
    }
    parties = [SelectChoice(g.id, g.name) for g in record.guardians]
    if record.age >= OWN_CONSENT_AGE:  # the child's own decision, required under SoL
        parties.append(SelectChoice(CHILD_PARTY, _("The child")))
    forms["consent_form"].party.choices = parties
    forms["consent_form"].description_version.choices = _version_choices()
    forms["referral_form"].partner_id.choices = _partner_choices()
    return render_template(
        "casework/child.html",
        record=record,
        category_labels=CATEGORY_LABELS,
        decision_labels=DECISION_LABELS,
        method_labels=METHOD_LABELS,
        format_labels=FORMAT_LABELS,
        status_labels=STATUS_LABELS,
        basis_labels=BASIS_LABELS,
        gender_labels=GENDER_LABELS,
        action_form=PostOnlyForm(),
        **forms,
    ), status


@blueprint.route("/children/<child_id>")
@requires(Permission.CHILD_READ)
def child_page(child_id: str) -> ResponseReturnValue:
    return _render_child(child_id)


def _back_to(child_id: str, message: str) -> ResponseReturnValue:
    flash(message, "info")
    return redirect(url_for("casework.child_page", child_id=child_id))


@blueprint.route("/children/<child_id>/placement", methods=["POST"])
@requires(Permission.PLACEMENT_RECORD)
def record_placement(child_id: str) -> ResponseReturnValue:
    form = PlacementForm()
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                consent.record_placement(
                    uow,
                    current_actor(),
                    child_id,
                    form.basis.data or "",
                    form.lvu_decision.data,
                    form.lvu_decided_by.data,
                    form.lvu_decided_on.data,
                    today=_today(),
                )
        except DomainError as error:
            show_error(form, error)
        else:
            return _back_to(child_id, _("The placement basis was recorded."))
    return _render_child(child_id, 422, placement_form=form)


@blueprint.route("/children/<child_id>/lvu-sharing", methods=["POST"])
@requires(Permission.PLACEMENT_RECORD)
def decide_lvu_sharing(child_id: str) -> ResponseReturnValue:
    form = LvuSharingForm()
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                consent.decide_lvu_sharing(
                    uow, current_actor(), child_id, form.shared.data or [], _today()
                )
        except DomainError as error:
            show_error(form, error)
        else:
            return _back_to(child_id, _("Your decision on what the partner may see was recorded."))
    return _render_child(child_id, 422, lvu_form=form)


@blueprint.route("/children/<child_id>/details", methods=["POST"])
@requires(Permission.CHILD_UPDATE)
def update_details(child_id: str) -> ResponseReturnValue:
    form = DetailsForm()
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                children.update_details(
                    uow,
                    current_actor(),
                    child_id,
                    children.ChildDetails(
                        gender=form.gender.data,
                        family_home_name=form.family_home_name.data,
                        family_home_address=form.family_home_address.data,
                        family_home_phone=form.family_home_phone.data,
                        paying_municipality=form.paying_municipality.data,
                        child_views=form.child_views.data,
                    ),
                )
        except DomainError as error:
            show_error(form, error)
        else:
            return _back_to(child_id, _("The child's details were saved."))
    return _render_child(child_id, 422, details_form=form)


@blueprint.route("/children/<child_id>/guardians", methods=["POST"])
@requires(Permission.GUARDIAN_CREATE)
def add_guardian(child_id: str) -> ResponseReturnValue:
    form = GuardianForm()
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                consent.add_guardian(
                    uow,
                    current_actor(),
                    child_id,
                    form.name.data or "",
                    form.contact.data,
                    bool(form.has_custody.data),
                    today=_today(),
                )
        except DomainError as error:
            show_error(form, error)
        else:
            return _back_to(child_id, _("The guardian was added."))
    return _render_child(child_id, 422, guardian_form=form)


@blueprint.route("/children/<child_id>/consents", methods=["POST"])
@requires(Permission.CONSENT_RECORD)
def record_consent(child_id: str) -> ResponseReturnValue:
    form = ConsentForm()
    # The choices are the child's guardians; the service checks the party belongs to the
    # child, so the form accepts any submitted value and leaves that rule to it.
    form.party.choices = [SelectChoice(form.party.data or "", "")]
    form.description_version.choices = _version_choices()
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                consent.record_consent(
                    uow,
                    current_actor(),
                    child_id,
                    consent.ConsentInput(
                        party=form.party.data or "",
                        decision=form.decision.data or "",
                        categories=form.categories.data or [],
                        decided_on=form.decided_on.data or _today(),
                        valid_until=form.valid_until.data or _today(),
                        method=form.method.data or "",
                        description_version=form.description_version.data or "",
                    ),
                    today=_today(),
                )
        except DomainError as error:
            show_error(form, error)
        else:
            return _back_to(child_id, _("The consent decision was recorded."))
    return _render_child(child_id, 422, consent_form=form)


@blueprint.route("/children/<child_id>/referrals", methods=["POST"])
@requires(Permission.REFERRAL_CREATE)
def create_referral(child_id: str) -> ResponseReturnValue:
    form = ReferralForm()
    form.partner_id.choices = _partner_choices()
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                referrals.create_referral(
                    uow,
                    current_actor(),
                    referrals.NewReferral(
                        child_id=child_id,
                        partner_id=form.partner_id.data or "",
                        preferred_format=form.preferred_format.data or "",
                        notes=form.notes.data,
                    ),
                    today=_today(),
                )
        except DomainError as error:
            show_error(form, error)
        else:
            return _back_to(child_id, _("The referral was saved as a draft."))
    return _render_child(child_id, 422, referral_form=form)


def _referral_action(referral_id: str, act: str) -> ResponseReturnValue:
    form = PostOnlyForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("casework.children_page"))
    with request_uow() as uow:
        if act == "submit":
            referral = referrals.submit_referral(uow, current_actor(), referral_id, _today())
        else:
            referral = referrals.withdraw_referral(uow, current_actor(), referral_id)
        child_id, status = referral.child_id, referral.status
    messages = {
        "awaiting_consent": _("Submitted: waiting for consent before the partner sees it."),
        "shared": _("Submitted and shared with the partner on a lawful basis."),
        "withdrawn": _("The referral was withdrawn; the partner no longer sees the child."),
        "cancelled": _("The referral was cancelled."),
    }
    return _back_to(child_id, messages.get(status, _("Saved.")))


@blueprint.route("/referrals/<referral_id>/submit", methods=["POST"])
@requires(Permission.REFERRAL_CREATE)
def submit_referral(referral_id: str) -> ResponseReturnValue:
    return _referral_action(referral_id, "submit")


@blueprint.route("/referrals/<referral_id>/withdraw", methods=["POST"])
@requires(Permission.REFERRAL_WITHDRAW)
def withdraw_referral(referral_id: str) -> ResponseReturnValue:
    return _referral_action(referral_id, "withdraw")
