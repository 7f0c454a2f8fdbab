"""The database of the running app, and the session of this request or CLI command.

Flask's side of the database: one `Database` per app (in `app.extensions`), one session per
request or command, opened on first use and closed when the app context ends. The db layer
(referral/db/) knows nothing of Flask; views and commands reach their session from here.
"""

from __future__ import annotations

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


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
