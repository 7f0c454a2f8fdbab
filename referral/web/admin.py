"""Administration pages: organisations (and their postal address) and staff accounts (and
their work phone: both go on the consent form a district prints)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from referral.auth.forms import PostOnlyForm
from referral.errors import DomainError
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.roles import OrganisationKind
from referral.services import organisations, users
from referral.text_rules import PlainTextForm
from referral.web.access import current_actor, requires
from referral.web.choices import choices_from

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

KIND_LABELS = {
    OrganisationKind.DISTRICT.value: _l("District administration (stadsdelsförvaltning)"),
    OrganisationKind.PARTNER.value: _l("Non-profit partner (idéburen organisation)"),
    OrganisationKind.CITY.value: _l("The city"),
}


class OrganisationForm(PlainTextForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=choices_from(KIND_LABELS))
    org_number = StringField(_l("Organisation number"), validators=[Optional(), Length(max=13)])
    social_emergency_service = BooleanField(
        _l(
            "The social emergency service (socialjouren): receives the concern reports about "
            "children no district is known for"
        )
    )


class PostalAddressForm(PlainTextForm):
    postal_address = TextAreaField(_l("Postal address"), render_kw={"rows": 3})


class WorkPhoneForm(PlainTextForm):
    work_phone = StringField(_l("Work phone"))


@dataclass(frozen=True)
class RowError:
    """A refused change on one row of a list: whose row, what was typed, and why."""

    row_id: str
    typed: str
    message: str


def _organisations_page(
    form: OrganisationForm, status: int = 200, address_error: RowError | None = None
) -> ResponseReturnValue:
    with request_uow() as uow:
        rows = organisations.list_organisations(uow, current_actor())
    return render_template(
        "admin/organisations.html",
        form=form,
        organisations=rows,
        kind_labels=KIND_LABELS,
        address_form=PostalAddressForm(formdata=None),
        address_error=address_error,
    ), status


@blueprint.route("/organisations", methods=["GET", "POST"])
@requires(Permission.ORGANISATION_LIST)
def organisations_page() -> ResponseReturnValue:
    actor = current_actor()
    form = OrganisationForm()
    status = 200
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                organisations.add_organisation(
                    uow,
                    actor,
                    organisations.NewOrganisation(
                        name=form.name.data or "",
                        kind=form.kind.data or "",
                        org_number=form.org_number.data,
                        social_emergency_service=bool(form.social_emergency_service.data),
                    ),
                )
        except DomainError as error:
            field = error.field if error.field in form else "name"
            form[field].errors.append(error.message)
            status = error.status
        else:
            flash(_("The organisation was added."), "info")
            return redirect(url_for("admin.organisations_page"))
    elif form.errors:
        status = 422
    return _organisations_page(form, status)


@blueprint.route("/organisations/<organisation_id>/postal-address", methods=["POST"])
@requires(Permission.ORGANISATION_UPDATE)
def set_postal_address(organisation_id: str) -> ResponseReturnValue:
    """The return address on the consent forms the organisation prints."""
    form = PostalAddressForm()
    if not form.validate_on_submit():
        message = next(iter(form.errors.get("postal_address", [])), _("Try again."))
        typed = request.form.get("postal_address", "")
        return _organisations_page(
            OrganisationForm(formdata=None), 422, RowError(organisation_id, typed, message)
        )
    try:
        with request_uow() as uow:
            changed = organisations.set_postal_address(
                uow, current_actor(), organisation_id, form.postal_address.data
            )
    except DomainError as error:
        if error.field != "postal_address":  # no such organisation: the error page says so
            raise
        typed = form.postal_address.data or ""
        return _organisations_page(
            OrganisationForm(formdata=None),
            error.status,
            RowError(organisation_id, typed, error.message),
        )
    flash(_("The postal address of %(name)s is saved.", name=changed.name), "info")
    return redirect(url_for("admin.organisations_page", _anchor=f"org-{changed.id}"))


def _users_page(status: int = 200, phone_error: RowError | None = None) -> ResponseReturnValue:
    with request_uow() as uow:
        rows = users.list_users(uow, current_actor())
    return render_template(
        "admin/users.html",
        users=rows,
        action_form=PostOnlyForm(),
        phone_form=WorkPhoneForm(formdata=None),
        phone_error=phone_error,
    ), status


@blueprint.route("/users")
@requires(Permission.USER_LIST)
def users_page() -> ResponseReturnValue:
    return _users_page()


@blueprint.route("/users/<user_id>/work-phone", methods=["POST"])
@requires(Permission.USER_UPDATE)
def set_work_phone(user_id: str) -> ResponseReturnValue:
    """The work phone printed on the consent forms naming this staff member; checked by the
    service, which says what a phone number may hold."""
    form = WorkPhoneForm()
    if not form.validate_on_submit():
        message = next(iter(form.errors.get("work_phone", [])), _("Try again."))
        return _users_page(422, RowError(user_id, request.form.get("work_phone", ""), message))
    try:
        with request_uow() as uow:
            changed = users.set_work_phone(uow, current_actor(), user_id, form.work_phone.data)
    except DomainError as error:
        if error.field != "work_phone":  # no such account: the error page says so
            raise
        return _users_page(
            error.status, RowError(user_id, form.work_phone.data or "", error.message)
        )
    flash(_("The work phone of %(name)s is saved.", name=changed.display_name), "info")
    return redirect(url_for("admin.users_page", _anchor=f"user-{changed.id}"))


@blueprint.route("/users/<user_id>/disable", methods=["POST"])
@requires(Permission.USER_DISABLE)
def disable_user(user_id: str) -> ResponseReturnValue:
    if PostOnlyForm().validate_on_submit():
        with request_uow() as uow:
            user = users.disable_user(uow, current_actor(), user_id)
        flash(_("%(name)s can no longer log in.", name=user.username), "info")
    return redirect(url_for("admin.users_page"))


@blueprint.route("/users/<user_id>/reset-mfa", methods=["POST"])
@requires(Permission.USER_RESET_MFA)
def reset_mfa(user_id: str) -> ResponseReturnValue:
    if PostOnlyForm().validate_on_submit():
        with request_uow() as uow:
            user = users.reset_mfa(uow, current_actor(), user_id)
        flash(
            _("%(name)s will enrol a new authenticator at the next login.", name=user.username),
            "info",
        )
    return redirect(url_for("admin.users_page"))


@blueprint.route("/users/<user_id>/end-sessions", methods=["POST"])
@requires(Permission.USER_END_SESSIONS)
def end_sessions(user_id: str) -> ResponseReturnValue:
    """A lost phone, a shared computer left signed in: every session of the account ends,
    and the account stays usable."""
    if not PostOnlyForm().validate_on_submit():
        return redirect(url_for("admin.users_page"))
    with request_uow() as uow:
        user = users.end_sessions(uow, current_actor(), user_id)
    flash(
        _("Every session of %(name)s has ended; they can sign in again.", name=user.username),
        "info",
    )
    return redirect(url_for("admin.users_page", _anchor=f"user-{user.id}"))
