"""What every operator command shares: a unit of work, the system actor, clean exits.

Commands act as a named system actor so that what they do passes the same policy and the
same access log as the web. Errors print one sentence and exit non-zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from referral.actors import Actor
from referral.db.uow import UnitOfWork
from referral.errors import DomainError
from referral.request_scope import request_uow


@contextmanager
def operator(command: str) -> Iterator[tuple[UnitOfWork, Actor]]:
    """A unit of work and the system actor for `command`; domain errors become clean exits."""
    try:
        with request_uow() as uow:
            yield uow, Actor.system_actor(command)
    except DomainError as error:
        raise click.ClickException(error.message) from None
