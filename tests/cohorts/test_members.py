"""Adding trainee records to a cohort from the records list, and removing them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.cohorts.builders import join, make_cohort, make_enrolments, signed_in
from vigtrain.audit import AuditEvent
from vigtrain.cohorts import services
from vigtrain.errors import DomainError
from vigtrain.extensions import db
from vigtrain.pathways.models import Enrolment

RECORDS = "/admin/records?status=active"


@pytest.fixture
def mix(app, people, versions):
    """Two records free to join, one on the old version, one in another cohort, one already a member."""
    here = make_cohort("ITC North West 2026", versions["current"])
    elsewhere = make_cohort("ITC South 2026", versions["current"])
    good = make_enrolments(2, people["admin"], prefix="Good")
    (old,) = make_enrolments(1, people["admin"], version="2015.1", prefix="Old")
    (taken,) = make_enrolments(1, people["admin"], prefix="Taken")
    (member,) = make_enrolments(1, people["admin"], prefix="Member")
    join(elsewhere, [taken])
    join(here, [member])
    return {"here": here, "elsewhere": elsewhere, "good": good, "old": old, "taken": taken, "member": member}


def _state() -> dict[int, tuple[int | None, int]]:
    """Each enrolment's cohort and version."""
    db.session.expire_all()
    return {e.id: (e.cohort_id, e.version) for e in db.session.scalars(select(Enrolment))}


def _flashed(client, url: str) -> str:
    return client.get(url).get_data(as_text=True)


def _ids(mix) -> list[str]:
    return [
        *(str(e.id) for e in mix["good"]),
        str(mix["old"].id),
        str(mix["taken"].id),
        str(mix["member"].id),
        "abc",
        "²",
        "-1",
        "9" * 20,
        "99999",
        str(mix["good"][0].id),  # ticked twice counts once
    ]


def test_adding_a_mix_adds_the_right_ones_and_says_why_the_rest_were_skipped(app, people, mix):
    before = _state()
    client = signed_in(app, "admin@example.org")
    response = client.submit(
        f"/admin/cohorts/{mix['here'].id}/members", {"enrolment": _ids(mix), "next": RECORDS}, page="/admin/cohorts/"
    )
    assert response.status_code == 302 and response.headers["Location"] == RECORDS
    after = _state()
    for enrolment in mix["good"]:
        assert after[enrolment.id] == (mix["here"].id, before[enrolment.id][1] + 1)
    untouched = {key: value for key, value in after.items() if key not in {e.id for e in mix["good"]}}
    assert untouched == {key: before[key] for key in untouched}
    html = _flashed(client, "/admin/cohorts/")
    assert (
        "2 added to ITC North West 2026; 8 skipped: 1 already in this cohort, 1 already in another cohort, "
        "1 on another pathway version, 5 not found"
    ) in html
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "cohort.members_added"))
    assert event.after["enrolment_ids"] == [e.id for e in mix["good"]]


def test_the_records_list_chooses_the_cohort_from_a_drop_down(app, people, mix):
    client = signed_in(app, "admin@example.org")
    data = {"cohort": str(mix["here"].id), "enrolment": [str(mix["good"][0].id), str(mix["taken"].id)], "next": RECORDS}
    response = client.submit("/admin/cohorts/members", data, page="/admin/cohorts/")
    assert response.status_code == 302 and response.headers["Location"] == RECORDS
    assert _state()[mix["good"][0].id][0] == mix["here"].id
    assert "1 added to ITC North West 2026; 1 skipped: already in another cohort" in _flashed(client, "/admin/cohorts/")


