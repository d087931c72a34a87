"""Clients answering outcome measures on their own phone through a one-time link.

The practitioner makes a link (refused, with a message beside the field and nothing saved, when it
could not work); the client answers on public pages that ask nothing identifying and show no score;
the answers are recorded exactly as live entry records them, and the link works once, until it
expires or is revoked. Only a digest of the link's token is ever stored.
"""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text, update

from tests.factories import load_pathways, make_enrolment, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import AgeBand, Case, CaseStatus, EndReason, Population, Relationship
from vigtrain.casework.services import Consents, close_case, create_case
from vigtrain.dcs import invitations, services
from vigtrain.dcs.invitations import InvitationUnavailable
from vigtrain.dcs.models import Administration, CaseOutcome, InvitationStatus, MeasureInvitation, Timepoint
from vigtrain.dcs.queries import completeness
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage
from vigtrain.organisations.models import Region

START = date(2026, 1, 5)
TODAY = date(2026, 3, 2)  # the `clock` fixture's day
LINK = re.compile(r"http://localhost/respond/([A-Za-z0-9_-]{43})")
CALM_PHQ9 = [1, 1, 2, 0, 1, 0, 1, 0, 0]  # 6, no risk item
RISK_PHQ9 = [2, 2, 2, 2, 1, 1, 1, 1, 2]  # 14, item 9 "more than half the days"
GAD7 = [1, 1, 1, 0, 0, 1, 1]  # 5


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _items(*answers: int | None) -> dict:
    return {f"item_{number}": str(value) for number, value in enumerate(answers, start=1) if value is not None}


@pytest.fixture
def people(app, clock):
    load_pathways()
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    practitioner = make_user("tia@example.org", roles=(Role.TRAINEE,), name="Tia Trainee")
    other = make_user("oli@example.org", roles=(Role.TRAINEE,), name="Oli Other")
    make_enrolment(practitioner, supervisor, start=date(2025, 11, 1))
    return {"supervisor": supervisor, "practitioner": practitioner, "other": other}


def _case(practitioner, dcs: bool = True) -> Case:
    region = db.session.scalar(select(Region).where(Region.code == "E12000003"))
    created = create_case(
        practitioner,
        Relationship.PARENT_CHILD,
        AgeBand.THREE_TO_4,
        Population.EARLY_YEARS,
        region,
        START,
        Consents(filming=START, supervision=START, dcs=START if dcs else None),
    )
    db.session.commit()
    return created


@pytest.fixture
def case(people):
    return _case(people["practitioner"])


@pytest.fixture
def tia(client, people):
    client.login("tia@example.org")
    return client


@pytest.fixture
def phone(app):
    """The client's own browser: a second client with no sign-in."""
    return app.test_client()


def _invite_page(case: Case) -> str:
    return f"/cases/{case.code}/invitations/new"


def _invite(client, case: Case, measures=("PHQ-9",), timepoint: str | None = "post"):
    data = {"measures": list(measures)}
    if timepoint is not None:
        data["timepoint"] = timepoint
    return client.submit(_invite_page(case), data)


def _token(response) -> str:
    assert response.status_code == 200, response.text
    match = LINK.search(response.text)
    assert match, "no link on the page"
    return match.group(1)


def _made(client, case: Case, measures=("PHQ-9",), timepoint: str = "post") -> str:
    return _token(_invite(client, case, measures, timepoint))


def _send(phone, token: str, code: str, answers: list[int | None], **kwargs):
    """Answer one questionnaire on the client's phone, as a browser does: the form's own CSRF token."""
    return phone.submit(f"/respond/{token}/{code}", _items(*answers), **kwargs)


def _record_live(case: Case, code: str, timepoint: Timepoint, answers: list[int], on: date = date(2026, 1, 6)):
    responses = {str(number): value for number, value in enumerate(answers, start=1)}
    services.record_administration(case.practitioner, case, code, timepoint, on, responses, TODAY)
    db.session.commit()


# --- making a link -------------------------------------------------------------------------------------


