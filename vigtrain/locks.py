"""Row locks for changes that read a row, decide, then write: two requests at the same moment must
not both decide on what they read before either wrote.

`hold(row)` writes the row without changing it (`UPDATE ... SET id = id`), which takes its lock on
PostgreSQL and the database's write lock on SQLite, then reads it afresh. Whoever comes second waits
for the first to commit and then decides on what the first left: already revoked, already reopened,
already deleted. Services call it first, before their checks.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import inspect, text, update

from vigtrain.errors import Conflict
from vigtrain.extensions import db

T = TypeVar("T")

GONE = (
    "This has already been deleted, perhaps by a second click or in another tab. "
    "Nothing more was done: go back and reload the page."
)


def hold(row: T) -> T:
    """Lock `row` until the transaction ends and read it afresh; Conflict if it no longer exists."""
    state = inspect(row)
    table = state.mapper.local_table
    (column,) = table.primary_key.columns
    (identity,) = state.identity
    unchanged = update(table).where(column == identity).values({column.name: column})
    found = db.session.execute(unchanged.execution_options(synchronize_session=False)).rowcount
    if not found:
        raise Conflict(GONE)
    db.session.refresh(row)
    return row


def hold_name(name: str) -> None:
    """Hold `name` until the transaction ends: two transactions that hold the same name run one after
    the other, the second deciding on what the first committed (even rows the first inserted).

    On PostgreSQL a transaction-level advisory lock; SQLite lets one writer in at a time already,
    from its first write to its commit, so callers write straight after holding the name.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name})
