"""The append-only audit trail, and `record`, the one call every change goes through.

Append-only with one exception the law requires: `rewriting` lets an erasure replace a person with
their pseudonym, and the retention schedule delete events past their period, within one transaction.
"""

from __future__ import annotations

import enum
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from typing import Any

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, Index, Select, String, and_, delete, event, func, insert, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.extensions import db


class AuditEvent(db.Model):
    """One change: who, when, what, and the entity's state before and after."""

    __tablename__ = "audit_event"
    # Subject access, erasure and the audit page find a person's events by what they are about.
    __table_args__ = (
        Index("ix_audit_event_entity", "entity_type", "entity_id"),
        # The audit page's filters: the action's prefix, with the entity type beside it, so the ids of
        # the matching events come from the index alone (text_pattern_ops: PostgreSQL answers a LIKE
        # prefix from it whatever the database's collation).
        Index("ix_audit_event_action", "action", "entity_type", "id", postgresql_ops={"action": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # The actor's email at the time, so the trail reads correctly after an address changes.
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(60))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(45))


def event_ids_matching(action: str = "", entity: str = "") -> Select:
    """The ids of the audit page's events: those whose action starts with `action` and whose entity is
    `entity` ("type" or "type:id"), newest first. The trail holds millions of events, so each filter
    is one an index answers, and a page sorts the matching ids only, never whole events (a broad
    filter matches tens of thousands); `events_by_id` then reads the page's events."""
    query = select(AuditEvent.id)
    if action:
        query = query.where(_starts_with(AuditEvent.action, action))
    if entity:
        entity_type, _, entity_id = entity.partition(":")
        query = query.where(AuditEvent.entity_type == entity_type)
        if entity_id:
            query = query.where(AuditEvent.entity_id == entity_id)
    if action and db.engine.dialect.name == "postgresql" and _fewer_than(query, FEW_MATCHES):
        # PostgreSQL's planner takes matches as spread evenly over time and walks the trail newest
        # first until it has a page: for an action done mostly long ago (accounts made at launch)
        # that read 2.6 million events to find 26 (0.6 s at 10x). Ordered by an expression, the
        # matching ids are found from the action index and sorted; worth it while they are few.
        return query.order_by((AuditEvent.id + 0).desc())
    return query.order_by(AuditEvent.id.desc())


# Below this many matches, their ids are sorted; above, the trail is walked newest first. Walking
# costs what lies between the newest events and the matches, not their number: 220,000 accounts
# made at launch among 30 million events (100x) took 4 s to walk and take 50 ms to sort. A million
# ids sort in about 150 ms; counting to 300,000 takes ~50 ms, which every broader filter pays.
FEW_MATCHES = 300_000


def _fewer_than(query: Select, limit: int) -> bool:
    """Whether `query` matches fewer than `limit` rows, counting no further than that."""
    return db.session.scalar(select(func.count()).select_from(query.limit(limit).subquery())) < limit


def events_by_id(ids: Sequence[int]) -> list[AuditEvent]:
    """These events, newest first."""
    if not ids:
        return []
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id.desc())))


def _starts_with(column: Any, prefix: str) -> Any:
    """`column` starts with `prefix`. SQLite never answers LIKE from an index (its LIKE ignores case),
    so there the prefix is also given as the range of values it spans, which its binary collation
    orders exactly; PostgreSQL's LIKE is left as it is (a range there would follow the locale's
    collation, which can order "user.x" after "user/")."""
    condition = column.startswith(prefix, autoescape=True)
    if db.engine.dialect.name == "sqlite" and ord(prefix[-1]) < sys.maxunicode:
        condition = and_(column >= prefix, column < prefix[:-1] + chr(ord(prefix[-1]) + 1), condition)
    return condition


class AuditRewrite(db.Model):
    """Present only inside the transaction of an erasure or a retention purge: while a row exists, the
    database's triggers let audit events be deleted, or have who-did-it and before/after rewritten
    (never their id, time, action or entity). Added and removed in the same transaction, so no other
    connection ever sees one."""

    __tablename__ = "audit_rewrite"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditTrailIsAppendOnly(RuntimeError):
    pass


