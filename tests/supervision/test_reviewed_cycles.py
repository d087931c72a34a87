"""Supervision names the cycles whose film it reviewed: only the trainee's own, with the client's
consent, filmed by the session's date; stored as rows; shown on the session, the case and the exports."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.factories import make_case, make_enrolment, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.casework import services as casework
from vigtrain.casework.models import Cycle
from vigtrain.casework.services import Consents
from vigtrain.errors import DomainError
from vigtrain.extensions import db
from vigtrain.supervision import queries, records, sessions
from vigtrain.supervision.models import SupervisionReview, SupervisionSession
from vigtrain.supervision.pdf import SupervisionRecordPDF
from vigtrain.supervision.sessions import SessionFacts

TODAY = date(2026, 3, 2)  # the clock fixture's day


@pytest.fixture
def people(app, clock):
    trainee = make_user("tara@example.org", name="Tara Trainee")
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5))
    other = make_user("sam@example.org", name="Sam Stranger")
    make_enrolment(other, supervisor, start=date(2026, 1, 5))
    return trainee, supervisor, enrolment, other


def _cycle(case, filmed_on: date, shared_on: date | None = None) -> Cycle:
    cycle = Cycle(case=case, filmed_on=filmed_on, shared_review_on=shared_on or filmed_on, clips_count=3, principles=[])
    db.session.add(cycle)
    db.session.commit()
    return cycle


def _form(supervisor, **overrides) -> dict:
    data = {
        "session_date": ["10", "2", "2026"],
        "duration": "60",
        "format": "individual",
        "mode": "in_person",
        "supervisor": str(supervisor.id),
    }
    data.update(overrides)
    return data


def _counts() -> tuple[int, int, int]:
    db.session.expire_all()
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (SupervisionSession, SupervisionReview, AuditEvent)
    )


def _pdf_text(document: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages).split())


def _text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def _beside(html: str, field: str, message: str) -> bool:
    pattern = rf'id="{field}-error"[^>]*>\s*<span class="govuk-visually-hidden">Error:</span>[^<]*{re.escape(message)}'
    return re.search(pattern, html) is not None


def test_a_session_records_the_cycles_it_reviewed_as_rows(client, people):
    trainee, supervisor, _enrolment, _ = people
    case = make_case(trainee)
    first, second = _cycle(case, date(2026, 1, 20)), _cycle(case, date(2026, 2, 3))
    client.login("tara@example.org")
    response = client.submit("/supervision/new", _form(supervisor, cycles=[str(second.id), str(first.id)]))
    assert response.status_code == 302, _text(response)
    session = db.session.scalars(select(SupervisionSession)).one()
    assert session.cycle_ids == [second.id, first.id]
    assert session.case_codes == [case.code]
    logged = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "supervision.logged")).one()
    assert logged.after["cycle_ids"] == [second.id, first.id]

    shown = _text(client.get(f"/supervision/{session.id}"))
    assert f"{case.code}, filmed 3 February 2026" in shown and f"{case.code}, filmed 20 January 2026" in shown


@pytest.mark.parametrize(
    ("whose", "message"),
    [
        ("someone else's", "One of the cycles chosen is not in your casework: choose from your cycles"),
        ("missing", "One of the cycles chosen is not in your casework: choose from your cycles"),
        ("unconsented", "has not consented to their video being seen in supervision"),
        ("filmed later", "after the session: choose film made by the date of the session"),
        ("not a number", "Select cycles from the list"),
    ],
)
def test_a_cycle_that_cannot_be_named_is_refused_beside_the_field_and_nothing_is_saved(client, people, whose, message):
    trainee, supervisor, _, other = people
    mine = _cycle(make_case(trainee), date(2026, 2, 1))
    value = {
        "someone else's": lambda: str(_cycle(make_case(other), date(2026, 2, 1)).id),
        "missing": lambda: "999999",
        "unconsented": lambda: str(
            _cycle(make_case(trainee, consents=Consents(filming=date(2025, 1, 6))), date(2026, 2, 1)).id
        ),
        "filmed later": lambda: str(_cycle(make_case(trainee), date(2026, 2, 20)).id),
        "not a number": lambda: "first",
    }[whose]()
    client.login("tara@example.org")
    before = _counts()
    response = client.submit("/supervision/new", _form(supervisor, cycles=[str(mine.id), value]))
    assert response.status_code == 422
    html = _text(response)
    assert _beside(html, "cycles", message), html[html.find("govuk-error-summary") :][:800]
    assert _counts() == before


def test_the_service_refuses_someone_elses_cycle_from_a_supervisor_logging_for_the_trainee(people):
    _trainee, supervisor, enrolment, other = people
    theirs = _cycle(make_case(other), date(2026, 2, 1))
    with pytest.raises(DomainError) as refused:
        sessions.log_session(
            supervisor, enrolment, SessionFacts(session_date=date(2026, 2, 10), cycle_ids=(theirs.id,)), TODAY
        )
    assert refused.value.field == "cycles"
    assert "Tara Trainee's casework" in refused.value.message


def test_the_form_offers_only_the_trainees_consented_cycles_open_cases_first_newest_first(client, people):
    trainee, _supervisor, enrolment, other = people
    another = _cycle(make_case(trainee), date(2026, 2, 20))
    open_case = make_case(trainee)
    recent, older = _cycle(open_case, date(2026, 2, 10)), _cycle(open_case, date(2026, 1, 12))
    unconsented = _cycle(make_case(trainee, consents=Consents(filming=date(2025, 1, 6))), date(2026, 2, 15))
    theirs = _cycle(make_case(other), date(2026, 2, 15))
    offered = [choice.cycle_id for choice in queries.cycle_choices(enrolment)]
    assert offered == [another.id, recent.id, older.id]  # all open: newest filmed first
    assert unconsented.id not in offered and theirs.id not in offered

    client.login("tara@example.org")
    html = _text(client.get("/supervision/new"))
    assert f'value="{recent.id}"' in html and f'value="{theirs.id}"' not in html
    assert f"{open_case.code}, cycle 2: filmed 10 February 2026" in html
    assert f"{open_case.code}, cycle 1: filmed 12 January 2026" in html


def test_open_cases_come_before_closed_ones(people):
    trainee, _, enrolment, _ = people
    closed, open_case = make_case(trainee), make_case(trainee)
    late = _cycle(closed, date(2026, 2, 20))
    early = _cycle(open_case, date(2026, 1, 20))
    closed.status = closed.status.COMPLETED
    closed.ended_on = date(2026, 2, 25)
    db.session.commit()
    assert [choice.cycle_id for choice in queries.cycle_choices(enrolment)] == [early.id, late.id]


def test_the_form_offers_the_latest_few_and_a_case_page_link_adds_an_older_one(client, people):
    trainee, _supervisor, enrolment, _ = people
    case = make_case(trainee)
    cycles = [_cycle(case, date(2025, 6, 1 + day)) for day in range(queries.CYCLES_OFFERED + 2)]
    oldest = cycles[0]
    assert oldest.id not in [choice.cycle_id for choice in queries.cycle_choices(enrolment)]
    client.login("tara@example.org")
    html = _text(client.get(f"/supervision/new?enrolment={enrolment.id}&cycle={oldest.id}"))
    assert re.search(rf'value="{oldest.id}"\s+checked', html)
    assert html.count('name="cycles"') == queries.CYCLES_OFFERED + 1
    # Asking for someone else's cycle offers and chooses nothing.
    html = _text(client.get("/supervision/new?cycle=999999"))
    assert "checked" not in html[html.find('name="cycles"') - 400 :].split("</fieldset>")[0]


def test_the_case_page_lists_its_supervision_and_which_cycles_were_reviewed(app, client, people):
    trainee, supervisor, enrolment, _ = people
    case = make_case(trainee)
    reviewed, waiting = _cycle(case, date(2026, 1, 20)), _cycle(case, date(2026, 2, 3))
    session = sessions.log_session(
        trainee, enrolment, SessionFacts(session_date=date(2026, 1, 27), cycle_ids=(reviewed.id,)), TODAY
    )
    sessions.confirm_session(supervisor, session, session.version)
    db.session.commit()
    client.login("tara@example.org")
    html = _text(client.get(f"/cases/{case.code}"))
    assert f'href="/supervision/{session.id}">27 January 2026 with Sue Supervisor</a>' in html
    rows = html.split('<tr class="govuk-table__row">')[2:]
    assert "27 January 2026 (confirmed)" in rows[0] and "Not yet" in rows[1]
    assert f"cycle={waiting.id}" in rows[1]  # log supervision reviewing this cycle

    # Their supervisor sees the same from the case, with no link to log it themselves.
    sue = app.test_client()
    sue.login("sue@example.org")
    html = _text(sue.get(f"/cases/{case.code}"))
    assert "27 January 2026 (confirmed)" in html and "cycle=" not in html


def test_a_deleted_cycle_leaves_its_case_named_on_the_session(people):
    trainee, _, enrolment, _ = people
    case = make_case(trainee)
    cycle = _cycle(case, date(2026, 1, 20))
    session = sessions.log_session(
        trainee, enrolment, SessionFacts(session_date=date(2026, 1, 27), cycle_ids=(cycle.id,)), TODAY
    )
    db.session.commit()
    casework.delete_cycle(trainee, cycle)
    db.session.commit()
    db.session.expire_all()
    review = db.session.scalars(select(SupervisionReview)).one()
    assert (review.session_id, review.case_id, review.cycle_id) == (session.id, case.id, None)
    assert session.reviews[0].label == f"{case.code}, cycle not named"


def test_changing_a_session_keeps_a_case_named_without_a_cycle(client, people):
    """An entry from before cycles were linked names a case alone: changing the session keeps it."""
    trainee, supervisor, enrolment, _ = people
    case = make_case(trainee)
    session = sessions.log_session(
        trainee, enrolment, SessionFacts(session_date=date(2026, 2, 10), case_codes=(case.code,)), TODAY
    )
    db.session.commit()
    client.login("tara@example.org")
    page = f"/supervision/{session.id}/edit"
    html = _text(client.get(page))
    assert "Also reviewed, with no cycle named" in html
    kept = re.search(r'name="case_codes" type="hidden" value="([^"]*)"', html).group(1)
    assert kept == case.code
    response = client.submit(page, _form(supervisor, duration="90", case_codes=kept, version=str(session.version)))
    assert response.status_code == 302, _text(response)
    db.session.expire_all()
    assert [(review.case_id, review.cycle_id) for review in db.session.get(SupervisionSession, session.id).reviews] == [
        (case.id, None)
    ]


def test_a_new_session_starts_at_the_trainees_usual_length(client, people):
    """The length most often logged among their last five, once it recurs; an hour until then."""
    trainee, _, enrolment, _ = people
    client.login("tara@example.org")

    def logged(day: int, minutes: int) -> None:
        sessions.log_session(
            trainee, enrolment, SessionFacts(session_date=date(2026, 2, day), duration_minutes=minutes), TODAY
        )
        db.session.commit()

    def form() -> str:
        return _text(client.get("/supervision/new"))

    assert re.search(r'value="60"\s+checked', form())
    logged(3, 90)
    assert re.search(r'value="60"\s+checked', form())  # once is not usual
    logged(10, 90)
    assert re.search(r'value="90"\s+checked', form())
    logged(17, 75)
    logged(24, 75)  # two each: the latest wins
    assert re.search(r'id="duration_minutes"[^>]*value="75"', form())


def test_the_exports_name_the_film(people):
    trainee, _, enrolment, _ = people
    case = make_case(trainee)
    cycle = _cycle(case, date(2026, 1, 20))
    sessions.log_session(trainee, enrolment, SessionFacts(session_date=date(2026, 1, 27), cycle_ids=(cycle.id,)), TODAY)
    db.session.commit()
    record = records.supervision_record(enrolment, TODAY)
    assert record.rows[0].reviewed == ((case.code, date(2026, 1, 20)),)
    csv_text = records.record_csv(record)
    assert "Film reviewed" in csv_text.splitlines()[0]
    assert f"{case.code} filmed 2026-01-20" in csv_text
    pdf_text = _pdf_text(SupervisionRecordPDF(record).render())
    assert f"{case.code}, filmed 20 Jan 2026" in pdf_text
