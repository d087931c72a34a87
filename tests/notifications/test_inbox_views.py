"""Each person's notifications through the browser's eyes: the count in the header, the list, opening
one, marking read, and the settings page, whose choice `notify` honours."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from tests.factories import make_user
from vigtrain.accounts.models import Role, User
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.notifications import inbox
from vigtrain.notifications.models import (
    Delivery,
    EmailState,
    Notification,
    NotificationKind,
    NotificationPreference,
    OutboxMessage,
)

HEADER_LINK = re.compile(r'<a class="app-header__link" href="/notifications"[^>]*>(.*?)</a>', re.S)
UP_TO = re.compile(r'name="up_to" value="(\d+)"')
TITLE_LINK = re.compile(r'<a class="govuk-link" href="/notifications/(\d+)">([^<]+)</a>')


@pytest.fixture
def tara(app, clock) -> User:
    return make_user("tara@example.org", roles=(Role.TRAINEE,), name="Tara Trainee")


@pytest.fixture
def owen(app, clock) -> User:
    return make_user("owen@example.org", roles=(Role.TRAINEE,), name="Owen Other")


def _tell(person: User, title: str, kind: NotificationKind = NotificationKind.STAGE_UPDATE, link: str | None = None):
    """One new notification for `person`, committed."""
    notification = inbox.notify(person, kind, f"test:{title}", "once", title, f"About {title}.", link=link)
    db.session.commit()
    assert notification is not None
    return notification


def _header_count(client, url: str = "/home") -> str | None:
    """The unread count the header shows beside "Notifications" (None: no count shown)."""
    (link,) = HEADER_LINK.findall(client.get(url).get_data(as_text=True))
    count = re.search(r'<span class="app-header__count">(\d+)<span class="govuk-visually-hidden"> unread</span>', link)
    return count.group(1) if count else None


def _titles(page: str) -> list[str]:
    return [html.unescape(title) for _, title in TITLE_LINK.findall(page)]


def _read_at(notification_id: int):
    db.session.expire_all()
    return db.session.get(Notification, notification_id).read_at


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- the header, the list -------------------------------------------------------------------------------


def test_the_header_shows_the_unread_count_and_none_when_nothing_is_unread(client, tara, owen):
    client.login(tara.email)
    assert _header_count(client) is None
    first = _tell(tara, "Stage 1 signed off")
    _tell(tara, "Stage 2 started")
    _tell(owen, "Owen's news")  # someone else's never counts
    assert _header_count(client) == "2"
    inbox.mark_read(db.session.get(Notification, first.id))
    db.session.commit()
    assert _header_count(client) == "1"
    assert "You have 1 unread notification." in _text(client.get("/notifications"))


def test_the_list_shows_the_newest_first_one_page_at_a_time(client, app, tara):
    app.config["PAGE_SIZE"] = 3
    for number in range(1, 6):
        _tell(tara, f"Item {number}")
    client.login(tara.email)
    first = _text(client.get("/notifications"))
    assert _titles(first) == ["Item 5", "Item 4", "Item 3"]
    assert "Showing 1 to 3 of 5" in first
    second = _text(client.get("/notifications?page=2"))
    assert _titles(second) == ["Item 2", "Item 1"]
    assert "Showing 4 to 5 of 5" in second


def test_the_unread_filter_shows_only_what_is_unread(client, tara):
    read = _tell(tara, "Already seen")
    _tell(tara, "Not seen yet")
    inbox.mark_read(db.session.get(Notification, read.id))
    db.session.commit()
    client.login(tara.email)
    assert _titles(_text(client.get("/notifications"))) == ["Not seen yet", "Already seen"]
    assert _titles(_text(client.get("/notifications?show=unread"))) == ["Not seen yet"]
    client.submit("/notifications/read-all", page="/notifications")
    unread = _text(client.get("/notifications?show=unread"))
    assert _titles(unread) == [] and "Nothing unread." in unread


def test_someone_with_no_notifications_is_told_what_will_appear(client, tara):
    client.login(tara.email)
    page = _text(client.get("/notifications"))
    assert "You have no unread notifications." in page and "Nothing yet." in page
    assert "Mark all as read" not in page


# --- opening and marking read ------------------------------------------------------------------------------


def test_opening_a_notification_reads_it_and_the_count_falls(client, clock, tara):
    opened = _tell(tara, "Session waiting", link="/supervision/12")
    _tell(tara, "Another thing")
    client.login(tara.email)
    assert _header_count(client) == "2"
    response = client.get(f"/notifications/{opened.id}")
    page = _text(response)
    assert response.status_code == 200
    assert "Session waiting" in page and "About Session waiting." in page
    assert re.search(r'<a href="/supervision/12" role="button"[^>]*>\s*Go to it now\s*</a>', page)
    assert _header_count(client, f"/notifications/{opened.id}") == "1"
    first_read = _read_at(opened.id)
    assert first_read is not None
    clock.tick(3600)
    client.get(f"/notifications/{opened.id}")
    assert _read_at(opened.id) == first_read  # opened again: still read when it was first read


def test_a_notification_without_a_link_offers_no_button(client, tara):
    plain = _tell(tara, "Just so you know")
    client.login(tara.email)
    page = _text(client.get(f"/notifications/{plain.id}"))
    assert "Just so you know" in page and "Go to it now" not in page


def test_mark_as_read_from_the_list(client, tara):
    kept = _tell(tara, "Still to read")
    marked = _tell(tara, "Mark me")
    client.login(tara.email)
    response = client.submit(f"/notifications/{marked.id}/read", page="/notifications")
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"
    assert "Marked as read: Mark me" in _text(client.get("/notifications"))
    assert _read_at(marked.id) is not None and _read_at(kept.id) is None
    assert _header_count(client) == "1"


def test_mark_all_as_read_leaves_one_that_arrived_after_the_page_was_shown(client, tara):
    _tell(tara, "First")
    _tell(tara, "Second")
    client.login(tara.email)
    page = client.get("/notifications").get_data(as_text=True)
    (up_to,) = UP_TO.findall(page)
    newer = _tell(tara, "Arrived while reading")
    response = client.submit("/notifications/read-all", {"up_to": up_to}, page="/notifications")
    assert response.status_code == 302
    assert "2 marked as read." in _text(client.get("/notifications"))
    db.session.expire_all()
    unread = db.session.scalars(select(Notification.title).where(Notification.read_at.is_(None))).all()
    assert unread == ["Arrived while reading"]
    assert _header_count(client) == "1"
    client.submit("/notifications/read-all", {"up_to": str(newer.id)}, page="/notifications")
    assert _read_at(newer.id) is not None and _header_count(client) is None
    client.submit("/notifications/read-all", page="/notifications")
    assert "Nothing was unread." in _text(client.get("/notifications"))


def test_mark_all_as_read_touches_only_ones_own(client, tara, owen):
    mine = _tell(tara, "Mine")
    theirs = _tell(owen, "Theirs")
    client.login(tara.email)
    client.submit("/notifications/read-all", {"up_to": str(theirs.id)}, page="/notifications")
    assert _read_at(mine.id) is not None and _read_at(theirs.id) is None


@pytest.mark.parametrize("up_to", ["9" * 20, "1e3", "٣", "-1", ""])
def test_an_up_to_that_is_no_id_is_refused_and_marks_nothing(client, tara, up_to):
    kept = _tell(tara, "Unread")
    client.login(tara.email)
    response = client.submit("/notifications/read-all", {"up_to": up_to}, page="/notifications")
    assert response.status_code == 400
    assert _read_at(kept.id) is None


def test_another_persons_notification_is_not_found(client, tara, owen):
    theirs = _tell(owen, "Owen's reminder")
    client.login(tara.email)
    assert client.get(f"/notifications/{theirs.id}").status_code == 404
    response = client.submit(f"/notifications/{theirs.id}/read", page="/notifications")
    assert response.status_code == 404
    assert _read_at(theirs.id) is None
    assert "Owen's reminder" not in _text(client.get("/notifications"))
    assert client.get(f"/notifications/{theirs.id + 100}").status_code == 404


def test_posts_without_a_csrf_token_are_refused_and_change_nothing(client, tara):
    notification = _tell(tara, "Unread")
    client.login(tara.email)
    for url, data in (
        (f"/notifications/{notification.id}/read", {}),
        ("/notifications/read-all", {"up_to": str(notification.id)}),
        ("/notifications/settings", {"stage_update": "app"}),
    ):
        assert client.post(url, data=data).status_code == 400, url
    assert _read_at(notification.id) is None
    assert _count(NotificationPreference) == 0


# --- settings --------------------------------------------------------------------------------------------


def _offered(page: str) -> dict[str, str]:
    """Each radio group on the settings page, with the value checked."""
    checked = re.findall(r'<input class="govuk-radios__input"[^>]*name="(\w+)"[^>]*value="(\w+)" checked>', page)
    names = re.findall(r'<input class="govuk-radios__input"[^>]*name="(\w+)"', page)
    assert set(names) == {name for name, _ in checked}, "every group has one choice checked"
    return dict(checked)


def _choose(client, **choices: str):
    """Save the settings page as shown, with `choices` changed."""
    page = client.get("/notifications/settings").get_data(as_text=True)
    return client.submit("/notifications/settings", {**_offered(page), **choices})


def test_the_settings_page_offers_only_the_kinds_for_the_persons_roles(client, tara):
    admin = make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    lead = make_user("lena@example.org", roles=(Role.SERVICE_LEAD,), name="Lena Lead")
    client.login(tara.email)
    page = _text(client.get("/notifications/settings"))
    assert _offered(page) == {
        "supervision_lapsed": "immediate",
        "post_measure_due": "immediate",
        "stage_update": "immediate",
        "certificate_update": "immediate",
    }
    assert "Overdue items (administrators)" not in page and "Sessions waiting for your confirmation" not in page
    assert "Risk items answered on a questionnaire are always emailed at once" in page

    admin_client = client.application.test_client()
    admin_client.login(admin.email)
    page = _text(admin_client.get("/notifications/settings"))
    assert _offered(page) == {"stage_waiting": "immediate", "escalation": "digest", "renewal_requested": "digest"}
    assert "Overdue items (administrators)" in page and "Outcome measures due" not in page
    assert "always emailed at once" not in page

    lead_client = client.application.test_client()
    lead_client.login(lead.email)
    page = _text(lead_client.get("/notifications/settings"))
    assert "Your roles have no notifications to choose about." in page
    assert _offered(page) == {} and "Save settings" not in page


def test_saving_a_change_is_audited_and_saving_again_changes_nothing(client, tara):
    client.login(tara.email)
    response = _choose(client, stage_update="app")
    assert response.status_code == 302 and response.headers["Location"] == "/notifications/settings"
    page = _text(client.get("/notifications/settings"))
    assert "Your notification settings have been saved." in page
    assert _offered(page)["stage_update"] == "app"
    assert inbox.preferences(tara)[NotificationKind.STAGE_UPDATE] is Delivery.APP
    (event,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "notifications.preferences_changed")
    ).all()
    assert (event.actor_id, event.entity_type, event.entity_id) == (tara.id, "User", str(tara.id))
    assert (event.before, event.after) == ({"stage_update": "immediate"}, {"stage_update": "app"})

    events = _count(AuditEvent)
    _choose(client)
    assert "Nothing changed." in _text(client.get("/notifications/settings"))
    assert _count(AuditEvent) == events
    assert _count(NotificationPreference) == 1


@pytest.mark.parametrize("value", ["weekly", "", "IMMEDIATE"])
def test_a_choice_not_offered_is_refused_beside_its_field_and_nothing_is_saved(client, tara, value):
    client.login(tara.email)
    events = _count(AuditEvent)
    response = _choose(client, stage_update=value, post_measure_due="app")
    assert response.status_code == 422
    page = _text(response)
    expected = "Select one of the choices offered" if value else "Select how to hear about: stage sign-off steps"
    assert re.search(
        r'id="stage_update-error" class="govuk-error-message">\s*<span[^>]*>Error:</span> ' + expected, page
    )
    assert 'href="#stage_update"' in page  # in the error summary, linked to the field
    assert _count(NotificationPreference) == 0 and _count(AuditEvent) == events


def test_a_kind_not_offered_to_the_person_is_ignored(client, tara):
    client.login(tara.email)
    response = _choose(client, escalation="app", risk_alert="app")
    assert response.status_code == 302
    assert _count(NotificationPreference) == 0
    assert inbox.delivery_for(tara.id, NotificationKind.RISK_ALERT) is Delivery.IMMEDIATE


# --- the choice is honoured --------------------------------------------------------------------------------


def _outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_in_the_app_only_sends_no_email(client, tara):
    client.login(tara.email)
    _choose(client, stage_update="app")
    told = _tell(tara, "Quietly", link="/enrolments/1")
    assert _outbox() == []
    assert db.session.get(Notification, told.id).email_state is EmailState.NONE
    assert _header_count(client) == "1"


def test_a_weekly_digest_sends_nothing_until_the_digest_then_one_email_gathering_the_items(client, app, tara):
    app.config["BASE_URL"] = "https://vigtrain.example.org"
    client.login(tara.email)
    _choose(client, stage_update="digest")
    _tell(tara, "Stage 1 submitted", link="/enrolments/1/stages/stage-1")
    _tell(tara, "Stage 1 returned", link="/enrolments/1/stages/stage-1?returned=1")
    _tell(tara, "Read before the digest")
    client.get(f"/notifications/{db.session.scalar(select(func.max(Notification.id)))}")
    assert _outbox() == []

    assert inbox.send_digests() == 1
    db.session.commit()
    (digest,) = _outbox()
    assert digest.to_address == tara.email and digest.subject == "vigtrain: 2 things from this week"
    assert "- Stage 1 submitted\n  https://vigtrain.example.org/enrolments/1/stages/stage-1\n" in digest.body
    assert "- Stage 1 returned\n" in digest.body and "Read before the digest" not in digest.body
    assert "See them all: https://vigtrain.example.org/notifications" in digest.body
    assert inbox.send_digests() == 0
    db.session.commit()
    assert len(_outbox()) == 1


def test_at_once_sends_one_email_with_the_link_at_the_base_url(client, app, tara):
    app.config["BASE_URL"] = "https://vigtrain.example.org"
    client.login(tara.email)
    _choose(client, stage_update="immediate")  # the default, saved as it is
    _tell(tara, "Stage 1 ratified", link="/enrolments/7/stages/stage-1")
    (email,) = _outbox()
    assert email.to_address == tara.email and email.subject == "Stage 1 ratified"
    assert "Open it in vigtrain: https://vigtrain.example.org/enrolments/7/stages/stage-1\n" in email.body
    assert "https://vigtrain.example.org/notifications/settings" in email.body
    assert inbox.notify(tara, NotificationKind.STAGE_UPDATE, "test:Stage 1 ratified", "once", "Again", "Again") is None
    db.session.commit()
    assert len(_outbox()) == 1  # the same key again tells nobody twice