def test_the_case_page_offers_a_link_only_to_its_practitioner_while_open_and_consented(client, people, case):
    offer = "Invite the client to answer on their phone"
    client.login("tia@example.org")
    assert offer in client.get(f"/cases/{case.code}").text
    no_consent = _case(people["practitioner"], dcs=False)
    assert offer not in client.get(f"/cases/{no_consent.code}").text
    close_case(people["practitioner"], case, CaseStatus.COMPLETED, TODAY, None, None, TODAY)
    db.session.commit()
    assert offer not in client.get(f"/cases/{case.code}").text
    client.submit("/logout", {}, page="/home")
    client.login("sue@example.org")
    page = client.get(f"/cases/{no_consent.code}")
    assert page.status_code == 200 and offer not in page.text  # the supervisor reads, and no more
    assert client.get(_invite_page(no_consent)).status_code == 403
    client.submit("/logout", {}, page="/home")
    client.login("oli@example.org")
    assert client.get(_invite_page(no_consent)).status_code == 404


def test_the_form_lists_the_measures_a_client_may_answer_and_says_why_the_others_are_not(tia, case):
    page = tia.get(_invite_page(case))
    assert page.status_code == 200
    checkboxes = set(re.findall(r'type="checkbox"[^>]*value="([^"]+)"', page.text)) | set(
        re.findall(r'value="([^"]+)"[^>]*type="checkbox"', page.text)
    )
    assert checkboxes == {"PHQ-9", "GAD-7", "GBO", "VIG-SCALING"}
    withheld = page.text.split("Not available for the client to answer alone")[1]
    for name in ("Edinburgh Postnatal Depression Scale", "Warwick-Edinburgh", "Postpartum Bonding"):
        assert name in withheld
    assert "its licence does not allow its wording to be shown" in withheld


def test_the_practitioner_gets_a_qr_code_and_the_link_once_and_only_a_digest_is_kept(tia, case):
    response = _invite(tia, case, ("GAD-7", "PHQ-9"))
    token = _token(response)
    page = response.text
    assert "<svg" in page and "QR code for the client" in page
    assert 'data-app-copy="client-link"' in page and "hidden" in page.split('data-app-copy="client-link"')[1][:80]
    assert "vigtrain sends nothing to the client" in page
    assert "The end of 16 March 2026, once" in page  # 14 days from 2 March
    invitation = db.session.scalar(select(MeasureInvitation))
    assert invitation.token_digest == hashlib.sha256(token.encode()).hexdigest()
    assert invitation.measure_codes == ["PHQ-9", "GAD-7"]  # the library's order
    assert invitation.timepoint is Timepoint.POST and invitation.created_by_id == case.practitioner_id
    assert invitation.status(invitation.created_at) is InvitationStatus.PENDING
    # The token is nowhere in the database, and the case page cannot show the link again.
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            assert token not in str(tuple(row)), table.name
    case_page = tia.get(f"/cases/{case.code}").text
    assert (
        token not in case_page and "Waiting for answers" in case_page and "until the end of 16 March 2026" in case_page
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "measure_invitation.created"))
    assert event.actor_id == case.practitioner_id and event.after["measure_codes"] == ["PHQ-9", "GAD-7"]


@pytest.mark.parametrize(
    ("measures", "timepoint", "field", "message"),
    [
        ((), "post", "measures", "Select at least one questionnaire"),
        (("SDQ",), "post", "measures", "Select questionnaires from the list"),
        (("EPDS",), "post", "measures", "EPDS cannot be sent to the client: its licence does not allow its wording"),
        (("PHQ-9", "PHQ-9"), "post", "measures", "PHQ-9 is listed more than once"),
        (("GAD-7", "PHQ-9"), "pre", "measures", "PHQ-9 has already been recorded at pre for this case"),
        (("PHQ-9",), "mid", "measures", "PHQ-9 already has a post score for this case, so a mid answered from today"),
        (("PHQ-9",), None, "timepoint", "Select when in the work the client is answering"),
        (("PHQ-9",), "later", "timepoint", "Select a timepoint from the list"),
    ],
)
def test_a_link_that_could_not_work_is_refused_beside_the_field(tia, case, measures, timepoint, field, message):
    _record_live(case, "PHQ-9", Timepoint.PRE, CALM_PHQ9)
    if timepoint == "mid":
        _record_live(case, "PHQ-9", Timepoint.POST, CALM_PHQ9, on=date(2026, 2, 1))
    response = _invite(tia, case, measures, timepoint)
    assert response.status_code == 422
    assert message in response.text
    assert f'href="#{field}"' in response.text  # the error summary points at the field
    assert _count(MeasureInvitation) == 0


