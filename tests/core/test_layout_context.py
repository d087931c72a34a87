"""The layout's figures (the navigation, the unread notifications count) are worked out once per page,
however many templates the page renders: each GOV.UK form widget renders one of its own."""

from __future__ import annotations

from tests.factories import counting_statements, make_service, make_user
from vigtrain.accounts.models import Role
from vigtrain.extensions import db
from vigtrain.notifications import inbox
from vigtrain.notifications.models import NotificationKind


def test_a_form_page_counts_the_unread_notifications_once(app, client):
    service = make_service()
    trainee = make_user("tess@example.org", roles=(Role.TRAINEE,), service_id=service.id)
    inbox.notify(trainee, NotificationKind.STAGE_UPDATE, "s:1", "p", "Something changed", "Body.", link="/home")
    db.session.commit()
    client.login("tess@example.org")
    with counting_statements() as statements:
        page = client.get("/cases/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('class="govuk-label') + html.count("govuk-fieldset__legend") > 5  # many widgets
    assert '<span class="app-header__count">1<' in html
    counts = [sql for sql in statements if "FROM notification" in sql and "count(" in sql]
    assert len(counts) == 1, counts
