"""Programme C over the API: night places (referral.services.nights, domain.md §7).

The registration desk issues and looks up cards and registers people in the weekday morning
window; the coordinator keeps the shelters and their places and runs the allocation; a
shelter's own staff keep tonight's list (check-in, no-shows); exclusions are set, reviewed
and lifted. The published result of a day is public by design (no login): card numbers and
ranking terms only, so anyone can recompute the ranking.

A card number identifies a person: it travels in POST bodies only, never in a URL (the
look-up is a POST). Every rule is the services'; bad input is a 422 naming the field and a
broken rule a 409 naming it (outside the window: the next window's time), and neither writes
anything.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from flask.views import MethodView

from config import Settings
from referral import clock
from referral.api.base import CONFLICT, NOT_FOUND, Blueprint
from referral.api.night_schemas import (
    CapacityIn,
    CapacityOut,
    CardIn,
    CardLookupIn,
    CheckedInOut,
    DeskOut,
    ExclusionIn,
    ExclusionOut,
    ExclusionQuery,
    NoShowIn,
    NoShowOut,
    OverrideIn,
    PersonCardOut,
    PublishedDayOut,
    RegistrationIn,
    RegistrationReceiptOut,
    RunSummaryOut,
    RunVerificationOut,
    ShelterChangeIn,
    ShelterIn,
    ShelterNightOut,
    ShelterOut,
)
from referral.errors import NotFound
from referral.i18n import _
from referral.night_calendar import day_in_path, night_at
from referral.policy import Permission
from referral.request_scope import request_uow
from referral.services.nights import (
    allocation,
    exclusions,
    no_shows,
    people,
    published,
    registration,
    shelters,
    tonight,
)
from referral.web.access import current_actor, public, requires
from referral.web.limits import PUBLIC_RESULT_RATE, limiter

blueprint = Blueprint(
    "api_nights",
    __name__,
    url_prefix="/api/v1/nights",
    description="Programme C: night places (registration desk, shelters, coordinator)",
)


def _settings() -> Settings:
    settings: Settings = current_app.config["REFERRAL_SETTINGS"]
    return settings


def _day(text: str) -> date:
    """A day in a URL, as YYYY-MM-DD; anything else is no such day (404 naming `day`)."""
    day = day_in_path(text)
    if day is None:
        raise NotFound(_("No such day: give it as YYYY-MM-DD."), field="day")
    return day


def _override(data: dict[str, Any]) -> registration.Override | None:
    if data.get("override_kind") is None:
        return None
    return registration.Override(
        data["override_kind"], data.get("override_reason") or "", data.get("reporter_contact")
    )


# --- The registration desk -------------------------------------------------------------------


@blueprint.route("/cards")
class Cards(MethodView):
    @requires(Permission.NIGHT_REGISTER)
    @blueprint.arguments(CardIn)
    @blueprint.response(201, PersonCardOut)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, Any]) -> people.PersonCard:
        """Issue a card at a person's first registration. The same alias, birth year and
        country as a card already issued is 409 naming those cards (each read is logged),
        unless `someone_else` confirms that this is another person."""
        someone_else = data.pop("someone_else")
        with request_uow() as uow:
            return people.issue_card(
                uow,
                current_actor(),
                people.NewPerson(**data),
                clock.today(),
                someone_else=someone_else,
            )


@blueprint.route("/cards/look-up")
class CardLookUp(MethodView):
    @requires(Permission.NIGHT_PERSON_READ)
    @blueprint.arguments(CardLookupIn)
    @blueprint.response(200, PersonCardOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def post(self, data: dict[str, str]) -> people.PersonCard:
        """The card's holder, by the number typed or scanned from the QR code (logged)."""
        with request_uow() as uow:
            return people.look_up(uow, current_actor(), data["card_number"], night_at(clock.now()))


@blueprint.route("/desk")
class Desk(MethodView):
    @requires(Permission.NIGHT_REGISTER)
    @blueprint.response(200, DeskOut)
    def get(self) -> registration.DeskState:
        """Today's window, the draw's commitment (on show before anyone registers) and how
        many have registered: nothing personal, nothing logged."""
        with request_uow() as uow:
            return registration.desk_state(uow, _settings(), clock.now())


