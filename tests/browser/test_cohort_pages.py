"""The cohort pages in a real browser at 320 CSS pixels: axe finds nothing and nothing scrolls sideways."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Browse
from tests.browser.test_small_screens import assert_fits
from tests.cohorts.builders import join, make_cohort, make_enrolments
from tests.cohorts.conftest import people, versions  # noqa: F401  (fixtures)
from tests.factories import PASSWORD
from vigtrain.cohorts.models import Cohort
from vigtrain.extensions import db

pytestmark = pytest.mark.browser


@pytest.fixture
def browse_mobile(mobile_page, live_server, request) -> Browse:
    return Browse(mobile_page, live_server, request.node.name + "-mobile")


@pytest.fixture
def cohort(app, people, versions) -> Cohort:  # noqa: F811  (the imported fixtures)
    cohort = make_cohort("Initial Training Course North West England 2026", versions["current"], lead=people["al"])
    join(cohort, make_enrolments(3, people["admin"], prefix="Trainee With A Rather Long Name"))
    return cohort


def test_cohort_pages_fit_320px(browse_mobile, cohort):
    browse_mobile.sign_in("admin@example.org", PASSWORD)
    for path in ("/admin/cohorts/", "/admin/cohorts/new", f"/admin/cohorts/{cohort.id}/edit", f"/cohorts/{cohort.id}"):
        browse_mobile.visit(path)
        assert_fits(browse_mobile.page)
    browse_mobile.sign_out()
    browse_mobile.sign_in("al@example.org", PASSWORD)
    browse_mobile.visit(f"/cohorts/{cohort.id}")
    assert_fits(browse_mobile.page)


def test_saving_the_edit_page_unchanged_keeps_the_course_lead(browse_mobile, cohort):
    """The chosen course lead's radio is ticked as the page loads, so saving sends them back."""
    browse_mobile.sign_in("admin@example.org", PASSWORD)
    browse_mobile.visit(f"/admin/cohorts/{cohort.id}/edit")
    page = browse_mobile.page
    browse_mobile.act(lambda: page.get_by_role("button", name="Save cohort").click())
    assert browse_mobile.path() == f"/cohorts/{cohort.id}"
    db.session.expire_all()
    assert db.session.get(Cohort, cohort.id).lead_id is not None
