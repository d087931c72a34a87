"""A cheap fingerprint of everything the database holds, to prove a refused request wrote nothing.

For every table: its row count and, where it has one, the sum of its `version` column (so an
update to a row that counts its versions shows too). The audit trail is a table like any other, so a refusal
that recorded an audit event shows as well. One statement, well under a millisecond on SQLite.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Integer, func, select

from vigtrain.extensions import db


@cache
def _statement(tables: tuple[str, ...]):
    columns = []
    for name in tables:
        table = db.metadata.tables[name]
        columns.append(select(func.count()).select_from(table).scalar_subquery().label(f"{name}:rows"))
        if "version" in table.c and isinstance(table.c.version.type, Integer):  # not a pathway's "2024.1"
            total = func.coalesce(func.sum(table.c.version), 0)
            columns.append(select(total).scalar_subquery().label(f"{name}:versions"))
    return select(*columns)


def fingerprint() -> dict[str, int]:
    """{"<table>:rows": count, "<table>:versions": sum of versions} for every table, read afresh."""
    statement = _statement(tuple(sorted(db.metadata.tables)))
    with db.engine.connect() as connection:
        row = connection.execute(statement).one()
    return dict(row._mapping)


def changes(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    """What moved between two fingerprints: {key: (before, after)}."""
    return {key: (before.get(key, 0), value) for key, value in after.items() if before.get(key, 0) != value}
