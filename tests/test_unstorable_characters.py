"""Characters no column can hold (NUL, which PostgreSQL refuses in text) are refused by the shared
base form beside the field they were typed in, on every form, with nothing saved: never a 500."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import load_pathways, make_case, make_enrolment, make_supervision, make_user
from vigtrain.accounts.models import Role, User
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.training import signoff

MESSAGE = "Remove the hidden control character from this answer"


@pytest.fixture
def world(app, clock):
    load_pathways()
    admin = make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    trainee = make_user("tia@example.org", roles=(Role.TRAINEE,), name="Tia Trainee")
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5), actor=admin)
    itc = enrolment.stages[0]
    signoff.confirm_attendance(supervisor, itc, 4, itc.version)
    signoff.submit_stage(trainee, itc, itc.version)
    signoff.sign_off_stage(supervisor, itc, None, date(2026, 2, 1), itc.version)
    session = make_supervision(enrolment, supervisor, 1, date(2026, 2, 3), confirmed=True)
    case = make_case(trainee)
    db.session.commit()
    return {"enrolment": enrolment, "stage": enrolment.stages[1], "session": session, "case": case}


def _events() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def _forms(world) -> list[tuple[str, str, str, dict]]:
    """Who posts, where, the field holding the NUL, and the rest of a form that would otherwise save."""
    stage = world["stage"]
    return [
        ("ada@example.org", "/admin/services/new", "name", {"kind": "nhs_trust", "region": "E12000003"}),
        ("tia@example.org", "/account/details", "display_name", {}),
        (
            "tia@example.org",
            "/supervision/new",
            "reflection",
            {"session_date": ["10", "2", "2026"], "duration": "60", "format": "individual", "mode": "in_person"},
        ),
        (
            "tia@example.org",
            f"/cases/{world['case'].code}/cycles/new",
            "note",
            {"filmed_on": ["10", "2", "2026"], "shared_review_on": ["17", "2", "2026"], "clips_count": "3"},
        ),
        (
            "tia@example.org",
            f"/enrolments/{stage.enrolment_id}/stages/{stage.stage_code}/statement",
            "text",
            {"save_text": "y"},
        ),
        (
            "sue@example.org",
            f"/supervision/{world['session'].id}/correct",
            "amendment_reason",
            {"session_date": ["3", "2", "2026"], "duration": "90", "format": "individual", "mode": "in_person"},
        ),
    ]


def test_a_nul_in_any_text_field_is_refused_beside_the_field_and_nothing_is_saved(app, world):
    for email, url, field, rest in _forms(world):
        client = app.test_client()
        client.login(email)
        events = _events()
        value = "Written in a hurry\x00 and pasted"
        response = client.submit(url, {**rest, field: value})
        html = response.get_data(as_text=True)
        assert response.status_code == 422, (url, response.status_code)
        assert re.search(
            rf'id="{field}-error"[^>]*>\s*<span class="govuk-visually-hidden">Error:</span>\s*{MESSAGE}', html
        ), url
        assert f'href="#{field}"' in html, url
        assert _events() == events, url


def test_the_nul_is_refused_even_where_the_field_has_no_other_rule(app):
    from wtforms import StringField

    from vigtrain.forms import Form, unstorable

    class Free(Form):
        words = StringField()

    with app.test_request_context(method="POST", data={"words": "a\x00b"}):
        form = Free(meta={"csrf": False})
        assert not form.validate()
        assert form.words.errors[-1].startswith(MESSAGE)
    assert unstorable("\ud800") and unstorable("\x00") and not unstorable("tabs\tand\nlines")


def test_searches_drop_the_character_rather_than_fail(app, world):
    client = app.test_client()
    client.login("ada@example.org")
    assert client.get("/people/search", query_string={"for": "enrol_trainee", "q": "Ti\x00a"}).status_code == 200
    assert client.get("/admin/audit", query_string={"action": "login\x00"}).status_code == 200


def test_a_one_line_answer_refuses_line_breaks_and_control_characters(app, world):
    client = app.test_client()
    client.login("tia@example.org")
    for name in ("Tia\nBcc: eve@example.org", "Tia\tTrainee", "Tia\x1bTrainee"):
        response = client.submit("/account/details", {"display_name": name})
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert "Remove the line break, tab or other control character from this answer" in html
    db.session.rollback()
    assert db.session.scalar(select(User.display_name).where(User.email == "tia@example.org")) == "Tia Trainee"
    # Paragraphs are still welcome where an answer has room for them.
    stage = world["stage"]
    url = f"/enrolments/{stage.enrolment_id}/stages/{stage.stage_code}/statement"
    text = "I noticed the first attuned moment.\n\nThen the second.\tAnd a third. " * 20
    assert client.submit(url, {"text": text, "save_text": "y"}).status_code == 302
