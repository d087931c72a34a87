"""The research export: anonymised, consenting cases only, streamed, audited, with a data dictionary."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from tests.factories import make_admin, make_service, make_user
from tests.report_factories import record_case
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.dcs.export import COLUMNS, stream_csv
from vigtrain.extensions import db


@pytest.fixture
def data(app, clock):
    service = make_service('=HYPERLINK("http://x") Family Service')
    tia = make_user("tia@example.org", roles=(Role.TRAINEE,), name="Tia Trainee", service_id=service.id)
    make_admin()
    shared = [record_case(tia, pre, post) for pre, post in [(18, 9), (12, None), (20, 8)]]
    gad = record_case(tia, 14, 6, measure="GAD-7")
    private = record_case(tia, 22, 21, consent=False)
    return {"service": service, "shared": [*shared, gad], "private": private}


def _download(client, measure: str = ""):
    response = client.submit("/reports/export", {"measure": measure}, buffered=True)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_one_row_per_administration_of_consenting_cases_only(client, data):
    client.login("admin@example.org")
    rows = _download(client)
    assert len(rows) == 7  # 2 + 1 + 2 PHQ-9, 2 GAD-7; none of the unconsented case's 2
    assert list(rows[0]) == [column.name for column in COLUMNS]
    codes = {row["case_code"] for row in rows}
    assert codes == {case.code for case in data["shared"]}
    assert data["private"].code not in codes
    first = next(row for row in rows if row["case_code"] == data["shared"][0].code and row["timepoint"] == "pre")
    assert first["measure"] == "PHQ-9" and first["measure_version"] == "1"
    assert first["total"] == "18" and first["month"] == "2026-01"
    assert first["relationship_type"] == "parent_child" and first["population"] == "early_years"
    assert first["region_code"] == "E12000003" and first["region_name"] == "Yorkshire and The Humber"
    assert first["service_id"] == str(data["service"].id)
    assert first["service_name"].startswith("'=")  # a spreadsheet must not run it as a formula
    assert first["case_status"] == "open" and first["prorated"] == "false" and first["subscales"] == "{}"


def test_nothing_identifies_the_practitioner_or_gives_a_full_date(client, data):
    client.login("admin@example.org")
    response = client.submit("/reports/export", {"measure": ""}, buffered=True)
    text = response.get_data(as_text=True)
    for identifying in ("Tia", "tia@example.org", "2026-01-05", "05/01/2026"):
        assert identifying not in text


def test_the_export_can_be_limited_to_one_measure(client, data):
    client.login("admin@example.org")
    rows = _download(client, "GAD-7")
    assert {row["measure"] for row in rows} == {"GAD-7"} and len(rows) == 2
    response = client.submit("/reports/export", {"measure": "NOPE"})
    assert response.status_code == 422
    assert "Select a measure from the list" in response.get_data(as_text=True)


def test_every_download_is_audited(client, data):
    client.login("admin@example.org")
    _download(client, "PHQ-9")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "dcs.exported"))
    assert event is not None and event.actor_label == "admin@example.org"
    assert event.after == {"measure": "PHQ-9"}


def test_the_export_is_read_and_written_in_batches(app, data, monkeypatch):
    """Rows are read with yield_per and written a batch at a time: 800,000 never sit in memory at once."""
    monkeypatch.setattr("vigtrain.dcs.export.BATCH", 2)
    chunks = list(stream_csv())
    assert len(chunks) == 1 + 4  # the header, then 7 rows in batches of 2
    assert sum(chunk.count("\r\n") for chunk in chunks) == 8


def test_only_administrators_export(client, data):
    client.login("tia@example.org")
    assert client.get("/reports/export").status_code == 403
    assert client.submit("/reports/export", {"measure": ""}, page="/reports/practitioner").status_code == 403
    assert client.get("/reports/export/dictionary.csv").status_code == 403
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "dcs.exported")) == 0
    )


def test_the_data_dictionary_describes_every_column(client, data):
    client.login("admin@example.org")
    # Names may break after an underscore on a narrow screen.
    page = client.get("/reports/export").get_data(as_text=True).replace("<wbr>", "")
    for column in COLUMNS:
        assert column.name in page
    response = client.get("/reports/export/dictionary.csv")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["column"] for row in rows] == [column.name for column in COLUMNS]
    assert all(row["description"] and row["values"] for row in rows)
