"""Subject-access report (GDPR art. 15 style): who accessed this person's data, when, what
and why. The DPO types a personnummer; the report shows access, never the record's content.
Producing it is itself recorded, against the person concerned."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from crypto import DecryptionError
from referral.actors import Actor
from referral.clock import local_text
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation
from referral.db.people import Child
from referral.db.uow import UnitOfWork
from referral.i18n import _
from referral.policy import Permission, require
from referral.services.audit_search import subjects_for_personnummer
from referral.spreadsheet import to_csv
from referral.words import action_words, outcome_words, role_words

PURGED = "(purged)"


@dataclass(frozen=True)
class AccessLine:
    occurred_at: str
    actor_name: str
    organisation: str
    roles: str
    action: str  # in words, in the reader's language (a guardian may receive the report)
    action_code: str
    outcome: str
    legal_basis: str
    purpose: str


@dataclass(frozen=True)
class SubjectAccessReport:
    records_found: int
    lines: list[AccessLine]
    # The person's records by pseudonymous id: the report never carries the personnummer.
    subject_ids: tuple[str, ...] = ()

    def as_csv(self) -> str:
        return to_csv(
            [
                _("When"),
                _("Who"),
                _("Organisation"),
                _("Roles"),
                _("What"),
                _("Outcome"),
                _("Legal basis"),
                _("Why"),
            ],
            (
                [
                    line.occurred_at,
                    line.actor_name,
                    line.organisation,
                    line.roles,
                    line.action,
                    line.outcome,
                    line.legal_basis,
                    line.purpose,
                ]
                for line in self.lines
            ),
        )


def _purpose(entry: AuditEntry) -> str:
    if entry._details is None:
        return ""
    try:
        details = json.loads(entry.details)
    except DecryptionError:
        return PURGED  # the person's key is shredded: the why is gone with the data
    return str(details.get("purpose", ""))


def subject_access_report(uow: UnitOfWork, actor: Actor, personnummer: str) -> SubjectAccessReport:
    require(actor, Permission.AUDIT_SUBJECT_REPORT)
    db = uow.session
    subjects = subjects_for_personnummer(db, personnummer)
    entries = (
        list(
            db.scalars(
                select(AuditEntry)
                .where(AuditEntry.subject_id.in_(subjects))
                .order_by(AuditEntry.sequence)
            )
        )
        if subjects
        else []
    )
    organisations = {
        org_id: name for org_id, name in db.execute(select(Organisation.id, Organisation.name))
    }
    lines = [
        AccessLine(
            occurred_at=local_text(e.occurred_at, "%Y-%m-%d %H:%M:%S"),
            actor_name=e.actor_name or "—",
            organisation=organisations.get(e.actor_organisation_id or "", "—"),
            roles=role_words(e.actor_roles),
            action=action_words(e.action),
            action_code=e.action,
            outcome=outcome_words(e.outcome),
            legal_basis=e.legal_basis or "",
            purpose=_purpose(e),
        )
        for e in entries
    ]
    for subject in subjects:
        child = db.get(Child, subject)
        assert child is not None
        record(
            db,
            actor,
            Action.AUDIT_SUBJECT_REPORT,
            object_type="audit_log",
            subject=child.key_scope(),
        )
    if not subjects:
        record(
            db, actor, Action.AUDIT_SUBJECT_REPORT, object_type="audit_log", object_id="no-match"
        )
    uow.commit()
    return SubjectAccessReport(
        records_found=len(subjects), lines=lines, subject_ids=tuple(subjects)
    )
