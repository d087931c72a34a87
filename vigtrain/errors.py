"""Domain errors raised by services; `vigtrain.transactions` turns them into answers (a message beside
the field, a problem, a command's error) and rolls back."""

from __future__ import annotations


class DomainError(Exception):
    """A rule was broken; `field` names the form field the message belongs beside."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


STALE = "Someone else changed this while you were working on it. Nothing was saved: check the latest and try again."


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does."""


class Conflict(DomainError):
    """Someone else changed the thing first (views answer 409)."""


class PermissionDenied(DomainError):
    """The actor may not do this (views answer 403, and the refusal is logged)."""
