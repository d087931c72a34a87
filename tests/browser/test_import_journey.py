"""An administrator imports a course intake on a phone: the problems first, then the corrected file,
its preview, the import's progress and its outcome; every page scanned by axe and fitting 320 px."""

from __future__ import annotations

import threading

import pytest

from tests.factories import PASSWORD
from tests.imports.conftest import intake  # noqa: F401  (fixture)
from tests.imports.files import broken_rows, csv_bytes, intake_rows, xlsx_bytes
from vigtrain.accounts.models import User
from vigtrain.extensions import db
from vigtrain.imports import views
from vigtrain.pathways.models import Enrolment

pytestmark = pytest.mark.browser


def test_an_administrator_imports_an_intake(browse_mobile, intake, app, tmp_path, monkeypatch):  # noqa: F811
    app.config["IMPORT_IN_BACKGROUND"] = True
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    release = threading.Event()
    real_run = views.run_import

    def held_run(key: str, actor_id: int) -> None:
        # Held until the test has seen the progress page, which a 23-row import would otherwise outrun.
        release.wait(timeout=30)
        real_run(key, actor_id)

    monkeypatch.setattr(views, "run_import", held_run)
    broken, fixed = tmp_path / "intake-broken.csv", tmp_path / "intake.xlsx"
    broken.write_bytes(csv_bytes(broken_rows()))
    fixed.write_bytes(xlsx_bytes(intake_rows()))
    page = browse_mobile.page
    people = db.session.query(User).count()

    browse_mobile.sign_in(intake.email, PASSWORD)
    browse_mobile.visit("/admin/users/")
    browse_mobile.act(lambda: page.get_by_role("link", name="Import people").click())
    page.get_by_label("Upload a file of people").set_input_files(str(broken))
    browse_mobile.act(lambda: page.get_by_role("button", name="Check the file").click(), status=422)
    assert page.get_by_role("heading", name="Problems in intake-broken.csv").is_visible()
    problems = [row.locator("td").all_inner_texts()[:2] for row in page.locator("#problems tbody tr").all()]
    assert problems == [["5", "service"], ["12", "supervisor_email"], ["20", "name"]]
    assert db.session.query(User).count() == people

    browse_mobile.act(lambda: page.get_by_role("link", name="Upload the corrected file").click())
    page.get_by_label("Upload a file of people").set_input_files(str(fixed))
    browse_mobile.act(lambda: page.get_by_role("button", name="Check the file").click())
    assert (
        page.get_by_text("New people").is_visible()
        and page.get_by_text("23 (each gets an invitation email)").is_visible()
    )
    browse_mobile.act(lambda: page.get_by_role("button", name="Import 23 rows").click())
    assert page.get_by_role("heading", name="Importing intake.xlsx").is_visible()
    assert page.locator("progress").is_visible()

    release.set()
    page.get_by_role("heading", name="Import complete").wait_for(timeout=30_000)
    browse_mobile.check()
    db.session.expire_all()
    assert db.session.query(User).count() == people + 23
    assert db.session.query(Enrolment).count() == 20
