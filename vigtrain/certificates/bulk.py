"""Bulk issue: many certificates from one request, worked through in the background, exactly once.

An administrator picks stage records from the issue queue; `start_bulk_issue` stores a BulkIssue
with one pending item per record. `process` then takes the pending items one at a time, each in
its own transaction: the certificate and the item's new state commit together, and a failure is
recorded on the item (with the reason) without stopping the rest.

Exactly once, whatever happens: a certificate's `issue_key` is unique, so if a process is killed
at any point, or two processes work on the same job, the next attempt finds the certificate that
exists and marks the item issued instead of issuing another. Unfinished jobs are resumed by
`flask certificates run-bulk` and by the scheduler.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import joinedload

from vigtrain import audit, transactions
from vigtrain.accounts.models import User
from vigtrain.certificates.models import BulkIssue, BulkIssueItem, BulkIssueState, BulkItemState
from vigtrain.certificates.services import ISSUE_RETRIES, awaiting_issue_ids, issue_certificate
from vigtrain.dates import today, utcnow
from vigtrain.errors import DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.pathways.models import StageRecord
from vigtrain.security import can_manage_certificates

log = logging.getLogger("vigtrain.certificates.bulk")

# The scheduler resumes a job only if nothing has moved it on for this long (so it does not
# duplicate the work of a web process that is still busy with it).
STALE_AFTER = timedelta(minutes=2)
MAX_ITEMS = 5000


def start_bulk_issue(actor: User, stage_record_ids: list[int]) -> BulkIssue:
    """Create a job for the chosen stage records that still await a certificate. Flushes."""
    if not can_manage_certificates(actor):
        raise PermissionDenied("Only AVIGuk administrators can issue certificates")
    wanted = sorted(set(stage_record_ids))
    if not wanted:
        raise DomainError("Select at least one person to issue a certificate to", field="records")
    if len(wanted) > MAX_ITEMS:
        raise DomainError(f"Issue at most {MAX_ITEMS} certificates at a time", field="records")
    ids = awaiting_issue_ids(wanted)
    if not ids:
        raise DomainError("Certificates have already been issued for everyone selected", field="records")
    job = BulkIssue(created_by_id=actor.id, total=len(ids), state=BulkIssueState.QUEUED)
    job.items = [BulkIssueItem(stage_record_id=record_id) for record_id in ids]
    db.session.add(job)
    db.session.flush()
    audit.record(actor, "certificate.bulk_issue_started", job, after={"total": len(ids), "stage_record_ids": ids})
    return job


def _next_pending(job_id: int) -> BulkIssueItem | None:
    return db.session.scalar(
        select(BulkIssueItem)
        .where(BulkIssueItem.bulk_issue_id == job_id, BulkIssueItem.state == BulkItemState.PENDING)
        .order_by(BulkIssueItem.id)
        .limit(1)
    )


def _settle(item_id: int, job_id: int, state: BulkItemState, certificate_id: int | None, error: str | None) -> None:
    """Mark the item once: only a still-pending item changes, so a second worker never counts it twice."""
    changed = db.session.execute(
        update(BulkIssueItem)
        .where(BulkIssueItem.id == item_id, BulkIssueItem.state == BulkItemState.PENDING)
        .values(state=state, certificate_id=certificate_id, error=error)
        .execution_options(synchronize_session=False)
    ).rowcount
    counter = BulkIssue.issued_count if state is BulkItemState.ISSUED else BulkIssue.failed_count
    values = {counter.key: counter + changed} if changed else {}
    db.session.execute(
        update(BulkIssue)
        .where(BulkIssue.id == job_id)
        .values(**values, started_at=func.coalesce(BulkIssue.started_at, utcnow()), heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _issue_one(job: BulkIssue, item: BulkIssueItem) -> None:
    """Issue (or find) the item's certificate and settle the item, in one transaction.

    A refusal, or anything unexpected, is settled on the item instead, in a transaction of its own,
    so one item never stops the rest.
    """
    item_id, job_id, record_id, actor_id = item.id, job.id, item.stage_record_id, job.created_by_id

    def issue_and_settle() -> None:
        # The existing certificate if there is one (issued by another worker, or just before a crash).
        certificate = issue_certificate(db.session.get(User, actor_id), db.session.get(StageRecord, record_id), today())
        _settle(item_id, job_id, BulkItemState.ISSUED, certificate.id, None)

    try:
        transactions.run(issue_and_settle, retries=ISSUE_RETRIES)
        return
    except DomainError as exc:
        reason = exc.message
    except Exception as exc:
        log.exception("bulk issue %s: stage record %s failed", job_id, record_id)
        reason = f"Unexpected error ({type(exc).__name__}); try again"
    transactions.run(lambda: _settle(item_id, job_id, BulkItemState.FAILED, None, reason))


def _start(job: BulkIssue) -> None:
    job.state, job.heartbeat_at = BulkIssueState.RUNNING, utcnow()


def _finish(job_id: int) -> None:
    """Counts from the items themselves (the truth), and the job marked finished. Flushes."""
    counts = dict(
        db.session.execute(
            select(BulkIssueItem.state, func.count())
            .where(BulkIssueItem.bulk_issue_id == job_id)
            .group_by(BulkIssueItem.state)
        ).all()
    )
    job = db.session.get(BulkIssue, job_id)
    if job.state is not BulkIssueState.FINISHED:
        job.state, job.finished_at = BulkIssueState.FINISHED, utcnow()
        job.issued_count = counts.get(BulkItemState.ISSUED, 0)
        job.failed_count = counts.get(BulkItemState.FAILED, 0)
        db.session.flush()
        audit.record(
            None,
            "certificate.bulk_issue_finished",
            job,
            after={"issued": job.issued_count, "failed": job.failed_count, "total": job.total},
        )


def process(job_id: int, limit: int | None = None) -> int:
    """Work through a job's pending items (at most `limit`); returns how many were settled. Commits."""
    job = db.session.get(BulkIssue, job_id)
    if job is None or job.state is BulkIssueState.FINISHED:
        return 0
    if job.state is BulkIssueState.QUEUED:
        transactions.run(lambda: _start(job))
    done = 0
    while limit is None or done < limit:
        item = _next_pending(job_id)
        if item is None:
            transactions.run(lambda: _finish(job_id))
            break
        _issue_one(job, item)
        done += 1
        db.session.expire_all()  # the next item reads fresh state (another worker may be busy too)
    return done


