"""Programme C's schemas, one set per audience, each naming its fields.

- The registration desk (night staff, the coordinator): a person's card with what the person
  chose to tell, a morning's registration, and the desk's state (counts only).
- A shelter's own staff: tonight's list (card number and alias), check-in and no-shows.
- The coordinator: shelters and their places, the run's summary and its verification.
- Anyone, without logging in: the published result, by card number only (no alias, no
  shelter, no grounds of an override), as referral.services.nights.published builds it.

Card numbers travel in POST bodies only, never in a URL: a card number identifies a person.
Input schemas refuse unknown fields, wrong types and over-long strings (422 naming the field)
before any service runs; the services still check every rule themselves.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from referral.api.schemas import StrictSchema, choice_field, id_field, text_field
from referral.db.nights import OverrideKind
from referral.services.nights import exclusions, people, registration, shelters

# A card number as typed or scanned: eight digits, perhaps in groups with spaces or hyphens.
# The service says what is wrong with one (without repeating it); this only bounds the length.
MAX_CARD_INPUT = 20
# More than any shelter's list for one night (shelters.MAX_PLACES bounds a shelter's places).
MAX_NO_SHOWS = shelters.MAX_PLACES


def card_field(**options: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=MAX_CARD_INPUT), **options)


def places_field(**options: Any) -> fields.Integer:
    # Strict: 2.5 places or "3" is a mistake to name, not a number to round or read.
    return fields.Integer(
        strict=True, validate=validate.Range(min=0, max=shelters.MAX_PLACES), **options
    )


# --- The registration desk -------------------------------------------------------------------


class CardIn(StrictSchema):
    """Everything is optional: a card needs nothing but the person's coming. With the same
    alias, birth year and country as a card already issued the answer is 409 naming those
    cards, unless `someone_else` confirms that this is another person."""

    alias = text_field(people.MAX_ALIAS, load_default=None, allow_none=True)
    birth_year = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1900, max=2200),
    )
    gender = choice_field(people.GENDERS, load_default=None, allow_none=True)
    country_of_origin = text_field(people.MAX_COUNTRY, load_default=None, allow_none=True)
    someone_else = fields.Boolean(load_default=False)


class CardLookupIn(StrictSchema):
    """Posted, never in a URL."""

    card_number = card_field(required=True)


class PersonCardOut(StrictSchema):
    """Dumped from `people.PersonCard`: the card and what the person chose to tell."""

    id = fields.String()
    card_number = fields.String()
    alias = fields.String(allow_none=True)
    birth_year = fields.Integer(allow_none=True)
    gender = fields.String(allow_none=True)
    country_of_origin = fields.String(allow_none=True)
    shelter_tonight = fields.String(allow_none=True)  # on a look-up: where they sleep tonight


class RegistrationIn(StrictSchema):
    """This morning's registration; an override (danger to life, children involved) needs
    its reason, and children involved a number socialjouren can call back."""

    card_number = card_field(required=True)
    override_kind = choice_field(list(OverrideKind), load_default=None, allow_none=True)
    override_reason = text_field(registration.MAX_REASON, True, load_default=None, allow_none=True)
    reporter_contact = text_field(registration.MAX_CONTACT, load_default=None, allow_none=True)


class OverrideIn(StrictSchema):
    """An override for someone registered this morning, learnt of afterwards."""

    card_number = card_field(required=True)
    override_kind = choice_field(list(OverrideKind), required=True)
    override_reason = text_field(registration.MAX_REASON, True, required=True)
    reporter_contact = text_field(registration.MAX_CONTACT, load_default=None, allow_none=True)


class RegistrationReceiptOut(StrictSchema):
    """Dumped from `registration.RegistrationReceipt`: the grounds of an override, never its
    reason."""

    registration_id = fields.String()
    card_number = fields.String()  # as printed
    day = fields.Date()
    nights = fields.List(fields.Date())
    override_kind = fields.String(allow_none=True)
    concern_report_reference = fields.String(allow_none=True)


class WindowOut(StrictSchema):
    opens_at = fields.AwareDateTime()
    closes_at = fields.AwareDateTime()


class DeskOut(StrictSchema):
    """Dumped from `registration.DeskState`: the window, the commitment and a count."""

    day = fields.Date()
    window = fields.Nested(WindowOut, allow_none=True)
    open_now = fields.Boolean()
    next_window = fields.Nested(WindowOut)
    commitment = fields.String(allow_none=True)
    registered = fields.Integer()
    allocated = fields.Boolean()
    nights = fields.List(fields.Date())


# --- The coordinator: the run ----------------------------------------------------------------


class RunSummaryOut(StrictSchema):
    """Dumped from `allocation.RunSummary`: counts, the seed and the digests."""

    run_id = fields.String()
    day = fields.Date()
    nights = fields.List(fields.Date())
    registered = fields.Integer()
    placed = fields.Integer()
    turned_away = fields.Integer()
    seed = fields.String()
    seed_commitment = fields.String()
    inputs_digest = fields.String()


class RunVerificationOut(StrictSchema):
    day = fields.Date()
    inputs_digest_matches = fields.Boolean()
    commitment_matches = fields.Boolean()
    result_matches = fields.Boolean()
    ok = fields.Boolean()


# --- Anyone: the published result ------------------------------------------------------------


class PublishedLineOut(StrictSchema):
    """One line of the ranking: the card number and the terms anyone can recompute."""

    rank = fields.Integer()
    card_number = fields.String()  # as printed
    override = fields.Boolean()  # that there was one, never its grounds
    at_cap = fields.Boolean()
    days_since_last_night = fields.Integer()
    nights_last_30_days = fields.Integer()
    draw = fields.String()


class PublishedDayOut(StrictSchema):
    """Before the run: the window and the commitment; after it, the seed and the ranking."""

    day = fields.Date()
    window = fields.Nested(WindowOut, allow_none=True)
    commitment = fields.String(allow_none=True)
    commitment_drawn_at = fields.AwareDateTime(allow_none=True)
    seed = fields.String(allow_none=True)
    algorithm_version = fields.String(allow_none=True)
    inputs_digest = fields.String(allow_none=True)
    nights = fields.List(fields.Date())
    registered = fields.Integer(allow_none=True)
    placed = fields.Integer(allow_none=True)
    turned_away = fields.Integer(allow_none=True)
    lines = fields.List(fields.Nested(PublishedLineOut))


# --- The coordinator: shelters and places ----------------------------------------------------


class ShelterIn(StrictSchema):
    organisation_id = id_field(required=True)
    name = text_field(shelters.MAX_NAME, required=True)
    places = places_field(required=True)
    reserved_for_women = places_field(load_default=0)
    reserved_for_men = places_field(load_default=0)
    opens_on = fields.Date(required=True)
    closes_on = fields.Date(load_default=None, allow_none=True)


class ShelterChangeIn(StrictSchema):
    """A PUT: the usual places and the closing date, all sent (null: no closing date)."""

    places = places_field(required=True)
    reserved_for_women = places_field(required=True)
    reserved_for_men = places_field(required=True)
    closes_on = fields.Date(required=True, allow_none=True)


class _PlacesFields(StrictSchema):
    places = fields.Integer(attribute="places.places")
    reserved_for_women = fields.Integer(attribute="places.reserved_for_women")
    reserved_for_men = fields.Integer(attribute="places.reserved_for_men")


class ShelterOut(_PlacesFields):
    """Dumped from `shelters.ShelterView`: nothing personal."""

    id = fields.String()
    organisation_id = fields.String()
    organisation_name = fields.String()
    name = fields.String()
    opens_on = fields.Date()
    closes_on = fields.Date(allow_none=True)


class CapacityIn(StrictSchema):
    night = fields.Date(required=True)
    places = places_field(required=True)
    reserved_for_women = places_field(load_default=0)
    reserved_for_men = places_field(load_default=0)
    reason = text_field(shelters.MAX_REASON, True, required=True)


class CapacityOut(_PlacesFields):
    id = fields.String()
    shelter_id = fields.String()
    night = fields.Date()
    reason = fields.String()
    given = fields.Integer()


# --- A shelter's own staff -------------------------------------------------------------------


class PlaceOnListOut(StrictSchema):
    place_id = fields.String()
    card_number = fields.String()  # as printed
    alias = fields.String(allow_none=True)
    place_kind = fields.String()
    status = fields.String()
    from_reserve = fields.Boolean()


class ShelterNightOut(_PlacesFields):
    """Dumped from `tonight.ShelterNight`: tonight's list, each person on it logged."""

    shelter_id = fields.String()
    shelter_name = fields.String()
    night = fields.Date()
    given = fields.Integer()
    checked_in = fields.Integer()
    no_shows = fields.Integer()
    people = fields.List(fields.Nested(PlaceOnListOut))


