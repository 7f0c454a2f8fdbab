"""The database of the running app, and the session of this request or CLI command.

Flask's side of the database: one `Database` per app (in `app.extensions`), one session per
request or command, opened on first use and closed when the app context ends. The db layer
(referral/db/) knows nothing of Flask; views and commands reach their session from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from referral.db.engine import Database
from referral.db.uow import UnitOfWork

EXTENSION = "referral_db"


def init_database(app: Flask, database: Database) -> None:
    app.extensions[EXTENSION] = database
    app.teardown_appcontext(_close_request_session)


def get_database(app: Flask | None = None) -> Database:
    database: Database = (app or current_app).extensions[EXTENSION]
    return database


def request_session() -> Session:
    """The session of this request or CLI command, created on first use."""
    if "db_session" not in g:
        g.db_session = get_database().new_session()
    session: Session = g.db_session
    return session


def request_uow() -> UnitOfWork:
    """A unit of work on this request's session: `with request_uow() as uow: … uow.commit()`."""
    return UnitOfWork(request_session())


class StreamOnOwnSession(Iterator[str]):
    """A response body streamed from the database after the view has returned, on a session
    of its own: Flask tears the request's context down (closing the request's session) when
    the view returns, before the server reads a streamed body.

    `produce` is called at once in a unit of work on the new session (which records and
    commits what it must; a refusal ends it as any unit of work's does), and its first piece
    is taken at once too, after that unit of work has ended (its rollback would close a
    server-side cursor): the query runs while the view can still answer with an error. The
    rest is read as the server sends it; the session is closed when the server closes the
    body, however the download ends (werkzeug's Response closes its iterable).
    """

    def __init__(self, produce: Callable[[UnitOfWork], Iterator[str]]) -> None:
        self._session = get_database().new_session()
        try:
            with UnitOfWork(self._session) as uow:
                self._pieces = produce(uow)
            self._first: str | None = next(self._pieces, None)
        except BaseException:
            self._session.close()
            raise

    def __next__(self) -> str:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return next(self._pieces)

    def close(self) -> None:
        self._session.close()


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
