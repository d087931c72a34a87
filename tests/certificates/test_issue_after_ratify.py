"""After ratifying: the stage page and the ratification queue offer "Issue the certificate now",
which issues through the certificate issue page exactly once, for administrators only."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from tests.certificate_factories import make_earned_record
from tests.factories import make_enrolment, make_user
from vigtrain.accounts.models import Role
from vigtrain.certificates import services
from vigtrain.certificates.models import Certificate
from vigtrain.extensions import db
from vigtrain.pathways.models import StageState

BUTTON = "Issue the certificate now"


def certificates() -> int:
    return db.session.scalar(select(func.count()).select_from(Certificate))


def plain(response) -> str:
    """The page's text without tags, for matching what people read."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def stage_url(record) -> str:
    return f"/enrolments/{record.enrolment_id}/stages/{record.stage_code}"


def issue_url(record) -> str:
    return f"/admin/certificates/issue/{record.id}"


@pytest.fixture
def people(app, clock):
    return {
        "trainee": make_user("tara@example.org", roles=(Role.TRAINEE,), name="Tara Trainee"),
        "supervisor": make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor"),
        "accreditor": make_user(
            "al@example.org", roles=(Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR), name="Al Accreditor"
        ),
        "admin": make_user("boss@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin"),
    }


@pytest.fixture
def clients(app, people):
    signed_in = {}
    for name, user in people.items():
        signed_in[name] = app.test_client()
        signed_in[name].login(user.email)
    return signed_in


@pytest.fixture
def accredited(people):
    """A final stage accredited by the accrediting supervisor, waiting for AVIGuk to ratify it."""
    enrolment = make_enrolment(people["trainee"], people["supervisor"], actor=people["admin"])
    for record in enrolment.stages:
        record.state = StageState.COMPLETE if record.position == 0 else StageState.ACCREDITED
    final = enrolment.stages[-1]
    final.accrediting_supervisor_id = people["accreditor"].id
    final.accredited_at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    db.session.commit()
    return final


def ratify(client, record):
    db.session.expire_all()
    return client.submit(f"{stage_url(record)}/ratify", {"version": record.version}, page=stage_url(record))


def press(client, record, page=None):
    """Press "Issue the certificate now" on `page` (the stage page unless given)."""
    return client.submit(issue_url(record), page=page or stage_url(record))


def test_after_ratifying_the_stage_page_offers_to_issue_the_certificate(clients, accredited):
    admin = clients["admin"]
    assert BUTTON not in plain(admin.get(stage_url(accredited)))  # not before ratification
    response = ratify(admin, accredited)
    assert response.status_code == 302
    db.session.expire_all()
    assert accredited.state is StageState.RATIFIED

    page = admin.get(response.headers["Location"])
    text = plain(page)
    assert "Accreditation ratified" in text
    assert "Certificate not issued yet" in text and BUTTON in text
    assert "only its certificate remains to be issued" in text
    assert f'action="{issue_url(accredited)}"' in page.get_data(as_text=True)

    response = press(admin, accredited)
    assert response.status_code == 302
    certificate = db.session.scalar(select(Certificate))
    assert certificates() == 1
    assert certificate.stage_record_id == accredited.id and certificate.holder_name == "Tara Trainee"
    assert response.headers["Location"] == f"/admin/certificates/{certificate.number}"
    assert f"Certificate {certificate.number} issued to Tara Trainee" in plain(admin.get(response.headers["Location"]))

    after = plain(admin.get(stage_url(accredited)))
    assert BUTTON not in after and "Certificate not issued yet" not in after
    assert certificate.number in after and "issued 2 March 2026 Valid" in after
    assert f'href="/admin/certificates/{certificate.number}"' in admin.get(stage_url(accredited)).get_data(as_text=True)


