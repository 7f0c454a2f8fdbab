"""The group leader's pages: the inbox of referrals that may lawfully be shown, and the
answer to each. What a leader sees of a child is the partner projection (referrals.PartnerView)
only; each card adds when the referral arrived and whom at the district to call
(services.inbox_cards)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import referrals
from referral.services.inbox_cards import partner_inbox_cards
from referral.web.access import current_actor, requires
from referral.web.casework_forms import FORMAT_LABELS, STATUS_LABELS
from referral.web.group_forms import EnrolForm
from referral.web.groups import enrol_choices

blueprint = Blueprint("partner", __name__, url_prefix="/partner")


@blueprint.route("/referrals")
@requires(Permission.REFERRAL_INBOX)
def inbox() -> ResponseReturnValue:
    today = clock.today()
    with request_uow() as uow:
        cards = partner_inbox_cards(uow, current_actor(), today)
    place_form = EnrolForm(formdata=None)
    # Only an accepted referral is offered a group: without one, the groups' places (every
    # planned group's children weighed under the law) need not be counted at all.
    awaiting_a_group = any(card.view.status == "accepted" for card in cards)
    place_form.group_id.choices = enrol_choices(today) if awaiting_a_group else []
    return render_template(
        "partner/inbox.html",
        cards=cards,
        action_form=PostOnlyForm(),
        place_form=place_form,
        status_labels=STATUS_LABELS,
        format_labels=FORMAT_LABELS,
    )


def _respond(referral_id: str, accept: bool) -> ResponseReturnValue:
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("partner.inbox"))
    with request_uow() as uow:
        referrals.respond(uow, current_actor(), referral_id, accept, clock.today())
    flash(_("The referral was accepted.") if accept else _("The referral was declined."), "info")
    return redirect(url_for("partner.inbox"))


@blueprint.route("/referrals/<referral_id>/accept", methods=["POST"])
@requires(Permission.REFERRAL_RESPOND)
def accept(referral_id: str) -> ResponseReturnValue:
    return _respond(referral_id, accept=True)


@blueprint.route("/referrals/<referral_id>/decline", methods=["POST"])
@requires(Permission.REFERRAL_RESPOND)
def decline(referral_id: str) -> ResponseReturnValue:
    return _respond(referral_id, accept=False)
