"""Programme B pages for the link worker: encounters (anonymous by default), youths (look-up
first, then register), one youth's record with its encounters, and linking an anonymous
encounter to a youth who agrees. Everything goes through referral.services.outreach; an
identifier travels in a POST body only and is never sent back in a re-rendered form."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.clock import STOCKHOLM
from referral.errors import DomainError
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import duplicates, findings, link_cases, organisations, outreach
from referral.services.concern_reports import MAX_CONTACT, MAX_TEXT
from referral.text_rules import PlainTextForm
from referral.web.access import current_actor, requires
from referral.web.casework import show_error
from referral.web.choices import SelectChoice, choices_from
from referral.web.concern import acknowledgement_rule
from referral.web.formatting import local as stockholm_local

blueprint = Blueprint("outreach", __name__, url_prefix="/outreach")

PLACE_LABELS = {
    "sergels_torg": _l("Sergels torg"),
    "centralstationen": _l("Centralstationen"),
    "medborgarplatsen": _l("Medborgarplatsen"),
    "meeting_place": _l("Our meeting place"),
    "other": _l("Other place"),
}
NEED_LABELS = {
    "basic_needs": _l("Basic needs (food, clothes, a place to sleep)"),
    "meeting_place": _l("Safe meeting place"),
    "supportive_talk": _l("Supportive talk"),
    "legal_social_advice": _l("Legal and social advice"),
    "family_or_return_advice": _l("Family reunification or return"),
    "healthcare_referral": _l("Healthcare referral"),
    "youth_clinic": _l("Youth clinic"),
}
SITUATION_LABELS = {
    "asylum_process": _l("In the asylum process"),
    "rejected": _l("Application rejected"),
    "no_contact_with_authorities": _l("No contact with authorities"),
    "absconded": _l("Absconded (avviken)"),
    "missing": _l("Missing (försvunnen)"),
}
GENDER_LABELS = {"": _l("Not stated"), "girl": _l("Girl"), "boy": _l("Boy"), "other": _l("Other")}
AGE_BAND_LABELS = {
    "": _l("Not stated"),
    "under_15": _l("Under 15"),
    "15_17": _l("15–17"),
    "18_20": _l("18–20"),
    "unknown": _l("Unknown"),
}


class EncounterForm(PlainTextForm):
    occurred_on = DateField(_l("Day"), validators=[DataRequired()])
    place = SelectField(_l("Place"), choices=choices_from(PLACE_LABELS))
    needs = SelectMultipleField(_l("Needs met"), choices=choices_from(NEED_LABELS))
    gender = SelectField(
        _l("Gender (for the follow-up counts)"), choices=choices_from(GENDER_LABELS)
    )
    age_band = SelectField(
        _l("Age (for the follow-up counts)"), choices=choices_from(AGE_BAND_LABELS)
    )


class YouthForm(PlainTextForm):
    alias = StringField(
        _l("Alias or first name"), validators=[DataRequired(), Length(max=outreach.MAX_ALIAS)]
    )
    personnummer = StringField(
        _l("Personnummer or samordningsnummer (if the youth agrees)"),
        validators=[Optional(), Length(max=13)],
        render_kw={"autocomplete": "off", "inputmode": "numeric"},
    )
    lma_number = StringField(
        _l("LMA-card number"),
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "off", "inputmode": "numeric"},
    )
    dossier_number = StringField(
        _l("Migrationsverket's dossier number"),
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "off", "inputmode": "numeric"},
    )
    birth_year = IntegerField(
        _l("Birth year, if no personnummer"), validators=[Optional(), NumberRange(1900, 2200)]
    )
    gender = SelectField(_l("Gender"), choices=choices_from(GENDER_LABELS))
    country_of_origin = StringField(
        _l("Country of origin"), validators=[Optional(), Length(max=outreach.MAX_COUNTRY)]
    )
    situation = SelectField(
        _l("Situation"),
        choices=[SelectChoice("", _l("Not stated")), *choices_from(SITUATION_LABELS)],
    )
    district_id = SelectField(_l("Responsible district, if known"))


class LookupForm(PlainTextForm):
    identifier = StringField(
        _l("Personnummer, samordningsnummer, LMA-card or dossier number"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autocomplete": "off", "inputmode": "numeric"},
    )


class LinkForm(PlainTextForm):
    encounter_id = SelectField(_l("Anonymous encounter"), validators=[DataRequired()])


AUTHORITY_LABELS = {
    "district_social_services": _l("The district's social services"),
    "socialjouren": _l("Socialjouren"),
    "migrationsverket": _l("Migrationsverket"),
    "police": _l("The police"),
    "healthcare": _l("Healthcare"),
    "dental_care": _l("Dental care"),
    "god_man": _l("God man"),
    "public_counsel": _l("Public counsel (offentligt biträde)"),
    "youth_clinic": _l("Youth clinic"),
}
CATEGORY_LABELS = {
    "identity": _l("Identity (alias and identifiers)"),
    "contact": _l("Contact"),
    "situation": _l("Situation"),
    "needs": _l("Needs met"),
}
GIVER_LABELS = {
    "youth": _l("The youth (from 18)"),
    "god_man": _l("God man"),
    "guardian": _l("Guardian (vårdnadshavare)"),
    "social_services": _l("Social services, where the law requires"),
}
STEP_LABELS = {
    "initiated": _l("Initiated"),
    "contact_made": _l("Contact made"),
    "handed_over": _l("Handed over"),
    "closed": _l("Closed"),
}
OUTCOME_LABELS = {
    "back_in_welfare": _l("Back in the welfare system"),
    "declined": _l("Declined"),
    "lost_contact": _l("Lost contact"),
    "other": _l("Other"),
}
BASIS_LABELS = {
    "youth_consent": _l("the youth's consent"),
    "representative_consent": _l("a god man's or guardian's consent"),
    "social_services": _l("social services"),
}


class YouthConsentForm(PlainTextForm):
    authority = SelectField(_l("To"), choices=choices_from(AUTHORITY_LABELS))
    purpose = TextAreaField(
        _l("Purpose"), validators=[DataRequired(), Length(max=link_cases.MAX_PURPOSE)]
    )
    categories = SelectMultipleField(
        _l("What may be handed over"), choices=choices_from(CATEGORY_LABELS)
    )
    given_by = SelectField(_l("Given by"), choices=choices_from(GIVER_LABELS))
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    valid_until = DateField(_l("Valid until"), validators=[DataRequired()])
    legal_reference = StringField(
        _l("Provision social services acts on"),
        validators=[Optional(), Length(max=link_cases.MAX_REFERENCE)],
    )


class LinkCaseForm(PlainTextForm):
    authority = SelectField(_l("Link to"), choices=choices_from(AUTHORITY_LABELS))
    district_id = SelectField(_l("District (for a district's social services)"))
    purpose = TextAreaField(
        _l("Purpose"), validators=[DataRequired(), Length(max=link_cases.MAX_PURPOSE)]
    )
    next_due_on = DateField(_l("Contact due by"), validators=[DataRequired()])


class StepForm(PlainTextForm):
    step = SelectField(_l("Step"), choices=choices_from(STEP_LABELS))
    done_on = DateField(_l("Done on"), validators=[DataRequired()])
    next_due_on = DateField(_l("Next step due by"), validators=[Optional()])
    categories = SelectMultipleField(
        _l("Handed over (at hand-over)"), choices=choices_from(CATEGORY_LABELS)
    )
    outcome = SelectField(
        _l("Outcome (at closing)"),
        choices=[SelectChoice("", _l("Not stated")), *choices_from(OUTCOME_LABELS)],
    )


def _labels() -> dict[str, object]:
    return {
        "place_labels": PLACE_LABELS,
        "need_labels": NEED_LABELS,
        "situation_labels": SITUATION_LABELS,
        "gender_labels": GENDER_LABELS,
        "age_band_labels": AGE_BAND_LABELS,
        "authority_labels": AUTHORITY_LABELS,
        "category_labels": CATEGORY_LABELS,
        "giver_labels": GIVER_LABELS,
        "step_labels": STEP_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "basis_labels": BASIS_LABELS,
    }


# --- encounters ----------------------------------------------------------------------------


def _encounters_page(form: EncounterForm, status: int = 200) -> ResponseReturnValue:
    with request_uow() as uow:
        found = outreach.encounters(uow, current_actor())
    return render_template(
        "outreach/encounters.html", form=form, encounters=found, **_labels()
    ), status


@blueprint.route("")
@requires(Permission.ENCOUNTER_RECORD)
def encounters_page() -> ResponseReturnValue:
    return _encounters_page(EncounterForm(formdata=None, occurred_on=clock.today()))


@blueprint.route("/encounters", methods=["POST"])
@requires(Permission.ENCOUNTER_RECORD)
def record_encounter() -> ResponseReturnValue:
    form = EncounterForm()
    if form.validate_on_submit():
        assert form.occurred_on.data is not None  # DataRequired
        new = outreach.NewEncounter(
            occurred_on=form.occurred_on.data,
            place=form.place.data or "",
            needs=tuple(form.needs.data or ()),
            gender=form.gender.data or None,
            age_band=form.age_band.data or None,
        )
        try:
            with request_uow() as uow:
                outreach.record_encounter(uow, current_actor(), new, clock.today())
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The encounter was recorded, without identity."), "info")
            return redirect(url_for("outreach.encounters_page"))
    return _encounters_page(form, 422)


# --- youths --------------------------------------------------------------------------------


def _districtchoices_from() -> list[SelectChoice]:
    with request_uow() as uow:
        districts = organisations.district_names(uow, current_actor(), Permission.YOUTH_REGISTER)
    return [SelectChoice("", _("Not known")), *(SelectChoice(d.id, d.name) for d in districts)]


def _youths_page(
    form: YouthForm,
    lookup: LookupForm,
    found: list[outreach.YouthMatch] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    for field in (form.personnummer, form.lma_number, form.dossier_number, lookup.identifier):
        field.data = ""  # never send a typed identifier back to the browser
    form.district_id.choices = _districtchoices_from()
    with request_uow() as uow:
        listed = outreach.youths(uow, current_actor(), clock.today())
    return render_template(
        "outreach/youths.html",
        form=form,
        lookup=lookup,
        found=found,
        youths=listed,
        **_labels(),
    ), status


@blueprint.route("/youths")
@requires(Permission.YOUTH_READ)
def youths_page() -> ResponseReturnValue:
    return _youths_page(YouthForm(formdata=None), LookupForm(formdata=None, prefix="find"))


@blueprint.route("/youths/find", methods=["POST"])
@requires(Permission.YOUTH_READ)
def find_youth() -> ResponseReturnValue:
    lookup = LookupForm(prefix="find")
    if lookup.validate_on_submit():
        try:
            with request_uow() as uow:
                found = outreach.find_youths(uow, current_actor(), lookup.identifier.data or "")
        except DomainError as error:
            show_error(lookup, error)
        else:
            return _youths_page(YouthForm(formdata=None), lookup, found)
    return _youths_page(YouthForm(formdata=None), lookup, status=422)


@blueprint.route("/youths", methods=["POST"])
@requires(Permission.YOUTH_REGISTER)
def register_youth() -> ResponseReturnValue:
    form = YouthForm()
    form.district_id.choices = _districtchoices_from()
    if form.validate_on_submit():
        new = outreach.NewYouth(
            alias=form.alias.data or "",
            personnummer=form.personnummer.data or None,
            lma_number=form.lma_number.data or None,
            dossier_number=form.dossier_number.data or None,
            birth_year=form.birth_year.data,
            gender=form.gender.data or None,
            country_of_origin=form.country_of_origin.data or None,
            situation=form.situation.data or None,
            district_id=form.district_id.data or None,
        )
        try:
            with request_uow() as uow:
                registered = outreach.register_youth(uow, current_actor(), new, clock.today())
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The youth was registered."), "info")
            return redirect(url_for("outreach.youth_page", youth_id=registered.id))
    return _youths_page(form, LookupForm(formdata=None, prefix="find"), status=422)


def _link_form(encounters: list[outreach.EncounterView]) -> LinkForm:
    form = LinkForm(formdata=None)
    form.encounter_id.choices = [
        SelectChoice(e.id, f"{e.occurred_on.isoformat()} · {PLACE_LABELS[e.place]}")
        for e in encounters
        if e.youth_id is None
    ]
    return form


class FoundForm(PlainTextForm):
    found_at = DateTimeLocalField(
        _l("Found at (date and time)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    place = SelectField(_l("Place"), choices=choices_from(PLACE_LABELS))
    # Shown only when the youth's record names no district; the service checks the choice.
    district_id = SelectField(
        _l("Responsible district, if the record names none"), validate_choice=False
    )
    what_happened = TextAreaField(
        _l("What happened (for the concern report)"),
        validators=[Optional(), Length(max=MAX_TEXT)],
    )
    reporter_contact = StringField(
        _l("How the district reaches you"), validators=[DataRequired(), Length(max=MAX_CONTACT)]
    )


def _step_prefix(case_id: str) -> str:
    return f"step-{case_id[:8]}"


def _youth_page(
    youth_id: str,
    consent_form: YouthConsentForm | None = None,
    case_form: LinkCaseForm | None = None,
    step_form: StepForm | None = None,
    failed_case: str | None = None,
    status: int = 200,
    found_form: FoundForm | None = None,
) -> ResponseReturnValue:
    actor = current_actor()
    today = clock.today()
    with request_uow() as uow:
        youth = outreach.read_youth(uow, actor, youth_id, today)
        anonymous = outreach.encounters(uow, actor)
        consents = link_cases.consents_of(uow, actor, youth_id)
        cases = link_cases.cases_of(uow, actor, youth_id, today, logged=True)
        found = findings.findings_of(uow, actor, youth_id)
        candidates = duplicates.candidates_for(uow, actor, youth_id)
        record_links = duplicates.links_of(uow, youth_id)
    case_form = case_form or LinkCaseForm(formdata=None, prefix="case", next_due_on=today)
    case_form.district_id.choices = _districtchoices_from()
    found_form = found_form or FoundForm(
        formdata=None,
        prefix="found",
        found_at=clock.now().astimezone(STOCKHOLM).replace(tzinfo=None, second=0, microsecond=0),
    )
    found_form.district_id.choices = _districtchoices_from()
    return render_template(
        "outreach/youth.html",
        youth=youth,
        consents=consents,
        cases=cases,
        link_form=_link_form(anonymous),
        consent_form=consent_form
        or YouthConsentForm(formdata=None, prefix="consent", valid_from=today),
        case_form=case_form,
        # One step form per open case, each with ids of its own.
        step_forms={
            case.id: step_form
            if step_form is not None and case.id == failed_case
            else StepForm(formdata=None, prefix=_step_prefix(case.id), done_on=today)
            for case in cases
        },
        failed_case=failed_case,
        findings=found,
        found_form=found_form,
        candidates=candidates,
        record_links=record_links,
        local=stockholm_local,
        action_form=PostOnlyForm(),
        **_labels(),
    ), status


@blueprint.route("/youths/<youth_id>")
@requires(Permission.YOUTH_READ)
def youth_page(youth_id: str) -> ResponseReturnValue:
    return _youth_page(youth_id)


@blueprint.route("/youths/<youth_id>/consents", methods=["POST"])
@requires(Permission.YOUTH_CONSENT_RECORD)
def record_consent(youth_id: str) -> ResponseReturnValue:
    form = YouthConsentForm(prefix="consent")
    if form.validate_on_submit():
        assert form.valid_from.data is not None and form.valid_until.data is not None
        new = link_cases.NewYouthConsent(
            authority=form.authority.data or "",
            purpose=form.purpose.data or "",
            categories=tuple(form.categories.data or ()),
            given_by=form.given_by.data or "",
            valid_from=form.valid_from.data,
            valid_until=form.valid_until.data,
            legal_reference=form.legal_reference.data or None,
        )
        try:
            with request_uow() as uow:
                link_cases.record_consent(uow, current_actor(), youth_id, new, clock.today())
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The consent was recorded."), "info")
            return redirect(url_for("outreach.youth_page", youth_id=youth_id, _anchor="consents"))
    return _youth_page(youth_id, consent_form=form, status=422)


@blueprint.route("/consents/<consent_id>/revoke", methods=["POST"])
@requires(Permission.YOUTH_CONSENT_RECORD)
def revoke_consent(consent_id: str) -> ResponseReturnValue:
    youth_id = request.form.get("youth_id", "")
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    else:
        with request_uow() as uow:
            link_cases.revoke_consent(uow, current_actor(), consent_id)
        flash(_("The consent was revoked: nothing more is handed over on it."), "info")
    return redirect(url_for("outreach.youth_page", youth_id=youth_id, _anchor="consents"))


@blueprint.route("/youths/<youth_id>/link-cases", methods=["POST"])
@requires(Permission.LINK_CASE_MANAGE)
def open_case(youth_id: str) -> ResponseReturnValue:
    form = LinkCaseForm(prefix="case")
    form.district_id.choices = _districtchoices_from()
    if form.validate_on_submit():
        assert form.next_due_on.data is not None
        new = link_cases.NewLinkCase(
            youth_id=youth_id,
            authority=form.authority.data or "",
            purpose=form.purpose.data or "",
            next_due_on=form.next_due_on.data,
            district_id=form.district_id.data or None,
        )
        try:
            with request_uow() as uow:
                link_cases.open_case(uow, current_actor(), new, clock.today())
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The link case was opened."), "info")
            return redirect(url_for("outreach.youth_page", youth_id=youth_id, _anchor="cases"))
    return _youth_page(youth_id, case_form=form, status=422)


@blueprint.route("/link-cases/<case_id>/steps", methods=["POST"])
@requires(Permission.LINK_CASE_MANAGE)
def record_step(case_id: str) -> ResponseReturnValue:
    youth_id = request.form.get("youth_id", "")
    form = StepForm(prefix=_step_prefix(case_id))
    if form.validate_on_submit():
        assert form.done_on.data is not None
        new = link_cases.NewStep(
            step=form.step.data or "",
            done_on=form.done_on.data,
            next_due_on=form.next_due_on.data,
            categories=tuple(form.categories.data or ()),
            outcome=form.outcome.data or None,
        )
        try:
            with request_uow() as uow:
                link_cases.record_step(uow, current_actor(), case_id, new, clock.today())
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("The step was recorded."), "info")
            return redirect(url_for("outreach.youth_page", youth_id=youth_id, _anchor="cases"))
    return _youth_page(youth_id, step_form=form, failed_case=case_id, status=422)


@blueprint.route("/youths/<youth_id>/link", methods=["POST"])
@requires(Permission.ENCOUNTER_LINK)
def link(youth_id: str) -> ResponseReturnValue:
    # The service checks that the encounter is the organisation's and anonymous.
    encounter_id = request.form.get("encounter_id", "")
    if not PostOnlyForm().validate_on_submit() or not encounter_id:
        flash(_("Choose an anonymous encounter."), "error")
        return redirect(url_for("outreach.youth_page", youth_id=youth_id))
    with request_uow() as uow:
        outreach.link_encounter(uow, current_actor(), encounter_id, youth_id)
    flash(_("The encounter was linked to the youth's record."), "info")
    return redirect(url_for("outreach.youth_page", youth_id=youth_id))


@blueprint.route("/youths/<youth_id>/found", methods=["POST"])
@requires(Permission.YOUTH_FOUND)
def record_found(youth_id: str) -> ResponseReturnValue:
    form = FoundForm(prefix="found")
    form.district_id.choices = _districtchoices_from()
    if form.validate_on_submit():
        assert form.found_at.data is not None
        new = findings.NewFinding(
            found_at=form.found_at.data.replace(tzinfo=STOCKHOLM),
            place=form.place.data or "",
            reporter_contact=form.reporter_contact.data or "",
            what_happened=form.what_happened.data or "",
            district_id=form.district_id.data or None,
        )
        try:
            with request_uow() as uow:
                found = findings.record_finding(
                    uow,
                    current_actor(),
                    youth_id,
                    new,
                    acknowledgement_rule(),
                    clock.today(),
                    clock.now(),
                )
        except DomainError as error:
            show_error(form, error)
        else:
            if found.concern_reference:
                flash(
                    _(
                        "Recorded, and %(district)s was told at once (concern report %(ref)s).",
                        district=found.district_name or "",
                        ref=found.concern_reference,
                    ),
                    "info",
                )
            else:
                flash(_("Recorded. From 18 the youth decides who is told."), "info")
            return redirect(url_for("outreach.youth_page", youth_id=youth_id, _anchor="found"))
    return _youth_page(youth_id, found_form=form, status=422)


@blueprint.route("/youths/<youth_id>/record-links", methods=["POST"])
@requires(Permission.YOUTH_REGISTER)
def link_records(youth_id: str) -> ResponseReturnValue:
    other_id = request.form.get("other_id", "")
    same = request.form.get("same") == "yes"
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    else:
        with request_uow() as uow:
            if same:
                duplicates.link_records(uow, current_actor(), youth_id, other_id)
            else:
                duplicates.dismiss_pair(uow, current_actor(), youth_id, other_id)
        flash(
            _("The records were linked: one youth.")
            if same
            else _("Noted: not the same youth. The pair is not proposed again."),
            "info",
        )
    return redirect(url_for("outreach.youth_page", youth_id=youth_id, _anchor="same-youth"))


@blueprint.route("/record-links/<link_id>/unlink", methods=["POST"])
@requires(Permission.YOUTH_REGISTER)
def unlink_records(link_id: str) -> ResponseReturnValue:
    youth_id = request.form.get("youth_id", "")
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    else:
        with request_uow() as uow:
            duplicates.unlink_records(uow, current_actor(), link_id)
        flash(_("The records stand apart again."), "info")
    return redirect(url_for("outreach.youth_page", youth_id=youth_id, _anchor="same-youth"))


@blueprint.route("/duplicates")
@requires(Permission.YOUTH_REGISTER)
def duplicates_page() -> ResponseReturnValue:
    with request_uow() as uow:
        pairs = duplicates.pending_pairs(uow, current_actor())
    return render_template("outreach/duplicates.html", pairs=pairs)


@blueprint.route("/handovers")
@requires(Permission.HANDOVER_READ)
def handovers() -> ResponseReturnValue:
    """For the district's social workers: what outreach handed over to them."""
    with request_uow() as uow:
        found = link_cases.handovers_to_district(uow, current_actor())
    return render_template("outreach/handovers.html", handovers=found, **_labels())


@blueprint.route("/encounters/<encounter_id>/unlink", methods=["POST"])
@requires(Permission.ENCOUNTER_LINK)
def unlink(encounter_id: str) -> ResponseReturnValue:
    if not PostOnlyForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("outreach.youths_page"))
    with request_uow() as uow:
        unlinked = outreach.unlink_encounter(uow, current_actor(), encounter_id)
    flash(_("The link was undone: the encounter is anonymous again."), "info")
    return redirect(url_for("outreach.encounters_page", _anchor=f"e-{unlinked.id}"))