@pytest.mark.parametrize(
    ("closed", "consented", "message"),
    [
        (True, True, "The case is closed. Reopen it to invite the client"),
        (False, False, "The client has not consented to the Data Collection System"),
    ],
)
def test_no_link_for_a_closed_case_or_without_dcs_consent(tia, people, closed, consented, message):
    case = _case(people["practitioner"], dcs=consented)
    if closed:
        close_case(people["practitioner"], case, CaseStatus.ENDED_EARLY, TODAY, EndReason.CLIENT_MOVED, None, TODAY)
        db.session.commit()
    page = tia.get(_invite_page(case))
    assert page.status_code == 200 and message in page.text and 'name="measures"' not in page.text
    response = _invite(tia, case)
    assert response.status_code == 422 and message in response.text
    assert _count(MeasureInvitation) == 0


def test_only_the_practitioner_makes_or_revokes_links(client, people, case):
    client.login("sue@example.org")
    data = {"measures": "PHQ-9", "timepoint": "post"}
    assert client.submit(_invite_page(case), data, page="/home").status_code == 403
    client.submit("/logout", {}, page="/home")
    client.login("oli@example.org")
    assert client.submit(_invite_page(case), data, page="/home").status_code == 404
    invitation, _token = invitations.create_invitation(people["practitioner"], case, ["PHQ-9"], Timepoint.POST)
    db.session.commit()
    revoke = f"/cases/{case.code}/invitations/{invitation.id}/revoke"
    assert client.submit(revoke, {}, page="/home").status_code == 404
    assert _count(MeasureInvitation) == 1 and db.session.get(MeasureInvitation, invitation.id).revoked_at is None
    anonymous = client.application.test_client()
    assert anonymous.get(_invite_page(case)).status_code == 302


# --- answering it -------------------------------------------------------------------------------------


def test_the_client_answers_one_questionnaire_a_screen_and_it_is_recorded_as_live_entry_would(tia, phone, case):
    token = _made(tia, case, ("PHQ-9", "GAD-7"))
    start = phone.get(f"/respond/{token}")
    assert start.status_code == 200
    assert "Patient Health Questionnaire (PHQ-9)" in start.text and "Generalised Anxiety Disorder" in start.text
    assert "until the end of 16 March 2026" in start.text
    assert f'href="/respond/{token}/PHQ-9"' in start.text
    first = phone.get(f"/respond/{token}/PHQ-9")
    assert "Questionnaire 1 of 2" in first.text and "Question 9 of 9" in first.text
    # Nothing that identifies the client is asked: only the items' radio buttons (and the form's token).
    form = first.text[first.text.index("<form") : first.text.index("</form>")]
    fields = set(re.findall(r'name="([^"]+)"', form))
    assert fields == {"csrf_token", "submit", *(f"item_{n}" for n in range(1, 10))}
    assert "administered_on" not in first.text and case.code not in first.text
    # Answers are kept in the phone's storage under the invitation's number, never the token.
    invitation = db.session.scalar(select(MeasureInvitation))
    assert f'data-measure-entry="respond:{invitation.id}:PHQ-9"' in first.text
    moved_on = _send(phone, token, "PHQ-9", CALM_PHQ9)
    assert moved_on.status_code == 302 and moved_on.headers["Location"] == f"/respond/{token}/GAD-7"
    assert _count(Administration) == 0  # nothing is recorded until the last screen is sent
    back = phone.get(f"/respond/{token}/PHQ-9")
    assert re.search(r'name="item_3"[^>]*value="2"[^>]*checked|checked[^>]*name="item_3"[^>]*value="2"', back.text)
    sent = _send(phone, token, "GAD-7", GAD7)
    assert sent.status_code == 302 and sent.headers["Location"] == "/respond/thank-you"

    rows = {row.measure_code: row for row in db.session.scalars(select(Administration))}
    assert set(rows) == {"PHQ-9", "GAD-7"}
    assert (rows["PHQ-9"].total, rows["GAD-7"].total) == (6, 5)
    for row in rows.values():
        assert row.timepoint is Timepoint.POST and row.administered_on == TODAY
        assert row.invitation_id == invitation.id and row.self_completed
        assert row.entered_by_id == case.practitioner_id  # answerable: whoever sent the link
    outcome = db.session.scalar(select(CaseOutcome).where(CaseOutcome.measure_code == "PHQ-9"))
    assert outcome.post == 6 and outcome.pre is None
    db.session.refresh(invitation)
    assert invitation.used_at is not None
    recorded = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "administration.recorded")).all()
    assert len(recorded) == 2 and all(event.actor_id is None for event in recorded)
    assert all(event.after["invitation_id"] == invitation.id for event in recorded)
    completed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "measure_invitation.completed"))
    assert sorted(completed.after["administration_ids"]) == sorted(row.id for row in rows.values())

    thanks = phone.get("/respond/thank-you")
    assert thanks.status_code == 200 and "Your answers have been sent" in thanks.text
    assert f'data-measure-saved="respond:{invitation.id}:PHQ-9 respond:{invitation.id}:GAD-7"' in thanks.text
    assert "score" not in thanks.text.lower() and "Samaritans" not in thanks.text
    case_page = tia.get(f"/cases/{case.code}").text
    assert "post 6 (answered by the client on their phone)" in case_page and "Answered" in case_page
    record = tia.get(f"/cases/{case.code}/measures/{rows['PHQ-9'].id}").text
    assert "The client, on their own phone, through a link from Tia Trainee" in record
    assert _count(OutboxMessage) == 0  # no risk item: nobody is emailed


