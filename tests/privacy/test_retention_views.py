"""The administrators' retention schedule page: every rule in words, and what the last purge removed."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from tests.factories import make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.dates import utcnow
from vigtrain.extensions import db
from vigtrain.privacy import retention

ROW = re.compile(r'<tr class="govuk-table__row">\s*<th scope="row"[^>]*>(.*?)</th>(.*?)</tr>', re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


def _words(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _rows(page: str) -> dict[str, list[str]]:
    return {_words(what): [_words(cell) for cell in CELL.findall(rest)] for what, rest in ROW.findall(page)}


def test_the_page_lists_every_rule_and_what_the_last_purge_removed(app, clock, client):
    admin = make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    client.login(admin.email)
    page = client.get("/admin/erasure/retention").get_data(as_text=True)
    assert "Nothing has been purged yet." in page
    assert list(_rows(page)) == [rule.what for rule in retention.RULES]

    old = utcnow() - retention.BY_KEY["audit-events"].period
    db.session.add(AuditEvent(occurred_at=old, actor_label="system", action="old", entity_type="T"))
    db.session.commit()
    clock.tick(timedelta(hours=1))
    assert retention.enforce_retention(utcnow()) == 1
    db.session.commit()
    page = client.get("/admin/erasure/retention").get_data(as_text=True)
    assert "The last run that purged anything was on 2 March 2026 at 11:00am." in page
    rows = _rows(page)
    assert rows["Audit events"] == [
        "7 years from when they occurred",
        retention.BY_KEY["audit-events"].why,
        "The daily job apply-retention-schedule",
        "1",
    ]
    assert rows["Notifications that were read"][-1] == "0"
    assert rows["DCS outcome data"][-1] == "Not applicable"
    assert 'href="/admin/jobs/apply-retention-schedule"' in page
