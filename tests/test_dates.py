"""`dates.as_of`: inside it, now and today are the moment given (the demo dates its history so);
outside it, and after it, they are the real time again."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from vigtrain.audit import AuditEvent
from vigtrain.dates import UK, as_of, today, utcnow


def test_inside_as_of_now_and_today_are_the_moment_given(clock):
    moment = datetime(2025, 6, 30, 23, 30, tzinfo=UTC)  # already 1 July in the UK (BST)
    with as_of(moment):
        assert utcnow() == moment and today() == date(2025, 7, 1)
        with as_of(datetime(2024, 1, 5, 9, 0, tzinfo=UK)):
            assert utcnow() == datetime(2024, 1, 5, 9, 0, tzinfo=UTC)
        assert utcnow() == moment
    assert utcnow() == datetime(2026, 3, 2, 10, 0, tzinfo=UTC) and today() == date(2026, 3, 2)


def test_as_of_stamps_what_is_made_inside_it(app):
    from vigtrain import audit
    from vigtrain.extensions import db

    with as_of(datetime(2025, 2, 3, 14, 0, tzinfo=UK)):
        event = audit.record(None, "test.dated", ("thing", 1))
        db.session.flush()
    assert db.session.get(AuditEvent, event.id).occurred_at == datetime(2025, 2, 3, 14, 0, tzinfo=UTC)


def test_as_of_refuses_a_time_without_a_zone():
    with pytest.raises(ValueError), as_of(datetime(2025, 2, 3, 14, 0)):
        pass
