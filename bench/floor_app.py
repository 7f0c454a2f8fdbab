"""The floor: a plain Flask + SQLAlchemy app that reads one row of six text fields.

Nothing of the service is in it: no encryption, no sessions, no policy. What the service adds
is measured against this, in the same run, on the same machine.
"""

from __future__ import annotations

import os

from flask import Flask, abort
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

FIELDS = ("name", "personnummer", "address", "phone", "email", "notes")


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    personnummer: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(String(2000))


def create_app() -> Flask:
    engine = create_engine(os.environ["BENCH_FLOOR_DATABASE_URL"])
    app = Flask(__name__)

    @app.get("/rows/<int:row_id>")
    def read_row(row_id: int) -> dict[str, str]:
        with Session(engine) as session:
            row = session.get(Row, row_id)
            if row is None:
                abort(404)
            return {field: getattr(row, field) for field in FIELDS}

    return app