class CheckedInOut(StrictSchema):
    place_id = fields.String()
    night = fields.Date()
    card_number = fields.String()
    status = fields.String()


class NoShowIn(StrictSchema):
    card_numbers = fields.List(
        card_field(), required=True, validate=validate.Length(min=1, max=MAX_NO_SHOWS)
    )


class NoShowOut(StrictSchema):
    night = fields.Date()
    forfeited = fields.List(fields.String())  # card numbers as printed
    moved_in = fields.List(fields.String())
    left_empty = fields.Integer()


# --- Exclusions ------------------------------------------------------------------------------


class ExclusionIn(StrictSchema):
    shelter_id = id_field(required=True)
    card_number = card_field(required=True)
    reason = text_field(exclusions.MAX_REASON, True, required=True)
    expires_on = fields.Date(required=True)


class ExclusionQuery(StrictSchema):
    """`?include_past=true` lists the lifted and expired exclusions too."""

    include_past = fields.Boolean(load_default=False)


class ExclusionOut(StrictSchema):
    """Dumped from `exclusions.ExclusionView`; `reason` is null where the service keeps it
    from the caller (another partner's desk recording a request for review)."""

    id = fields.String()
    shelter_id = fields.String()
    shelter_name = fields.String()
    card_number = fields.String()  # as printed
    reason = fields.String(allow_none=True)
    starts_on = fields.Date()
    expires_on = fields.Date()
    review_requested_at = fields.DateTime(allow_none=True)
    lifted_at = fields.DateTime(allow_none=True)
    active = fields.Boolean()
