"""Reflective statements: plain text or an uploaded PDF/DOCX, screened, checked and served safely."""

from __future__ import annotations

import html
import io
import re
import zipfile
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import complete_assessments, make_cycles, make_enrolment, make_supervision, make_user
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.pathways.models import StageState
from vigtrain.training import services as training
from vigtrain.training import signoff

PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _docx_bytes(with_document: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        if with_document:
            archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def upload_folder(app, tmp_path):
    folder = tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = str(folder)
    return folder


@pytest.fixture
def people(app, clock, upload_folder):
    return {
        "trainee": make_user("trainee@example.org", roles=(Role.TRAINEE,), name="Tara Trainee"),
        "supervisor": make_user("sup@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor"),
        "admin": make_user("boss@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin"),
        "stranger": make_user("other@example.org", roles=(Role.TRAINEE, Role.SUPERVISOR), name="Olly Other"),
    }


@pytest.fixture
def clients(app, people):
    made = {}
    for name, user in people.items():
        made[name] = app.test_client()
        made[name].login(user.email)
    return made


@pytest.fixture
def stage1(people):
    """Stage 1 in progress (the ITC signed off on 1 February 2026)."""
    enrolment = make_enrolment(people["trainee"], people["supervisor"], start=date(2026, 1, 5), actor=people["admin"])
    itc = enrolment.stages[0]
    signoff.confirm_attendance(people["supervisor"], itc, 4, itc.version)
    signoff.submit_stage(people["trainee"], itc, itc.version)
    signoff.sign_off_stage(people["supervisor"], itc, None, date(2026, 2, 1), itc.version)
    db.session.commit()
    return enrolment.stages[1]


def _url(record, suffix=""):
    return f"/enrolments/{record.enrolment_id}/stages/{record.stage_code}{suffix}"


def _plain(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _upload(client, record, content: bytes, filename: str):
    return client.submit(
        _url(record, "/statement"),
        {"upload": "y", "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def _stored(folder) -> list:
    return sorted(folder.iterdir()) if folder.exists() else []


def _fresh(record):
    db.session.expire_all()
    return record


# --- text --------------------------------------------------------------------------------------------


def test_trainee_writes_a_plain_text_statement(clients, stage1):
    page = clients["trainee"].get(_url(stage1, "/statement"))
    assert page.status_code == 200
    assert "Plain text only" in _plain(page)
    text = "I learned to wait.\r\nAnd to receive.\r\n\r\n<script>alert(1)</script> & more"
    response = clients["trainee"].submit(_url(stage1, "/statement"), {"text": text, "save_text": "y"})
    assert response.status_code == 302
    assert _fresh(stage1).statement_text == text.strip()
    shown = clients["supervisor"].get(_url(stage1)).get_data(as_text=True)
    assert "I learned to wait.<br>And to receive.</p>" in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in shown
    assert "<script>alert(1)" not in shown


def test_statement_text_is_screened_for_client_details(clients, stage1):
    response = clients["trainee"].submit(
        _url(stage1, "/statement"),
        {"text": "The mum asked me to ring her on 07700 900123 after the review.", "save_text": "y"},
    )
    assert response.status_code == 422
    assert "Remove a phone number (“07700 900123”)" in _plain(response)
    assert 'href="#text"' in response.get_data(as_text=True)
    assert 'id="text-error"' in response.get_data(as_text=True)
    assert _fresh(stage1).statement_text is None


def test_statement_text_must_be_there_and_not_too_long(clients, stage1):
    response = clients["trainee"].submit(_url(stage1, "/statement"), {"text": "   ", "save_text": "y"})
    assert response.status_code == 422
    assert "Write your reflective statement" in _plain(response)
    response = clients["trainee"].submit(_url(stage1, "/statement"), {"text": "a" * 20001, "save_text": "y"})
    assert response.status_code == 422
    assert "The statement must be 20,000 characters or fewer" in _plain(response)
    assert _fresh(stage1).statement_text is None


def test_only_the_trainee_writes_the_statement(clients, stage1):
    assert clients["supervisor"].get(_url(stage1, "/statement")).status_code == 403
    assert clients["admin"].get(_url(stage1, "/statement")).status_code == 403
    assert clients["stranger"].get(_url(stage1, "/statement")).status_code == 404
    response = clients["supervisor"].submit(
        _url(stage1, "/statement"), {"text": "Written for them", "save_text": "y"}, page=_url(stage1)
    )
    assert response.status_code == 403
    assert _fresh(stage1).statement_text is None


def test_statement_cannot_change_once_submitted(clients, stage1, people):
    enrolment = stage1.enrolment
    make_cycles(people["trainee"], 6, 2, date(2026, 2, 10))
    make_supervision(enrolment, people["supervisor"], 7, date(2026, 2, 10))
    training.save_statement_text(people["trainee"], stage1, "The first version.")
    complete_assessments(stage1, people["trainee"], people["supervisor"])
    signoff.submit_stage(people["trainee"], stage1, stage1.version)
    db.session.commit()
    page = clients["trainee"].get(_url(stage1, "/statement"))
    assert "Your statement cannot change now" in _plain(page)
    assert "Save statement" not in _plain(page)
    response = clients["trainee"].submit(
        _url(stage1, "/statement"), {"text": "A new version", "save_text": "y"}, page=_url(stage1)
    )
    assert response.status_code == 422
    assert "The statement cannot change once the stage is submitted" in _plain(response)
    response = clients["trainee"].submit(
        _url(stage1, "/statement"),
        {"upload": "y", "file": (io.BytesIO(PDF_BYTES), "new.pdf")},
        page=_url(stage1),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert _fresh(stage1).statement_text == "The first version."
    assert stage1.statement_file_key is None and stage1.state is StageState.SUBMITTED


# --- files -------------------------------------------------------------------------------------------


def test_upload_a_pdf_then_download_it(clients, stage1, upload_folder):
    response = _upload(clients["trainee"], stage1, PDF_BYTES, "../../My statement.pdf")
    assert response.status_code == 302
    record = _fresh(stage1)
    assert re.fullmatch(r"[0-9a-f]{32}", record.statement_file_key)
    assert record.statement_file_name == "My statement.pdf"
    assert record.statement_file_type == "application/pdf" and record.statement_file_size == len(PDF_BYTES)
    (stored,) = _stored(upload_folder)
    assert stored.name == record.statement_file_key and stored.read_bytes() == PDF_BYTES
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "stage.statement_uploaded")).all()
    assert len(events) == 1

    for who in ("trainee", "supervisor", "admin"):
        download = clients[who].get(_url(stage1, "/statement/file"))
        assert download.status_code == 200, who
        assert download.data == PDF_BYTES
        assert download.headers["Content-Type"] == "application/pdf"
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert "My statement.pdf" in download.headers["Content-Disposition"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in download.headers["Content-Security-Policy"]
    assert clients["stranger"].get(_url(stage1, "/statement/file")).status_code == 404
    assert "Download My statement.pdf" in _plain(clients["supervisor"].get(_url(stage1)))


def test_a_docx_is_accepted_and_named_for_its_type(clients, stage1):
    response = _upload(clients["trainee"], stage1, _docx_bytes(), "statement")
    assert response.status_code == 302
    record = _fresh(stage1)
    assert record.statement_file_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert record.statement_file_name == "statement.docx"


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (PNG_BYTES, "statement.pdf", "The selected file must be a PDF or Word document (DOCX)"),
        (_docx_bytes(with_document=False), "statement.docx", "The selected file must be a PDF or Word document (DOCX)"),
        (b"PK\x03\x04 not really a zip", "statement.docx", "The selected file must be a PDF or Word document (DOCX)"),
        (b"<html><script>alert(1)</script></html>", "statement.pdf", "must be a PDF or Word document"),
        (b"", "statement.pdf", "The selected file is empty"),
    ],
)
def test_upload_refusals(clients, stage1, upload_folder, content, filename, message):
    response = _upload(clients["trainee"], stage1, content, filename)
    assert response.status_code == 422
    assert message in _plain(response)
    assert 'href="#file"' in response.get_data(as_text=True)
    assert 'id="file-error"' in response.get_data(as_text=True)
    assert _fresh(stage1).statement_file_key is None
    assert _stored(upload_folder) == []


def test_no_file_chosen(clients, stage1, upload_folder):
    response = clients["trainee"].submit(
        _url(stage1, "/statement"), {"upload": "y"}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert "Select a file to upload" in _plain(response)
    assert _stored(upload_folder) == []


def test_a_file_over_the_limit_is_refused(app, clients, stage1, upload_folder):
    app.config["UPLOAD_MAX_BYTES"] = 1024
    assert "smaller than 1 KB" in _plain(clients["trainee"].get(_url(stage1, "/statement")))
    response = _upload(clients["trainee"], stage1, PDF_BYTES + b"0" * 2000, "big.pdf")
    assert response.status_code == 422
    assert "The selected file must be smaller than 1 KB" in _plain(response)
    assert _fresh(stage1).statement_file_key is None and _stored(upload_folder) == []
    assert _upload(clients["trainee"], stage1, PDF_BYTES, "small.pdf").status_code == 302


def test_a_request_too_large_to_read_gets_the_message_beside_the_field(app, clients, stage1, upload_folder):
    token = clients["trainee"].csrf_token(_url(stage1, "/statement"))
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = clients["trainee"].post(
        _url(stage1, "/statement"),
        data={"csrf_token": token, "upload": "y", "file": (io.BytesIO(PDF_BYTES + b"0" * 8000), "huge.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "The selected file must be smaller than 10 MB" in _plain(response)
    assert 'id="file-error"' in response.get_data(as_text=True)
    assert _fresh(stage1).statement_file_key is None and _stored(upload_folder) == []


def test_a_request_too_large_elsewhere_is_a_plain_413(app, clients, stage1):
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = clients["trainee"].post(_url(stage1, "/submit"), data={"comments": "x" * 500})
    assert response.status_code == 413


def test_a_new_upload_replaces_the_old_one(clients, stage1, upload_folder):
    _upload(clients["trainee"], stage1, PDF_BYTES, "first.pdf")
    first = _fresh(stage1).statement_file_key
    assert _upload(clients["trainee"], stage1, _docx_bytes(), "second.docx").status_code == 302
    record = _fresh(stage1)
    assert record.statement_file_key != first and record.statement_file_name == "second.docx"
    download = clients["supervisor"].get(_url(stage1, "/statement/file"))
    assert download.data.startswith(b"PK\x03\x04")


def test_download_without_a_file_is_not_found(clients, stage1):
    assert clients["trainee"].get(_url(stage1, "/statement/file")).status_code == 404


def test_only_the_trainee_uploads(clients, stage1, upload_folder):
    response = clients["supervisor"].submit(
        _url(stage1, "/statement"),
        {"upload": "y", "file": (io.BytesIO(PDF_BYTES), "theirs.pdf")},
        page=_url(stage1),
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert _stored(upload_folder) == []
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("stage.statement%"))
        )
        == 0
    )