@blueprint.route("/registrations")
class Registrations(MethodView):
    @requires(Permission.NIGHT_REGISTER)
    @blueprint.arguments(RegistrationIn)
    @blueprint.response(201, RegistrationReceiptOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, Any]) -> registration.RegistrationReceipt:
        """Register the card's holder for this morning's allocation. Outside the window the
        answer is 409 naming `window` and the next window's time; a second registration the
        same morning is 409 naming `card_number`; an unknown card 404."""
        with request_uow() as uow:
            return registration.register(
                uow,
                current_actor(),
                data["card_number"],
                _settings(),
                clock.now(),
                _override(data),
            )


@blueprint.route("/registrations/override")
class RegistrationOverride(MethodView):
    @requires(Permission.NIGHT_REGISTER)
    @blueprint.arguments(OverrideIn)
    @blueprint.response(200, RegistrationReceiptOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, Any]) -> registration.RegistrationReceipt:
        """An override for someone registered this morning, before the allocation; children
        involved also files a concern report to socialjouren."""
        override = _override(data)
        assert override is not None  # the schema requires the grounds
        with request_uow() as uow:
            return registration.set_override(
                uow, current_actor(), data["card_number"], override, _settings(), clock.now()
            )


# --- The allocation --------------------------------------------------------------------------


@blueprint.route("/allocations")
class Allocations(MethodView):
    @requires(Permission.NIGHT_COORDINATE)
    @blueprint.response(201, RunSummaryOut)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self) -> allocation.RunSummary:
        """Run this morning's allocation now (closing registration); once a day."""
        with request_uow() as uow:
            return allocation.run_allocation(uow, current_actor(), _settings(), clock.now())


