"""The retention schedule for administrators: what is kept, for how long and why, and what the last
purge removed (each run is on the jobs page; the jobs folder sits below this one's import order)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from vigtrain.privacy import retention
from vigtrain.security import can_run_jobs, login_required, require

bp = Blueprint("retention", __name__, url_prefix="/admin/erasure")

JOB_NAME = "apply-retention-schedule"


@bp.route("/retention")
@login_required
def show_schedule():
    require(can_run_jobs(current_user), "not an administrator")
    return render_template(
        "privacy/retention.html", rules=retention.RULES, last=retention.last_purge(), job_name=JOB_NAME
    )
