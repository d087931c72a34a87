"""The import as administrators meet it: template, upload, preview, confirm, progress and outcome."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.factories import make_user
from tests.imports.conftest import TODAY
from tests.imports.files import broken_rows, csv_bytes, intake_rows, xlsx_bytes
from vigtrain.accounts.models import Role, User
from vigtrain.extensions import db
from vigtrain.imports import staging, views
from vigtrain.notifications.models import OutboxMessage
from vigtrain.pathways.models import Enrolment

KEY = re.compile(r"/admin/import/([0-9a-f]{32})")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _upload(client, data: bytes, name: str = "intake.csv"):
    return client.submit(
        "/admin/import/",
        {"file": (io.BytesIO(data), name), "upload": "Check the file"},
        content_type="multipart/form-data",
    )


def _key(response) -> str:
    """The staged import's key: from the redirect, or (a refused file answers at once) the newest staged."""
    if found := KEY.search(response.headers.get("Location") or response.get_data(as_text=True)):
        return found.group(1)
    return max(staging.folder().glob("*.json"), key=lambda path: path.stat().st_mtime_ns).stem


def test_administrators_find_the_import_and_data_protection_from_home_and_the_menu(client, intake):
    client.login(intake.email)
    home = client.get("/home").get_data(as_text=True)
    assert 'href="/admin/import/">Import people</a>' in home
    assert 'href="/admin/erasure/">Data protection' in home
    page = client.get("/admin/import/").get_data(as_text=True)
    users_item = re.search(r'<li class="([^"]*)">\s*<a[^>]*href="/admin/users/"', page)
    assert users_item and "--active" in users_item.group(1), "the menu marks Users as where the import is"


def test_the_templates_download_with_every_column_explained(client, intake):
    client.login(intake.email)
    page = client.get("/admin/import/")
    assert page.status_code == 200 and "Download the template as an Excel workbook" in page.get_data(as_text=True)
    book = load_workbook(io.BytesIO(client.get("/admin/import/template.xlsx").data))
    assert book.sheetnames == ["People", "Columns"]
    assert [cell.value for cell in book["People"][1]][:3] == ["name", "email", "roles"]
    assert [row[0] for row in book["Columns"].iter_rows(min_row=2, values_only=True)][-1] == "start_date"
    template = client.get("/admin/import/template.csv")
    assert template.headers["Content-Disposition"].startswith("attachment")
    assert template.data.decode("utf-8-sig").splitlines()[0].startswith("name,email,roles,service,pathway")
    assert "supervisor_email,no," in client.get("/admin/import/columns.csv").data.decode("utf-8-sig")


@pytest.mark.parametrize("make_file, name", [(csv_bytes, "intake.csv"), (xlsx_bytes, "intake.xlsx")])
def test_broken_rows_are_listed_and_nothing_is_written_then_the_corrected_file_imports_once(
    client, intake, make_file, name
):
    client.login(intake.email)
    people = count(User)
    refused = _upload(client, make_file(broken_rows()), name)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Nothing has been imported. 3 problems" in html
    for row, column in (("5", "service"), ("12", "supervisor_email"), ("20", "name")):
        assert re.search(rf">{row}</td>\s*<td[^>]*><code>{column}</code>", html)
    assert "Import 23 rows" not in html
    key = _key(refused)
    assert client.submit(f"/admin/import/{key}", {"confirm": "Import"}, page=f"/admin/import/{key}").status_code == 302
    assert count(User) == people

    preview = client.get(f"/admin/import/{_key(_upload(client, make_file(intake_rows()), name))}")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Import 23 rows" in html and "New person, enrolled" in html
    key = KEY.search(html).group(1)
    done = client.submit(f"/admin/import/{key}", {"confirm": "Import 23 rows"}, follow_redirects=True)
    assert done.status_code == 200 and "Import complete" in done.get_data(as_text=True)
    assert (count(User) - people, count(Enrolment), count(OutboxMessage)) == (23, 20, 23)
    invitation = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "trainee07@example.org"))
    link = re.search(r"http://localhost(/invitation/\S+)", invitation.body).group(1)
    assert client.get(link).status_code == 200

    # The same file again: everyone is already present and there is nothing to import.
    again = client.get(f"/admin/import/{_key(_upload(client, make_file(intake_rows()), name))}")
    assert "Everyone in this file is already in vigtrain" in again.get_data(as_text=True)
    assert (count(User) - people, count(Enrolment), count(OutboxMessage)) == (23, 20, 23)
    assert "intake" in client.get("/admin/import/").get_data(as_text=True)


