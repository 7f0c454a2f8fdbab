"""The social worker's pages: the district's children, one child's record (placement basis,
guardians, consent, referrals) and the actions on it.

Every page that shows a child goes through referral.services.child_record, which writes the
access to the log first. A personnummer is only ever sent in a POST body, never in a URL; the
record shows it masked, and in full only in the answer to a POST that logged the look
(referral.services.personnummer_reveal). A refused form comes back with what was typed, the
personnummer too (every page is `Cache-Control: no-store`), but no message repeats it. A
save returns to the section of the record its form was in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.errors import DomainError, InvalidInput, NotFound, NotPermitted
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.rules import CHILD_PARTY, OWN_CONSENT_AGE
from referral.services import (
    activity_descriptions,
    case_numbers,
    child_record,
    children,
    consent,
    organisations,
    personnummer_reveal,
    referrals,
    responsible_workers,
)
from referral.web.access import current_actor, requires
from referral.web.casework_forms import (
    BASIS_LABELS,
    CATEGORY_LABELS,
    DECISION_LABELS,
    FORMAT_LABELS,
    GENDER_LABELS,
    METHOD_LABELS,
    ORDER_LABELS,
    SHOW_LABELS,
    STATUS_LABELS,
    CaseNumberForm,
    ConsentForm,
    DetailsForm,
    FindChildForm,
    GuardianForm,
    LvuSharingForm,
    PlacementForm,
    ReferralForm,
    RegisterChildForm,
    ResponsibleWorkerForm,
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


@dataclass(frozen=True)
class ListView:
    """Which of the district's children the list shows, in which order: from the query
    string, which carries these words only (never a name or a number)."""

    mine: bool = False
    order: child_record.ChildOrder = child_record.ChildOrder.NEWEST
    concern_only: bool = False

    @classmethod
    def from_query(cls) -> ListView:
        order = request.args.get("sort", "")
        return cls(
            mine=request.args.get("show") == "mine",
            order=(
                child_record.ChildOrder(order)
                if order in {o.value for o in child_record.ChildOrder}
                else child_record.ChildOrder.NEWEST
            ),
            concern_only=request.args.get("concern") == "1",
        )

    def url(
        self,
        *,
        mine: bool | None = None,
        order: child_record.ChildOrder | None = None,
        concern_only: bool | None = None,
    ) -> str:
        """The list's address with what is given changed: only what differs from the
        default goes in the query."""
        view = replace(
            self,
            mine=self.mine if mine is None else mine,
            order=self.order if order is None else order,
            concern_only=self.concern_only if concern_only is None else concern_only,
        )
        query: dict[str, Any] = {}
        if view.mine:
            query["show"] = "mine"
        if view.order is not child_record.ChildOrder.NEWEST:
            query["sort"] = view.order.value
        if view.concern_only:
            query["concern"] = "1"
        return url_for("casework.children_page", **query)


@blueprint.route("/children")
@requires(Permission.CHILD_READ)
def children_page() -> ResponseReturnValue:
    return _children_page(
        RegisterChildForm(formdata=None),
        FindChildForm(formdata=None, prefix="find"),
        view=ListView.from_query(),
    )


def _children_page(
    register: RegisterChildForm,
    find: FindChildForm,
    found: list[tuple[str, str]] | None = None,
    status: int = 200,
    *,
    view: ListView | None = None,
) -> ResponseReturnValue:
    view = view or ListView()
    with request_uow() as uow:
        rows = child_record.district_children(
            uow,
            current_actor(),
            _today(),
            concern_only=view.concern_only,
            mine=view.mine,
            order=view.order,
        )
    return render_template(
        "casework/children.html",
        children=rows,
        register_form=register,
        find_form=find,
        found=found,
        status_labels=STATUS_LABELS,
        show_labels=SHOW_LABELS,
        order_labels=ORDER_LABELS,
        view=view,
        orders=list(child_record.ChildOrder),
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
    # What was typed comes back, the personnummer too, so that one wrong digit is mended
    # rather than typed again: the page is never stored (no-store, as every page) and no
    # message repeats the number.
    return _children_page(form, FindChildForm(formdata=None, prefix="find"), status=422)


def _found(typed: str) -> list[tuple[str, str]]:
    """The district's children the search box finds: letters are a name or a case number,
    digits a personnummer in any common form, else a case number. Each child found is
    logged by the service that found it, and only those."""
    with request_uow() as uow:
        if any(character.isalpha() for character in typed):
            named = child_record.district_children_named(uow, current_actor(), typed, _today())
            return [(child.id, child.name) for child in named]
        try:
            matches = children.look_up_children(uow, current_actor(), typed)
        except InvalidInput:
            # Not a personnummer: perhaps a case number of digits ("2026-123"); if not,
            # the personnummer's rule is what the user needs to read.
            numbered = child_record.district_children_with_case_number(
                uow, current_actor(), typed, _today()
            )
            if not numbered:
                raise
            return [(child.id, child.name) for child in numbered]
        # Only id and name are shown; the search service logged each match.
        return [(child.id, child.name) for child in matches]


@blueprint.route("/children/find", methods=["POST"])
@requires(Permission.CHILD_SEARCH)
def find_child() -> ResponseReturnValue:
    form = FindChildForm(prefix="find")
    found: list[tuple[str, str]] | None = None
    if form.validate_on_submit():
        try:
            found = _found((form.personnummer.data or "").strip())
        except DomainError as error:
            show_error(form, error)
    if not form.errors:
        # Answered: the box is emptied, so the page of results never holds the number.
        # Refused: what was typed stays, to be mended (the error never repeats it).
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


def _render_child(
    child_id: str, status: int = 200, *, revealed: str | None = None, **given: FlaskForm
) -> ResponseReturnValue:
    today = _today()
    with request_uow() as uow:
        record = child_record.read_child_record(uow, current_actor(), child_id, today)
        # None for a reader who may not change the record (through an emergency grant).
        colleagues = responsible_workers.colleagues_to_choose(uow, current_actor(), child_id)
    forms: dict[str, FlaskForm] = {
        "case_form": CaseNumberForm(formdata=None, case_number=record.case_number),
        "responsible_form": ResponsibleWorkerForm(
            formdata=None, responsible_worker_id=record.responsible_worker_id or ""
        ),
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
    forms["responsible_form"].responsible_worker_id.choices = [
        SelectChoice("", _("No one")),
        *(SelectChoice(c.id, c.display_name) for c in colleagues or ()),
    ]
    return render_template(
        "casework/child.html",
        record=record,
        revealed=revealed,
        may_change=colleagues is not None,
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


def _back_to(child_id: str, message: str, section: str) -> ResponseReturnValue:
    """To the child's record, at the section (its id) whose form was saved: the user goes
    on where they were, not at the top of a long page."""
    flash(message, "info")
    return redirect(url_for("casework.child_page", child_id=child_id, _anchor=section))


@blueprint.route("/children/<child_id>/personnummer", methods=["POST"])
@requires(Permission.CHILD_READ)
def reveal_personnummer(child_id: str) -> ResponseReturnValue:
    """The record with the full personnummer, in the answer to this POST only: never in a
    URL or a redirect, and logged (as a look of its own) before it is returned."""
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("casework.child_page", child_id=child_id, _anchor="identity"))
    with request_uow() as uow:
        shown = personnummer_reveal.reveal_personnummer(uow, current_actor(), child_id)
    response = make_response(_render_child(child_id, revealed=shown.personnummer))
    response.headers["Cache-Control"] = "no-store"  # (as every page: this one above all)
    return response


@blueprint.route("/children/<child_id>/case-number", methods=["POST"])
@requires(Permission.CHILD_UPDATE)
def set_case_number(child_id: str) -> ResponseReturnValue:
    form = CaseNumberForm()
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                case_numbers.set_case_number(uow, current_actor(), child_id, form.case_number.data)
        except DomainError as error:
            show_error(form, error)
        else:
            return _back_to(child_id, _("The case number was saved."), "identity")
    return _render_child(child_id, 422, case_form=form)


@blueprint.route("/children/<child_id>/responsible", methods=["POST"])
@requires(Permission.CHILD_UPDATE)
def set_responsible_worker(child_id: str) -> ResponseReturnValue:
    form = ResponsibleWorkerForm()
    # The choices are the district's social workers; the service checks the one chosen.
    form.responsible_worker_id.choices = [SelectChoice(form.responsible_worker_id.data or "", "")]
    if form.validate_on_submit():
        try:
            with request_uow() as uow:
                responsible_workers.set_responsible_worker(
                    uow, current_actor(), child_id, form.responsible_worker_id.data
                )
        except DomainError as error:
            show_error(form, error)
        else:
            return _back_to(child_id, _("The responsible social worker was saved."), "identity")
    return _render_child(child_id, 422, responsible_form=form)


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
            return _back_to(child_id, _("The placement basis was recorded."), "placement")
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
            return _back_to(
                child_id, _("Your decision on what the partner may see was recorded."), "placement"
            )
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
            return _back_to(child_id, _("The child's details were saved."), "details")
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
            return _back_to(child_id, _("The guardian was added."), "guardians")
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
            return _back_to(child_id, _("The consent decision was recorded."), "consents")
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
            return _back_to(child_id, _("The referral was saved as a draft."), "referrals")
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
    return _back_to(child_id, messages.get(status, _("Saved.")), "referrals")


@blueprint.route("/referrals/<referral_id>/submit", methods=["POST"])
@requires(Permission.REFERRAL_CREATE)
def submit_referral(referral_id: str) -> ResponseReturnValue:
    return _referral_action(referral_id, "submit")


@blueprint.route("/referrals/<referral_id>/withdraw", methods=["POST"])
@requires(Permission.REFERRAL_WITHDRAW)
def withdraw_referral(referral_id: str) -> ResponseReturnValue:
    return _referral_action(referral_id, "withdraw")
