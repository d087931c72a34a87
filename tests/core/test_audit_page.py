"""The audit trail page: filters by the start of an action and by entity, newest first, and pages
through millions of events without counting them (previous and next, no "of N")."""

from __future__ import annotations

import re

import pytest

from tests.factories import counting_statements, make_admin
from vigtrain import audit
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db


def _events(*specs: tuple[str, str, str | None]) -> None:
    for action, entity_type, entity_id in specs:
        db.session.add(AuditEvent(actor_label="system", action=action, entity_type=entity_type, entity_id=entity_id))
    db.session.commit()


@pytest.fixture
def admin_client(app, client):
    make_admin()
    assert client.login("admin@example.org").status_code == 302
    return client


def _actions(html: str) -> list[str]:
    return re.findall(r'<td class="govuk-table__cell"><span class="app-code">([^<]+)</span>', html)


def test_an_action_prefix_matches_only_actions_that_start_with_it_whatever_the_case_typed(admin_client):
    _events(
        ("user.create", "User", "1"), ("user.update", "User", "1"), ("users.x", "User", "2"), ("case.add", "Case", "A")
    )
    html = admin_client.get("/admin/audit?action=USER.").get_data(as_text=True)
    assert sorted(_actions(html)) == ["user.create", "user.update"]
    html = admin_client.get("/admin/audit?action=user").get_data(as_text=True)
    assert sorted(set(_actions(html)) - {"login.succeeded"}) == ["user.create", "user.update", "users.x"]
    # A character that a range cannot follow, and LIKE's own wildcards, match only themselves.
    _events(("odd%_\U0010ffff", "X", None))
    assert _actions(admin_client.get("/admin/audit?action=odd%25_").get_data(as_text=True)) == ["odd%_\U0010ffff"]
    assert _actions(admin_client.get("/admin/audit?action=%25").get_data(as_text=True)) == []
    assert _actions(admin_client.get("/admin/audit?action=odd%25_%F4%8F%BF%BF").get_data(as_text=True)) == [
        "odd%_\U0010ffff"
    ]


def test_entity_filters_by_type_and_by_type_and_id(admin_client):
    _events(("case.add", "Case", "A"), ("case.add", "Case", "B"), ("user.create", "User", "A"))
    assert len(_actions(admin_client.get("/admin/audit?entity=Case").get_data(as_text=True))) == 2
    assert _actions(admin_client.get("/admin/audit?entity=Case:B").get_data(as_text=True)) == ["case.add"]


def test_pages_go_back_and_forth_without_counting_the_trail(app, admin_client):
    app.config["PAGE_SIZE"] = 3
    _events(*[(f"thing.{n:02d}", "Thing", str(n)) for n in range(7)])
    with counting_statements() as statements:
        first = admin_client.get("/admin/audit?action=thing").get_data(as_text=True)
    # PostgreSQL may count the matches up to a cap (audit.FEW_MATCHES), never the whole trail.
    assert not [sql for sql in statements if "count(" in sql.lower() and "audit_event" in sql and "LIMIT" not in sql]
    assert _actions(first) == ["thing.06", "thing.05", "thing.04"]
    assert "Showing 1 to 3<" in first and "of 7" not in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    last = admin_client.get("/admin/audit?action=thing&page=3").get_data(as_text=True)
    assert _actions(last) == ["thing.00"] and 'rel="prev"' in last and 'rel="next"' not in last
    assert "Showing 7 to 7<" in last
    # A page past the end is the first page, as everywhere else.
    assert _actions(admin_client.get("/admin/audit?action=thing&page=9").get_data(as_text=True)) == _actions(first)


def test_no_match_says_so(admin_client):
    assert "No audit events match." in admin_client.get("/admin/audit?action=nothing.here").get_data(as_text=True)


@pytest.mark.parametrize("few", [1, 1_000])
def test_few_matches_sorted_or_many_walked_the_pages_are_the_same(app, admin_client, monkeypatch, few):
    """PostgreSQL sorts the ids of a filter's few matches, and walks the trail newest first for a
    filter matching many (audit.FEW_MATCHES): either way the same events, newest first."""
    monkeypatch.setattr(audit, "FEW_MATCHES", few)
    app.config["PAGE_SIZE"] = 3
    _events(*[(f"thing.{n:02d}", "Thing", str(n)) for n in range(5)], ("other.x", "Thing", "9"), ("thing.x", "T", "1"))
    assert _actions(admin_client.get("/admin/audit?action=thing").get_data(as_text=True)) == [
        "thing.x",
        "thing.04",
        "thing.03",
    ]
    second = admin_client.get("/admin/audit?action=thing&entity=Thing&page=2").get_data(as_text=True)
    assert _actions(second) == ["thing.01", "thing.00"]