def test_the_confirmation_works_once_however_often_it_is_sent(client, intake):
    client.login(intake.email)
    key = _key(_upload(client, csv_bytes(intake_rows())))
    page = f"/admin/import/{key}"
    client.submit(page, {"confirm": "Import"})
    client.submit(page, {"confirm": "Import"}, page=page)
    assert count(Enrolment) == 20 and count(OutboxMessage) == 23


def test_a_refused_or_missing_file_is_named_beside_the_field(client, intake):
    client.login(intake.email)
    for data, name, message in (
        (b"%PDF-1.7\x00", "people.pdf", "The file must be a CSV file or an Excel workbook (.xlsx)"),
        (b"name,email,roles\n", "empty.csv", "The file has no rows of people under its column names"),
    ):
        response = _upload(client, data, name)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    response = client.submit("/admin/import/", {"upload": "Check the file"})
    assert response.status_code == 422 and "Select a CSV file or an Excel workbook" in response.get_data(as_text=True)
    assert client.get("/admin/import/" + "0" * 32).status_code == 404
    assert client.get("/admin/import/not-a-key").status_code == 404


def test_only_administrators_import(client, intake):
    make_user("sian@example.org", roles=(Role.SUPERVISOR,))
    assert client.get("/admin/import/").status_code == 302
    client.login("sian@example.org")
    assert client.get("/admin/import/").status_code == 403
    assert client.get("/admin/import/template.csv").status_code == 403


def test_a_stale_preview_is_checked_again_and_refused_with_its_new_problems(client, intake):
    client.login(intake.email)
    key = _key(_upload(client, csv_bytes(intake_rows())))
    make_user("trainee05@example.org", roles=(Role.SUPERVISOR,))  # arrives between the preview and the import
    response = client.submit(f"/admin/import/{key}", {"confirm": "Import"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "something changed in vigtrain" in html
    assert "trainee05@example.org already has an account without the trainee role" in html
    assert count(Enrolment) == 0


def test_a_large_file_imports_in_the_background_with_progress(client, intake, app, monkeypatch):
    app.config["IMPORT_IN_BACKGROUND"] = True
    threads = []
    real = views.run_in_background
    monkeypatch.setattr(views, "run_in_background", lambda *args: threads.append(real(*args)) or threads[-1])
    rows = [[f"Person {n}", f"p{n}@example.org", "trainee", "", "vig-practitioner", "", "", "", ""] for n in range(600)]
    client.login(intake.email)
    key = _key(_upload(client, csv_bytes(rows)))
    assert client.get(f"/admin/import/{key}/progress.json").json["state"] == "preview"
    client.submit(f"/admin/import/{key}", {"confirm": "Import"})
    threads[0].join(timeout=60)
    progress = client.get(f"/admin/import/{key}/progress.json").json
    assert progress == {"state": "done", "done": 600, "total": 600, "percent": 100, "finished": True}
    db.session.expire_all()
    assert count(Enrolment) == 600
    assert "Import complete" in client.get(f"/admin/import/{key}").get_data(as_text=True)


def test_the_progress_page_works_without_javascript_and_a_dead_run_can_be_started_again(client, intake):
    client.login(intake.email)
    key = _key(_upload(client, csv_bytes(intake_rows())))
    staging.claim(key)
    staging.report(key, "writing", 30, 46)
    html = client.get(f"/admin/import/{key}").get_data(as_text=True)
    assert 'value="65"' in html and f'href="/admin/import/{key}">Refresh' in html
    # The process died (no report for minutes): the page says so and the import can be run again.
    staging.update(key, run={**staging.record(key)["run"], "heartbeat": "2026-01-01T00:00:00+00:00"})
    stopped = client.get(f"/admin/import/{key}")
    assert stopped.status_code == 409 and "Nothing was saved" in stopped.get_data(as_text=True)
    client.submit(f"/admin/import/{key}", {"confirm": "Import"})
    assert count(Enrolment) == 20


def test_staged_files_are_forgotten_by_their_job_after_their_period(client, intake, app):
    from datetime import timedelta

    from vigtrain.jobs.registry import BY_NAME

    client.login(intake.email)
    key = _key(_upload(client, csv_bytes(intake_rows())))
    job = BY_NAME["forget-staged-imports"]
    assert job.function(TODAY) == 0
    app.config["IMPORT_STAGING_RETENTION"] = timedelta(seconds=-1)  # as if a day had gone by
    assert job.function(TODAY) == 1
    assert client.get(f"/admin/import/{key}").status_code == 404
    assert list(staging.folder().iterdir()) == []
