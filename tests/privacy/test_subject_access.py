"""Subject access: a person downloads everything held about them, an administrator does it for anyone.

One world (time frozen at 2 March 2026): Tara, a trainee with a submitted stage, assessments, a statement
with a file, a supervision session, a case with a cycle, a certificate, a notification, an API token and
a second factor; Sian, her supervisor, who also supervises Owen, another trainee with his own session
and case; Ada, an administrator.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from tests.certificate_factories import issue, make_earned_record
from tests.factories import (
    complete_assessments,
    counting_statements,
    make_case,
    make_cycles,
    make_enrolment,
    make_service,
    make_supervision,
    make_user,
)
from vigtrain.accounts.models import Role
from vigtrain.api_tokens.services import create_token
from vigtrain.audit import AuditEvent
from vigtrain.cohorts.models import Cohort
from vigtrain.dates import utcnow
from vigtrain.extensions import db
from vigtrain.notifications.models import EmailState, Notification, NotificationKind
from vigtrain.pathways.models import EnrolmentStatus, StageState, StageTransition
from vigtrain.privacy import subject_access
from vigtrain.supervision.models import SupervisionReview
from vigtrain.training import services as training
from vigtrain.uploads import store_bytes

PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
FORMULA = '=HYPERLINK("http://evil.example","click")'
ACTION = "subject_access.exported"


@pytest.fixture
def world(app, clock):
    service = make_service("Riverside Family Service")
    admin = make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    sian = make_user("sian@example.org", roles=(Role.SUPERVISOR, Role.PRACTITIONER), name="Sian Supervisor")
    tara = make_user("tara@example.org", roles=(Role.TRAINEE,), name="Tara Trainee", service_id=service.id)
    owen = make_user("owen@example.org", roles=(Role.TRAINEE,), name="Owen Other")

    enrolment = make_enrolment(tara, sian, actor=admin)
    stage = enrolment.stages[1]
    stage.state, stage.started_on = StageState.IN_PROGRESS, date(2026, 1, 5)
    db.session.commit()
    complete_assessments(stage, tara, sian)
    stage.statement_text = "What I learned about receiving initiatives."
    stage.statement_file_key = store_bytes(PDF_BYTES)
    stage.statement_file_name, stage.statement_file_type = "My statement.pdf", "application/pdf"
    stage.statement_file_size = len(PDF_BYTES)
    stage.state, stage.submitted_at = StageState.SUBMITTED, utcnow()
    db.session.add(
        StageTransition(
            stage_record=stage,
            from_state=StageState.IN_PROGRESS,
            to_state=StageState.SUBMITTED,
            actor_id=tara.id,
            comments="Ready for sign-off",
        )
    )

    tara_case = make_cycles(tara, 1, 1, date(2026, 2, 2))[0]
    session = make_supervision(enrolment, sian, 1.5, date(2026, 2, 9))
    session.reflection = FORMULA
    session.supervisor_comments = "Good use of the pause."
    db.session.add(SupervisionReview(session=session, case=tara_case, cycle=tara_case.cycles[0]))

    owen_enrolment = make_enrolment(owen, sian, actor=admin)
    cohort = Cohort(
        name="North 2026", pathway_version=enrolment.pathway_version, starts_on=date(2026, 1, 5), lead_id=sian.id
    )
    db.session.add(cohort)
    db.session.flush()
    enrolment.cohort_id = owen_enrolment.cohort_id = cohort.id
    owen_case = make_case(owen)
    owen_session = make_supervision(owen_enrolment, sian, 1, date(2026, 2, 10))
    owen_session.reflection = "Owen's private reflection"
    db.session.add(SupervisionReview(session=owen_session, case=owen_case))

    # Accredited in VERP, in training in VIG.
    certificate = issue(make_earned_record(tara, code="verp-practitioner", version="2024.1"), admin)
    db.session.add(
        Notification(
            recipient_id=tara.id,
            kind=NotificationKind.STAGE_UPDATE,
            subject=f"stage:{stage.id}",
            period="submitted",
            title="Your stage was submitted",
            body="Sian will sign it off.",
            email_state=EmailState.NONE,
        )
    )
    token, plaintext = create_token(tara, tara, "Records system", ["cases:read"], date(2026, 6, 1), date(2026, 3, 2))
    tara.totp_secret, tara.totp_enabled_at = TOTP_SECRET, utcnow()
    db.session.commit()
    return {
        "admin": admin,
        "sian": sian,
        "tara": tara,
        "owen": owen,
        "enrolment": enrolment,
        "owen_enrolment": owen_enrolment,
        "stage": stage,
        "session": session,
        "owen_session": owen_session,
        "tara_case": tara_case,
        "owen_case": owen_case,
        "certificate": certificate,
        "token": token,
        "plaintext": plaintext,
    }


def _signed_in(app, person):
    client = app.test_client()
    response = client.login(person.email)
    if response.headers.get("Location") == "/login/security-code":
        client.submit("/login/security-code", {"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert client.get("/account").status_code == 200
    return client


def _download(client, url="/account/my-data", data=None):
    response = client.submit(url, data or {})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def _open(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(response.data))


def _csv(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    text = archive.read(name).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def _everything(archive: zipfile.ZipFile) -> dict:
    return json.loads(archive.read("everything.json"))


def _exports() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == ACTION)))


# --- what the person's own download holds ----------------------------------------------------------


def test_the_download_is_a_named_attachment_that_is_never_cached(app, world):
    response = _download(_signed_in(app, world["tara"]))
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="vigtrain-data-{world["tara"].id}-2026-03-02.zip"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    names = set(_open(response).namelist())
    expected = {"README.txt", "everything.json"} | {f"{name}.csv" for name in subject_access.SECTION_TITLES}
    assert expected <= names
    assert f"files/statement-stage-{world['stage'].id}.pdf" in names


def test_every_section_holds_the_persons_data(app, world):
    tara, stage = world["tara"], world["stage"]
    archive = _open(_download(_signed_in(app, tara)))
    everything = _everything(archive)

    account = everything["account"]
    assert account["email"] == "tara@example.org" and account["name"] == "Tara Trainee"
    assert account["roles"] == ["trainee"] and account["service"] == "Riverside Family Service"
    assert account["second_factor_on"] is True and account["password_set"] is True
    assert account["created_at"].startswith("2026-03-02T10:00:00")

    assert {row["enrolment_id"] for row in everything["enrolments"]} >= {world["enrolment"].id}
    assert any(
        row["personal_supervisor"] == "Sian Supervisor" and row["start_date"] == "2026-01-05"
        for row in everything["enrolments"]
    )
    submitted = next(row for row in everything["stages"] if row["stage_record_id"] == stage.id)
    assert submitted["state"] == "submitted" and submitted["started_on"] == "2026-01-05"
    assert submitted["submitted_at"].startswith("2026-03-02T10:00:00")
    assert [row["comments"] for row in everything["stage_history"]] == ["Ready for sign-off"]

    kinds = {(row["kind"], row["assessor"]) for row in everything["assessments"]}
    assert kinds == {("self", "you"), ("supervisor", "Sian Supervisor")}
    ratings = _csv(archive, "assessments.csv")
    assert {row["rating"] for row in ratings if row["kind"] == "supervisor"} == {"4"}

    statement = everything["statements"][0]
    assert statement["statement_text"] == "What I learned about receiving initiatives."
    assert archive.read(statement["file_in_this_archive"]) == PDF_BYTES

    log = everything["supervision_log"]
    assert [(row["session_date"], row["duration_minutes"], row["supervisor"]) for row in log] == [
        ("2026-02-09", 90, "Sian Supervisor")
    ]
    assert log[0]["film_reviewed"] == [f"{world['tara_case'].code}, filmed 2 February 2026"]
    assert log[0]["supervisor_comments"] == "Good use of the pause."
    assert everything["supervision_given"] == [] and everything["others_training"] == []

    case = everything["cases"][0]
    assert case["case_code"] == world["tara_case"].code
    assert case["consent_filming"] is True and case["consent_filming_on"] == "2025-01-06"
    assert [row["shared_review_on"] for row in everything["cycles"]] == ["2026-02-02"]

    certificate = everything["certificates"][0]
    assert certificate["number"] == world["certificate"].number and certificate["status"] == "valid"
    assert certificate["issued_on"] == "2026-03-02"
    assert "Your stage was submitted" in [row["title"] for row in everything["notifications"]]
    assert everything["emails"] and all(row["created_at"] for row in everything["emails"])
    assert "body" not in everything["emails"][0]
    assert {row["kind"] for row in everything["notification_preferences"]} >= {"stage_update"}
    token = everything["api_tokens"][0]
    assert token["name"] == "Records system" and token["scopes"] == ["cases:read"] and token["status"] == "active"

    actions = {row["action"] for row in everything["audit_events"]}
    assert {"login.succeeded", "token.created", "certificate.issued", "enrolment.created"} <= actions
    # Her supervisor's assessment of her stage is about her: with what it said, and the supervisor named.
    (assessed,) = [row for row in everything["audit_events"] if row["action"] == "assessment.supervisor_saved"]
    assert assessed["about_you"] is True and assessed["by"] == "sian@example.org" and assessed["after"]
    for name in subject_access.SECTION_TITLES:
        assert name in archive.read("README.txt").decode()


def test_the_persons_transcripts_are_in_it_with_their_signed_credential(app, world):
    from vigtrain.certificates.transcripts import create_transcript

    tara, admin = world["tara"], world["admin"]
    transcript = create_transcript(admin, tara, date(2026, 3, 2))
    db.session.commit()
    archive = _open(_download(_signed_in(app, tara)))
    path = f"files/transcript-{transcript.number}.json"
    (row,) = _everything(archive)["transcripts"]
    assert (row["number"], row["name_on_transcript"], row["issued_by"]) == (
        transcript.number,
        "Tara Trainee",
        "Ada Admin",
    )
    assert row["issued_at"].startswith("2026-03-02T10:00:00") and row["credential_in_this_archive"] == path
    assert row["credential"] == json.loads(transcript.credential_json)
    assert archive.read(path) == transcript.credential_json.encode()
    assert row["credential"]["credentialSubject"]["name"] == "Tara Trainee"
    assert _csv(archive, "transcripts.csv") == [{key: str(value) for key, value in row.items() if key != "credential"}]
    issued = [event for event in _everything(archive)["audit_events"] if event["action"] == "transcript.issued"]
    assert [(event["by"], event["about_you"]) for event in issued] == [("ada@example.org", True)]
    assert "transcripts.csv (1): Your training transcripts." in archive.read("README.txt").decode()


def test_a_network_address_is_given_only_for_the_persons_own_actions(app, world):
    tara, sian = world["tara"], world["sian"]
    for actor in (tara, sian):
        db.session.add(
            AuditEvent(
                actor_id=actor.id,
                actor_label=actor.email,
                action="enrolment.noted",
                entity_type="Enrolment",
                entity_id=str(world["enrolment"].id),
                ip_address=f"203.0.113.{actor.id}",
            )
        )
    db.session.commit()
    rows = _everything(_open(_download(_signed_in(app, tara))))["audit_events"]
    noted = {row["by"]: row["ip_address"] for row in rows if row["action"] == "enrolment.noted"}
    assert noted == {"you": f"203.0.113.{tara.id}", "sian@example.org": None}


def test_the_csv_files_say_the_same_as_the_json(app, world):
    archive = _open(_download(_signed_in(app, world["tara"])))
    everything = _everything(archive)
    for name in subject_access.SECTION_TITLES:
        if name == "assessments":  # one line per principle rated
            continue
        rows = _csv(archive, f"{name}.csv")
        expected = everything[name] if name != "account" else [everything[name]]
        assert len(rows) == len(expected), name


def test_every_row_has_exactly_its_files_columns(app, world):
    """The CSV headers are fixed (an empty file still names them); a row with more or fewer would drift."""
    for person in ("tara", "sian", "admin"):
        for section in subject_access.collect_sections(world[person]):
            rows = section.csv_rows if section.csv_rows is not None else section.rows
            for row in rows:
                assert tuple(row) == subject_access.CSV_COLUMNS[section.name], (person, section.name)
    assert set(subject_access.CSV_COLUMNS) == set(subject_access.SECTION_TITLES)
    archive = _open(_download(_signed_in(app, world["owen"])))
    header = archive.read("certificates.csv").decode("utf-8").lstrip("\ufeff").splitlines()
    assert header == [",".join(subject_access.CSV_COLUMNS["certificates"])]


def test_other_peoples_data_is_not_in_it(app, world):
    archive = _open(_download(_signed_in(app, world["tara"])))
    blob = b"".join(archive.read(name) for name in archive.namelist())
    assert world["owen_case"].code.encode() not in blob
    assert b"Owen" not in blob
    assert str(world["owen_session"].session_date).encode() not in blob


def test_secrets_are_not_in_it(app, world):
    tara = world["tara"]
    archive = _open(_download(_signed_in(app, tara)))
    blob = b"".join(archive.read(name) for name in archive.namelist())
    db.session.refresh(tara)
    assert tara.password_hash.encode() not in blob
    assert TOTP_SECRET.encode() not in blob
    assert world["token"].token_hash.encode() not in blob
    assert world["plaintext"].encode() not in blob
    assert tara.security_stamp.encode() not in blob
    assert b"password_hash" not in blob and b"totp_secret" not in blob and b"token_hash" not in blob


def test_a_cell_a_spreadsheet_would_run_is_neutralised(app, world):
    archive = _open(_download(_signed_in(app, world["tara"])))
    row = _csv(archive, "supervision_log.csv")[0]
    assert row["reflection"] == "'" + FORMULA
    assert _everything(archive)["supervision_log"][0]["reflection"] == FORMULA  # JSON is data, not a sheet
    for name in archive.namelist():
        if name.endswith(".csv"):
            for line in _csv(archive, name):
                assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in line.values()), name


def test_the_download_is_audited_with_its_counts(app, world):
    tara = world["tara"]
    response = _download(_signed_in(app, tara))
    (event,) = _exports()
    assert (event.actor_id, event.entity_type, event.entity_id) == (tara.id, "User", str(tara.id))
    counts = event.after["counts"]
    assert counts["supervision_log"] == 1 and counts["cases"] == 1 and counts["files"] == 1
    assert counts["certificates"] == 1 and counts["api_tokens"] == 1
    assert event.after["bytes"] == len(response.data)


def test_a_supervisor_sees_sessions_they_gave_with_the_trainee_shown_only_by_enrolment(app, world):
    archive = _open(_download(_signed_in(app, world["sian"])))
    everything = _everything(archive)
    given = {row["session_id"]: row for row in everything["supervision_given"]}
    assert set(given) == {world["session"].id, world["owen_session"].id}
    owen = given[world["owen_session"].id]
    assert owen["enrolment_id"] == world["owen_enrolment"].id and owen["your_part"] == "supervisor"
    assert "reflection" not in owen
    blob = b"".join(archive.read(name) for name in archive.namelist())
    assert b"Owen's private reflection" not in blob and b"Owen Other" not in blob
    assert world["owen_case"].code.encode() not in blob and world["tara_case"].code.encode() not in blob
    assert given[world["session"].id]["supervisor_comments"] == "Good use of the pause."
    assessed = [row for row in everything["assessments"] if row["assessor"] == "you"]
    assert [row["enrolment_id"] for row in assessed] == [world["enrolment"].id]
    parts = {(row["enrolment_id"], row["your_part"]) for row in everything["others_training"]}
    assert {
        (world["enrolment"].id, "personal supervisor"),
        (world["owen_enrolment"].id, "personal supervisor"),
    } <= parts
    assert [(row["name"], row["members"]) for row in everything["cohorts_led"]] == [("North 2026", 2)]
    # Sian's own audit events on others' records keep their action but not their contents.
    for row in everything["audit_events"]:
        if row["by"] == "you" and not row["about_you"]:
            assert row["before"] is None and row["after"] is None


# --- who may download, and how -------------------------------------------------------------------------


def test_the_page_explains_the_download_and_writes_nothing(app, world):
    client = _signed_in(app, world["tara"])
    page = client.get("/account/my-data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Download your data" in html and "Your supervision log" in html
    assert 'method="post"' in html and "csrf_token" in html
    assert _exports() == []
    assert "/account/my-data" in client.get("/account").get_data(as_text=True)


def test_someone_not_signed_in_is_sent_to_sign_in(app, world):
    client = app.test_client()
    for response in (client.get("/account/my-data"), client.submit("/account/my-data", page="/login")):
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert _exports() == []


def test_a_post_without_its_csrf_token_downloads_nothing(app, world):
    client = _signed_in(app, world["tara"])
    response = client.post("/account/my-data", headers={"Referer": "http://localhost/account/my-data"})
    assert response.status_code in (302, 400)
    assert response.mimetype != "application/zip"
    assert _exports() == []


def test_nobody_but_an_administrator_downloads_another_persons_data(app, world):
    url = f"/admin/users/{world['tara'].id}/data"
    for person in (world["owen"], world["sian"]):
        client = _signed_in(app, person)
        assert client.get(url).status_code == 403
        token = client.csrf_token("/account/my-data")
        response = client.post(url, data={"csrf_token": token, "request_note": "Mine"})
        assert response.status_code == 403 and response.mimetype != "application/zip"
    assert _exports() == []


def test_an_administrator_downloads_another_persons_data_naming_the_request(app, world):
    admin, tara = world["admin"], world["tara"]
    client = _signed_in(app, admin)
    url = f"/admin/users/{tara.id}/data"
    page = client.get(url)
    assert page.status_code == 200 and "Tara Trainee" in page.get_data(as_text=True)
    assert url in client.get(f"/admin/users/{tara.id}").get_data(as_text=True)

    refused = client.submit(url, {"request_note": "  "})
    assert refused.status_code == 422
    assert "Enter which request this download answers" in refused.get_data(as_text=True)
    assert _exports() == []

    response = _download(client, url, {"request_note": "Email of 1 March 2026"})
    archive = _open(response)
    assert _everything(archive)["account"]["email"] == "tara@example.org"
    assert "by an AVIGuk administrator" in archive.read("README.txt").decode()
    (event,) = _exports()
    assert (event.actor_id, event.entity_id) == (admin.id, str(tara.id))
    assert event.after["reason"] == "Email of 1 March 2026"


def test_an_erased_persons_download_holds_only_what_was_kept(app, world):
    from vigtrain.privacy.erasure import erase_person

    owen, admin = world["owen"], world["admin"]
    erase_person(admin, owen, "Asked to be forgotten by email on 1 March 2026")
    db.session.commit()
    client = _signed_in(app, admin)
    url = f"/admin/users/{owen.id}/data"
    assert "was erased on 2 March 2026" in client.get(url).get_data(as_text=True)
    archive = _open(_download(client, url, {"request_note": "Auditor's check"}))
    everything = _everything(archive)
    assert "owen@example.org" not in json.dumps(everything) and "Owen Other" not in json.dumps(everything)
    assert [row["enrolment_id"] for row in everything["enrolments"]] == [world["owen_enrolment"].id]


def test_an_administrator_asking_for_nobody_gets_404(app, world):
    client = _signed_in(app, world["admin"])
    missing = db.session.scalar(select(func.max(AuditEvent.id))) + 10_000
    assert client.get(f"/admin/users/{missing}/data").status_code == 404
    assert (
        client.submit(f"/admin/users/{missing}/data", {"request_note": "x"}, page="/account/my-data").status_code == 404
    )


def test_a_statement_file_storage_lost_is_listed_but_not_included(app, world):
    from vigtrain.uploads import upload_path

    upload_path(world["stage"].statement_file_key).unlink()
    archive = _open(_download(_signed_in(app, world["tara"])))
    assert not any(name.startswith("files/") for name in archive.namelist())
    assert _everything(archive)["statements"][0]["file_name"] == "My statement.pdf"


# --- what it costs ---------------------------------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_history(app, world):
    """Ten times the sessions, cycles and notifications cost the same number of statements."""
    tara, sian = world["tara"], world["sian"]

    def statements() -> int:
        with counting_statements() as seen:
            subject_access.export_personal_data(tara, tara)
        db.session.rollback()
        return len(seen)

    before = statements()
    cases = make_cycles(tara, 10, 5, date(2026, 2, 3))
    for day in range(10):
        session = make_supervision(world["enrolment"], sian, 1, date(2026, 1, 10) + timedelta(days=day))
        db.session.add(SupervisionReview(session=session, case=cases[day % 5], cycle=cases[day % 5].cycles[0]))
        db.session.add(
            Notification(
                recipient_id=tara.id,
                kind=NotificationKind.SUPERVISION_LAPSED,
                subject=f"lapse:{day}",
                period=str(day),
                title="No supervision",
                body="Book some.",
                email_state=EmailState.NONE,
            )
        )
    db.session.commit()
    assert statements() == before


def test_the_status_history_of_an_enrolment_is_in_it(app, world):
    """Paused on 2 March 2026 (the clock's day) and resumed: two rows, in order, for her enrolment only."""
    tara, enrolment = world["tara"], world["enrolment"]
    training.set_enrolment_status(
        world["admin"], enrolment, EnrolmentStatus.PAUSED, "Maternity leave", enrolment.version
    )
    training.set_enrolment_status(world["admin"], enrolment, EnrolmentStatus.ACTIVE, None, enrolment.version)
    db.session.commit()
    archive = _open(_download(_signed_in(app, tara)))
    rows = _csv(archive, "enrolment_status_history.csv")
    assert [(row["enrolment_id"], row["status"]) for row in rows] == [
        (str(enrolment.id), "paused"),
        (str(enrolment.id), "active"),
    ]
    assert rows[0]["occurred_at"].startswith("2026-03-02T10:00:00")
    assert _everything(archive)["enrolment_status_history"] == [
        {**row, "enrolment_id": int(row["enrolment_id"])} for row in rows
    ]
