"""Programme B pages for the link worker: encounters (anonymous by default), youths (look-up
first, then register), one youth's record with its encounters, and linking an anonymous
encounter to a youth who agrees. Everything goes through referral.services.outreach; an
identifier travels in a POST body only and is never sent back in a re-rendered form."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from referral import clock
from referral.auth.forms import PostOnlyForm
from referral.errors import DomainError
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services import organisations, outreach
from referral.text_rules import PlainTextForm
from referral.web.access import current_actor, requires
from referral.web.casework import show_error
from referral.web.choices import SelectChoice

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


def _choices(labels: dict[str, object]) -> list[SelectChoice]:
    return [SelectChoice(value, str(label)) for value, label in labels.items()]


class EncounterForm(PlainTextForm):
    occurred_on = DateField(_l("Day"), validators=[DataRequired()])
    place = SelectField(_l("Place"), choices=_choices(PLACE_LABELS))
    needs = SelectMultipleField(_l("Needs met"), choices=_choices(NEED_LABELS))
    gender = SelectField(_l("Gender (for the follow-up counts)"), choices=_choices(GENDER_LABELS))
    age_band = SelectField(_l("Age (for the follow-up counts)"), choices=_choices(AGE_BAND_LABELS))


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
    gender = SelectField(_l("Gender"), choices=_choices(GENDER_LABELS))
    country_of_origin = StringField(
        _l("Country of origin"), validators=[Optional(), Length(max=outreach.MAX_COUNTRY)]
    )
    situation = SelectField(
        _l("Situation"), choices=[SelectChoice("", _("Not stated")), *_choices(SITUATION_LABELS)]
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


def _labels() -> dict[str, object]:
    return {
        "place_labels": PLACE_LABELS,
        "need_labels": NEED_LABELS,
        "situation_labels": SITUATION_LABELS,
        "gender_labels": GENDER_LABELS,
        "age_band_labels": AGE_BAND_LABELS,
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


def _district_choices() -> list[SelectChoice]:
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
    form.district_id.choices = _district_choices()
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
    form.district_id.choices = _district_choices()
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


@blueprint.route("/youths/<youth_id>")
@requires(Permission.YOUTH_READ)
def youth_page(youth_id: str) -> ResponseReturnValue:
    actor = current_actor()
    with request_uow() as uow:
        youth = outreach.read_youth(uow, actor, youth_id, clock.today())
        anonymous = outreach.encounters(uow, actor)
    return render_template(
        "outreach/youth.html",
        youth=youth,
        link_form=_link_form(anonymous),
        action_form=PostOnlyForm(),
        **_labels(),
    )


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
