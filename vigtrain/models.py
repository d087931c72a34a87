"""Imports every model so that Alembic and create_all see the whole schema."""

from vigtrain.accounts.models import RecoveryCode, User, UserRole
from vigtrain.audit import AuditEvent
from vigtrain.notifications.models import OutboxMessage
from vigtrain.organisations.models import Region, Service

__all__ = ["AuditEvent", "OutboxMessage", "RecoveryCode", "Region", "Service", "User", "UserRole"]
