"""Subject access in a real browser: a trainee downloads her data from her account on a phone (320 px),
and an administrator answers a request for someone else, naming it after a first try without. Every
page is scanned with axe and measured at 320 px by the browser tier's `Browse`."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.factories import PASSWORD, make_admin, make_user
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db

pytestmark = pytest.mark.browser


def _downloaded(session, button: str) -> tuple[str, zipfile.ZipFile]:
    with session.page.expect_download() as caught:
        session.page.get_by_role("button", name=button).click()
    download = caught.value
    return download.suggested_filename, zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))


def _exports() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "subject_access.exported")))


def test_a_trainee_downloads_her_data_on_a_phone(request):
    phone = request.getfixturevalue("browse_mobile")
    tess = make_user("tess.trainee@example.org", name="Tess Trainee")
    tab = phone.page
    phone.sign_in("tess.trainee@example.org", PASSWORD)
    phone.visit("/account")
    phone.act(lambda: tab.get_by_role("link", name="Download everything vigtrain holds about you").click())
    assert phone.path() == "/account/my-data"
    expect(tab.get_by_role("heading", level=1)).to_have_text("Download your data")
    expect(tab.get_by_role("main")).to_contain_text("Your supervision log")
    assert _exports() == []

    name, archive = _downloaded(phone, "Download your data")
    assert re.fullmatch(rf"vigtrain-data-{tess.id}-\d{{4}}-\d{{2}}-\d{{2}}\.zip", name)
    assert json.loads(archive.read("everything.json"))["account"]["email"] == "tess.trainee@example.org"
    assert [event.actor_id for event in _exports()] == [tess.id]


def test_an_administrator_answers_a_request_naming_it(request):
    desk = request.getfixturevalue("browse")
    make_admin("ada@example.org")
    tess = make_user("tess.trainee@example.org", name="Tess Trainee")
    tab = desk.page
    desk.sign_in("ada@example.org", PASSWORD)
    desk.visit(f"/admin/users/{tess.id}")
    desk.act(lambda: tab.get_by_role("link", name=re.compile("Download this person.s data")).click())
    assert desk.path() == f"/admin/users/{tess.id}/data"

    desk.act(lambda: tab.get_by_role("button", name="Download their data").click(), status=422)
    expect(tab.locator(".govuk-error-summary")).to_contain_text("Enter which request this download answers")
    expect(tab).to_have_title(re.compile(r"^Error: "))
    assert _exports() == []

    tab.get_by_label("Which request is this for?").fill("Email of 1 March 2026")
    name, archive = _downloaded(desk, "Download their data")
    assert name.startswith(f"vigtrain-data-{tess.id}-")
    assert "by an AVIGuk administrator" in archive.read("README.txt").decode()
    (event,) = _exports()
    assert event.entity_id == str(tess.id) and event.after["reason"] == "Email of 1 March 2026"
