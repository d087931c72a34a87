"""The audit trail's one exception (`audit.rewriting`) closes whatever happens in its block, and serves
erasure and the retention schedule only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import make_user
from vigtrain import audit
from vigtrain.extensions import db


def _permits() -> int:
    return db.session.scalar(select(func.count()).select_from(audit.AuditRewrite))


def test_a_block_that_fails_takes_its_permission_away_even_if_the_caller_then_commits(app):
    user = make_user("sam@example.org")
    event = audit.record(user, "test.event", user)
    db.session.commit()
    # A caller that catches the failure and commits what else it did (as `keep_refused` does) must not
    # commit the permission with it: every connection would then be free to rewrite the trail.
    with pytest.raises(RuntimeError), audit.rewriting("erasure"):
        raise RuntimeError("part-way")
    db.session.commit()
    # The database's triggers let any transaction rewrite while a permission row exists.
    assert _permits() == 0
    event.actor_label = "tampered"
    with pytest.raises(audit.AuditTrailIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_only_erasure_and_the_retention_schedule_may_rewrite(app):
    with pytest.raises(ValueError, match="erasure or the retention schedule"), audit.rewriting("tidying up"):
        pass
    assert _permits() == 0
