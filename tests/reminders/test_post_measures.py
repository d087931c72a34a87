"""Rule 4: a measure with a pre and no post tells the case's practitioner once the pre is 12 weeks old,
or as soon as the case is closed; only for cases with DCS consent, once per pre."""

from __future__ import annotations

from datetime import date, timedelta

from tests.factories import make_case, make_user
from tests.reminders.conftest import START
from tests.reminders.helpers import Told, counting_notify, emails_to, prefer, run, told
from vigtrain.accounts.models import Role
from vigtrain.casework.models import CaseStatus
from vigtrain.casework.services import Consents
from vigtrain.dcs.models import Administration, Timepoint
from vigtrain.extensions import db
from vigtrain.notifications.models import Delivery, NotificationKind
from vigtrain.reminders.services import remind_post_measures

KIND = NotificationKind.POST_MEASURE_DUE
PRE = date(2026, 1, 12)
DUE = PRE + timedelta(weeks=12)  # 6 April 2026
CONSENTED = Consents(filming=START, supervision=START, dcs=START)


def _measure(case, code: str, timepoint: Timepoint, on: date) -> Administration:
    administration = Administration(
        case_id=case.id,
        measure_code=code,
        measure_version="1",
        timepoint=timepoint,
        administered_on=on,
        responses={},
        total=12.0,
        entered_by_id=case.practitioner_id,
    )
    db.session.add(administration)
    db.session.commit()
    return administration


def _case(practitioner, consents: Consents = CONSENTED):
    case = make_case(practitioner, started_on=START, consents=consents)
    db.session.commit()
    return case


def test_twelve_weeks_after_the_pre_the_practitioner_is_told_once(people):
    case = _case(people.trainee)
    pre = _measure(case, "PHQ-9", Timepoint.PRE, PRE)
    _measure(case, "PHQ-9", Timepoint.MID, PRE + timedelta(weeks=6))
    assert run(remind_post_measures, DUE - timedelta(days=1)) == 0
    assert told() == []

    assert run(remind_post_measures, DUE) == 1
    (item,) = told()
    assert item == Told(
        "ana@example.org",
        KIND,
        f"case:{case.id}:PHQ-9",
        f"pre:{pre.id}",
        f"Post PHQ-9 due for case {case.code}",
        f"/cases/{case.code}",
        item.body,
    )
    assert f"The pre PHQ-9 for case {case.code} was recorded on 12 January 2026, 12 weeks ago" in item.body
    assert run(remind_post_measures, DUE) == 0
    assert run(remind_post_measures, DUE + timedelta(days=1)) == 0
    assert len(told()) == 1


def test_each_measure_lacking_a_post_is_its_own_reminder(people):
    case = _case(people.trainee)
    _measure(case, "PHQ-9", Timepoint.PRE, PRE)
    _measure(case, "GAD-7", Timepoint.PRE, PRE)
    _measure(case, "EPDS", Timepoint.PRE, PRE)
    _measure(case, "EPDS", Timepoint.POST, PRE + timedelta(weeks=10))
    _measure(case, "KPCS", Timepoint.PRE, PRE)
    _measure(case, "KPCS", Timepoint.FOLLOW_UP, PRE + timedelta(weeks=11))  # too late for a post now
    assert run(remind_post_measures, DUE) == 2
    assert sorted(item.subject for item in told()) == [f"case:{case.id}:GAD-7", f"case:{case.id}:PHQ-9"]


def test_a_closed_case_without_a_post_is_told_at_once(people):
    case = _case(people.trainee)
    _measure(case, "PHQ-9", Timepoint.PRE, PRE)
    assert run(remind_post_measures, PRE + timedelta(weeks=4)) == 0
    case.status, case.ended_on = CaseStatus.ENDED_EARLY, PRE + timedelta(weeks=4)
    db.session.commit()
    assert run(remind_post_measures, PRE + timedelta(weeks=4)) == 1
    (item,) = told()
    assert f"Case {case.code} was closed on 9 February 2026 with a pre PHQ-9 (12 January 2026) and no post" in item.body


def test_cases_without_dcs_consent_and_deactivated_practitioners_are_not_told(people):
    _measure(_case(people.trainee, Consents(filming=START, supervision=START)), "PHQ-9", Timepoint.PRE, PRE)
    gone = make_user("gil@example.org", roles=(Role.PRACTITIONER,), name="Gil Gone")
    _measure(_case(gone), "PHQ-9", Timepoint.PRE, PRE)
    gone.is_active_flag = False
    db.session.commit()
    assert run(remind_post_measures, DUE + timedelta(weeks=10)) == 0
    assert told() == []


def test_a_new_pre_is_a_new_occasion(people):
    case = _case(people.trainee)
    first = _measure(case, "PHQ-9", Timepoint.PRE, PRE)
    assert run(remind_post_measures, DUE) == 1
    _measure(case, "GAD-7", Timepoint.PRE, DUE)  # (SQLite would give the newest row's id to the next)
    db.session.delete(first)  # recorded in error, then recorded again
    db.session.commit()
    second = _measure(case, "PHQ-9", Timepoint.PRE, PRE + timedelta(days=2))
    assert run(remind_post_measures, DUE + timedelta(days=1)) == 0
    assert run(remind_post_measures, DUE + timedelta(days=2)) == 1
    assert [item.period for item in told()] == [f"pre:{first.id}", f"pre:{second.id}"]


def test_email_follows_the_practitioners_choice(people):
    other = make_user("pia@example.org", roles=(Role.PRACTITIONER,), name="Pia Practitioner")
    _measure(_case(people.trainee), "PHQ-9", Timepoint.PRE, PRE)
    _measure(_case(other), "PHQ-9", Timepoint.PRE, PRE)
    prefer(other, KIND, Delivery.APP)
    assert run(remind_post_measures, DUE) == 2
    (email,) = emails_to("ana@example.org")
    assert email.subject.startswith("Post PHQ-9 due for case ")
    assert emails_to("pia@example.org") == []


def test_a_second_run_asks_nothing_of_the_inbox(people, monkeypatch):
    case = _case(people.trainee)
    _measure(case, "PHQ-9", Timepoint.PRE, PRE)
    assert run(remind_post_measures, DUE) == 1
    calls = counting_notify(monkeypatch)
    assert run(remind_post_measures, DUE + timedelta(days=5)) == 0
    assert calls == []
