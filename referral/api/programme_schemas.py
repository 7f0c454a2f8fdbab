"""Programme A's schemas, one set per audience, each naming its fields.

The social worker's schemas carry what the district's own record holds (never the
personnummer, which goes in and is not sent back). The group leader's schema is dumped from
`referrals.PartnerView`, which holds only what the consent covers, so it can carry nothing
else; a test pins the schema's fields to the view's, so neither grows alone.

Input schemas refuse unknown fields, wrong types and over-long strings (422 naming the field)
before any service runs; the services still check every rule themselves.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_dump, validate

from referral.api.schemas import (
    ReplacementSchema,
    StrictSchema,
    choice_field,
    id_field,
    text_field,
)
from referral.i18n import _
from referral.rules import Category, Decision, LawfulBasis, NotLawful, PlacementBasis
from referral.services.children import (
    GENDERS,
    MAX_DETAIL,
    MAX_MUNICIPALITY,
    MAX_NAME_LENGTH,
    MAX_VIEWS,
)
from referral.services.consent import MAX_TEXT, METHODS
from referral.services.referrals import FORMATS, MAX_NOTES

MAX_VERSION = 40  # as long as a consent record's description_version


# --- The social worker: input ----------------------------------------------------------------


class ChildIn(StrictSchema):
    """Registering a child. The personnummer is checked (Luhn) by the service."""

    personnummer = fields.String(required=True, validate=validate.Length(min=10, max=13))
    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME_LENGTH))


class PlacementIn(StrictSchema):
    """A PUT that needs only the basis: under SoL there is nothing else to say, under LVU the
    service requires the decision, its date and the deciding body (naming the field), and
    `lvu_shared` left out keeps the social worker's earlier decision. An empty body is a
    422 naming `basis` and changes nothing."""

    basis = choice_field(PlacementBasis, required=True)
    # Required under LVU (the service says so, naming the field); ignored under SoL.
    lvu_decision = text_field(MAX_TEXT, load_default=None, allow_none=True)
    lvu_decided_by = text_field(MAX_TEXT, load_default=None, allow_none=True)
    lvu_decided_on = fields.Date(load_default=None, allow_none=True)
    # Under LVU: the categories the partner may see (name and age when first placed and
    # nothing is said). Ignored under SoL, where the guardians' consents decide.
    lvu_shared = fields.List(
        choice_field(Category), load_default=None, validate=validate.Length(max=len(Category))
    )


class LvuSharingIn(ReplacementSchema):
    """The social worker's decision under LVU: every category the partner may see (the
    others are not shared)."""

    shared = fields.List(
        choice_field(Category), required=True, validate=validate.Length(max=len(Category))
    )


class ChildDetailsIn(ReplacementSchema):
    """What the district records beside identity. A PUT: every detail is sent, null (or an
    empty string) clears it; a body that leaves one out is refused and changes nothing."""

    gender = choice_field(GENDERS, allow_none=True)
    family_home_name = text_field(MAX_DETAIL, allow_none=True)
    family_home_address = text_field(MAX_DETAIL, allow_none=True)
    family_home_phone = text_field(MAX_DETAIL, allow_none=True)
    paying_municipality = text_field(MAX_MUNICIPALITY, allow_none=True)
    child_views = text_field(MAX_VIEWS, multiline=True, allow_none=True)


class GuardianIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))
    contact = text_field(MAX_TEXT, load_default=None, allow_none=True)
    has_custody = fields.Boolean(required=True)


class ConsentIn(StrictSchema):
    """One party's decision. `party` is a guardian id of this child, or "child"."""

    party = id_field(required=True)
    decision = choice_field(Decision, required=True)
    categories = fields.List(
        choice_field(Category), load_default=list, validate=validate.Length(max=len(Category))
    )
    decided_on = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    method = choice_field(METHODS, required=True)
    description_version = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_VERSION)
    )


class ReferralIn(StrictSchema):
    child_id = id_field(required=True)
    partner_id = id_field(required=True)
    preferred_format = choice_field(FORMATS, required=True)
    notes = text_field(MAX_NOTES, multiline=True, load_default=None, allow_none=True)


# --- The social worker: output ---------------------------------------------------------------


class ChildCreatedOut(StrictSchema):
    id = fields.String()


class _PlacementFields(StrictSchema):
    """The placement as the district recorded it: shared by the record and the placement."""

    placement_basis = fields.String(allow_none=True)
    lvu_decision = fields.String(allow_none=True)
    lvu_decided_by = fields.String(allow_none=True)
    lvu_decided_on = fields.String(allow_none=True)


class _DetailFields(StrictSchema):
    """The child's details: shared by the record and the details' own answer."""

    gender = fields.String(allow_none=True)
    family_home_name = fields.String(allow_none=True)
    family_home_address = fields.String(allow_none=True)
    family_home_phone = fields.String(allow_none=True)
    paying_municipality = fields.String(allow_none=True)
    child_views = fields.String(allow_none=True)


class ChildFoundOut(StrictSchema):
    """A match of a look-up: enough to open the record, nothing of the number searched."""

    id = fields.String()
    name = fields.String()


class OpenReferralOut(StrictSchema):
    partner_name = fields.Function(lambda pair: pair[0])
    status = fields.Function(lambda pair: pair[1])


class ChildSummaryOut(ChildFoundOut):
    age = fields.Integer()
    placement_basis = fields.String(allow_none=True)
    open_referrals = fields.List(fields.Nested(OpenReferralOut))
    concern = fields.Boolean()  # a concern report about the child is open


