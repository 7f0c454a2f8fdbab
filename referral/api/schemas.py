"""Schemas per audience: every schema names its fields; nothing dumps "all fields".

Input schemas refuse unknown fields (marshmallow's RAISE), over-long strings and wrong types,
so bad input is a 422 naming the field before any service runs.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import RAISE, Schema, fields, missing, validate

from audit.actions import Action, Outcome
from audit.tables import MAX_SEQUENCE
from referral.roles import OrganisationKind, Role
from referral.text_rules import MULTILINE, guard_string_field


class StrictSchema(Schema):
    """Refuses unknown fields; every string field (and every string in a list) refuses
    control characters (referral.text_rules, the rule the web forms follow too)."""

    class Meta:
        unknown = RAISE

    def on_bind_field(self, field_name: str, field_obj: fields.Field[Any]) -> None:
        guard_string_field(field_obj)


class ReplacementSchema(StrictSchema):
    """The body of a PUT, which replaces what the resource holds: every field must be sent
    (null clears one that may be empty), so an empty or partial body is a 422 naming the
    fields left out and changes nothing. Declare fields as usual; this makes them required."""

    def on_bind_field(self, field_name: str, field_obj: fields.Field[Any]) -> None:
        super().on_bind_field(field_name, field_obj)
        field_obj.required = True
        field_obj.load_default = missing


ID_LENGTH = 36  # the ids are UUID strings


def id_field(**options: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=ID_LENGTH), **options)


def text_field(longest: int, multiline: bool = False, **options: Any) -> fields.String:
    """Free text; `multiline` (a text area's) also takes line breaks and tabs."""
    return fields.String(
        validate=validate.Length(max=longest), metadata={MULTILINE: multiline}, **options
    )


def choice_field(values: Any, **options: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(sorted(str(v) for v in values)), **options)


class OrganisationOut(StrictSchema):
    id = fields.String()
    name = fields.String()
    kind = fields.String()
    org_number = fields.String(allow_none=True)


class PartnerOrganisationOut(StrictSchema):
    """A partner as a social worker sees it when choosing whom to refer to."""

    id = fields.String()
    name = fields.String()


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


class AuditQuery(StrictSchema):
    """Filters of the access log. A person is a pseudonymous subject id (see subject-access)."""

    since = fields.AwareDateTime(load_default=None, default_timezone=UTC)
    until = fields.AwareDateTime(load_default=None, default_timezone=UTC)
    actor = fields.String(load_default=None, validate=validate.Length(max=64))
    organisation_id = fields.String(load_default=None, validate=validate.Length(max=36))
    action = fields.String(load_default=None, validate=validate.OneOf([a.value for a in Action]))
    outcome = fields.String(load_default=None, validate=validate.OneOf([o.value for o in Outcome]))
    subject = fields.List(fields.String(validate=validate.Length(max=36)), load_default=list)
    before = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_SEQUENCE))


class AuditEntryOut(StrictSchema):
    """What the DPO sees of an entry: no details (those are in the subject-access report)."""

    sequence = fields.Integer()
    occurred_at = fields.String()
    actor_id = fields.String(allow_none=True)
    actor_name = fields.String(allow_none=True)
    actor_organisation_id = fields.String(allow_none=True)
    actor_roles = fields.String(allow_none=True)
    action = fields.String()
    outcome = fields.String()
    object_type = fields.String(allow_none=True)
    object_id = fields.String(allow_none=True)
    subject_id = fields.String(allow_none=True)
    legal_basis = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    client_address = fields.String(allow_none=True)


class AuditPageOut(StrictSchema):
    entries = fields.List(fields.Nested(AuditEntryOut))
    next_before = fields.Integer(allow_none=True)


class PersonnummerIn(StrictSchema):
    """Posted, never in a URL."""

    personnummer = fields.String(required=True, validate=validate.Length(min=10, max=13))


class AccessLineOut(StrictSchema):
    occurred_at = fields.String()
    actor_name = fields.String()
    organisation = fields.String()
    roles = fields.String()
    action = fields.String()
    outcome = fields.String()
    legal_basis = fields.String()
    purpose = fields.String()


class SubjectAccessOut(StrictSchema):
    records_found = fields.Integer()
    subject_ids = fields.List(fields.String())  # pseudonymous: never the personnummer
    lines = fields.List(fields.Nested(AccessLineOut))


class VerificationOut(StrictSchema):
    ok = fields.Boolean()
    entries_checked = fields.Integer()
    checkpoints_checked = fields.Integer()
    first_bad_sequence = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
