"""Read-only queries about people that other domains' forms and pages share."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, func, or_, select

from vigtrain.accounts.models import Role, User, UserRole
from vigtrain.forms import search_words

MAX_TERM = 100


def name_or_email_holds(text: str) -> ColumnElement[bool]:
    """People whose name or email address holds the words typed, whatever their case."""
    words = search_words(text, MAX_TERM).lower()
    return or_(
        func.lower(User.display_name).contains(words, autoescape=True), User.email.contains(words, autoescape=True)
    )


def role_holders(role: Role, excluding: Sequence[int] = ()) -> Select:
    """Active people who hold `role` (but those in `excluding`), by name."""
    query = select(User).where(
        User.is_active_flag.is_(True), User.id.in_(select(UserRole.user_id).where(UserRole.role == role))
    )
    if excluding:
        query = query.where(User.id.not_in(excluding))
    return query.order_by(User.display_name, User.id)
