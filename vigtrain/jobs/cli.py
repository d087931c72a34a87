"""`flask jobs list` and `flask jobs run NAME [--today YYYY-MM-DD] [--dry-run]`."""

from __future__ import annotations

from datetime import date, datetime, time

import click
from sqlalchemy import select

from vigtrain.dates import UK, format_datetime, today, utcnow
from vigtrain.extensions import db
from vigtrain.jobs import services
from vigtrain.jobs.models import RunOutcome
from vigtrain.jobs.registry import BY_NAME, JOBS
from vigtrain.notifications.models import Notification


@click.group("jobs")
def jobs() -> None:
    """Scheduled jobs: list them, or run one now (once per period, as the scheduler does)."""


@jobs.command("list")
def list_jobs() -> None:
    """Each job with its schedule, last run and when it next falls due."""
    for row in services.statuses():
        last = row.last
        ran = (
            f"last {last.period} {last.outcome.label.lower()} at {format_datetime(last.started_at)}"
            if last
            else "never run"
        )
        click.echo(f"{row.job.name:32} {row.job.schedule:28} {ran}; next {format_datetime(row.next_due)}")


def _parse_day(value: str | None) -> date:
    if value is None:
        return today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("give the day as YYYY-MM-DD, e.g. 2027-03-01", param_hint="--today") from None


@jobs.command("run")
@click.argument("name")
@click.option("--today", "on", metavar="YYYY-MM-DD", help="Run as if on this day (its period).")
@click.option("--dry-run", is_flag=True, help="Show what the run would send, then undo it all.")
def run_job(name: str, on: str | None, dry_run: bool) -> None:
    """Run one job now for the period of today (or --today). A period that has run is not run again."""
    job = BY_NAME.get(name)
    if job is None:
        raise click.BadParameter(f"no job is called {name!r}; jobs: {', '.join(j.name for j in JOBS)}")
    day = _parse_day(on)
    # A day in the past or future runs as if at noon on it (so a frequent job's period is that day's).
    now = utcnow() if on is None else datetime.combine(day, time(12), tzinfo=UK)
    if dry_run:
        if job.dry_run_refused:
            raise click.ClickException(f"{job.name} cannot be dry-run: {job.dry_run_refused}.")
        _dry_run(job, day)
        return
    report = services.run_job(job, day, "cli", now)
    run = report.run
    if not report.ran:
        when = format_datetime(run.started_at) if run else "just now"
        click.echo(f"{job.name} has already run for {report.period} ({when}, {run.outcome.label.lower()}).")
        return
    if run.outcome is RunOutcome.FAILED:
        raise click.ClickException(f"{job.name} failed for {report.period}: {run.error}")
    click.echo(f"{job.name} ran for {report.period}: {run.result}.")


def _dry_run(job, day: date) -> None:
    """Run the job's work and roll it back: the notifications it made are listed, nothing is kept."""
    newest = db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) or 0
    try:
        result = job.function(day)
        made = db.session.scalars(select(Notification).where(Notification.id > newest).order_by(Notification.id)).all()
        click.echo(f"{job.name} for {services.period_of(job, day)} would report {result}.")
        for notification in made:
            click.echo(
                f"  to {notification.recipient.email} [{notification.kind.value}, {notification.email_state.value}]: "
                f"{notification.title}"
            )
        if not made:
            click.echo("  It would send nobody anything.")
    finally:
        db.session.rollback()
