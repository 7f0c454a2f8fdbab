"""The data-protection officer's pages: the access log, subject-access reports, integrity
and alerts. Nothing here shows the content of a case."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.clock import STOCKHOLM
from referral.db.base import utcnow
from referral.errors import DomainError
from referral.policy import Permission
from referral.request_scope import StreamOnOwnSession, request_session, request_uow
from referral.services import (
    audit_alerts,
    audit_integrity,
    audit_search,
    emergency_access,
    organisations,
    subject_access,
)
from referral.web.access import current_actor, requires
from referral.web.choices import SelectChoice
from referral.web.dpo_forms import AuditFilterForm, PersonnummerForm
from referral.web.formatting import stockholm_time

blueprint = Blueprint("dpo", __name__, url_prefix="/dpo")


def _utc(moment: datetime | None) -> datetime | None:
    """The filter's time as the DPO typed it, on Stockholm's clock."""
    return moment.replace(tzinfo=STOCKHOLM).astimezone(UTC) if moment else None


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    with request_uow() as uow:
        named = organisations.names_for_the_log(uow, current_actor())
    form.organisation_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(o.id, o.name) for o in named
    ]
    return form


def _criteria(form: AuditFilterForm) -> audit_search.AuditFilter:
    return audit_search.AuditFilter(
        since=_utc(form.since.data),
        until=_utc(form.until.data),
        actor=form.actor.data or None,
        organisation_id=form.organisation_id.data or None,
        action=form.action.data or None,
        outcome=form.outcome.data or None,
        subjects=tuple(request.args.getlist("subject")),
    )


@blueprint.route("/audit")
@requires(Permission.AUDIT_SEARCH)
def audit_log() -> ResponseReturnValue:
    form = _filter_form()
    if request.args and not form.validate():
        return render_template(
            "dpo/audit.html", form=form, page=None, person_form=PersonnummerForm()
        ), 422
    with request_uow() as uow:
        page = audit_search.search(uow, current_actor(), _criteria(form), form.before.data)
    next_args: dict[str, Any] = {**request.args.to_dict(flat=False), "before": page.next_before}
    return render_template(
        "dpo/audit.html",
        form=form,
        page=page,
        person_form=PersonnummerForm(),
        next_url=url_for("dpo.audit_log", **next_args) if page.next_before else None,
        export_args=request.args.to_dict(flat=False),
    )


@blueprint.route("/audit/person", methods=["POST"])
@requires(Permission.AUDIT_SEARCH)
def audit_for_person() -> ResponseReturnValue:
    """Turn a posted personnummer into pseudonymous subject ids for the filter."""
    form = PersonnummerForm()
    if not form.validate_on_submit():
        flash(_("Enter a personnummer or samordningsnummer."), "error")
        return redirect(url_for("dpo.audit_log"))
    try:
        subjects = audit_search.subjects_for_personnummer(
            request_session(), form.personnummer.data or ""
        )
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("dpo.audit_log"))
    if not subjects:
        flash(_("No record of that person is held."), "info")
        return redirect(url_for("dpo.audit_log"))
    return redirect(url_for("dpo.audit_log", subject=subjects))


@blueprint.route("/audit/export")
@requires(Permission.AUDIT_EXPORT)
def export() -> ResponseReturnValue:
    form = _filter_form()
    fmt = request.args.get("format", "csv")
    if fmt not in {"csv", "jsonl"} or not form.validate():
        return render_template(
            "error.html",
            status=422,
            title=_("The input was not accepted"),
            detail=_("Choose CSV or JSON Lines and valid filters."),
        ), 422
    actor, criteria = current_actor(), _criteria(form)
    # Streamed as it is read, so an export of the whole log is never whole in a worker's
    # memory (issue 18).
    body = StreamOnOwnSession(lambda uow: audit_search.export(uow, actor, criteria, fmt))
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename=access-log-{stamp}.{fmt}"},
    )


@blueprint.route("/subject-access", methods=["GET", "POST"])
@requires(Permission.AUDIT_SUBJECT_REPORT)
def subject_access_page() -> ResponseReturnValue:
    form = PersonnummerForm()
    report = None
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                report = subject_access.subject_access_report(
                    uow, current_actor(), form.personnummer.data or ""
                )
        except DomainError as error:
            form.personnummer.errors = [error.message]
            _forget_personnummer(form)
            return render_template("dpo/subject_access.html", form=form, report=None), error.status
        if request.form.get("download"):
            stamp = clock.now().strftime("%Y%m%d")
            return Response(
                report.as_csv(),
                mimetype="text/csv",
                headers={"Content-Disposition": f"attachment; filename=subject-access-{stamp}.csv"},
            )
    status = 422 if form.errors else 200
    _forget_personnummer(form)
    return render_template("dpo/subject_access.html", form=form, report=report), status


def _forget_personnummer(form: PersonnummerForm) -> None:
    """The page never repeats the number typed (a real person's, in a page that may be
    cached, printed or shown on a shared screen): the field is empty after every submit and
    the report names the person by pseudonymous id only."""
    form.personnummer.data = ""
    form.personnummer.raw_data = []


@blueprint.route("/integrity")
@requires(Permission.AUDIT_SEARCH)
def integrity() -> ResponseReturnValue:
    with request_uow() as uow:
        status = audit_integrity.integrity_status(uow, current_actor())
    return render_template("dpo/integrity.html", status=status, action_form=PostOnlyForm())


@blueprint.route("/integrity/verify", methods=["POST"])
@requires(Permission.AUDIT_VERIFY)
def verify_now() -> ResponseReturnValue:
    if PostOnlyForm().validate_on_submit():
        with request_uow() as uow:
            report = audit_integrity.verify_and_record(uow, current_actor())
        if report.ok:
            flash(
                ngettext(
                    "The log is intact: %(num)s entry verified.",
                    "The log is intact: %(num)s entries verified.",
                    report.entries_checked,
                ),
                "info",
            )
        else:
            flash(_("The log has been tampered with: %(reason)s", reason=report.reason), "error")
    return redirect(url_for("dpo.integrity"))


@blueprint.route("/integrity/checkpoint", methods=["POST"])
@requires(Permission.AUDIT_VERIFY)
def checkpoint_now() -> ResponseReturnValue:
    if PostOnlyForm().validate_on_submit():
        with request_uow() as uow:
            checkpoint = audit_integrity.checkpoint_now(uow, current_actor())
        if checkpoint is not None:
            flash(_("Checkpoint signed at entry %(n)s.", n=checkpoint.sequence), "info")
    return redirect(url_for("dpo.integrity"))


@blueprint.route("/alerts")
@requires(Permission.AUDIT_SEARCH)
def alerts() -> ResponseReturnValue:
    settings = current_app.config["REFERRAL_SETTINGS"]
    with request_uow() as uow:
        found = audit_alerts.alerts(uow, current_actor(), settings)
    return render_template("dpo/alerts.html", alerts=found, settings=settings)


@blueprint.route("/emergency-access")
@requires(Permission.EMERGENCY_REVIEW)
def emergency_grants() -> ResponseReturnValue:
    """Every emergency access with its reason: the DPO judges whether the reason held."""
    with request_uow() as uow:
        grants = emergency_access.grants_for_review(uow, current_actor(), utcnow())
    return render_template("dpo/emergency.html", grants=grants, local=stockholm_time)
