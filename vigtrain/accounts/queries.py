"""Read-only counts of accounts for the administrator's pages."""

from __future__ import annotations

from sqlalchemy import func, select

from vigtrain.accounts.models import User
from vigtrain.extensions import db


def people_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def invited_count() -> int:
    """Active accounts whose invitation has not been accepted yet (no password set)."""
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.password_hash.is_(None), User.is_active_flag)
    )