log = logging.getLogger("vigtrain.audit")

REWRITING = "audit_rewrite"
# The only reasons the trail may be rewritten: the law's, and nothing else.
REWRITE_PURPOSES = frozenset({"erasure", "retention"})


@contextmanager
def rewriting(purpose: str) -> Iterator[None]:
    """Allow audit events to be rewritten or deleted for `purpose` until the block ends (same transaction).

    The caller must commit or roll back the whole transaction afterwards (`vigtrain.transactions.run`).
    The permission is withdrawn however the block ends: a caller that caught a failure and committed
    anyway would otherwise commit the permission too, and every connection could rewrite the trail.
    """
    if purpose not in REWRITE_PURPOSES:
        raise ValueError(f"The audit trail is rewritten only by an erasure or the retention schedule, not {purpose!r}")
    permit = AuditRewrite(purpose=purpose)
    db.session.add(permit)
    db.session.flush()
    permit_id = permit.id
    db.session.info[REWRITING] = purpose
    try:
        yield
        db.session.flush()
    except BaseException:
        db.session.info.pop(REWRITING, None)
        try:
            _withdraw(permit, permit_id)
        except SQLAlchemyError:
            # The transaction itself has failed, so it cannot commit: its rollback withdraws the permission.
            log.warning("an audit rewrite (%s) failed; its transaction must be rolled back", purpose)
        raise
    db.session.info.pop(REWRITING, None)
    _withdraw(permit, permit_id)


def _withdraw(permit: AuditRewrite, permit_id: int) -> None:
    db.session.execute(
        delete(AuditRewrite).where(AuditRewrite.id == permit_id), execution_options={"synchronize_session": False}
    )
    if permit in db.session:
        db.session.expunge(permit)


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context, instances) -> None:
    # The database refuses too (triggers in the migration); this catches it earlier, clearly.
    if session.info.get(REWRITING):
        return
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditTrailIsAppendOnly("Audit events cannot be changed or deleted")


def _jsonable(value: Any) -> Any:
    if isinstance(value, time):
        return value.isoformat(timespec="minutes")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def snapshot(obj: Any, *fields: str) -> dict[str, Any]:
    """The named attributes of `obj` as JSON-safe values, for `before`/`after`."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def record(
    actor: Any,
    action: str,
    entity: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (it commits or rolls back with the change).

    `actor` is a User or None (the system); `entity` a mapped object or a (type, id) pair.
    """
    if isinstance(entity, tuple):
        entity_type, entity_id = entity
    else:
        if inspect(entity).transient or inspect(entity).pending:
            db.session.flush()
        entity_type, entity_id = type(entity).__name__, inspect(entity).identity[0]
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    audit_event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or "system",
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        request_id=g.get("request_id") if has_request_context() else None,
        ip_address=g.get("client_ip") if has_request_context() else None,
    )
    db.session.add(audit_event)
    db.session.flush()
    return audit_event


def _entity_key(entity: Any) -> tuple[str, Any]:
    if isinstance(entity, tuple):
        return entity
    return type(entity).__name__, inspect(entity).identity[0]


def record_many(actor: Any, action: str, entries: list[tuple[Any, dict[str, Any] | None]]) -> int:
    """`record` for many entities at once (a bulk import): one INSERT for all of them, same transaction.

    Each entry is (a flushed mapped object or a (type, id) pair, `after`); returns how many were added.
    """
    if not entries:
        return 0
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    common = {
        "occurred_at": utcnow(),
        "actor_id": getattr(actor, "id", None),
        "actor_label": getattr(actor, "email", None) or "system",
        "action": action,
        "request_id": g.get("request_id") if has_request_context() else None,
        "ip_address": g.get("client_ip") if has_request_context() else None,
        "before": None,
    }
    db.session.execute(
        insert(AuditEvent),
        [
            {
                **common,
                "entity_type": entity_type,
                "entity_id": str(entity_id),
                "after": _jsonable(after) if after is not None else None,
            }
            for (entity_type, entity_id), after in ((_entity_key(entity), after) for entity, after in entries)
        ],
    )
    return len(entries)
