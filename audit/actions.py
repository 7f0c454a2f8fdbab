"""The closed catalogue of audited actions, named `resource:action` like permissions.

An entry's action must be one of these: a typo cannot invent a new kind of event that the
DPO's filters would never find.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    # Authentication and sessions
    LOGIN = "auth:login"
    LOGIN_FAILED = "auth:login_failed"
    MFA_VERIFIED = "auth:mfa_verified"
    MFA_FAILED = "auth:mfa_failed"
    MFA_ENROLLED = "auth:mfa_enrolled"
    LOCKED_OUT = "auth:locked_out"
    LOGOUT = "auth:logout"
    # Any refusal by the policy (coarse permission or object scope)
    ACCESS_DENIED = "access:denied"
    # Accounts and organisations
    ORGANISATION_CREATE = "organisation:create"
    USER_CREATE = "user:create"
    USER_LIST = "user:list"
    USER_DISABLE = "user:disable"
    USER_RESET_MFA = "user:reset_mfa"
    # Personal data of the people the service protects
    CHILD_CREATE = "child:create"
    CHILD_SEARCH = "child:search"
    PLACEMENT_RECORD = "placement:record"
    GUARDIAN_CREATE = "guardian:create"
    CONSENT_RECORD = "consent:record"
    CONSENT_WITHDRAW = "consent:withdraw"
    REFERRAL_CREATE = "referral:create"
    REFERRAL_TRANSITION = "referral:transition"
    REFERRAL_READ = "referral:read"
    REFERRAL_SHARE = "referral:share"
    # Keys
    KEYS_INIT = "keys:init"
    KEYS_ROTATE = "keys:rotate"
    KEYS_REWRAP = "keys:rewrap"
    KEYS_REENCRYPT = "keys:reencrypt"
    KEYS_RETIRE = "keys:retire"
    KEYS_SHRED = "keys:shred"
    # The access log itself
    AUDIT_SEARCH = "audit:search"
    AUDIT_EXPORT = "audit:export"
    AUDIT_SUBJECT_REPORT = "audit:subject_report"
    AUDIT_VERIFY = "audit:verify"
    AUDIT_CHECKPOINT = "audit:checkpoint"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
