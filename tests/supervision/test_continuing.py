"""Continuing supervision: after ratification the completed record carries on, so an accredited
practitioner logs the supervision renewal asks for, their supervisor confirms it as before, and the
log says how far it goes toward renewal."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.certificate_factories import make_accredited, make_supervisor
from tests.factories import make_admin, make_enrolment, make_supervision, make_user, place_on_stage
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, StageState
from vigtrain.supervision import sessions
from vigtrain.supervision.models import SessionFormat, SessionStatus, SupervisionSession
from vigtrain.supervision.sessions import SessionFacts
from vigtrain.training import signoff

TODAY = date(2026, 3, 2)  # the clock fixture's day
ACCREDITED = date(2025, 6, 2)


@pytest.fixture
def nadia(app, clock):
    """Nadia, accredited on 2 June 2025 with Sue as her supervisor; her certificate (valid until
    1 June 2028) is the one renewal would replace."""
    admin = make_admin()
    sue = make_supervisor("Sue Supervisor")
    certificate = make_accredited(admin, sue, ACCREDITED, email="nadia@example.org")
    return certificate.enrolment, sue, certificate


def _form(**overrides) -> dict:
    data = {"session_date": ["10", "2", "2026"], "duration": "60", "format": "individual", "mode": "in_person"}
    return data | overrides


def _text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(SupervisionSession))


def _beside(field: str, message: str) -> str:
    """The GOV.UK error message on a field (a date input's sits on its fieldset)."""
    return rf'id="{field}(-date)?-error"[^>]*>\s*<span class="govuk-visually-hidden">Error:</span>[^<]*' + re.escape(
        message
    )


def _log(enrolment: Enrolment, supervisor, day: date, minutes: int = 60) -> SupervisionSession:
    session = sessions.log_session(
        enrolment.trainee, enrolment, SessionFacts(session_date=day, duration_minutes=minutes), TODAY, supervisor
    )
    db.session.commit()
    return session


def test_ratifying_the_final_stage_makes_the_record_continuing(app, clock):
    admin, sue = make_admin(), make_supervisor("Sue Supervisor")
    accreditor = make_user(roles=(Role.ACCREDITING_SUPERVISOR,), name="Alma Accreditor")
    enrolment = make_enrolment(make_user(name="Tia Trainee"), sue, start=date(2024, 9, 2), actor=admin)
    final = enrolment.stages[-1]
    place_on_stage(enrolment, final.stage_code, StageState.ACCREDITED, 3, accreditor=accreditor)
    assert not enrolment.is_continuing and enrolment.accredited_on is None

    signoff.ratify_stage(admin, final, TODAY, final.version)
    db.session.commit()
    assert enrolment.status is EnrolmentStatus.COMPLETED and enrolment.is_continuing
    assert enrolment.accredited_on == TODAY and sessions.logging_open(enrolment)
    # The same rule in SQL: the lists that offer records to log in find it.
    continuing = db.session.scalars(select(Enrolment.id).where(Enrolment.is_continuing)).all()
    assert continuing == [enrolment.id]


def test_a_completed_record_is_continuing_only_once_its_final_stage_is_ratified(nadia):
    enrolment, _, _ = nadia
    final = enrolment.stages[-1]
    final.state = StageState.ACCREDITED
    db.session.commit()
    assert not enrolment.is_continuing and not sessions.logging_open(enrolment)
    assert db.session.scalar(select(func.count()).select_from(Enrolment).where(Enrolment.is_continuing)) == 0


# --- the practitioner logs ------------------------------------------------------------------------


def test_the_practitioner_logs_continuing_supervision_from_their_accreditation_on(client, nadia):
    enrolment, sue, _ = nadia
    client.login("nadia@example.org")
    html = _text(client.get("/supervision/new"))  # their only record open for logging
    assert "Continuing supervision since your accreditation on 2 June 2025" in html
    assert "Your personal supervisor is Sue Supervisor." in html
    assert re.search(rf'name="supervisor"\s+type="radio" value="{sue.id}"\s+checked', html)

    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    response = client.submit("/supervision/new", _form(session_date=["1", "6", "2025"], supervisor=str(sue.id)))
    assert response.status_code == 422
    message = (
        "The date must be on or after your accreditation on 2 June 2025: supervision before it belongs to "
        "the training, which is complete"
    )
    assert re.search(_beside("session_date", message), _text(response)), "no message beside the date"
    assert _count() == 0 and db.session.scalar(select(func.count()).select_from(AuditEvent)) == events

    response = client.submit("/supervision/new", _form(session_date=["2", "6", "2025"], supervisor=str(sue.id)))
    assert response.status_code == 302
    session = db.session.scalar(select(SupervisionSession))
    assert response.headers["Location"].endswith(f"/supervision/{session.id}")
    assert (session.enrolment_id, session.supervisor_id, session.status) == (enrolment.id, sue.id, SessionStatus.LOGGED)
    assert session.session_date == ACCREDITED  # the day of the accreditation itself is continuing


def test_the_log_says_it_is_continuing_and_totals_hours_since_the_certificate(client, nadia):
    enrolment, sue, _ = nadia
    make_supervision(enrolment, sue, 2, date(2025, 3, 3))  # during the training: not toward renewal
    make_supervision(enrolment, sue, 1.5, date(2025, 9, 1))
    _log(enrolment, sue, date(2026, 2, 10), minutes=90)
    client.login("nadia@example.org")
    html = _text(client.get("/supervision"))
    assert "Continuing supervision since your accreditation on 2 June 2025." in html
    assert "Toward renewal" in html
    assert "6 hours needed: 1.5 confirmed so far (1 session)" in html
    assert "2 June 2025, when your certificate was issued" in html
    assert "1 session (1.5 hours)" in html  # waiting for Sue
    assert "Continuing supervision since accreditation" in html  # its row in the totals by period
    assert "Log continuing supervision" in html
    assert f'href="/supervision/new?enrolment={enrolment.id}"' in html


def test_the_supervisor_confirms_and_the_renewal_figures_move(client, nadia):
    enrolment, sue, _ = nadia
    make_supervision(enrolment, sue, 5, date(2025, 11, 3))
    session = _log(enrolment, sue, date(2026, 2, 10))
    client.login(sue.email)
    queue = _text(client.get("/supervision/queue"))
    assert "Nadia Hussain" in queue and "Continuing supervision" in queue
    shown = _text(client.get(f"/supervision/{session.id}"))
    assert re.search(r'summary-list__key">\s*Practitioner\s*<', shown)
    assert "Continuing supervision since accreditation, once confirmed" in shown
    assert "6 hours needed: 5 confirmed so far" in _text(client.get(f"/supervision/trainees/{enrolment.id}"))

    response = client.submit(
        f"/supervision/{session.id}/review",
        {"version": str(session.version), "confirm": "y"},
        page="/supervision/queue",
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert session.status is SessionStatus.CONFIRMED
    html = _text(client.get(f"/supervision/trainees/{enrolment.id}"))
    assert "Continuing supervision since Nadia Hussain’s accreditation on 2 June 2025" in html
    assert "6 hours needed: 6 confirmed, done (2 sessions)" in html


def test_the_supervisor_can_query_it_and_the_practitioner_resubmits(client, nadia):
    enrolment, sue, _ = nadia
    session = _log(enrolment, sue, date(2026, 2, 10))
    sessions.query_session(sue, session, "Was this 90 minutes?", session.version)
    db.session.commit()
    client.login("nadia@example.org")
    response = client.submit(
        f"/supervision/{session.id}/edit",
        {**_form(duration="90", supervisor=str(sue.id)), "version": str(session.version)},
        page=f"/supervision/{session.id}/edit",
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (session.status, session.duration_minutes) == (SessionStatus.LOGGED, 90)


def test_training_sessions_in_a_continuing_record_stay_as_they_were(client, nadia):
    enrolment, sue, _ = nadia
    training = make_supervision(enrolment, sue, 1, date(2025, 3, 3))
    client.login("nadia@example.org")
    html = _text(client.get(f"/supervision/{training.id}"))
    assert f"/supervision/{training.id}/correct" not in html
    response = client.submit(
        f"/supervision/{training.id}/correct",
        {**_form(session_date=["3", "3", "2025"]), "version": "1", "amendment_reason": "The length was wrong"},
    )
    assert response.status_code == 422 and "on or after your accreditation on 2 June 2025" in _text(response)
    assert _count() == 1


def test_a_paused_record_stays_closed(client, app, clock):
    sue = make_supervisor("Sue Supervisor")
    enrolment = make_enrolment(make_user("tia@example.org", name="Tia Trainee"), sue, start=date(2026, 1, 5))
    enrolment.status, enrolment.status_reason = EnrolmentStatus.PAUSED, "Leave"
    db.session.commit()
    client.login("tia@example.org")
    assert "You have no training record to log supervision in" in _text(client.get("/supervision/new"))
    response = client.submit(f"/supervision/new?enrolment={enrolment.id}", _form(supervisor=str(sue.id)))
    assert response.status_code == 422
    assert "This training record is paused: supervision can be logged only while it is active" in _text(response)
    assert _count() == 0
    assert "Sessions can be logged only while it is active" in _text(client.get("/supervision"))


# --- finding the way there --------------------------------------------------------------------------


def test_navigation_and_home_lead_an_accredited_practitioner_to_their_log(client, nadia):
    enrolment, _, _ = nadia
    client.login("nadia@example.org")
    home = _text(client.get("/home"))
    assert 'href="/supervision"' in home  # the navigation item
    assert "Your accreditation" in home and "Continuing supervision since your accreditation on 2 June 2025" in home
    assert "Toward renewal: 6 hours needed: 0 confirmed so far." in home
    assert f'href="/supervision/new?enrolment={enrolment.id}">Log continuing supervision' in home


def test_a_practitioner_without_a_continuing_record_has_no_supervision_item(client, app):
    make_user("lucy@example.org", roles=(Role.PRACTITIONER,), name="Lucy Legacy")
    client.login("lucy@example.org")
    home = _text(client.get("/home"))
    assert 'href="/supervision"' not in home and "Your accreditation" not in home


# --- group sessions ---------------------------------------------------------------------------------


def test_a_group_session_may_include_continuing_practitioners_the_supervisor_supervises(client, nadia):
    enrolment, sue, _ = nadia
    trainee = make_enrolment(make_user(name="Tia Trainee"), sue, start=date(2026, 1, 5))
    client.login(sue.email)
    html = _text(client.get("/supervision/group/new"))
    assert "Nadia Hussain (accredited VIG Practitioner: continuing supervision)" in html
    assert "Tia Trainee (VIG Practitioner)" in html

    chosen = [str(enrolment.id), str(trainee.id)]
    early = {"trainees": chosen, "session_date": ["1", "6", "2025"], "duration": "90", "mode": "remote"}
    response = client.submit("/supervision/group/new", early)
    assert response.status_code == 422
    assert re.search(
        _beside("session_date", "The date must be on or after Nadia Hussain's accreditation on 2 June 2025"),
        _text(response),
    )
    assert _count() == 0

    response = client.submit("/supervision/group/new", {**early, "session_date": ["10", "2", "2026"]})
    assert response.status_code == 302
    logged = db.session.scalars(select(SupervisionSession).order_by(SupervisionSession.enrolment_id)).all()
    assert {s.enrolment_id for s in logged} == {enrolment.id, trainee.id}
    assert all(s.format is SessionFormat.GROUP and s.supervisor_id == sue.id for s in logged)