def test_a_risk_item_alerts_the_practitioner_and_supervisor_and_signposts_the_client(tia, phone, case):
    token = _made(tia, case)
    _send(phone, token, "PHQ-9", RISK_PHQ9)
    thanks = phone.get("/respond/thank-you")
    assert 'role="alert"' in thanks.text and "If you need help now, do not wait" in thanks.text
    assert "Samaritans" in thanks.text and "116 123" in thanks.text and "NHS 111" in thanks.text
    assert "999" in thanks.text
    assert "14" not in thanks.text and "Moderate" not in thanks.text  # still no score, no band
    messages = {message.to_address: message for message in db.session.scalars(select(OutboxMessage))}
    assert set(messages) == {"tia@example.org", "sue@example.org"}
    to_practitioner = messages["tia@example.org"]
    assert case.code in to_practitioner.subject and "act now" in to_practitioner.subject
    assert "on their own phone" in to_practitioner.body and "safeguarding procedure now" in to_practitioner.body
    assert "Sue Supervisor has been told as well" in to_practitioner.body
    to_supervisor = messages["sue@example.org"]
    assert case.code in to_supervisor.body and "using a link Tia Trainee gave them" in to_supervisor.body
    administration = db.session.scalar(select(Administration))
    assert administration.flags and administration.flags[0]["code"] == "phq9_item9"
    assert "Risk item answered" in tia.get(f"/cases/{case.code}").text


def test_the_signposting_is_the_services_own_words(app, tia, phone, case):
    app.config["CRISIS_SIGNPOSTING"] = "Ring the Riverside crisis line on 0800 000 0000.\nOr call 999."
    token = _made(tia, case)
    _send(phone, token, "PHQ-9", RISK_PHQ9)
    thanks = phone.get("/respond/thank-you").text
    assert "Ring the Riverside crisis line" in thanks and "Samaritans" not in thanks


