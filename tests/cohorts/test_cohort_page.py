"""The cohort page: its facts, where its members are, the members table, what the course lead sees,
and a cost in statements that does not grow with the cohort."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from tests.cohorts.builders import join, make_cohort, make_enrolments, signed_in
from tests.factories import count_statements
from vigtrain.extensions import db
from vigtrain.pathways.models import EnrolmentStatus, StageState


def _move(enrolment, position: int | None, state: StageState = StageState.IN_PROGRESS, since=None) -> None:
    """Put the enrolment at the stage in `position` (None: every stage finished)."""
    for index, record in enumerate(enrolment.stages):
        if position is None or index < position:
            record.state = StageState.COMPLETE
        elif index == position:
            record.state = state
            if since is not None:
                record.state_since = since
        else:
            record.state = StageState.NOT_STARTED
    enrolment.mark_current_stage()


@pytest.fixture
def cohort(app, people, versions, clock):
    """Five members: two at the course, one submitted in stage 1, one finished, one withdrawn."""
    cohort = make_cohort("ITC North West 2026", versions["current"], lead=people["al"])
    enrolments = make_enrolments(5, people["admin"])
    _move(enrolments[0], 0, since=datetime(2026, 2, 20, 12, tzinfo=UTC))
    _move(enrolments[2], 1, StageState.SUBMITTED)
    _move(enrolments[3], None)
    enrolments[3].status = EnrolmentStatus.COMPLETED
    enrolments[4].status = EnrolmentStatus.WITHDRAWN
    db.session.commit()
    join(cohort, enrolments)
    return cohort


def _stage_rows(html: str) -> dict[str, str]:
    table = html.split('id="stages-heading"')[1].split("</table>")[0]
    return {
        name.strip(): total
        for name, total in re.findall(
            r'<th scope="row" class="govuk-table__header">([^<]+)</th>\s*<td[^>]*>(\d+)</td>', table
        )
    }


def test_the_page_counts_members_at_each_stage_in_the_pathways_order(app, people, cohort):
    html = signed_in(app, "admin@example.org").get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert _stage_rows(html) == {
        "Initial Training Course": "2",
        "Stage 1": "1",
        "Stage 2": "0",
        "Stage 3": "0",
        "Finished": "1",
        "Withdrawn": "1",
    }
    assert list(_stage_rows(html))[:4] == ["Initial Training Course", "Stage 1", "Stage 2", "Stage 3"]
    assert "2 in progress" in html and "1 submitted to supervisor" in html


def test_the_page_shows_the_cohorts_facts_and_each_members_state(app, people, cohort):
    html = signed_in(app, "admin@example.org").get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "VIG Practitioner (version 2024.1)" in html and "Al Accreditor" in html
    assert "From 5 January 2026" in html
    members = html.split('id="members-heading"')[1]
    names = re.findall(r"Trainee \d\d", members)
    assert names == sorted(names) and len(set(names)) == 5
    first = members.split("Trainee 00")[1].split("</tr>")[0]
    assert "govuk-tag--light-blue" in first and "In progress" in first
    assert re.search(r'numeric">\s*10\s*</td>', first)  # in its state since 20 February, seen on 2 March
    assert "All stages finished" in members.split("Trainee 03")[1].split("</tr>")[0]
    # Administrators open each record and may remove members.
    assert 'href="/enrolments/' in members and "Remove<span" in members


def test_the_lead_sees_progress_but_no_way_into_records_and_nothing_to_change(app, people, cohort):
    html = signed_in(app, "al@example.org").get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Trainee 00" in html and "Stage 1" in html
    assert 'href="/enrolments/' not in html
    assert "/remove" not in html and f"/admin/cohorts/{cohort.id}/edit" not in html


def test_a_cohort_without_members_says_so(app, people, versions):
    cohort = make_cohort("Empty 2026", versions["current"])
    html = signed_in(app, "admin@example.org").get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "This cohort has no members yet." in html
    assert _stage_rows(html)["Finished"] == "0" and "Withdrawn" not in _stage_rows(html)


def test_led_by_lists_the_cohorts_a_person_leads(app, people, versions):
    from vigtrain.cohorts.queries import cohorts_led_by

    led = make_cohort("Led 2026", versions["current"], lead=people["al"])
    make_cohort("Other 2026", versions["current"], lead=people["sue"])
    assert list(db.session.scalars(cohorts_led_by(people["al"]))) == [led]


# --- cost ---------------------------------------------------------------------------------------------


def test_the_cohort_page_costs_the_same_statements_for_2_or_12_members(app, people, versions):
    small = make_cohort("Small 2026", versions["current"])
    large = make_cohort("Large 2026", versions["current"])
    join(small, make_enrolments(2, people["admin"], prefix="Small"))
    join(large, make_enrolments(12, people["admin"], prefix="Large"))
    client = signed_in(app, "admin@example.org")
    count_statements(client, f"/cohorts/{small.id}")  # the first request warms what every page loads once
    assert count_statements(client, f"/cohorts/{small.id}") == count_statements(client, f"/cohorts/{large.id}")


def test_the_list_costs_the_same_statements_for_2_or_12_cohorts(app, people, versions):
    client = signed_in(app, "admin@example.org")
    for number in range(2):
        join(
            make_cohort(f"Cohort {number:02d}", versions["current"]),
            make_enrolments(1, people["admin"], prefix=f"A{number}"),
        )
    count_statements(client, "/admin/cohorts/")
    few = count_statements(client, "/admin/cohorts/")
    for number in range(2, 12):
        join(
            make_cohort(f"Cohort {number:02d}", versions["current"]),
            make_enrolments(1, people["admin"], prefix=f"A{number}"),
        )
    assert count_statements(client, "/admin/cohorts/") == few


def test_days_in_state_count_uk_days(app, people, versions):
    from vigtrain.cohorts.queries import member_rows

    (enrolment,) = make_enrolments(1, people["admin"])
    # 23:30 UTC on 30 June is already 1 July in the UK (BST): one day before 2 July, not two.
    _move(enrolment, 0, since=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    db.session.commit()
    (row,) = member_rows([enrolment], date(2026, 7, 2))
    assert row.days_in_state == 1 and row.stage.stage_code == "itc"


def test_the_course_lead_finds_their_cohorts_on_their_home_page(app, people, versions):
    cohort = make_cohort("ITC Home Counties 2026", versions["current"], lead=people["al"])
    other = make_cohort("ITC Elsewhere 2026", versions["current"])
    client = app.test_client()
    client.login("al@example.org")
    html = client.get("/home").get_data(as_text=True)
    assert f'href="/cohorts/{cohort.id}"' in html and "Cohorts you lead" in html
    assert other.name not in html
    client = app.test_client()
    client.login("admin@example.org")
    assert "Cohorts you lead" not in client.get("/home").get_data(as_text=True)
