"""The words the interface uses for codes the access log and the accounts store: an action,
its outcome, a role. One place, so the DPO's log, the subject-access report and the admin
lists say the same thing, in the reader's language; a new action or role without words here
fails tests/unit/test_words.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel.speaklater import LazyString

from referral.i18n import _l

ACTION_WORDS: Mapping[str, LazyString] = {
    "auth:login": _l("Signed in"),
    "auth:login_failed": _l("Sign-in failed"),
    "auth:mfa_verified": _l("Second factor verified"),
    "auth:mfa_failed": _l("Second factor failed"),
    "auth:mfa_enrolled": _l("Authenticator enrolled"),
    "auth:locked_out": _l("Account locked"),
    "auth:logout": _l("Signed out"),
    "auth:password_changed": _l("Password changed"),
    "auth:password_change_failed": _l("Password change refused"),
    "auth:provider_login": _l("Signed in through the identity provider"),
    "auth:provider_refused": _l("Sign-in through the identity provider refused"),
    "auth:provider_linked": _l("Account linked to the identity provider"),
    "auth:session_ended": _l("Ended another of their own sessions"),
    "access:denied": _l("Access refused"),
    "api_client:issue": _l("API client issued"),
    "api_client:rotate": _l("API client replaced"),
    "api_client:revoke": _l("API client revoked"),
    "organisation:create": _l("Organisation added"),
    "user:create": _l("Staff account created"),
    "user:list": _l("Staff accounts listed"),
    "user:disable": _l("Staff account disabled"),
    "user:reset_mfa": _l("Second factor reset"),
    "user:invite": _l("Sign-in invitation created"),
    "user:update": _l("Staff account changed"),
    "user:end_sessions": _l("All sessions of a staff account ended"),
    "organisation:update": _l("Organisation changed"),
    "child:create": _l("Child registered"),
    "child:search": _l("Child searched for"),
    "child:read": _l("Child's record read"),
    "child:list": _l("Children listed"),
    "child:update": _l("Child's record changed"),
    "child:reveal_personnummer": _l("Full personnummer shown"),
    "placement:record": _l("Placement basis recorded"),
    "lvu_sharing:decide": _l("LVU sharing decided"),
    "guardian:create": _l("Guardian added"),
    "consent:record": _l("Consent decision recorded"),
    "consent:withdraw": _l("Consent withdrawn"),
    "consent_form:read": _l("Consent form printed"),
    "consent_queue:read": _l("Lapsing consents listed"),
    "referral:create": _l("Referral created"),
    "referral:transition": _l("Referral status changed"),
    "referral:read": _l("Referral read"),
    "referral:list": _l("Referrals listed"),
    "referral:share": _l("Referral shared with the partner"),
    "group:create": _l("Group created"),
    "group:enrol": _l("Child placed in a group"),
    "group:visit": _l("Visit recorded"),
    "group:attendance": _l("Attendance recorded"),
    "group:start": _l("Group started"),
    "group:complete": _l("Group completed"),
    "group:read": _l("Group read"),
    "fee_report:read": _l("Fee report read"),
    "activity_report:produce": _l("Activity report produced"),
    "emergency:search": _l("Emergency search"),
    "emergency:access": _l("Emergency access"),
    "emergency:review": _l("Emergency access reviewed"),
    "interest:register": _l("Interest registration recorded"),
    "interest:read": _l("Interest registration read"),
    "interest:confirm": _l("Interest registration confirmed"),
    "interest:decline": _l("Interest registration declined"),
    "concern_report:file": _l("Concern report filed"),
    "concern_report:route": _l("Concern report routed"),
    "concern_report:read": _l("Concern report read"),
    "concern_report:print": _l("Concern report printed"),
    "concern_report:acknowledge": _l("Concern report acknowledged"),
    "concern_report:close": _l("Concern report closed"),
    "youth:register": _l("Youth registered"),
    "youth:read": _l("Youth's record read"),
    "youth:list": _l("Youths listed"),
    "youth:search": _l("Youth searched for"),
    "encounter:record": _l("Encounter recorded"),
    "encounter:link": _l("Encounter linked to a youth"),
    "encounter:unlink": _l("Encounter unlinked"),
    "link_case:open": _l("Link case opened"),
    "link_case:step": _l("Link case step recorded"),
    "link_case:read": _l("Link case read"),
    "youth_consent:record": _l("Youth's consent recorded"),
    "youth_consent:revoke": _l("Youth's consent revoked"),
    "handover:disclose": _l("Information handed over"),
    "handover:read": _l("Hand-over read"),
    "youth:found": _l("Youth found"),
    "youth:link": _l("Youth records linked"),
    "youth:unlink": _l("Youth records unlinked"),
    "activity_description:publish": _l("Activity description published"),
    "keys:init": _l("Keys created"),
    "keys:rotate": _l("Key rotated"),
    "keys:rewrap": _l("Keys rewrapped"),
    "keys:reencrypt": _l("Data re-encrypted"),
    "keys:retire": _l("Key retired"),
    "keys:shred": _l("Keys shredded"),
    "backup:create": _l("Backup taken"),
    "backup:restore": _l("Backup restored"),
    "partner_file:write": _l("Note written in the partner's file"),
    "partner_file:read": _l("Partner's file read"),
    "returned_file:deliver": _l("File returned to the district"),
    "returned_file:read": _l("Returned file read"),
    "returned_file:acknowledge": _l("Returned file acknowledged"),
    "gallring:run": _l("Purge run"),
    "gallring:purge": _l("Purged"),
    "legal_hold:set": _l("Hold from purge set"),
    "legal_hold:release": _l("Hold from purge released"),
    "legal_hold:read": _l("Holds read"),
    "night_person:issue_card": _l("Night card issued"),
    "night_person:read": _l("Night card looked up"),
    "night_registration:record": _l("Registered for a night place"),
    "night_registration:override": _l("Registration outside the window"),
    "night_allocation:run": _l("Night places allocated"),
    "night_allocation:verify": _l("Allocation verified"),
    "night_place:from_reserve": _l("Place given from the reserve list"),
    "night_shelter:list": _l("Tonight's list read"),
    "night_place:check_in": _l("Checked in"),
    "night_place:no_show": _l("Did not come"),
    "night_shelter:change": _l("Shelter changed"),
    "night_shelter:capacity": _l("Places for a night changed"),
    "night_exclusion:set": _l("Excluded from a shelter"),
    "night_exclusion:lift": _l("Exclusion lifted"),
    "night_exclusion:review": _l("Exclusion reviewed"),
    "night_exclusion:read": _l("Exclusions read"),
    "audit:search": _l("Access log searched"),
    "audit:export": _l("Access log exported"),
    "audit:subject_report": _l("Subject-access report produced"),
    "audit:verify": _l("Access log verified"),
    "audit:checkpoint": _l("Access log checkpoint"),
    "complaint:submit": _l("Feedback sent"),
    "complaint:record": _l("Feedback recorded"),
    "complaint:read": _l("Feedback read"),
    "complaint:respond": _l("Feedback answered"),
}
OUTCOME_WORDS: Mapping[str, LazyString] = {
    "allowed": _l("Allowed"),
    "denied": _l("Refused"),
}
ROLE_WORDS: Mapping[str, LazyString] = {
    "social_worker": _l("Social worker"),
    "group_leader": _l("Group leader"),
    "link_worker": _l("Link worker"),
    "social_emergency": _l("Social emergency service"),
    "night_staff": _l("Night staff"),
    "night_coordinator": _l("Night coordinator"),
    "coordinator": _l("City coordinator"),
    "dpo": _l("Data protection officer"),
    "admin": _l("Administrator"),
}


def action_words(code: str | None) -> str:
    """An action in words; a code this version does not know (an old entry) as it is."""
    if code is None:
        return ""
    return str(ACTION_WORDS[code]) if code in ACTION_WORDS else code


def outcome_words(code: str | None) -> str:
    if code is None:
        return ""
    return str(OUTCOME_WORDS[code]) if code in OUTCOME_WORDS else code


def role_words(roles: str | Iterable[str] | None) -> str:
    """Roles as stored ("dpo,admin") or as a list, in words, comma-separated."""
    if not roles:
        return ""
    codes = roles.split(",") if isinstance(roles, str) else list(roles)
    return ", ".join(sorted(str(ROLE_WORDS.get(code, code)) for code in codes if code))
