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
    # A signed-in person's own password changed (the other sessions ended), or refused
    # because the current password given was wrong (counted towards the lockout)
    PASSWORD_CHANGED = "auth:password_changed"  # noqa: S105 - an action, not a password
    PASSWORD_CHANGE_FAILED = "auth:password_change_failed"  # noqa: S105 - likewise
    # Sign-in through an identity provider (OpenID Connect): the object is the provider
    # (identity_provider, its key; a refusal adds the reason, "city:audience")
    PROVIDER_LOGIN = "auth:provider_login"
    PROVIDER_LOGIN_REFUSED = "auth:provider_refused"
    PROVIDER_LINKED = "auth:provider_linked"
    # A signed-in person ended one of their own other sessions (one entry per session ended;
    # the entry names the account, never the session's token or its hash)
    SESSION_ENDED = "auth:session_ended"
    # Any refusal by the policy (coarse permission or object scope)
    ACCESS_DENIED = "access:denied"
    # API clients of the city's systems: issued, replaced (rotation) and revoked (the entry
    # names the client by id; a token is never written anywhere)
    API_CLIENT_ISSUE = "api_client:issue"
    API_CLIENT_ROTATE = "api_client:rotate"
    API_CLIENT_REVOKE = "api_client:revoke"
    # Accounts and organisations
    ORGANISATION_CREATE = "organisation:create"
    USER_CREATE = "user:create"
    USER_LIST = "user:list"
    USER_DISABLE = "user:disable"
    USER_RESET_MFA = "user:reset_mfa"
    # A one-time invitation to link an account to its subject at an identity provider
    USER_INVITE = "user:invite"
    # A staff account's work phone; an organisation's postal address
    USER_UPDATE = "user:update"
    # Every session of one account ended by an administrator (the account stays usable)
    USER_END_SESSIONS = "user:end_sessions"
    ORGANISATION_UPDATE = "organisation:update"
    # Personal data of the people the service protects
    CHILD_CREATE = "child:create"
    CHILD_SEARCH = "child:search"
    CHILD_READ = "child:read"
    CHILD_LIST = "child:list"
    CHILD_UPDATE = "child:update"
    # The full personnummer shown on request (masked on the child's page; subject: the child)
    CHILD_REVEAL_PERSONNUMMER = "child:reveal_personnummer"
    PLACEMENT_RECORD = "placement:record"
    # Under LVU, the social worker's decision on which categories the partner may see
    LVU_SHARING_DECIDE = "lvu_sharing:decide"
    GUARDIAN_CREATE = "guardian:create"
    CONSENT_RECORD = "consent:record"
    CONSENT_WITHDRAW = "consent:withdraw"
    CONSENT_FORM_READ = "consent_form:read"
    CONSENT_QUEUE_READ = "consent_queue:read"
    REFERRAL_CREATE = "referral:create"
    REFERRAL_TRANSITION = "referral:transition"
    REFERRAL_READ = "referral:read"
    # The district's list of its referrals (one entry per child shown)
    REFERRAL_LIST = "referral:list"
    REFERRAL_SHARE = "referral:share"
    # The partner's support groups (entries about a child carry the child as subject)
    GROUP_CREATE = "group:create"
    GROUP_ENROL = "group:enrol"
    GROUP_VISIT = "group:visit"
    GROUP_ATTENDANCE = "group:attendance"
    GROUP_START = "group:start"
    GROUP_COMPLETE = "group:complete"
    GROUP_READ = "group:read"
    # The fee report: each line shows a child's paying municipality (subject: the child)
    FEE_REPORT_READ = "fee_report:read"
    # A partnership's activity report produced (page, CSV or PDF): aggregates only, small
    # counts suppressed; the object names the programme, the period and the format.
    ACTIVITY_REPORT_PRODUCE = "activity_report:produce"
    # Emergency access ("break the glass"): a social worker's city-wide look-up by
    # personnummer, the access itself (subject: the child; the reason sealed as the purpose),
    # and the DPO's review of the grants and their reasons
    EMERGENCY_SEARCH = "emergency:search"
    EMERGENCY_ACCESS = "emergency:access"
    EMERGENCY_REVIEW = "emergency:review"
    # Interest registrations (intresseanmälan) from family homes, recorded by a partner for
    # the responsible district (subject: the registration's own key scope, "interest:<id>")
    INTEREST_REGISTER = "interest:register"
    INTEREST_READ = "interest:read"
    INTEREST_CONFIRM = "interest:confirm"
    INTEREST_DECLINE = "interest:decline"
    # Concern reports (orosanmälan), legal basis "concern_report" (subject: the report's own
    # key scope, "concern:<id>", tied to the child when the service knows the child)
    CONCERN_FILE = "concern_report:file"
    CONCERN_ROUTE = "concern_report:route"
    CONCERN_READ = "concern_report:read"
    CONCERN_PRINT = "concern_report:print"
    CONCERN_ACKNOWLEDGE = "concern_report:acknowledge"
    CONCERN_CLOSE = "concern_report:close"
    # Programme B: youths met in outreach (subject: the youth, "outreach:<organisation>")
    # and encounters (an anonymous one has no subject)
    YOUTH_REGISTER = "youth:register"
    YOUTH_READ = "youth:read"
    YOUTH_LIST = "youth:list"
    YOUTH_SEARCH = "youth:search"
    ENCOUNTER_RECORD = "encounter:record"
    ENCOUNTER_LINK = "encounter:link"
    ENCOUNTER_UNLINK = "encounter:unlink"
    # Link cases, consents and hand-overs (subject: the youth); the district's read of what
    # was handed over carries the hand-over's legal basis
    LINK_CASE_OPEN = "link_case:open"
    LINK_CASE_STEP = "link_case:step"
    LINK_CASE_READ = "link_case:read"
    YOUTH_CONSENT_RECORD = "youth_consent:record"
    YOUTH_CONSENT_REVOKE = "youth_consent:revoke"
    HANDOVER = "handover:disclose"
    HANDOVER_READ = "handover:read"
    # An absconded or missing youth found (for a minor, a concern report follows at once)
    YOUTH_FOUND = "youth:found"
    # Two records judged to be one youth: linked (not merged), or unlinked again
    YOUTH_LINK = "youth:link"
    YOUTH_UNLINK = "youth:unlink"
    # Information material (not personal data)
    ACTIVITY_DESCRIPTION_PUBLISH = "activity_description:publish"
    # Keys
    KEYS_INIT = "keys:init"
    KEYS_ROTATE = "keys:rotate"
    KEYS_REWRAP = "keys:rewrap"
    KEYS_REENCRYPT = "keys:reencrypt"
    KEYS_RETIRE = "keys:retire"
    KEYS_SHRED = "keys:shred"
    # A backup of the whole database (`flask backup create`: recorded before the dump is
    # read, so the backup holds its own entry) and its restore (`flask backup restore`,
    # recorded in the restored database once verified, or refused); the object is the backup
    BACKUP_CREATE = "backup:create"
    BACKUP_RESTORE = "backup:restore"

    PARTNER_NOTE_WRITE = "partner_file:write"
    PARTNER_FILE_READ = "partner_file:read"
    RETURNED_FILE_DELIVER = "returned_file:deliver"
    RETURNED_FILE_READ = "returned_file:read"
    RETURNED_FILE_ACKNOWLEDGE = "returned_file:acknowledge"
    GALLRING_RUN = "gallring:run"
    GALLRING_PURGE = "gallring:purge"
    LEGAL_HOLD_SET = "legal_hold:set"
    LEGAL_HOLD_RELEASE = "legal_hold:release"
    LEGAL_HOLD_READ = "legal_hold:read"
    # Programme C: night places
    NIGHT_CARD_ISSUE = "night_person:issue_card"
    NIGHT_PERSON_READ = "night_person:read"
    NIGHT_REGISTER = "night_registration:record"
    NIGHT_OVERRIDE = "night_registration:override"
    NIGHT_ALLOCATE = "night_allocation:run"
    NIGHT_VERIFY = "night_allocation:verify"
    NIGHT_FROM_RESERVE = "night_place:from_reserve"
    NIGHT_LIST_READ = "night_shelter:list"
    NIGHT_CHECK_IN = "night_place:check_in"
    NIGHT_NO_SHOW = "night_place:no_show"
    NIGHT_SHELTER_CHANGE = "night_shelter:change"
    NIGHT_CAPACITY_CHANGE = "night_shelter:capacity"
    NIGHT_EXCLUDE = "night_exclusion:set"
    NIGHT_EXCLUSION_LIFT = "night_exclusion:lift"
    NIGHT_EXCLUSION_REVIEW = "night_exclusion:review"
    NIGHT_EXCLUSION_READ = "night_exclusion:read"
    # The access log itself
    AUDIT_SEARCH = "audit:search"
    AUDIT_EXPORT = "audit:export"
    AUDIT_SUBJECT_REPORT = "audit:subject_report"
    AUDIT_VERIFY = "audit:verify"
    AUDIT_CHECKPOINT = "audit:checkpoint"
    # Complaints and suggestions (synpunkter och klagomål; subject: the complaint's own key
    # scope, "complaint:<id>"): sent through the public form, recorded by staff on a
    # participant's behalf, its sealed text read, and the response recorded
    COMPLAINT_SUBMIT = "complaint:submit"
    COMPLAINT_RECORD = "complaint:record"
    COMPLAINT_READ = "complaint:read"
    COMPLAINT_RESPOND = "complaint:respond"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
