"""Unit of work: services own the transaction; nothing commits unless a service says so."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session

from referral.errors import Denial


class UnitOfWork:
    """`with uow: ...; uow.commit()` — leaving the block without commit rolls everything back,
    so a failed request never leaves a half-written record. A refusal by the policy is then
    written to the access log on its own, so that the denial outlives the rollback."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        denial = getattr(exc, "denial", None)
        if isinstance(denial, Denial):
            record_denial(self.session, denial)
            self.session.commit()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class StepOf(UnitOfWork):
    """A unit of work inside another's transaction: a service that commits its own step
    only flushes through this, and the caller commits once, so the steps of one action
    (an interest confirmed into a child and a referral, a youth found and reported) are
    written together or not at all."""

    def commit(self) -> None:
        self.session.flush()


def record_denial(session: Session, denial: Denial) -> None:
    from audit.actions import Action, Outcome
    from audit.record import record
    from referral.actors import Origin

    record(
        session,
        denial.actor or Origin.command_line(),
        Action.ACCESS_DENIED,
        outcome=Outcome.DENIED,
        object_type=denial.object_type or "permission",
        object_id=denial.object_id or denial.permission,
        subject=denial.subject,
    )
