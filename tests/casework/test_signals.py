"""Pages a lower domain draws with what a higher one answers through a signal.

Casework never imports dcs, so the case page gets its outcome feedback from dcs's answer; the
list of services never imports accounts, so its head counts are the accounts domain's answer.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from blinker import Namespace

from tests.factories import make_admin, make_case, make_service, make_user
from vigtrain.accounts.models import Role
from vigtrain.casework import signals
from vigtrain.dates import today
from vigtrain.dcs.models import Timepoint
from vigtrain.dcs.services import record_administration
from vigtrain.extensions import db
from vigtrain.organisations.services import members_counted


def test_the_case_page_lists_what_the_outcome_measures_show(client, app):
    practitioner = make_user("tia@example.org", roles=(Role.TRAINEE,))
    case = make_case(practitioner)
    db.session.commit()
    client.login("tia@example.org")
    before = client.get(f"/cases/{case.code}").get_data(as_text=True)
    assert "No outcome measures recorded for this case yet." in before

    record_administration(
        practitioner, case, "PHQ-9", Timepoint.PRE, date(2025, 2, 3), dict.fromkeys("123456789", 1), today()
    )
    db.session.commit()
    after = client.get(f"/cases/{case.code}").get_data(as_text=True)
    assert "PHQ-9: pre 9" in after and f"/cases/{case.code}/outcomes" in after
    assert "No outcome measures recorded" not in after


def _people_column(html: str, service_name: str) -> str:
    row = re.search(rf">{service_name}</a></td>.*?</tr>", html, re.DOTALL)
    assert row, f"no row for {service_name}"
    return re.search(r'numeric">(\d+)</td>', row.group(0)).group(1)


def test_the_list_of_services_counts_the_people_in_each(client, app):
    make_admin()
    busy, quiet = make_service("Busy Trust"), make_service("Quiet Charity")
    make_user(service=busy, commit=False)
    make_user(service=busy, commit=False)
    db.session.commit()
    client.login("admin@example.org")
    html = client.get("/admin/services/").get_data(as_text=True)
    assert _people_column(html, busy.name) == "2"
    assert _people_column(html, quiet.name) == "0"


def test_every_question_a_lower_domain_asks_has_an_answer(app):
    """The app connects a receiver to each signal, so no rule that asks another domain passes unasked."""
    questions = [signals.case_changed, signals.first_measure_on, signals.last_measure_on, signals.case_page]
    assert all(question.receivers for question in [*questions, members_counted])


def test_a_question_nobody_answers_is_an_error_not_a_silent_pass():
    """Fail closed: with no receiver, asking raises instead of answering 'nothing to say'."""
    unanswered = Namespace().signal("unanswered")
    with pytest.raises(RuntimeError, match="nothing answers 'unanswered'"):
        signals.answers(unanswered, None)
    with pytest.raises(RuntimeError, match="nothing answers 'unanswered'"):
        signals.tell(unanswered, None)
