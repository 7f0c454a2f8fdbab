"""The administrator's page of API clients: the city's systems that call /api/v1 with a token.

Issuing takes two steps so the checkboxes can offer exactly what the role is granted, without
a script: first the organisation and a role its kind allows, then the name, the scopes and
how long the client is valid. The token is shown once, in the answer to the issue (or to a
replacement), never again; every page here is no-store like every other (web/headers.py).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from referral.auth import api_clients
from referral.auth.forms import PostOnlyForm
from referral.errors import DomainError
from referral.policy import Permission, client_scopes
from referral.request_scope import request_uow
from referral.text_rules import PlainTextForm
from referral.web.access import current_actor, requires
from referral.web.casework_forms import MultiCheckboxField

blueprint = Blueprint("api_clients", __name__, url_prefix="/admin/api-clients")


class IssueForm(PlainTextForm):
    name = StringField(
        _l("Name of the system"),
        validators=[DataRequired(), Length(max=api_clients.MAX_NAME)],
    )
    scopes = MultiCheckboxField(_l("Scopes: what the system may do"))
    valid_days = IntegerField(
        _l("Valid for (days)"),
        default=api_clients.DEFAULT_VALID_DAYS,
        validators=[NumberRange(min=1, max=api_clients.MAX_VALID_DAYS)],
    )


class RotateForm(PlainTextForm):
    grace_days = IntegerField(
        _l("Days the old token keeps working"),
        default=api_clients.DEFAULT_GRACE_DAYS,
        validators=[NumberRange(min=0, max=api_clients.MAX_GRACE_DAYS)],
    )


def _target() -> api_clients.Target:
    """The organisation and role of `?for=<organisation id>:<role>`, checked."""
    organisation_id, _colon, role = request.args.get("for", "").partition(":")
    if not organisation_id or not role:
        abort(404)
    with request_uow() as uow:
        return api_clients.target(uow, current_actor(), organisation_id, role)


@blueprint.route("")
@requires(Permission.API_CLIENT_MANAGE)
def clients_page() -> ResponseReturnValue:
    with request_uow() as uow:
        clients = api_clients.list_clients(uow, current_actor())
        targets = api_clients.targets(uow, current_actor())
    return render_template(
        "admin/api_clients.html",
        clients=clients,
        targets=targets,
        rotate_form=RotateForm(formdata=None),
        action_form=PostOnlyForm(),
    )


def _issue_page(
    target: api_clients.Target, form: IssueForm, status: int = 200
) -> ResponseReturnValue:
    return render_template("admin/api_clients.html", target=target, form=form), status


@blueprint.route("/new", methods=["GET", "POST"])
@requires(Permission.API_CLIENT_MANAGE)
def issue_page() -> ResponseReturnValue:
    target = _target()
    form = IssueForm()
    form.scopes.choices = [(p.value, p.value) for p in sorted(client_scopes(target.role))]
    if not form.validate_on_submit():
        return _issue_page(target, form, 422 if form.errors else 200)
    try:
        with request_uow() as uow:
            issued = api_clients.issue(
                uow,
                current_actor(),
                api_clients.NewClient(
                    organisation_id=target.organisation_id,
                    name=form.name.data or "",
                    role=target.role.value,
                    scopes=form.scopes.data or [],
                    valid_days=form.valid_days.data or api_clients.DEFAULT_VALID_DAYS,
                ),
            )
    except DomainError as error:
        if error.field not in form:
            raise
        form[error.field].errors = [*form[error.field].errors, error.message]
        return _issue_page(target, form, error.status)
    return render_template("admin/api_clients.html", issued=issued)


@blueprint.route("/<client_id>/rotate", methods=["POST"])
@requires(Permission.API_CLIENT_MANAGE)
def rotate(client_id: str) -> ResponseReturnValue:
    """A replacement with the same name, role and scopes; its token is shown once."""
    form = RotateForm()
    if not form.validate_on_submit():
        flash(
            _("The old token may work on for 0 to %(n)s days.", n=api_clients.MAX_GRACE_DAYS),
            "error",
        )
        return redirect(url_for("api_clients.clients_page"))
    grace_days = form.grace_days.data
    with request_uow() as uow:
        issued = api_clients.rotate(
            uow,
            current_actor(),
            client_id,
            api_clients.DEFAULT_GRACE_DAYS if grace_days is None else grace_days,
        )
    return render_template("admin/api_clients.html", issued=issued, replaced=True)


@blueprint.route("/<client_id>/revoke", methods=["POST"])
@requires(Permission.API_CLIENT_MANAGE)
def revoke(client_id: str) -> ResponseReturnValue:
    if PostOnlyForm().validate_on_submit():
        with request_uow() as uow:
            client = api_clients.revoke(uow, current_actor(), client_id)
        flash(_("%(name)s can no longer call the API with that token.", name=client.name), "info")
    return redirect(url_for("api_clients.clients_page"))