class ConcernFilterArgs(StrictSchema):
    """`?concern=true` lists only the children with an open concern report."""

    concern = fields.Boolean(load_default=False)


class GuardianOut(StrictSchema):
    id = fields.String()
    name = fields.String()
    contact = fields.String(allow_none=True)
    has_custody = fields.Boolean()


class ConsentHistoryOut(StrictSchema):
    """A consent decision as the child's record lists it (`current`: the party's latest)."""

    id = fields.String()
    party = fields.String()
    party_name = fields.String()
    decision = fields.String()
    categories = fields.List(fields.String())
    decided_on = fields.Date()
    valid_until = fields.Date()
    method = fields.String()
    description_version = fields.String()
    recorded_by = fields.String()
    recorded_at = fields.DateTime()
    current = fields.Boolean()


class StatusChangeOut(StrictSchema):
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    by = fields.String()
    at = fields.DateTime()


class ChildReferralOut(StrictSchema):
    id = fields.String()
    partner_id = fields.String()
    partner_name = fields.String()
    status = fields.String()
    preferred_format = fields.String()
    notes = fields.String(allow_none=True)
    created_at = fields.DateTime()
    open = fields.Boolean()
    history = fields.List(fields.Nested(StatusChangeOut), attribute="events")


def _sharing_basis(pair: tuple[Category, LawfulBasis | NotLawful]) -> str | None:
    found = pair[1]
    return found.kind.value if isinstance(found, LawfulBasis) else None


def _sharing_refusal(pair: tuple[Category, LawfulBasis | NotLawful]) -> str | None:
    found = pair[1]
    # The reasons are fixed English sentences marked for the catalogue: translated here.
    return _(found.reason) if isinstance(found, NotLawful) else None


class SharingOut(StrictSchema):
    """Per data category: the ground on which a partner may see it today, or why not."""

    category = fields.Function(lambda pair: pair[0].value)
    legal_basis = fields.Function(_sharing_basis, allow_none=True)
    refusal = fields.Function(_sharing_refusal, allow_none=True)


class LvuShareOut(StrictSchema):
    category = fields.String()
    shared = fields.Boolean()
    decided_by = fields.String()
    decided_on = fields.Date()


class ChildRecordOut(ChildFoundOut, _PlacementFields, _DetailFields):
    birth_date = fields.Date()
    age = fields.Integer()
    lvu_sharing = fields.List(fields.Nested(LvuShareOut))
    guardians = fields.List(fields.Nested(GuardianOut))
    consents = fields.List(fields.Nested(ConsentHistoryOut))
    referrals = fields.List(fields.Nested(ChildReferralOut))
    sharing = fields.List(fields.Nested(SharingOut))
    concern = fields.Boolean()  # a concern report about the child is open


class PlacementOut(_PlacementFields):
    child_id = fields.String(attribute="id")
    # Under LVU: the categories the partner may see now (null under SoL).
    lvu_shared = fields.List(fields.String(), allow_none=True)


class ChildDetailsOut(_DetailFields):
    child_id = fields.String(attribute="id")


class GuardianCreatedOut(StrictSchema):
    """Dumped from `consent.AddedGuardian`: the new guardian's id (the consent's `party`);
    the details the caller just sent are not repeated."""

    id = fields.String()
    child_id = fields.String()
    has_custody = fields.Boolean()


class ConsentOut(StrictSchema):
    """Dumped from `consent.RecordedConsent`."""

    id = fields.String()
    child_id = fields.String()
    party = fields.String()
    decision = fields.String()
    categories = fields.List(fields.String())
    decided_on = fields.Date()
    valid_until = fields.Date()
    method = fields.String()
    description_version = fields.String()
    recorded_at = fields.DateTime()


class ReferralStateOut(StrictSchema):
    """Dumped from `referrals.ReferralState`: where it stands, no personal data."""

    id = fields.String()
    status = fields.String()
    child_id = fields.String()
    partner_id = fields.String()
    preferred_format = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ReferralSummaryOut(StrictSchema):
    id = fields.String()
    status = fields.String()
    child_id = fields.String()
    child_name = fields.String()
    partner_id = fields.String()
    partner_name = fields.String()
    preferred_format = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    concern = fields.Boolean()  # a concern report about the child is open


class ReferralHistoryOut(StrictSchema):
    id = fields.String()
    status = fields.String()
    child_id = fields.String()
    child_name = fields.String()
    partner_id = fields.String()
    partner_name = fields.String()
    preferred_format = fields.String()
    notes = fields.String(allow_none=True)
    created_at = fields.DateTime()
    history = fields.List(fields.Nested(StatusChangeOut))


# --- The group leader ------------------------------------------------------------------------


class PartnerReferralOut(StrictSchema):
    """Exactly the partner projection. A category the consent does not cover is absent from
    the document, not sent as null: the partner's copy holds only what was consented to.
    Contact details are the family home's, never a guardian's."""

    OPTIONAL_CATEGORIES = (
        "name",
        "age",
        "family_home_name",
        "family_home_address",
        "family_home_phone",
    )

    referral_id = fields.String()
    status = fields.String()
    preferred_format = fields.String()
    name = fields.String()
    age = fields.Integer()
    family_home_name = fields.String()
    family_home_address = fields.String()
    family_home_phone = fields.String()

    @post_dump
    def _drop_uncovered(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        for key in self.OPTIONAL_CATEGORIES:
            if data.get(key) is None:
                data.pop(key, None)
        return data
