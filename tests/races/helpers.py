"""Requests sent at the same moment: each from its own thread and client, released together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import func, select

from vigtrain.audit import AuditEvent
from vigtrain.extensions import db

T = TypeVar("T")


def at_once(actions: list[Callable[[], T]]) -> list[T]:
    """Run every action in its own thread, all starting together; their results in order."""
    barrier = threading.Barrier(len(actions))

    def go(action: Callable[[], T]) -> T:
        barrier.wait()
        return action()

    with ThreadPoolExecutor(len(actions)) as pool:
        return [future.result() for future in [pool.submit(go, action) for action in actions]]


def audit_count(action: str) -> int:
    db.session.rollback()  # read what the other connections committed
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def row_count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))