@blueprint.route("/allocations/<day>/verification")
class Verification(MethodView):
    @requires(Permission.NIGHT_COORDINATE)
    @blueprint.response(200, RunVerificationOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def get(self, day: str) -> allocation.Verification:
        """Rerun the stored run of `day` on its stored inputs and seed, and compare."""
        wanted = _day(day)
        with request_uow() as uow:
            return allocation.verify_run(uow, current_actor(), wanted)


@blueprint.route("/results/<day>")
class Results(MethodView):
    @public
    @limiter.limit(PUBLIC_RESULT_RATE)
    @blueprint.response(200, PublishedDayOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def get(self, day: str) -> published.PublishedDay:
        """Public, no login: before the run the window and the seed's commitment; after it
        the seed and the ranking by card number with each person's terms and outcome. No
        alias, no shelter, no grounds of an override."""
        wanted = _day(day)
        with request_uow() as uow:
            return published.published_day(uow, _settings(), wanted)


# --- Shelters and their places ---------------------------------------------------------------


@blueprint.route("/shelters")
class Shelters(MethodView):
    # Every night role holds NIGHT_REGISTER: the service lists the coordinator every
    # shelter and a shelter's staff their own organisation's (the route takes one
    # permission, and the coordinator does not keep a shelter).
    @requires(Permission.NIGHT_REGISTER)
    @blueprint.response(200, ShelterOut(many=True))
    def get(self) -> list[shelters.ShelterView]:
        """The shelters (the coordinator's every one, a night worker's own organisation's):
        nothing personal, nothing logged."""
        with request_uow() as uow:
            return shelters.shelters(uow, current_actor())

    @requires(Permission.NIGHT_COORDINATE)
    @blueprint.arguments(ShelterIn)
    @blueprint.response(201, ShelterOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def post(self, data: dict[str, Any]) -> shelters.ShelterView:
        """Add a partner's (or the city's) shelter with its usual places per night."""
        with request_uow() as uow:
            return shelters.create_shelter(
                uow, current_actor(), shelters.NewShelter(**data), clock.today()
            )


@blueprint.route("/shelters/<shelter_id>")
class OneShelter(MethodView):
    @requires(Permission.NIGHT_COORDINATE)
    @blueprint.arguments(ShelterChangeIn)
    @blueprint.response(200, ShelterOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def put(self, data: dict[str, Any], shelter_id: str) -> shelters.ShelterView:
        """The usual places and the closing date, all sent. Never below the places given
        on a night from today (409 naming `places`), nor closing before one (`closes_on`)."""
        with request_uow() as uow:
            return shelters.update_shelter(
                uow, current_actor(), shelter_id, shelters.ShelterChange(**data), clock.today()
            )


@blueprint.route("/shelters/<shelter_id>/capacity")
class Capacity(MethodView):
    @requires(Permission.NIGHT_COORDINATE)
    @blueprint.arguments(CapacityIn)
    @blueprint.response(201, CapacityOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, Any], shelter_id: str) -> shelters.CapacityView:
        """One night's places (cold-weather extra places), with the reason; never below
        what is already given that night (409 naming `places`)."""
        with request_uow() as uow:
            return shelters.change_capacity(
                uow,
                current_actor(),
                shelter_id,
                data["night"],
                data["places"],
                data["reserved_for_women"],
                data["reserved_for_men"],
                data["reason"],
                clock.today(),
            )


@blueprint.route("/shelters/<shelter_id>/nights/<day>")
class ShelterNight(MethodView):
    @requires(Permission.NIGHT_SHELTER_KEEP)
    @blueprint.response(200, ShelterNightOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    def get(self, shelter_id: str, day: str) -> tonight.ShelterNight:
        """The shelter's list for a night, for its own staff: each person listed is logged."""
        night = _day(day)
        with request_uow() as uow:
            return tonight.tonight(uow, current_actor(), shelter_id, night)


@blueprint.route("/shelters/<shelter_id>/nights/<day>/no-shows")
class NoShows(MethodView):
    @requires(Permission.NIGHT_SHELTER_KEEP)
    @blueprint.arguments(NoShowIn)
    @blueprint.response(200, NoShowOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, Any], shelter_id: str, day: str) -> no_shows.NoShowReceipt:
        """Who did not come by the evening's time: their places go to the reserve list, in
        ranking order."""
        night = _day(day)
        with request_uow() as uow:
            return no_shows.record_no_shows(
                uow,
                current_actor(),
                shelter_id,
                night,
                data["card_numbers"],
                _settings(),
                clock.now(),
            )


@blueprint.route("/places/<place_id>/check-in")
class CheckIn(MethodView):
    @requires(Permission.NIGHT_SHELTER_KEEP)
    @blueprint.response(200, CheckedInOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, place_id: str) -> tonight.CheckedIn:
        """The person has come: tonight's place is taken (logged)."""
        with request_uow() as uow:
            return tonight.check_in(uow, current_actor(), place_id, clock.now())


# --- Exclusions ------------------------------------------------------------------------------


@blueprint.route("/exclusions")
class Exclusions(MethodView):
    @requires(Permission.NIGHT_EXCLUDE)
    @blueprint.arguments(ExclusionQuery, location="query")
    @blueprint.response(200, ExclusionOut(many=True))
    def get(self, query: dict[str, Any]) -> list[exclusions.ExclusionView]:
        """The exclusions in force (`include_past`: also lifted and expired ones): the
        coordinator's every shelter's, a night worker's own organisation's; each is logged."""
        with request_uow() as uow:
            return exclusions.exclusions(
                uow, current_actor(), clock.today(), include_past=query["include_past"]
            )

    @requires(Permission.NIGHT_EXCLUDE)
    @blueprint.arguments(ExclusionIn)
    @blueprint.response(201, ExclusionOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, data: dict[str, Any]) -> exclusions.ExclusionView:
        """Exclude the card's holder from the caller's own shelter, from today until
        `expires_on` (at most a year), with the reason."""
        with request_uow() as uow:
            return exclusions.exclude(
                uow,
                current_actor(),
                data["shelter_id"],
                data["card_number"],
                data["reason"],
                data["expires_on"],
                clock.today(),
            )


@blueprint.route("/exclusions/<exclusion_id>/review")
class ExclusionReview(MethodView):
    @requires(Permission.NIGHT_EXCLUDE)
    @blueprint.response(200, ExclusionOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, exclusion_id: str) -> exclusions.ExclusionView:
        """The person asks for a review (their right), at any desk of the partnership."""
        with request_uow() as uow:
            return exclusions.request_review(uow, current_actor(), exclusion_id, clock.now())


@blueprint.route("/exclusions/<exclusion_id>/lift")
class ExclusionLift(MethodView):
    @requires(Permission.NIGHT_EXCLUDE)
    @blueprint.response(200, ExclusionOut)
    @blueprint.alt_response(404, response=NOT_FOUND)
    @blueprint.alt_response(409, response=CONFLICT)
    def post(self, exclusion_id: str) -> exclusions.ExclusionView:
        """Lift an exclusion before it expires: the shelter's own staff, or the coordinator."""
        with request_uow() as uow:
            return exclusions.lift(uow, current_actor(), exclusion_id, clock.now())