def test_incomplete_answers_are_refused_beside_the_question_and_nothing_is_kept(tia, phone, case):
    token = _made(tia, case)
    response = _send(phone, token, "PHQ-9", [1, 1, 1, 1, 1, None, 1, 1, 0])
    assert response.status_code == 422
    assert "every item is answered" in response.text and 'href="#item_6"' in response.text
    made_up = _send(phone, token, "PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 9])
    assert made_up.status_code == 422 and "Choose one of the answers shown for question 9" in made_up.text
    assert _count(Administration) == 0
    assert db.session.scalar(select(MeasureInvitation)).used_at is None


def test_the_link_works_once(tia, phone, app, case):
    token = _made(tia, case)
    other_phone = app.test_client()
    # Both phones have the form open; the first sends it, then the second.
    csrf = other_phone.csrf_token(f"/respond/{token}/PHQ-9")
    assert _send(phone, token, "PHQ-9", CALM_PHQ9).status_code == 302
    second = other_phone.post(f"/respond/{token}/PHQ-9", data={**_items(*RISK_PHQ9), "csrf_token": csrf})
    assert second.status_code == 410 and "These answers have already been sent" in second.text
    again = phone.get(f"/respond/{token}")
    assert again.status_code == 410 and "Each link works once" in again.text
    assert _count(Administration) == 1 and _count(OutboxMessage) == 0


def test_of_two_submissions_at_the_same_moment_exactly_one_is_recorded(tia, app, case, monkeypatch):
    from vigtrain.dcs import respond_views

    token = _made(tia, case)
    phones = [app.test_client(), app.test_client()]
    tokens = [phone.csrf_token(f"/respond/{token}/PHQ-9") for phone in phones]
    # Both requests get past every check before either claims the link.
    barrier = threading.Barrier(2, timeout=10)
    send = respond_views._send

    def at_the_same_moment(*args):
        barrier.wait()
        return send(*args)

    monkeypatch.setattr(respond_views, "_send", at_the_same_moment)
    statuses = []

    def submit(phone, csrf):
        response = phone.post(f"/respond/{token}/PHQ-9", data={**_items(*CALM_PHQ9), "csrf_token": csrf})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=submit, args=pair) for pair in zip(phones, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [302, 410]
    assert _count(Administration) == 1


def test_a_submission_that_read_the_link_before_another_used_it_is_refused(people, case):
    """The claim is decided by the database, not by what the request read earlier."""
    invitation, _token = invitations.create_invitation(people["practitioner"], case, ["PHQ-9"], Timepoint.POST)
    db.session.commit()
    assert invitation.used_at is None  # read as pending ...
    with db.engine.begin() as connection:  # ... and used by someone else before this one claims it
        connection.execute(
            update(MeasureInvitation.__table__)
            .where(MeasureInvitation.__table__.c.id == invitation.id)
            .values(used_at=text("created_at"))
        )
    answers = {"PHQ-9": {str(number): value for number, value in enumerate(CALM_PHQ9, start=1)}}
    with pytest.raises(InvitationUnavailable) as refused:
        invitations.submit_answers(invitation, answers, TODAY)
    db.session.rollback()
    assert refused.value.status is InvitationStatus.USED
    assert _count(Administration) == 0


def test_the_link_expires_at_the_end_of_its_last_day(tia, phone, case, clock):
    token = _made(tia, case)
    clock.move_to("2026-03-16 23:59:00")  # UK time is GMT in March
    assert phone.get(f"/respond/{token}").status_code == 200
    csrf = phone.csrf_token(f"/respond/{token}/PHQ-9")
    clock.move_to("2026-03-17 00:00:01")
    expired = phone.get(f"/respond/{token}")
    assert expired.status_code == 410
    assert "This link has expired" in expired.text and "It worked until the end of 16 March 2026" in expired.text
    late = phone.post(f"/respond/{token}/PHQ-9", data={**_items(*CALM_PHQ9), "csrf_token": csrf})
    assert late.status_code == 410 and _count(Administration) == 0
    tia.login("tia@example.org")  # a fortnight on, the practitioner signs in again
    assert "Expired" in tia.get(f"/cases/{case.code}").text


def test_a_revoked_link_tells_the_client_it_was_cancelled(tia, phone, case):
    token = _made(tia, case)
    invitation = db.session.scalar(select(MeasureInvitation))
    revoke = f"/cases/{case.code}/invitations/{invitation.id}/revoke"
    response = tia.submit(revoke, {}, page=f"/cases/{case.code}")
    assert response.status_code == 302
    page = tia.get(response.headers["Location"]).text
    assert "The link was revoked" in page and "Revoked" in page and f'action="{revoke}"' not in page
    cancelled = phone.get(f"/respond/{token}")
    assert cancelled.status_code == 410 and "This link has been cancelled" in cancelled.text
    assert _send(phone, token, "PHQ-9", CALM_PHQ9, page="/login").status_code == 410
    again = tia.post(revoke, data={"csrf_token": tia.csrf_token(f"/cases/{case.code}")}, follow_redirects=True)
    assert "This link cannot be revoked: it has already been revoked" in again.text
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "measure_invitation.revoked")).all()
    assert len(events) == 1 and events[0].after["revoked_by_id"] == case.practitioner_id
    assert _count(Administration) == 0


