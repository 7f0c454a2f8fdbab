"""An administrator's page for one staff account's sign-in through identity providers: the
subjects it is linked to, the invitations made for it, and a new invitation, whose link is
shown once (only the token's hash is kept)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from config.settings import Settings
from referral import clock
from referral.auth import oidc, oidc_accounts
from referral.auth.forms import PostOnlyForm
from referral.errors import DomainError
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.web.access import current_actor, requires

blueprint = Blueprint("invitations", __name__, url_prefix="/admin/users")


def _settings() -> Settings:
    settings: Settings = current_app.config["REFERRAL_SETTINGS"]
    return settings


def _page(
    user_id: str,
    status: int = 200,
    new: oidc_accounts.NewInvitation | None = None,
    error: str | None = None,
) -> ResponseReturnValue:
    with request_uow() as uow:
        page = oidc_accounts.account_sign_in(
            uow, current_actor(), user_id, _settings().oidc_providers
        )
    return render_template(
        "admin/invitations.html",
        page=page,
        form=PostOnlyForm(),
        new=new,
        link=oidc.invitation_link(new.token) if new else None,
        error=error,
        now=clock.now(),
        provider_names={p.key: p.display_name for p in _settings().oidc_providers},
    ), status


@blueprint.route("/<user_id>/sign-in")
@requires(Permission.USER_INVITE)
def sign_in_page(user_id: str) -> ResponseReturnValue:
    return _page(user_id)


@blueprint.route("/<user_id>/sign-in/invitations", methods=["POST"])
@requires(Permission.USER_INVITE)
def invite(user_id: str) -> ResponseReturnValue:
    if not PostOnlyForm().validate_on_submit():
        return _page(user_id, 400, error=_("The form had expired. Try again."))
    provider = _settings().oidc_provider(request.form.get("provider", ""))
    if provider is None:
        return _page(user_id, 422, error=_("Choose an identity provider."))
    try:
        with request_uow() as uow:
            new = oidc_accounts.invite(
                uow, current_actor(), user_id, provider, oidc.invitation_lifetime()
            )
    except DomainError as refusal:
        if refusal.field != "provider":  # no such account: the error page says so
            raise
        return _page(user_id, refusal.status, error=refusal.message)
    # Shown once, on this answer only: the page says so, and nothing keeps the token.
    return _page(user_id, 201, new=new)
