"""Statements over a chunk of ids built once (referral.db.base.ByIds): the ids are bound when
the statement runs, so one statement serves every chunk, of whatever length, and reads what
a statement built for that chunk (`one_of`) reads."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Select, select

from referral.actors import Actor
from referral.db.base import IDS, IN_CHUNK, ByIds, in_ids, one_of
from referral.db.people import Child
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.services import children
from tests.factories import Factory, invented_personnummer, social_worker_actor


def _children_born(
    uow: UnitOfWork, actor: Actor, year: int, month: int, days: tuple[int, ...]
) -> list[str]:
    """The ids of children registered in the actor's district, one born on each day."""
    return [
        children.register_child(
            uow, actor, children.NewChild(invented_personnummer(year, month, day), f"Barn {day}")
        ).id
        for day in days
    ]


def test_one_statement_reads_chunks_of_any_length_as_a_statement_built_for_each_would(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        ids = _children_born(uow, actor, 2012, 3, (4, 5, 6))
        by_ids = ByIds(lambda arrays: select(Child.id).where(in_ids(Child.id, arrays)))
        session = uow.session
        for chunk in ([ids[0]], ids, ids[1:], [ids[2], "no-such-child"], []):
            read = set(session.scalars(by_ids(session), {IDS: chunk}))
            built_for_it = set(
                session.scalars(select(Child.id).where(one_of(session, Child.id, chunk)))
            )
            assert read == built_for_it == set(chunk) - {"no-such-child"}


def test_a_statement_is_built_once_for_each_kind_of_database(app: Flask) -> None:
    built: list[bool] = []

    def build(arrays: bool) -> Select[str]:
        built.append(arrays)
        return select(Child.id).where(in_ids(Child.id, arrays))

    by_ids = ByIds(build)
    with app.app_context():
        session = request_session()
        first = by_ids(session)
        assert by_ids(session) is first and by_ids(session) is first
        assert built == [session.get_bind().dialect.name == "postgresql"]


def test_rows_over_more_ids_than_one_chunk_holds_come_from_every_chunk(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        ids = _children_born(uow, actor, 2011, 9, (1, 2))
        first, last = sorted(ids)
        # Ids that sort between the two children: sorted and cut into chunks, the first child
        # is in the first chunk, the last one in the third.
        between = [f"{first}-{n:04d}" for n in range(2 * IN_CHUNK)]
        asked = [last, *between, first]
        by_ids = ByIds(lambda arrays: select(Child.id).where(in_ids(Child.id, arrays)))
        assert sorted(row[0] for row in by_ids.rows(uow.session, asked)) == sorted(ids)
