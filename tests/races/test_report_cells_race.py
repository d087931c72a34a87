"""A client withdrawing DCS consent while the hourly job adds the reports' sums up again: the case must
not stay in the kept sums. Each side has its own thread, connection and transaction."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from tests.factories import make_service, make_user
from tests.report_factories import outcome_rows, withdraw_dcs_consent
from vigtrain.accounts.models import Role, User
from vigtrain.casework.models import Case
from vigtrain.dcs import reports
from vigtrain.dcs.measures import get_measure
from vigtrain.dcs.models import ReportCell
from vigtrain.dcs.reports import Breakdown, Filters, Level, Scope
from vigtrain.dcs.services import refresh_report_cells
from vigtrain.extensions import db


def _national_cases() -> int:
    db.session.rollback()  # read what the other connections committed
    report = reports.build_report(Scope(Level.NATIONAL), Filters(get_measure("PHQ-9"), Breakdown.REGION))
    return report.total.cases


def test_consent_withdrawn_while_the_refresh_runs_leaves_the_kept_sums(app, clock):
    tia = make_user("tia@example.org", roles=(Role.TRAINEE,), service_id=make_service("North").id)
    case_id = outcome_rows(tia, [(18, 8)] * 10)[0].id
    refresh_report_cells()
    db.session.commit()
    assert _national_cases() == 10

    refreshed, withdrawing = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def job() -> None:
        with app.app_context():
            try:
                refresh_report_cells()  # has read the case as consented, not yet committed
                refreshed.set()
                withdrawing.wait(5)
                time.sleep(0.3)  # the withdrawal is now waiting on the refresh
                db.session.commit()
            except BaseException as error:  # reported below, not lost in the thread
                failures.append(error)
                db.session.rollback()

    def withdrawal() -> None:
        with app.app_context():
            try:
                refreshed.wait(5)
                withdrawing.set()
                withdraw_dcs_consent(db.session.get(User, tia.id), db.session.get(Case, case_id))
            except BaseException as error:
                failures.append(error)
                db.session.rollback()

    threads = [threading.Thread(target=job), threading.Thread(target=withdrawal)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not failures, failures
    assert _national_cases() == 9
    kept = db.session.scalar(select(func.coalesce(func.sum(ReportCell.cases), 0)).where(ReportCell.grain == "stage"))
    assert kept in (0, 9)  # dropped, or kept without the case
