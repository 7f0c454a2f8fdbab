"""Schemas per audience: every schema names its fields; nothing dumps "all fields".

Input schemas refuse unknown fields (marshmallow's RAISE), over-long strings and wrong types,
so bad input is a 422 naming the field before any service runs.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from referral.db.models import OrganisationKind, Role


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class OrganisationOut(StrictSchema):
    id = fields.String()
    name = fields.String()
    kind = fields.String()
    org_number = fields.String(allow_none=True)


class OrganisationIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(
        required=True, validate=validate.OneOf([k.value for k in OrganisationKind])
    )
    org_number = fields.String(load_default=None, validate=validate.Length(max=13))


class MeOut(StrictSchema):
    """What a user may know about their own account."""

    user_id = fields.String()
    username = fields.String()
    display_name = fields.String()
    organisation_id = fields.String()
    organisation_name = fields.String()
    roles = fields.List(fields.String(validate=validate.OneOf([r.value for r in Role])))


class UserOut(StrictSchema):
    """The administrator's view of a staff account: no hashes, no seeds."""

    id = fields.String()
    username = fields.String()
    display_name = fields.String()
    organisation_id = fields.String()
    roles = fields.Function(lambda user: sorted(user.role_names))
    active = fields.Boolean()
    mfa_enrolled = fields.Boolean(attribute="totp_confirmed")