def unfinished_jobs(stale_only: bool = False) -> list[int]:
    query = select(BulkIssue.id).where(BulkIssue.state != BulkIssueState.FINISHED).order_by(BulkIssue.id)
    if stale_only:
        cutoff = utcnow() - STALE_AFTER
        query = query.where((BulkIssue.heartbeat_at.is_(None)) | (BulkIssue.heartbeat_at < cutoff))
    return list(db.session.scalars(query))


def run_unfinished(stale_only: bool = True) -> int:
    """Resume every unfinished job (by default only those nobody is working on); returns items settled."""
    return sum(process(job_id) for job_id in unfinished_jobs(stale_only=stale_only))


def run_in_background(app: Flask, job_id: int) -> threading.Thread:
    """Process a job on a daemon thread with its own app context and session (the web request returns)."""

    def work() -> None:
        with app.app_context():
            try:
                process(job_id)
            except Exception:
                log.exception(
                    "bulk issue %s stopped; the scheduler or `flask certificates run-bulk` resumes it", job_id
                )
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"bulk-issue-{job_id}", daemon=True)
    thread.start()
    return thread


def progress(job: BulkIssue) -> dict:
    """What the progress bar shows, as JSON."""
    return {
        "id": job.id,
        "state": job.state.value,
        "total": job.total,
        "issued": job.issued_count,
        "failed": job.failed_count,
        "done": job.done_count,
        "percent": job.percent,
        "finished": job.finished,
    }


def failed_items_query(job: BulkIssue) -> Select:
    """The people a bulk issue could not issue to, with what the page names them by loaded at once."""
    return (
        select(BulkIssueItem)
        .where(BulkIssueItem.bulk_issue_id == job.id, BulkIssueItem.state == BulkItemState.FAILED)
        # An enrolment brings its trainee and pathway version with it (joined on the relationship).
        .options(joinedload(BulkIssueItem.stage_record).joinedload(StageRecord.enrolment))
        .order_by(BulkIssueItem.id)
    )


def failed_items(job: BulkIssue) -> list[BulkIssueItem]:
    return list(db.session.scalars(failed_items_query(job)))
