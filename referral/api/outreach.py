"""Programme B over the API: the link worker's youths and encounters (referral.services.outreach).
An anonymous encounter holds no identity; a youth's identifiers travel in POST bodies only."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from referral import clock
from referral.api.base import CONFLICT, NOT_FOUND, Blueprint
from referral.api.schemas import StrictSchema, choice_field, id_field, text_field
from referral.db.outreach import AgeBand, Authority, LinkStepKind, Need, Outcome, Place, Situation
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.rules import ConsentGiver, YouthCategory
from referral.services import duplicates, findings, link_cases, outreach
from referral.services.concern_reports import MAX_CONTACT, MAX_TEXT
from referral.web.access import current_actor, requires
from referral.web.concern import acknowledgement_rule

blueprint = Blueprint(
    "api_outreach",
    __name__,
    url_prefix="/api/v1/outreach",
    description="Programme B: youths met in outreach, and encounters (link workers)",
)
GENDERS = sorted(outreach.GENDERS)


class YouthIn(StrictSchema):
    alias = text_field(outreach.MAX_ALIAS, required=True)
    personnummer = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=13)
    )
    lma_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    dossier_number = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=20)
    )
    birth_year = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1900, max=2200)
    )
    gender = choice_field(GENDERS, load_default=None, allow_none=True)
    country_of_origin = text_field(outreach.MAX_COUNTRY, load_default=None, allow_none=True)
    situation = choice_field(list(Situation), load_default=None, allow_none=True)
    district_id = id_field(load_default=None, allow_none=True)


class RegisteredOut(StrictSchema):
    id = fields.String()


class LookupIn(StrictSchema):
    identifier = fields.String(required=True, validate=validate.Length(min=1, max=20))


class YouthMatchOut(StrictSchema):
    id = fields.String()
    alias = fields.String()


class YouthSummaryOut(YouthMatchOut):
    age = fields.Integer(allow_none=True)
    situation = fields.String(allow_none=True)
    encounters = fields.Integer()


class EncounterOut(StrictSchema):
    id = fields.String()
    occurred_on = fields.Date()
    place = fields.String()
    needs = fields.List(fields.String())
    gender = fields.String(allow_none=True)
    age_band = fields.String(allow_none=True)
    youth_id = fields.String(allow_none=True)
    linked_at = fields.DateTime(allow_none=True)


class YouthOut(YouthSummaryOut):
    personnummer = fields.String(allow_none=True)
    lma_number = fields.String(allow_none=True)
    dossier_number = fields.String(allow_none=True)
    birth_date = fields.String(allow_none=True)
    birth_year = fields.String(allow_none=True)
    gender = fields.String(allow_none=True)
    country_of_origin = fields.String(allow_none=True)
    district_id = fields.String(allow_none=True)
    district_name = fields.String(allow_none=True)
    encounters = fields.List(fields.Nested(EncounterOut))  # type: ignore[assignment]


class EncounterIn(StrictSchema):
    occurred_on = fields.Date(required=True)
    place = choice_field(list(Place), required=True)
    needs = fields.List(choice_field(list(Need)), load_default=list)
    gender = choice_field(GENDERS, load_default=None, allow_none=True)
    age_band = choice_field(list(AgeBand), load_default=None, allow_none=True)
    youth_id = id_field(load_default=None, allow_none=True)


class LinkIn(StrictSchema):
    youth_id = id_field(required=True)


@blueprint.route("/youths")
class Youths(MethodView):
    @requires(Permission.YOUTH_READ)
    @blueprint.response(200, YouthSummaryOut(many=True))
    def get(self) -> list[outreach.YouthSummary]:
        """The organisation's youths, newest first; each one listed is written to the log."""
        with request_uow() as uow:
            return outreach.youths(uow, current_actor(), clock.today())

    @requires(Permission.YOUTH_REGISTER)
    @blueprint.arguments(YouthIn)
    @blueprint.response(201, RegisteredOut)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, Any]) -> outreach.RegisteredYouth:
        """Register a youth (up to and including 20) once: an identifier the organisation's
        records already hold is 409 naming that record."""
        with request_uow() as uow:
            return outreach.register_youth(
                uow, current_actor(), outreach.NewYouth(**data), clock.today()
            )


