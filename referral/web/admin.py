"""Administration pages: organisations and staff accounts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
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
    with request_uow() as uow:
        rows = organisations.list_organisations(uow, actor)
    return render_template(
        "admin/organisations.html", form=form, organisations=rows, kind_labels=KIND_LABELS
    ), status


@blueprint.route("/users")
@requires(Permission.USER_LIST)
def users_page() -> ResponseReturnValue:
    with request_uow() as uow:
        rows = users.list_users(uow, current_actor())
    return render_template("admin/users.html", users=rows, action_form=PostOnlyForm())


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