def test_a_used_link_cannot_be_revoked(tia, phone, case):
    token = _made(tia, case)
    _send(phone, token, "PHQ-9", CALM_PHQ9)
    invitation = db.session.scalar(select(MeasureInvitation))
    response = tia.submit(f"/cases/{case.code}/invitations/{invitation.id}/revoke", {}, page=f"/cases/{case.code}")
    assert "the client has already answered" in tia.get(response.headers["Location"]).text
    db.session.refresh(invitation)
    assert invitation.revoked_at is None


def test_a_link_for_a_case_closed_since_is_no_longer_needed(tia, phone, people, case):
    token = _made(tia, case)
    close_case(people["practitioner"], case, CaseStatus.COMPLETED, TODAY, None, None, TODAY)
    db.session.commit()
    response = phone.get(f"/respond/{token}")
    assert response.status_code == 410 and "This link is no longer needed" in response.text
    assert "does not open while the case is closed" in tia.get(f"/cases/{case.code}").text


def test_a_measure_recorded_in_a_session_since_is_not_asked_again(tia, phone, case):
    token = _made(tia, case, ("PHQ-9", "GAD-7"))
    _record_live(case, "GAD-7", Timepoint.POST, GAD7, on=TODAY)
    start = phone.get(f"/respond/{token}")
    assert "PHQ-9" in start.text and "Generalised Anxiety Disorder" not in start.text
    assert phone.get(f"/respond/{token}/GAD-7").status_code == 404
    response = _send(phone, token, "PHQ-9", CALM_PHQ9)
    assert response.headers["Location"] == "/respond/thank-you"
    rows = db.session.scalars(select(Administration).order_by(Administration.id)).all()
    assert [(row.measure_code, row.self_completed) for row in rows] == [("GAD-7", False), ("PHQ-9", True)]


# --- the public pages themselves -----------------------------------------------------------------------


def test_public_pages_are_private_unindexed_and_uncached(tia, phone, case):
    token = _made(tia, case)
    for path in (f"/respond/{token}", f"/respond/{token}/PHQ-9", "/respond/" + "x" * 43):
        response = phone.get(path)
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.headers["X-Robots-Tag"] == "noindex, nofollow", path
        assert '<meta name="robots" content="noindex, nofollow">' in response.text, path
        assert "Sign out" not in response.text and "Main menu" not in response.text
    # The practitioner's own pages keep the same-origin policy that CSRF checks rely on.
    assert tia.get(f"/cases/{case.code}").headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/respond/abc", "/respond/" + "A" * 43, "/respond/" + "A" * 43 + "/PHQ-9"])
def test_a_mistyped_link_is_a_clear_404(phone, people, path):
    response = phone.get(path)
    assert response.status_code == 404
    assert "We do not recognise this link" in response.text and "ask your practitioner for a new link" in response.text


def test_an_unknown_measure_in_a_real_link_is_a_404(tia, phone, case):
    token = _made(tia, case)
    assert phone.get(f"/respond/{token}/EPDS").status_code == 404
    assert phone.get(f"/respond/{token}/GAD-7").status_code == 404  # not one the link asks for


def test_the_thank_you_page_needs_answers_sent_from_this_browser(phone, people):
    assert phone.get("/respond/thank-you").status_code == 404


def test_forms_need_their_csrf_token_but_no_referrer_even_over_https(tia, phone, case):
    token = _made(tia, case)
    url = f"/respond/{token}/PHQ-9"
    forged = phone.post(url, data=_items(*CALM_PHQ9), base_url="https://localhost")
    assert forged.status_code == 400 and _count(Administration) == 0
    page = phone.get(url, base_url="https://localhost")
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    # The page sends no Referer (no-referrer), which a plain CSRFProtect check over HTTPS would refuse.
    sent = phone.post(url, data={**_items(*CALM_PHQ9), "csrf_token": csrf}, base_url="https://localhost")
    assert sent.status_code == 302 and _count(Administration) == 1


# Rate limits are counted on the real clock: the limiter's moving windows do not run on frozen time.


@pytest.fixture
def live_link(app) -> str:
    """A working link made on the real clock (no `clock` fixture), for the rate limit tests."""
    practitioner = make_user("rae@example.org", roles=(Role.PRACTITIONER,))
    case = _case(practitioner)
    _invitation, token = invitations.create_invitation(practitioner, case, ["GAD-7"], Timepoint.PRE)
    db.session.commit()
    return token


