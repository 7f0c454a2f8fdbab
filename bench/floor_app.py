"""The floor: a plain Flask + SQLAlchemy app that reads one row of six text fields by id and
answers it as JSON.

Nothing of the service is in it: no encryption, no sessions, no policy, no access log. What the
service adds is measured against this, in the same run, on the same machine, under the same
gunicorn settings and on the same kind of database (BENCH_FLOOR_DATABASE_URL).
"""

from __future__ import annotations

import os

from flask import Flask, abort
from sqlalchemy import String, create_engine, delete, func, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

FIELDS = ("name", "personnummer", "address", "phone", "email", "notes")


class Base(DeclarativeBase):
    pass


class Row(Base):
    # Its own name: on PostgreSQL the floor's table sits in the benchmark's database.
    __tablename__ = "floor_rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    personnummer: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(String(2000))


def seed(database_url: str, rows: int) -> None:
    """`rows` invented rows with ids 1..rows (kept when they are there already)."""
    engine = create_engine(database_url)
    try:
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            if session.scalar(select(func.count()).select_from(Row)) == rows:
                return
            session.execute(delete(Row))
            session.execute(
                insert(Row),
                [
                    {
                        "id": number,
                        "name": f"Astrid Exempelsdotter {number}",
                        "personnummer": f"2013071{number % 1000:03d}76",
                        "address": f"Exempelgatan {number % 200}, 123 45 Farsta",
                        "phone": "070-123 45 67",
                        "email": f"familjehem{number}@example.invalid",
                        "notes": "Barnet trivs i familjehemmet och vill gärna delta i en "
                        "stödgrupp. " * 3,
                    }
                    for number in range(1, rows + 1)
                ],
            )
            session.commit()
    finally:
        engine.dispose()


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