def test_pressing_again_finds_the_first_certificate_instead_of_issuing_another(clients, accredited):
    admin = clients["admin"]
    ratify(admin, accredited)
    form_page = stage_url(accredited)
    token_page = admin.get(form_page)  # the page as it was, before the first press
    assert BUTTON in plain(token_page)
    first = press(admin, accredited)
    second = press(admin, accredited, page=form_page)  # a second tab, or a double click
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    number = db.session.scalar(select(Certificate.number))
    assert f"Certificate {number} was issued already" in plain(admin.get(second.headers["Location"]))
    assert certificates() == 1


def test_a_press_that_loses_the_race_in_the_database_gets_the_first_certificate(
    clients, accredited, people, monkeypatch
):
    """Two presses at once: both pass the page's check, the database takes one certificate, and
    the loser's retry finds it (never a 500, never a second certificate)."""
    admin = clients["admin"]
    ratify(admin, accredited)
    db.session.expire_all()
    winner = services.issue_certificate(people["admin"], accredited, date(2026, 3, 2))
    db.session.commit()
    real, calls = services.by_issue_key, []

    def not_yet_committed(key):
        calls.append(key)
        return None if len(calls) <= 2 else real(key)  # the view's check and the service's, before the winner commits

    monkeypatch.setattr(services, "by_issue_key", not_yet_committed)
    response = press(admin, accredited)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/certificates/{winner.number}"
    assert len(calls) > 2  # it lost the race for the issue key and ran again
    assert certificates() == 1


@pytest.mark.parametrize("who", ["trainee", "supervisor", "accreditor"])
def test_nobody_but_an_administrator_sees_the_button_or_can_issue(clients, accredited, who):
    ratify(clients["admin"], accredited)
    client = clients[who]
    page = client.get(stage_url(accredited))
    if page.status_code == 200:
        assert BUTTON not in plain(page) and issue_url(accredited) not in page.get_data(as_text=True)
    response = client.submit(issue_url(accredited), page="/home")
    assert response.status_code == 403
    assert certificates() == 0


def test_an_administrator_who_is_the_holder_is_not_offered_the_button(app, clock):
    holder = make_user("both@example.org", roles=(Role.TRAINEE, Role.ADMINISTRATOR), name="Bo Both")
    record = make_earned_record(holder)
    client = app.test_client()
    client.login(holder.email)
    assert BUTTON not in plain(client.get(stage_url(record)))
    assert press(client, record, page="/home").status_code == 403
    assert certificates() == 0


def test_the_ratification_queue_lists_ratified_stages_without_a_certificate(app, clients, accredited, people):
    admin = clients["admin"]
    stage_only = make_earned_record(final=False)  # earns a stage-completion certificate: not this queue's
    queue = plain(admin.get("/admin/ratification"))
    assert "Ratified, no certificate yet" in queue
    assert "Every ratified accreditation has its certificate" in queue

    ratify(admin, accredited)
    response = admin.get("/admin/ratification")
    queue = plain(response)
    assert "Tara Trainee" in queue and f"{BUTTON} for Tara Trainee" in queue
    assert f'action="{issue_url(accredited)}"' in response.get_data(as_text=True)
    assert issue_url(stage_only) not in response.get_data(as_text=True)

    pressed = press(admin, accredited, page="/admin/ratification")
    assert pressed.status_code == 302 and certificates() == 1
    assert "Every ratified accreditation has its certificate" in plain(admin.get("/admin/ratification"))


def test_the_queue_of_certificates_to_issue_pages_on_its_own(app, clients, people):
    app.config["PAGE_SIZE"] = 2
    records = [make_earned_record(make_user(name=f"Holder {n}")) for n in range(3)]
    admin = clients["admin"]
    first = admin.get("/admin/ratification").get_data(as_text=True)
    second = admin.get("/admin/ratification?issue_page=2").get_data(as_text=True)
    assert all(issue_url(record) in first for record in records[:2]) and issue_url(records[2]) not in first
    assert issue_url(records[2]) in second and issue_url(records[0]) not in second
    assert "issue_page=2#issue" in first
