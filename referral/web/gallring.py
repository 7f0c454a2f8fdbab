"""The retention page (gallring) for the DPO and administrators: what a run would purge now,
what is held and why, what is kept and on which basis, the last runs, and the holds, which
either of them sets and releases with a reason. Runs themselves belong to the operator's
timer (`flask gallring run`)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.errors import DomainError
from referral.policy import Permission, can
from referral.request_scope import request_uow
from referral.services.gallring import engine, holds
from referral.services.gallring.rules import RULES_BY_NAME
from referral.text_rules import PlainTextForm
from referral.web.access import current_actor, requires
from referral.web.formatting import local

blueprint = Blueprint("gallring", __name__, url_prefix="/gallring")

HOLD_LABELS = {
    holds.HoldKind.LEGAL_HOLD.value: _l("Legal hold"),
    holds.HoldKind.OPEN_CONCERN_REPORT.value: _l("Unacknowledged concern report"),
}


class HoldForm(PlainTextForm):
    rule = HiddenField(validators=[DataRequired()])
    unit_id = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(
        _l("Reason for the hold"), validators=[DataRequired(), Length(max=holds.REASON_MOST)]
    )


def period_words(retention: dict[str, int]) -> dict[str, str]:
    """A rule's configured period as words for its %(period)s: a period may be set to one
    day or one year, and "1 dagar" is not Swedish."""
    if "days" in retention:
        return {"period": ngettext("%(num)s day", "%(num)s days", retention["days"])}
    if "years" in retention:
        return {"period": ngettext("%(num)s year", "%(num)s years", retention["years"])}
    return {}


def basis_of(name: str) -> str:
    """A rule's basis, with the period this deployment is configured for."""
    rule = RULES_BY_NAME[name]
    return str(rule.help % period_words(rule.retention(current_app.config["REFERRAL_SETTINGS"])))


def label_of(name: str) -> str:
    return str(RULES_BY_NAME[name].label)


def _page(form: HoldForm | None = None, status: int = 200) -> ResponseReturnValue:
    actor = current_actor()
    settings = current_app.config["REFERRAL_SETTINGS"]
    with request_uow() as uow:
        plan = engine.plan(uow, actor, settings, clock.today())
        runs = engine.last_runs(uow, actor)
        held = holds.holds(uow, actor)
    return render_template(
        "gallring/plan.html",
        plan=plan,
        runs=runs,
        holds=held,
        form=form or HoldForm(formdata=None),
        release_form=PostOnlyForm(),
        may_hold=can(actor, Permission.LEGAL_HOLD_SET),
        label_of=label_of,
        basis_of=basis_of,
        hold_labels=HOLD_LABELS,
        local=local,
    ), status


@blueprint.route("")
@requires(Permission.GALLRING_READ)
def plan_page() -> ResponseReturnValue:
    return _page()


@blueprint.route("/holds", methods=["POST"])
@requires(Permission.LEGAL_HOLD_SET)
def set_hold() -> ResponseReturnValue:
    form = HoldForm()
    if not form.validate():
        return _page(form, 422)
    try:
        with request_uow() as uow:
            holds.set_hold(
                uow,
                current_actor(),
                current_app.config["REFERRAL_SETTINGS"],
                form.rule.data or "",
                form.unit_id.data or "",
                form.reason.data,
                clock.today(),
            )
    except DomainError as error:
        if error.status == 404:
            raise
        form.reason.errors = [*form.reason.errors, error.message]
        return _page(form, error.status)
    flash(_("The hold is set: nothing of this record is purged while it stands."), "success")
    return redirect(url_for("gallring.plan_page", _anchor="holds"))


@blueprint.route("/holds/<hold_id>/release", methods=["POST"])
@requires(Permission.LEGAL_HOLD_SET)
def release_hold(hold_id: str) -> ResponseReturnValue:
    if not PostOnlyForm().validate():
        return redirect(url_for("gallring.plan_page"))
    with request_uow() as uow:
        holds.release_hold(uow, current_actor(), hold_id)
    flash(_("The hold is released: the record is purged by the next run if it is due."), "success")
    return redirect(url_for("gallring.plan_page", _anchor="holds"))