@pytest.mark.parametrize("cohort", ["", "abc", "99999", "9" * 30, "²"])
def test_no_cohort_or_a_cohort_that_does_not_exist_changes_nothing(app, people, mix, cohort):
    before = _state()
    client = signed_in(app, "admin@example.org")
    data = {"cohort": cohort, "enrolment": [str(mix["good"][0].id)], "next": RECORDS}
    response = client.submit("/admin/cohorts/members", data, page="/admin/cohorts/")
    assert response.status_code == 302 and response.headers["Location"] == RECORDS
    assert _state() == before
    assert "Select a cohort to add the records to" in _flashed(client, "/admin/cohorts/")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_only_a_path_on_this_site_is_followed_back(app, people, mix, target):
    client = signed_in(app, "admin@example.org")
    data = {"enrolment": [str(mix["good"][0].id)], "next": target}
    response = client.submit(f"/admin/cohorts/{mix['here'].id}/members", data, page="/admin/cohorts/")
    assert response.headers["Location"] == f"/cohorts/{mix['here'].id}"
    response = client.submit("/admin/cohorts/members", {**data, "cohort": "abc"}, page="/admin/cohorts/")
    assert response.headers["Location"] == "/admin/cohorts/"


def test_none_chosen_or_too_many_is_refused_with_a_message(app, people, mix):
    before = _state()
    client = signed_in(app, "admin@example.org")
    url = f"/admin/cohorts/{mix['here'].id}/members"
    client.submit(url, {"next": RECORDS}, page="/admin/cohorts/")
    assert "Select at least one trainee record to add to the cohort" in _flashed(client, "/admin/cohorts/")
    many = [str(mix["good"][0].id)] + [str(number) for number in range(100000, 100500)]
    client.submit(url, {"enrolment": many, "next": RECORDS}, page="/admin/cohorts/")
    assert "You can add up to 500 trainee records at a time" in _flashed(client, "/admin/cohorts/")
    assert _state() == before
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cohort.members_added")) is None


def test_adding_to_a_cohort_that_does_not_exist_is_not_found(app, people, mix):
    client = signed_in(app, "admin@example.org")
    response = client.submit("/admin/cohorts/99999/members", {"enrolment": ["1"]}, page="/admin/cohorts/")
    assert response.status_code == 404


def test_the_summary_names_a_single_reason_without_a_count(app, people, mix):
    summary = services.MembersAdded((1, 2, 3), {"7": services.OTHER_COHORT})
    assert (
        summary.summary("ITC North West 2026") == "3 added to ITC North West 2026; 1 skipped: already in another cohort"
    )
    assert services.MembersAdded((), {}).summary("X") == "0 added to X"


def test_the_service_refuses_anyone_but_an_administrator(app, people, mix):
    from vigtrain.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.add_members(people["sue"], mix["here"], [str(mix["good"][0].id)])
    db.session.rollback()


# --- removing -----------------------------------------------------------------------------------------


def test_removing_a_member_leaves_them_in_no_cohort_and_is_audited(app, people, mix):
    client = signed_in(app, "admin@example.org")
    page = f"/cohorts/{mix['here'].id}"
    html = client.get(page).get_data(as_text=True)
    assert f"/admin/cohorts/{mix['here'].id}/members/{mix['member'].id}/remove" in html
    response = client.submit(f"/admin/cohorts/{mix['here'].id}/members/{mix['member'].id}/remove", page=page)
    assert response.status_code == 302 and response.headers["Location"] == page
    assert _state()[mix["member"].id][0] is None
    assert "Member 00 removed from ITC North West 2026." in _flashed(client, page)
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "cohort.member_removed"))
    assert event.before == {"enrolment_id": mix["member"].id}


def test_removing_someone_who_is_not_a_member_changes_nothing(app, people, mix):
    before = _state()
    client = signed_in(app, "admin@example.org")
    page = f"/cohorts/{mix['here'].id}"
    response = client.submit(f"/admin/cohorts/{mix['here'].id}/members/{mix['taken'].id}/remove", page=page)
    assert response.status_code == 302
    assert _state() == before
    assert "Taken 00 is not in ITC North West 2026" in _flashed(client, page)
    missing = client.submit(f"/admin/cohorts/{mix['here'].id}/members/99999/remove", page=page)
    assert missing.status_code == 404


def test_the_service_refuses_to_remove_a_record_from_a_cohort_it_is_not_in(app, people, mix):
    with pytest.raises(DomainError):
        services.remove_member(people["admin"], mix["here"], mix["good"][0])
    db.session.rollback()
