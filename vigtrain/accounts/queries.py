"""Read-only queries about people that other domains' forms and pages share."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select

from vigtrain.accounts.models import Role, User, UserRole


def role_holders(role: Role, excluding: Sequence[int] = ()) -> Select:
    """Active people who hold `role` (but those in `excluding`), by name."""
    query = select(User).where(
        User.is_active_flag.is_(True), User.id.in_(select(UserRole.user_id).where(UserRole.role == role))
    )
    if excluding:
        query = query.where(User.id.not_in(excluding))
    return query.order_by(User.display_name, User.id)
