"""The research export: anonymised, consenting cases only, streamed, audited, with a data dictionary."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import make_admin, make_service, make_user
from tests.report_factories import record_case
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import Population, Relationship
from vigtrain.dcs.export import COLUMNS, CONTEXT, LEFT_OUT, assign_levels, stream_csv
from vigtrain.extensions import db


@pytest.fixture
def data(app, clock):
    service = make_service('=HYPERLINK("http://x") Family Service')
    tia = make_user("tia@example.org", roles=(Role.TRAINEE,), name="Tia Trainee", service_id=service.id)
    make_admin()
    scores = [(18, 9), (12, None), (20, 8), (15, 7), (16, 10), (19, 5), (14, 14), (11, 6)]
    shared = [record_case(tia, pre, post) for pre, post in scores]
    gad = record_case(tia, 14, 6, measure="GAD-7")
    private = record_case(tia, 22, 21, consent=False)
    return {"service": service, "shared": [*shared, gad], "private": private, "tia": tia}


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
    assert len(rows) == 17  # 7 x 2 + 1 PHQ-9, 2 GAD-7; none of the unconsented case's 2
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
    assert rows[0]["service_id"] == str(data["service"].id)  # its group is all 9 cases, whatever the measure
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
    assert len(chunks) == 1 + 9  # the header, then 17 rows in batches of 2
    assert sum(chunk.count("\r\n") for chunk in chunks) == 18


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


def test_a_case_few_others_resemble_is_shown_with_less_detail_or_left_out(client, data):
    """One perinatal case beside eight early years ones: shown alone, its population would be a count of 1."""
    tia = data["tia"]
    lone = record_case(tia, 17, 9, population=Population.PERINATAL)
    client.login("admin@example.org")
    rows = _download(client)
    assert lone.code not in {row["case_code"] for row in rows}  # nothing left makes it one of 8
    # Seven perinatal cases with another relationship: together the eight share all but the relationship.
    others = [
        record_case(tia, 15, 8, population=Population.PERINATAL, relationship=Relationship.OTHER) for _ in range(7)
    ]
    rows = _download(client)
    by_case = {row["case_code"]: row for row in rows}
    assert lone.code in by_case and all(case.code in by_case for case in others)
    for case in [lone, *others]:
        row = by_case[case.code]
        assert (row["relationship_type"], row["service_id"], row["population"]) == ("*", "*", "perinatal")
    assert by_case[data["shared"][0].code]["service_id"] == str(data["service"].id)  # its group of 9 is untouched
    context = [name for names in CONTEXT for name in names]
    shown: dict[tuple, set[str]] = {}
    for row in rows:
        shown.setdefault(tuple(row[name] for name in context), set()).add(row["case_code"])
    assert all(len(codes) >= 8 for codes in shown.values()), shown


contexts = st.dictionaries(
    st.integers(min_value=1, max_value=10**6),
    st.tuples(*(st.integers(min_value=0, max_value=3) for _ in range(7))),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(contexts)
def test_every_exported_case_shares_what_it_shows_with_at_least_7_others(cases):
    levels = assign_levels(cases)
    released: dict[tuple, int] = {}
    for case_id, level in levels.items():
        if level < LEFT_OUT:
            key = ("*",) * level + cases[case_id][level:]
            released[key] = released.get(key, 0) + 1
    assert all(size >= 8 for size in released.values())
    left_out = [case_id for case_id, level in levels.items() if level == LEFT_OUT]
    assert len(left_out) < 8  # together they would have made a group
    if len(cases) >= 8 and len(set(cases.values())) == 1:
        assert set(levels.values()) == {0}  # nothing is taken from cases that already share everything
