"""The audit trail refuses changes at the ORM level too, and snapshots are JSON-safe."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import make_user
from vigtrain import audit
from vigtrain.accounts.models import Role
from vigtrain.extensions import db


def test_audit_events_cannot_be_edited_or_deleted_through_the_orm(app):
    user = make_user("sam@example.org")
    event = audit.record(None, "test.event", user)
    db.session.commit()
    event.action = "tampered"
    with pytest.raises(audit.AuditTrailIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(event)
    with pytest.raises(audit.AuditTrailIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_a_rewrite_may_replace_who_did_it_and_then_the_trail_is_closed_again(app):
    user = make_user("sam@example.org")
    event = audit.record(user, "test.event", user, after={"email": "sam@example.org"})
    db.session.commit()
    with audit.rewriting("erasure"):
        event.actor_label = "Erased person P-TEST"
        event.after = {"email": "Erased person P-TEST"}
    db.session.commit()
    db.session.expire_all()
    assert (event.actor_label, event.after, event.action) == (
        "Erased person P-TEST",
        {"email": "Erased person P-TEST"},
        "test.event",
    )
    assert db.session.scalar(select(func.count()).select_from(audit.AuditRewrite)) == 0
    event.actor_label = "tampered"
    with pytest.raises(audit.AuditTrailIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_a_rewrite_that_fails_leaves_the_trail_as_it_was(app):
    user = make_user("sam@example.org")
    event = audit.record(user, "test.event", user)
    db.session.commit()
    with pytest.raises(RuntimeError), audit.rewriting("erasure"):
        event.actor_label = "Erased person P-TEST"
        db.session.flush()
        raise RuntimeError("part-way")
    db.session.rollback()
    assert db.session.get(audit.AuditEvent, event.id).actor_label == "sam@example.org"
    assert db.session.scalar(select(func.count()).select_from(audit.AuditRewrite)) == 0


def test_record_names_the_entity_and_system_actor(app):
    user = make_user("sam@example.org", roles=(Role.TRAINEE, Role.SUPERVISOR))
    event = audit.record(None, "test.event", user, after=audit.snapshot(user, "roles", "created_at"))
    assert (event.entity_type, event.entity_id, event.actor_label) == ("User", str(user.id), "system")
    assert event.after["roles"] == ["supervisor", "trainee"]
    assert isinstance(event.after["created_at"], str)


def test_record_accepts_a_type_and_id_pair(app):
    event = audit.record(None, "export.downloaded", ("Export", 7))
    assert (event.entity_type, event.entity_id) == ("Export", "7")
