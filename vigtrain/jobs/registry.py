"""Every scheduled job: a name, when it falls due, and a thin function that calls one service.

Each function takes the day it runs for, so `flask jobs run NAME --today 2027-03-01` (and a test)
can run any job as if on that day. The job runner (`vigtrain.jobs.services.run_job`) wraps each
call in one transaction; a function returns a count (what it did) for the run's record.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import current_app

from vigtrain.dates import utcnow


class Cadence(enum.StrEnum):
    DAILY = "daily"  # once a day, from `hour:minute` UK time
    WEEKLY = "weekly"  # once an ISO week, from `weekday` (1 = Monday) at `hour:minute`
    FREQUENT = "frequent"  # every `every_minutes` minutes


@dataclass(frozen=True)
class Job:
    name: str
    function: Callable[[date], int]
    cadence: Cadence
    description: str
    hour: int = 0
    minute: int = 0
    weekday: int = 1
    every_minutes: int = 1
    # Why `flask jobs run --dry-run` cannot try this job: its work leaves the one transaction a dry
    # run rolls back (email sent, certificates committed one by one). None: it can be tried.
    dry_run_refused: str | None = None

    @property
    def schedule(self) -> str:
        """When it runs, in words, for the jobs page and `flask jobs list`."""
        at = f"{self.hour:02d}:{self.minute:02d}"
        if self.cadence is Cadence.DAILY:
            return f"Daily from {at}"
        if self.cadence is Cadence.WEEKLY:
            day = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[self.weekday - 1]
            return f"Weekly, {day} from {at}"
        return "Every minute" if self.every_minutes == 1 else f"Every {self.every_minutes} minutes"


# --- the functions: each imports its service when it runs, so this module sits above every domain ---------


def expire_certificates(day: date) -> int:
    from vigtrain.certificates.services import expire_certificates as expire

    return expire(day)


def lift_ended_suspensions(day: date) -> int:
    from vigtrain.certificates.services import lift_ended_suspensions as lift

    return lift(day)


def resume_bulk_issues(day: date) -> int:
    from vigtrain.certificates.bulk import run_unfinished

    return run_unfinished()


def deliver_mail(day: date) -> int:
    from vigtrain.notifications.services import deliver_outbox

    return deliver_outbox(limit=200)


def forget_form_submissions(day: date) -> int:
    from vigtrain.submissions import forget_before

    return forget_before(utcnow() - current_app.config["FORM_SUBMISSION_RETENTION"])


def forget_staged_imports(day: date) -> int:
    from vigtrain.imports.staging import forget_before

    return forget_before(utcnow() - current_app.config["IMPORT_STAGING_RETENTION"])


def forget_job_runs(day: date) -> int:
    from vigtrain.jobs.services import forget_old_runs

    return forget_old_runs(utcnow())


def apply_retention_schedule(day: date) -> int:
    from vigtrain.privacy.retention import enforce_retention

    # The real time, whatever `--today` says: a day typed in the future must never purge anything early.
    return enforce_retention(utcnow())


def remind_supervision_lapsed(day: date) -> int:
    from vigtrain.reminders.services import remind_supervision_lapsed as remind

    return remind(day)


def remind_unconfirmed_sessions(day: date) -> int:
    from vigtrain.reminders.services import remind_unconfirmed_sessions as remind

    return remind(day)


def remind_waiting_stages(day: date) -> int:
    from vigtrain.reminders.services import remind_waiting_stages as remind

    return remind(day)


def remind_post_measures(day: date) -> int:
    from vigtrain.reminders.services import remind_post_measures as remind

    return remind(day)


def remind_expiring_certificates(day: date) -> int:
    from vigtrain.reminders.services import remind_expiring_certificates as remind

    return remind(day)


def refresh_dcs_reports(day: date) -> int:
    from vigtrain.dcs.services import refresh_report_cells

    return refresh_report_cells()


def refresh_training_flow(day: date) -> int:
    from vigtrain.flow.services import refresh

    return refresh(day)


def send_weekly_digests(day: date) -> int:
    from vigtrain.notifications.inbox import send_digests

    return send_digests()


JOBS: tuple[Job, ...] = (
    Job(
        "expire-certificates",
        expire_certificates,
        Cadence.DAILY,
        "Marks certificates past their valid-until date as expired.",
        hour=0,
        minute=5,
    ),
    Job(
        # Before expire-certificates: a certificate whose suspension ends after its own end date is
        # marked expired as it is lifted.
        "lift-ended-suspensions",
        lift_ended_suspensions,
        Cadence.DAILY,
        "Lifts certificate suspensions whose end date has come, and tells each holder.",
        hour=0,
        minute=2,
    ),
    Job(
        "remind-expiring-certificates",
        remind_expiring_certificates,
        Cadence.DAILY,
        "Tells holders 90 and 30 days before their accreditation expires, with what renewal needs.",
        hour=6,
        minute=0,
    ),
    Job(
        "remind-supervision-lapsed",
        remind_supervision_lapsed,
        Cadence.DAILY,
        "Tells active trainees and their personal supervisors when no supervision has been confirmed for weeks.",
        hour=6,
        minute=10,
    ),
    Job(
        "remind-unconfirmed-sessions",
        remind_unconfirmed_sessions,
        Cadence.DAILY,
        "Reminds supervisors of sessions waiting for confirmation, and tells administrators when they wait longer.",
        hour=6,
        minute=20,
    ),
    Job(
        "remind-waiting-stages",
        remind_waiting_stages,
        Cadence.DAILY,
        "Reminds whoever a stage waits for (sign-off, an accrediting supervisor, accreditation, ratification), "
        "and tells administrators when it waits longer.",
        hour=6,
        minute=30,
    ),
    Job(
        "remind-post-measures",
        remind_post_measures,
        Cadence.DAILY,
        "Tells practitioners when a case's post measure is due.",
        hour=6,
        minute=40,
    ),
    Job(
        "send-weekly-digests",
        send_weekly_digests,
        Cadence.WEEKLY,
        "Sends each person who chose a weekly digest one email gathering the week's notifications.",
        hour=7,
        minute=0,
        weekday=1,
    ),
    Job(
        "forget-form-submissions",
        forget_form_submissions,
        Cadence.DAILY,
        "Forgets the one-time keys of forms saved long enough ago that no repeat can arrive.",
        hour=3,
        minute=20,
    ),
    Job(
        "forget-staged-imports",
        forget_staged_imports,
        Cadence.DAILY,
        "Deletes files uploaded for a bulk import once they are past their retention.",
        hour=3,
        minute=25,
        dry_run_refused="files it deletes cannot be taken back",
    ),
    Job(
        "forget-job-runs",
        forget_job_runs,
        Cadence.DAILY,
        "Forgets the records of job runs past their retention.",
        hour=3,
        minute=30,
    ),
    Job(
        "apply-retention-schedule",
        apply_retention_schedule,
        Cadence.DAILY,
        "Erases, deletes or clears what has passed its period in the retention schedule (see the README).",
        hour=3,
        minute=40,
    ),
    Job(
        "refresh-dcs-reports",
        refresh_dcs_reports,
        Cadence.FREQUENT,
        "Adds up the outcome data again for the national and regional reports, which read the sums it keeps.",
        every_minutes=60,
    ),
    Job(
        "refresh-training-flow",
        refresh_training_flow,
        Cadence.FREQUENT,
        "Works out the training-flow figures again (time in each step, time to accreditation, cost).",
        every_minutes=60,
    ),
    Job(
        "resume-bulk-issues",
        resume_bulk_issues,
        Cadence.FREQUENT,
        "Finishes any bulk certificate issue left unfinished.",
        dry_run_refused="it commits each certificate as it issues it",
    ),
    Job(
        "deliver-mail",
        deliver_mail,
        Cadence.FREQUENT,
        "Sends queued email (when a mail server is set up).",
        dry_run_refused="email it sends cannot be taken back",
    ),
)

BY_NAME = {job.name: job for job in JOBS}