@blueprint.route("/youths/lookup")
class Lookup(MethodView):
    @requires(Permission.YOUTH_READ)
    @blueprint.arguments(LookupIn)
    @blueprint.response(200, YouthMatchOut(many=True))
    def post(self, data: dict[str, str]) -> list[outreach.YouthMatch]:
        """The organisation's records holding this identifier (a personnummer or
        samordningsnummer, an LMA-card or a dossier number); each match is logged."""
        with request_uow() as uow:
            return outreach.find_youths(uow, current_actor(), data["identifier"])


@blueprint.route("/youths/<youth_id>")
class OneYouth(MethodView):
    @requires(Permission.YOUTH_READ)
    @blueprint.response(200, YouthOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def get(self, youth_id: str) -> outreach.YouthRecord:
        with request_uow() as uow:
            return outreach.read_youth(uow, current_actor(), youth_id, clock.today())


@blueprint.route("/encounters")
class Encounters(MethodView):
    @requires(Permission.ENCOUNTER_RECORD)
    @blueprint.response(200, EncounterOut(many=True))
    def get(self) -> list[outreach.EncounterView]:
        """The organisation's encounters, newest first (nothing personal)."""
        with request_uow() as uow:
            return outreach.encounters(uow, current_actor())

    @requires(Permission.ENCOUNTER_RECORD)
    @blueprint.arguments(EncounterIn)
    @blueprint.response(201, EncounterOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def post(self, data: dict[str, Any]) -> outreach.EncounterView:
        """Record an encounter; without `youth_id` it is anonymous and holds no identity."""
        new = outreach.NewEncounter(**{**data, "needs": tuple(data["needs"])})
        with request_uow() as uow:
            return outreach.record_encounter(uow, current_actor(), new, clock.today())


@blueprint.route("/encounters/<encounter_id>/link")
class Link(MethodView):
    @requires(Permission.ENCOUNTER_LINK)
    @blueprint.arguments(LinkIn)
    @blueprint.response(200, EncounterOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, str], encounter_id: str) -> outreach.EncounterView:
        """The youth agreed: the anonymous encounter joins the youth's record (audited)."""
        with request_uow() as uow:
            return outreach.link_encounter(uow, current_actor(), encounter_id, data["youth_id"])


@blueprint.route("/encounters/<encounter_id>/unlink")
class Unlink(MethodView):
    @requires(Permission.ENCOUNTER_LINK)
    @blueprint.response(200, EncounterOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, encounter_id: str) -> outreach.EncounterView:
        """Undo the link: the encounter is anonymous again (audited)."""
        with request_uow() as uow:
            return outreach.unlink_encounter(uow, current_actor(), encounter_id)


# --- consents, link cases and hand-overs ---------------------------------------------------


class YouthConsentIn(StrictSchema):
    authority = choice_field(list(Authority), required=True)
    purpose = text_field(link_cases.MAX_PURPOSE, True, required=True)
    categories = fields.List(choice_field(list(YouthCategory)), required=True)
    given_by = choice_field(list(ConsentGiver), required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    legal_reference = text_field(link_cases.MAX_REFERENCE, load_default=None, allow_none=True)


class YouthConsentOut(StrictSchema):
    id = fields.String()
    authority = fields.String()
    categories = fields.List(fields.String())
    given_by = fields.String()
    valid_from = fields.Date()
    valid_until = fields.Date()
    revoked = fields.Boolean()


class LinkCaseIn(StrictSchema):
    youth_id = id_field(required=True)
    authority = choice_field(list(Authority), required=True)
    purpose = text_field(link_cases.MAX_PURPOSE, True, required=True)
    next_due_on = fields.Date(required=True)
    district_id = id_field(load_default=None, allow_none=True)


class StepIn(StrictSchema):
    step = choice_field(list(LinkStepKind), required=True)
    done_on = fields.Date(required=True)
    next_due_on = fields.Date(load_default=None, allow_none=True)
    categories = fields.List(choice_field(list(YouthCategory)), load_default=list)
    outcome = choice_field(list(Outcome), load_default=None, allow_none=True)


class StepOut(StrictSchema):
    step = fields.String()
    done_on = fields.Date()


class DisclosureOut(StrictSchema):
    category = fields.String()
    basis = fields.String()
    consent_id = fields.String()
    disclosed_on = fields.Date()


class LinkCaseOut(StrictSchema):
    id = fields.String()
    youth_id = fields.String()
    authority = fields.String()
    district_name = fields.String(allow_none=True)
    purpose = fields.String()
    step = fields.String()
    next_due_on = fields.Date(allow_none=True)
    overdue = fields.Boolean()
    outcome = fields.String(allow_none=True)
    steps = fields.List(fields.Nested(StepOut))
    disclosures = fields.List(fields.Nested(DisclosureOut))
    needs_own_consent = fields.Boolean()


class HandoverOut(StrictSchema):
    """What the district's social services was handed: only the categories disclosed."""

    case_id = fields.String()
    youth_id = fields.String()
    from_organisation = fields.String()
    handed_over_on = fields.Date()
    categories = fields.List(fields.String())
    alias = fields.String(allow_none=True)
    identifiers = fields.List(fields.String())
    situation = fields.String(allow_none=True)
    needs = fields.List(fields.String())


@blueprint.route("/youths/<youth_id>/consents")
class Consents(MethodView):
    @requires(Permission.YOUTH_CONSENT_RECORD)
    @blueprint.response(200, YouthConsentOut(many=True))
    @blueprint.alt_response(404, response=NOT_FOUND)
    def get(self, youth_id: str) -> list[link_cases.ConsentView]:
        with request_uow() as uow:
            return link_cases.consents_of(uow, current_actor(), youth_id)

    @requires(Permission.YOUTH_CONSENT_RECORD)
    @blueprint.arguments(YouthConsentIn)
    @blueprint.response(201, YouthConsentOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def post(self, data: dict[str, Any], youth_id: str) -> link_cases.ConsentView:
        """From 18 the youth consents alone; under 18 a god man, a guardian, or social
        services naming the provision it acts on."""
        new = link_cases.NewYouthConsent(**{**data, "categories": tuple(data["categories"])})
        with request_uow() as uow:
            return link_cases.record_consent(uow, current_actor(), youth_id, new, clock.today())


@blueprint.route("/consents/<consent_id>/revoke")
class Revoke(MethodView):
    @requires(Permission.YOUTH_CONSENT_RECORD)
    @blueprint.response(200, YouthConsentOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, consent_id: str) -> link_cases.ConsentView:
        """Revoked at once: the next hand-over that needed it is refused."""
        with request_uow() as uow:
            return link_cases.revoke_consent(uow, current_actor(), consent_id)


@blueprint.route("/youths/<youth_id>/link-cases")
class YouthCases(MethodView):
    @requires(Permission.LINK_CASE_MANAGE)
    @blueprint.response(200, LinkCaseOut(many=True))
    @blueprint.alt_response(404, response=NOT_FOUND)
    def get(self, youth_id: str) -> list[link_cases.LinkCaseView]:
        with request_uow() as uow:
            return link_cases.cases_of(uow, current_actor(), youth_id, clock.today())


@blueprint.route("/link-cases")
class LinkCases(MethodView):
    @requires(Permission.LINK_CASE_MANAGE)
    @blueprint.arguments(LinkCaseIn)
    @blueprint.response(201, LinkCaseOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def post(self, data: dict[str, Any]) -> link_cases.LinkCaseView:
        with request_uow() as uow:
            return link_cases.open_case(
                uow, current_actor(), link_cases.NewLinkCase(**data), clock.today()
            )


@blueprint.route("/link-cases/<case_id>/steps")
class Steps(MethodView):
    @requires(Permission.LINK_CASE_MANAGE)
    @blueprint.arguments(StepIn)
    @blueprint.response(200, LinkCaseOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, Any], case_id: str) -> link_cases.LinkCaseView:
        """The next step in order; at hand-over, the categories disclosed (each on a basis
        that holds today, or 422 naming the category); at closing, the outcome."""
        new = link_cases.NewStep(**{**data, "categories": tuple(data["categories"])})
        with request_uow() as uow:
            return link_cases.record_step(uow, current_actor(), case_id, new, clock.today())


handovers_blueprint = Blueprint(
    "api_handovers",
    __name__,
    url_prefix="/api/v1/handovers",
    description="What outreach handed over to the district's social services",
)


@handovers_blueprint.route("")
class Handovers(MethodView):
    @requires(Permission.HANDOVER_READ)
    @handovers_blueprint.response(200, HandoverOut(many=True))
    def get(self) -> list[link_cases.Handover]:
        """Hand-overs to the caller's district, each read logged with its legal basis."""
        with request_uow() as uow:
            return link_cases.handovers_to_district(uow, current_actor())


class FoundIn(StrictSchema):
    found_at = fields.AwareDateTime(required=True)
    place = choice_field(list(Place), required=True)
    reporter_contact = text_field(MAX_CONTACT, required=True)
    what_happened = text_field(MAX_TEXT, True, load_default="")
    district_id = id_field(load_default=None, allow_none=True)


class FindingOut(StrictSchema):
    id = fields.String()
    found_at = fields.AwareDateTime()
    place = fields.String()
    district_name = fields.String(allow_none=True)
    concern_reference = fields.String(allow_none=True)
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    minutes_to_acknowledgement = fields.Integer(allow_none=True)


@blueprint.route("/youths/<youth_id>/found")
class Found(MethodView):
    @requires(Permission.YOUTH_FOUND)
    @blueprint.arguments(FoundIn)
    @blueprint.response(201, FindingOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def post(self, data: dict[str, Any], youth_id: str) -> findings.FindingView:
        """An absconded or missing youth found: recorded, and for a minor a concern report
        goes at once to the responsible district (or socialjouren)."""
        with request_uow() as uow:
            return findings.record_finding(
                uow,
                current_actor(),
                youth_id,
                findings.NewFinding(**data),
                acknowledgement_rule(),
                clock.today(),
                clock.now(),
            )


class CandidateOut(StrictSchema):
    id = fields.String()
    reference = fields.String()
    registered_on = fields.Date()


class OtherIn(StrictSchema):
    other_id = id_field(required=True)


class RecordLinkOut(StrictSchema):
    id = fields.String()
    first_id = fields.String()
    second_id = fields.String()
    active = fields.Boolean()


@blueprint.route("/youths/<youth_id>/duplicates")
class Candidates(MethodView):
    @requires(Permission.YOUTH_REGISTER)
    @blueprint.response(200, CandidateOut(many=True))
    @blueprint.alt_response(404, response=NOT_FOUND)
    def get(self, youth_id: str) -> list[duplicates.Candidate]:
        """Other records with the same alias, birth year and country, by id only."""
        with request_uow() as uow:
            return duplicates.candidates_for(uow, current_actor(), youth_id)


@blueprint.route("/youths/<youth_id>/record-links")
class RecordLinks(MethodView):
    @requires(Permission.YOUTH_REGISTER)
    @blueprint.arguments(OtherIn)
    @blueprint.response(201, RecordLinkOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, str], youth_id: str) -> duplicates.LinkView:
        """The two records are one youth: linked (not merged), reversibly."""
        with request_uow() as uow:
            return duplicates.link_records(uow, current_actor(), youth_id, data["other_id"])


@blueprint.route("/youths/<youth_id>/not-the-same")
class NotTheSame(MethodView):
    @requires(Permission.YOUTH_REGISTER)
    @blueprint.arguments(OtherIn)
    @blueprint.response(204)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def post(self, data: dict[str, str], youth_id: str) -> None:
        """Not one youth: the pair is not proposed again."""
        with request_uow() as uow:
            duplicates.dismiss_pair(uow, current_actor(), youth_id, data["other_id"])


@blueprint.route("/record-links/<link_id>/unlink")
class UnlinkRecords(MethodView):
    @requires(Permission.YOUTH_REGISTER)
    @blueprint.response(200, RecordLinkOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, link_id: str) -> duplicates.LinkView:
        """The records stand apart again; the pair is not proposed again."""
        with request_uow() as uow:
            return duplicates.unlink_records(uow, current_actor(), link_id)
