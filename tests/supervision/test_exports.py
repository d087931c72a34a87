"""Exports of the supervision log: the CSV (guarded against formula injection) and the PDF record."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from pypdf import PdfReader

from tests.factories import make_enrolment, make_user
from vigtrain.accounts.models import Role
from vigtrain.extensions import db
from vigtrain.supervision import records, sessions
from vigtrain.supervision.models import SessionFormat, SessionMode
from vigtrain.supervision.pdf import SupervisionRecordPDF
from vigtrain.supervision.records import FormatTotal, LogTotals, RecordRow, StageTotal, SupervisionRecord
from vigtrain.supervision.sessions import SessionFacts
from vigtrain.training import signoff

TODAY = date(2026, 3, 2)


@pytest.fixture
def log(app, clock):
    """Tara's log: Stage 1 current from 1 February, two sessions confirmed by different supervisors,
    one awaiting confirmation."""
    trainee = make_user("tara@example.org", name="Tara Trainee")
    sue = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    omar = make_user("omar@example.org", roles=(Role.SUPERVISOR,), name="Omar Other")
    admin = make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    enrolment = make_enrolment(trainee, sue, start=date(2026, 1, 5), actor=admin)
    itc = enrolment.stages[0]
    signoff.confirm_attendance(sue, itc, 4, itc.version)
    signoff.submit_stage(trainee, itc, itc.version)
    signoff.sign_off_stage(sue, itc, None, date(2026, 2, 1), itc.version)
    first = sessions.log_session(
        trainee,
        enrolment,
        SessionFacts(
            session_date=date(2026, 2, 10),
            duration_minutes=90,
            reflection='=HYPERLINK("http://example.net","click")',
            next_steps="+1 more clip next time",
        ),
        TODAY,
    )
    sessions.confirm_session(sue, first, first.version, "-2 minutes late, otherwise fine")
    group = sessions.log_session(
        trainee,
        enrolment,
        SessionFacts(
            session_date=date(2026, 2, 17),
            duration_minutes=120,
            format=SessionFormat.GROUP,
            group_size=4,
            mode=SessionMode.REMOTE,
            reflection="@SUM(A1:A3)",
        ),
        TODAY,
        supervisor=omar,
    )
    sessions.confirm_session(omar, group, group.version)
    sessions.log_session(trainee, enrolment, SessionFacts(session_date=date(2026, 2, 24), duration_minutes=45), TODAY)
    db.session.commit()
    return enrolment


def _rows(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_csv_is_an_attachment_with_every_session(client, log):
    client.login("tara@example.org")
    response = client.get(f"/supervision/export.csv?enrolment={log.id}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="supervision-record-tara-trainee-2026-03-02.csv"'
    )
    rows = _rows(response)
    assert [(r["Date"], r["Duration (minutes)"], r["Format"], r["Supervisor"], r["Status"]) for r in rows] == [
        ("2026-02-10", "90", "Individual", "Sue Supervisor", "Confirmed"),
        ("2026-02-17", "120", "Group", "Omar Other", "Confirmed"),
        ("2026-02-24", "45", "Individual", "Sue Supervisor", "Awaiting confirmation"),
    ]
    assert [r["Confirmed by"] for r in rows] == ["Sue Supervisor", "Omar Other", ""]
    assert [r["Confirmed on"] for r in rows] == ["2026-03-02", "2026-03-02", ""]
    assert {r["Stage"] for r in rows} == {"Stage 1"}
    assert rows[1]["Group size"] == "4" and rows[1]["Mode"] == "Remote (video call)"


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_defused(client, log):
    client.login("tara@example.org")
    rows = _rows(client.get(f"/supervision/export.csv?enrolment={log.id}"))
    assert rows[0]["Reflection"] == '\'=HYPERLINK("http://example.net","click")'
    assert rows[0]["Next steps"] == "'+1 more clip next time"
    assert rows[0]["Supervisor comments"] == "'-2 minutes late, otherwise fine"
    assert rows[1]["Reflection"] == "'@SUM(A1:A3)"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value


def test_the_csv_guards_every_text_cell_including_names(app, clock):
    trainee = make_user("x@example.org", name="=Tricky Name")
    supervisor = make_user("y@example.org", roles=(Role.SUPERVISOR,), name="@Supervisor")
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5))
    sessions.log_session(trainee, enrolment, SessionFacts(session_date=date(2026, 2, 2)), TODAY)
    db.session.commit()
    text = records.record_csv(records.supervision_record(enrolment, TODAY))
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["Supervisor"] == "'@Supervisor"


def test_supervisors_and_administrators_export_their_trainees_log(app, log):
    for email in ("sue@example.org", "ada@example.org"):
        client = app.test_client()
        client.login(email)
        assert client.get(f"/supervision/export.csv?enrolment={log.id}").status_code == 200
        assert client.get(f"/supervision/record.pdf?enrolment={log.id}").status_code == 200
    # Omar led one session but is not Tara's supervisor: the whole log is not his to export.
    client = app.test_client()
    client.login("omar@example.org")
    assert client.get(f"/supervision/export.csv?enrolment={log.id}").status_code == 404
    assert client.get(f"/supervision/record.pdf?enrolment={log.id}").status_code == 404


def _pdf(response) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, " ".join(text.split())


def test_the_pdf_record_names_the_trainee_totals_and_who_confirmed(client, log):
    client.login("tara@example.org")
    response = client.get(f"/supervision/record.pdf?enrolment={log.id}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="supervision-record-tara-trainee-2026-03-02.pdf"'
    )
    reader, text = _pdf(response)
    meta = reader.metadata
    assert meta.title == "Supervision record: Tara Trainee"
    assert meta.author == "vigtrain"
    assert meta.subject == "Supervision sessions and confirmed hours, VIG Practitioner (version 2024.1)"
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)  # A4 portrait
    assert reader.pages[0].mediabox.height == pytest.approx(841.89, abs=0.1)
    assert "Supervision record" in text and "Tara Trainee" in text
    assert "VIG Practitioner (version 2024.1)" in text
    assert "Personal supervisor Sue Supervisor" in text
    assert "Supervisors in this record Omar Other, Sue Supervisor" in text
    assert "Confirmed in total 3.5 hours (2 sessions)" in text
    assert "Stage 1 Since 1 Feb 2026 3.5 h 7 h 2 0.75 h" in text
    assert "Initial Training Course 5 Jan 2026 to 1 Feb 2026 0 h None set 0 0 h" in text
    assert "Individual 1 1.5 h 1" in text and "Group 1 2 h 0" in text
    assert "2 Mar 2026 by Sue Supervisor" in text and "2 Mar 2026 by Omar Other" in text
    assert "Awaiting confirmation" in text
    assert "Page 1 of 1" in text


def test_a_long_record_runs_over_pages_with_numbers_and_a_repeated_header(app):
    row = RecordRow(
        session_id=1,
        session_date=date(2026, 2, 10),
        start_time=None,
        duration_minutes=60,
        format_label="Individual",
        group_size=None,
        mode_label="In person",
        supervisor="Sue Supervisor",
        status_label="Confirmed",
        confirmed_on=date(2026, 2, 11),
        confirmed_by="Sue Supervisor",
        stage="Stage 1",
        reviewed=(),
        principles=(),
        clips_reviewed=0,
        reflection="",
        next_steps="",
        supervisor_comments="",
        amends_id=None,
        amendment_reason="",
    )
    record = SupervisionRecord(
        trainee="Łukasz O’Brien",
        pathway="VIG Practitioner (version 2024.1)",
        personal_supervisor=None,
        supervisors=("Sue Supervisor",),
        enrolment_start=date(2025, 1, 6),
        generated_on=date(2026, 3, 2),
        rows=(row,) * 90,
        totals=LogTotals(
            stages=[StageTotal(record=None, name="Stage 1", started_on=date(2025, 2, 1), target_hours=7)],
            formats=[FormatTotal(SessionFormat.INDIVIDUAL, 5400, 90)],
        ),
    )
    reader = PdfReader(io.BytesIO(SupervisionRecordPDF(record).render()))
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert len(pages) >= 3
    for n, text in enumerate(pages, start=1):
        assert f"Page {n} of {len(pages)}" in text, text[-300:]
    for text in pages[1:]:
        assert text.startswith("Date Minutes Format Mode Supervisor Film reviewed Status Confirmed"), text[:200]
    assert "Personal supervisor Not assigned" in pages[0]
