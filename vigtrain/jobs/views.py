"""The administrators' jobs page: each scheduled job, its last run and next, and "run now"."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from vigtrain import audit, transactions
from vigtrain.dates import format_datetime, today, utcnow
from vigtrain.forms import ActionForm
from vigtrain.jobs import services
from vigtrain.jobs.models import RunOutcome
from vigtrain.jobs.registry import BY_NAME, Job
from vigtrain.pagination import paginate
from vigtrain.security import can_run_jobs, login_required, require

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")


def _job(name: str) -> Job:
    require(can_run_jobs(current_user), "not an administrator")
    job = BY_NAME.get(name)
    require(job is not None, "no such job", 404)
    return job


@bp.route("")
@login_required
def list_jobs():
    require(can_run_jobs(current_user), "not an administrator")
    return render_template("jobs/list_jobs.html", rows=services.statuses(), action_form=ActionForm())


@bp.route("/<name>")
@login_required
def show_job(name: str):
    job = _job(name)
    page = paginate(services.history(job), request.args.get("page"))
    status = next(row for row in services.statuses(jobs=(job,)))
    return render_template("jobs/show_job.html", job=job, status=status, page=page, action_form=ActionForm())


@bp.route("/<name>/run", methods=["POST"])
@login_required
def run_job(name: str):
    """Run now, for the current period: a period that has run is not run again."""
    job = _job(name)
    require(ActionForm().validate_on_submit(), "bad run request", 400)
    report = services.run_job(job, today(), f"user:{current_user.id}", utcnow())
    run = report.run
    if report.ran:
        transactions.run(
            lambda: audit.record(
                current_user, "job.run_now", ("JobRun", run.id), after={"job": job.name, "period": report.period}
            )
        )
    if not report.ran:
        flash(
            f"{job.name} has already run for {report.period} (started {format_datetime(run.started_at)}). "
            "It runs once per period; it will run again when the next period falls due.",
            "info",
        )
    elif run.outcome is RunOutcome.FAILED:
        flash(f"{job.name} failed: {run.error}", "error")
    else:
        flash(f"{job.name} ran for {report.period}: {run.result}.", "success")
    return redirect(url_for("jobs.show_job", name=job.name))
