"""Bulk issue is exactly once: killed mid-way and restarted, run twice at once, or resumed later.

The kill test runs `flask certificates run-bulk` in a real subprocess against the test database
(a SQLite file, or PostgreSQL under the postgres tier), SIGKILLs it part-way through, then runs it
again, and counts: 500 stage records, 500 certificates, 500 distinct issue keys.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.certificate_factories import insert_ratified_records, make_earned_record
from tests.factories import make_admin, make_user
from vigtrain.accounts.models import Role
from vigtrain.certificates import bulk, services
from vigtrain.certificates.models import BulkIssue, BulkIssueItem, BulkIssueState, BulkItemState, Certificate
from vigtrain.dates import today, utcnow
from vigtrain.extensions import db

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 500


def count(model, *where) -> int:
    db.session.rollback()  # a fresh snapshot: another process is writing
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def run_bulk(app, job_id: int, tmp_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "VIGTRAIN_CONFIG": "testing",
        "TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "VIGTRAIN_INSTANCE_DIR": str(tmp_path),
        "FLASK_APP": "wsgi",
    }
    command = [sys.executable, "-m", "flask", "certificates", "run-bulk", str(job_id)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_bulk_issue_killed_mid_way_and_restarted_issues_each_certificate_once(app, tmp_path):
    admin = make_admin()
    record_ids = insert_ratified_records(TOTAL)
    job = bulk.start_bulk_issue(admin, record_ids)
    db.session.commit()
    job_id = job.id
    assert job.total == TOTAL

    worker = run_bulk(app, job_id, tmp_path)
    deadline = time.monotonic() + 120
    while count(Certificate) < 40 and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    issued_when_killed = count(Certificate)
    assert worker.returncode == -signal.SIGKILL, worker.stdout.read()
    assert 0 < issued_when_killed < TOTAL, "the worker should have been killed part-way through"
    assert count(BulkIssueItem, BulkIssueItem.state == BulkItemState.PENDING) == TOTAL - issued_when_killed

    # The worst moment for a crash: a certificate committed, its item still pending.
    pending = db.session.scalar(
        select(BulkIssueItem).where(BulkIssueItem.state == BulkItemState.PENDING).order_by(BulkIssueItem.id).limit(1)
    )
    services.issue_certificate(admin, pending.stage_record, today())
    db.session.commit()

    again = run_bulk(app, job_id, tmp_path)
    output, _ = again.communicate(timeout=300)
    assert again.returncode == 0, output
    assert f"{TOTAL} issued, 0 failed of {TOTAL} (finished)" in output

    db.session.rollback()
    assert count(Certificate) == TOTAL
    keys = db.session.scalars(select(Certificate.issue_key)).all()
    assert len(set(keys)) == TOTAL and set(keys) == {services.stage_key(record_id) for record_id in record_ids}
    assert count(BulkIssueItem, BulkIssueItem.state == BulkItemState.ISSUED) == TOTAL
    assert count(BulkIssueItem, BulkIssueItem.certificate_id.is_(None)) == 0
    numbers = db.session.scalars(select(Certificate.number)).all()
    indexes = db.session.scalars(select(Certificate.status_index)).all()
    assert len(set(numbers)) == TOTAL and len(set(indexes)) == TOTAL
    job = db.session.get(BulkIssue, job_id)
    assert job.state is BulkIssueState.FINISHED and (job.issued_count, job.failed_count) == (TOTAL, 0)

    # And running it once more changes nothing.
    third = run_bulk(app, job_id, tmp_path)
    assert third.wait(timeout=120) == 0 and count(Certificate) == TOTAL


def test_two_workers_on_the_same_job_issue_each_certificate_once(app):
    admin = make_admin()
    job = bulk.start_bulk_issue(admin, insert_ratified_records(40))
    db.session.commit()
    job_id, errors = job.id, []

    def work() -> None:
        with app.app_context():
            try:
                bulk.process(job_id)
            except Exception as exc:  # pragma: no cover (reported below)
                errors.append(exc)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors
    assert count(Certificate) == 40
    db.session.expire_all()
    job = db.session.get(BulkIssue, job_id)
    assert (job.issued_count, job.failed_count, job.state) == (40, 0, BulkIssueState.FINISHED)


def test_failures_are_recorded_per_item_and_the_rest_are_issued(app, monkeypatch):
    from vigtrain.pathways.models import StageState

    admin = make_admin()
    earned = [make_earned_record() for _ in range(4)]
    job = bulk.start_bulk_issue(admin, [record.id for record in earned])
    db.session.commit()
    earned[1].state = StageState.ACCREDITED  # ratification was undone after the job was queued
    db.session.commit()
    real = bulk.issue_certificate

    def broken_for_the_third(actor, record, on):
        if record.id == earned[2].id:
            raise RuntimeError("disk on fire")
        return real(actor, record, on)

    monkeypatch.setattr(bulk, "issue_certificate", broken_for_the_third)
    assert bulk.process(job.id) == 4
    job = db.session.get(BulkIssue, job.id)
    assert (job.issued_count, job.failed_count, job.state) == (2, 2, BulkIssueState.FINISHED)
    first, second = bulk.failed_items(job)
    assert first.stage_record_id == earned[1].id and "has not earned a certificate" in first.error
    assert second.stage_record_id == earned[2].id and second.error == "Unexpected error (RuntimeError); try again"
    assert count(Certificate) == 2


def test_starting_a_job_keeps_only_records_still_waiting(app):
    admin = make_admin()
    first, second = make_earned_record(), make_earned_record()
    services.issue_certificate(admin, first, today())
    job = bulk.start_bulk_issue(admin, [first.id, second.id, second.id])
    assert [item.stage_record_id for item in job.items] == [second.id] and job.total == 1
    with pytest.raises(Exception, match="Only AVIGuk administrators"):
        bulk.start_bulk_issue(make_user(roles=(Role.SUPERVISOR,)), [second.id])


def test_the_scheduler_resumes_only_jobs_nobody_is_working_on(app):
    admin = make_admin()
    busy = bulk.start_bulk_issue(admin, [make_earned_record().id])
    stale = bulk.start_bulk_issue(admin, [make_earned_record().id])
    db.session.commit()
    db.session.execute(update(BulkIssue).where(BulkIssue.id == busy.id).values(heartbeat_at=utcnow()))
    db.session.execute(
        update(BulkIssue).where(BulkIssue.id == stale.id).values(heartbeat_at=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()
    assert bulk.unfinished_jobs(stale_only=True) == [stale.id]
    assert bulk.run_unfinished() == 1
    db.session.expire_all()
    assert stale.state is BulkIssueState.FINISHED and busy.state is BulkIssueState.QUEUED
    assert bulk.unfinished_jobs() == [busy.id]


def test_run_bulk_command_reports_and_refuses_unknown_jobs(app):
    admin = make_admin()
    job = bulk.start_bulk_issue(admin, [make_earned_record().id])
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["certificates", "run-bulk"])
    assert result.exit_code == 0 and f"Bulk issue {job.id}: 1 settled now; 1 issued" in result.output
    assert "No unfinished bulk issues." in runner.invoke(args=["certificates", "run-bulk"]).output
    result = runner.invoke(args=["certificates", "run-bulk", "999"])
    assert result.exit_code != 0 and "There is no bulk issue 999" in result.output