def test_unknown_links_are_rate_limited_so_tokens_cannot_be_tried(app, phone, live_link):
    app.config["RESPOND_MISS_LIMIT"] = "3 per hour"
    statuses = [phone.get(f"/respond/{'B' * 42}{letter}").status_code for letter in "CDEF"]
    assert statuses == [404, 404, 404, 429]
    limited = phone.get(f"/respond/{live_link}")  # past it, even a real link waits
    assert limited.status_code == 429 and "Too many attempts" in limited.text
    assert "reset it" not in limited.text  # no password talk for clients
    assert limited.headers["Referrer-Policy"] == "no-referrer"


def test_every_public_request_counts_against_the_address(app, phone, live_link):
    app.config["RESPOND_RATE_LIMIT"] = "3 per minute"
    statuses = [phone.get(f"/respond/{live_link}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


# --- the practitioner's home page ---------------------------------------------------------------------


def test_home_shows_how_complete_the_outcome_data_is(tia, people, case):
    practitioner = people["practitioner"]
    paired, unpaired, open_case = case, _case(practitioner), _case(practitioner)
    for done in (paired, unpaired):
        _record_live(done, "PHQ-9", Timepoint.PRE, CALM_PHQ9)
    _record_live(paired, "PHQ-9", Timepoint.POST, CALM_PHQ9, on=date(2026, 2, 1))
    _record_live(open_case, "GAD-7", Timepoint.PRE, GAD7)
    for done in (paired, unpaired):
        close_case(practitioner, done, CaseStatus.COMPLETED, date(2026, 2, 2), None, None, TODAY)
    db.session.commit()
    figures = completeness(practitioner, 10)
    assert (figures.closed, figures.paired, figures.percent, figures.waiting_total) == (2, 1, 50, 2)
    rows = {row.case.code: row for row in figures.waiting}
    assert set(rows) == {unpaired.code, open_case.code}
    assert rows[open_case.code].can_invite and [m.code for m in rows[open_case.code].to_invite] == ["GAD-7"]
    assert not rows[unpaired.code].can_invite and "The case is closed" in rows[unpaired.code].refusal
    page = tia.get("/home").text
    assert "50%" in page and "(1 of 2)" in page and "2 cases with a pre score and no post score" in page
    assert f'action="/cases/{open_case.code}/invitations/post"' in page
    assert f'action="/cases/{unpaired.code}/invitations/post"' not in page


def test_one_click_on_home_makes_a_post_link_and_shows_its_qr_code(tia, people, case):
    _record_live(case, "PHQ-9", Timepoint.PRE, CALM_PHQ9)
    _record_live(case, "GAD-7", Timepoint.PRE, GAD7)
    _record_live(case, "GAD-7", Timepoint.POST, GAD7, on=date(2026, 2, 1))
    response = tia.submit(f"/cases/{case.code}/invitations/post", {}, page="/home")
    token = _token(response)
    invitation = invitations.find_by_token(token)
    assert invitation.measure_codes == ["PHQ-9"] and invitation.timepoint is Timepoint.POST
    page = tia.get("/home").text
    assert "Link sent: it works until the end of 16 March 2026" in page
    assert f'action="/cases/{case.code}/invitations/post"' not in page


def test_home_offers_no_link_for_measures_a_client_cannot_answer_alone(tia, people, case):
    services.record_administration(
        people["practitioner"],
        case,
        "EPDS",
        Timepoint.PRE,
        date(2026, 1, 6),
        dict.fromkeys(map(str, range(1, 11)), 0),
        TODAY,
    )
    db.session.commit()
    page = tia.get("/home").text
    assert "EPDS: record the post measure with the client in a session" in page
    response = tia.submit(f"/cases/{case.code}/invitations/post", {}, page="/home")
    assert response.status_code == 302 and _count(MeasureInvitation) == 0
    assert "Select at least one questionnaire" in tia.get("/home").text


def test_the_demo_has_a_link_waiting_for_a_client(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    pending = db.session.scalars(select(MeasureInvitation)).all()
    assert len(pending) == 1
    assert pending[0].status(pending[0].created_at) is InvitationStatus.PENDING
