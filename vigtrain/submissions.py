"""Form submissions: the one-time key a creating form carries, so that the same form sent twice (a
double click, a resend after a slow answer, two tabs) saves once.

The key is claimed by inserting it, in the same transaction as the change and before it; the unique
index decides between two requests sent at the same moment (the second waits for the first, then
finds the key taken), and the repeat is answered with the first one's outcome instead of a second
copy. Keys are forgotten after `FORM_SUBMISSION_RETENTION` by a scheduled job.
"""

from __future__ import annotations

from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.extensions import db


class FormSubmission(db.Model):
    """One creating form that was saved: its key, whose it was, and where its answer led."""

    __tablename__ = "form_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(80))
    outcome_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


def _user_id() -> int | None:
    return current_user.id if has_request_context() and current_user.is_authenticated else None


def claim(key: str) -> FormSubmission:
    """Take the key for this change; flushing raises IntegrityError if someone already took it."""
    submission = FormSubmission(
        key=key, user_id=_user_id(), endpoint=(request.endpoint or "")[:80] if has_request_context() else ""
    )
    db.session.add(submission)
    db.session.flush()
    return submission


def earlier(key: str) -> FormSubmission | None:
    """The saved submission that took this key, if it was this person's."""
    submission = db.session.scalar(select(FormSubmission).where(FormSubmission.key == key))
    if submission is None or submission.user_id != _user_id():
        return None
    return submission


def forget_before(cutoff: datetime) -> int:
    """Delete keys older than `cutoff`: a form that old would be refused by its CSRF token anyway."""
    return db.session.execute(delete(FormSubmission).where(FormSubmission.created_at < cutoff)).rowcount
