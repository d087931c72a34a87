"""Bulk import pages for administrators: upload, preview every problem, confirm, watch progress."""

from __future__ import annotations

import logging
import threading

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from vigtrain import transactions
from vigtrain.accounts.models import User
from vigtrain.audit import AuditEvent
from vigtrain.dates import today
from vigtrain.errors import Conflict
from vigtrain.extensions import db
from vigtrain.forms import add_error
from vigtrain.imports import staging
from vigtrain.imports.forms import ConfirmForm, UploadForm
from vigtrain.imports.reading import FileRefused
from vigtrain.imports.services import COLUMNS, REQUIRED, ImportRefused, check_file, import_people
from vigtrain.imports.template import EXPLANATIONS, explanation_csv, template_csv, template_xlsx
from vigtrain.pagination import paginate_list
from vigtrain.security import can_import_people, login_required, require
from vigtrain.uploads import describe_size, max_upload_bytes

log = logging.getLogger("vigtrain.imports")

bp = Blueprint("imports", __name__, url_prefix="/admin/import")

ROWS_PER_PAGE = 50
PROBLEMS_PER_PAGE = 100
RECENT = 10


@bp.before_request
@login_required
def administrators_only():
    require(can_import_people(current_user), "only administrators import people")


def _actor() -> User:
    return current_user._get_current_object()


def _recent_imports() -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "import.people").order_by(AuditEvent.id.desc()).limit(RECENT)
        )
    )


def _render_start(form: UploadForm, status: int = 200):
    return render_template(
        "imports/start.html",
        form=form,
        columns=COLUMNS,
        required=REQUIRED,
        explanations=EXPLANATIONS,
        max_size=describe_size(max_upload_bytes()),
        recent=_recent_imports(),
    ), status


@bp.route("/")
def start():
    return _render_start(UploadForm(formdata=None))


@bp.route("/", methods=["POST"])
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_start(form, 400)
    storage = form.file.data
    limit = max_upload_bytes()
    # Anything but a file sent as `file` (a crafted request) is the same as no file.
    data = storage.stream.read(limit + 1) if isinstance(storage, FileStorage) and storage.filename else None
    if data is None:
        add_error(form, "Select a CSV file or an Excel workbook (.xlsx) to upload", "file")
        return _render_start(form, 422)
    if len(data) > limit:
        add_error(form, f"The selected file must be smaller than {describe_size(limit)}", "file")
        return _render_start(form, 422)
    file_name = (storage.filename or "file").replace("\\", "/").rsplit("/", 1)[-1][:200]
    try:
        plan = check_file(data, file_name, today())
    except FileRefused as refused:
        add_error(form, refused.message, "file")
        return _render_start(form, 422)
    details = {"actor_id": current_user.id, "file_name": file_name, "digest": plan.digest, "size": len(data)}
    key = staging.stage(data, {**details, "plan": plan.as_record()})
    if not plan.ok:
        # Answered at once, as any refused form is; the problems stay at their own address to page through.
        return _render_preview(key, 422)
    return redirect(url_for(".show_import", key=key))


@bp.route("/<key>")
def show_import(key: str):
    return _render_preview(key)


def _render_preview(key: str, status: int = 200):
    """The preview, the progress or the outcome, whichever the import has reached."""
    record = staging.record(key)
    run = record.get("run")
    stale = run is not None and staging.is_stale(run)
    if run is not None and run["state"] in staging.RUNNING and not stale:
        return render_template("imports/progress.html", record=record, run=run)
    if run is not None and run["state"] == "done":
        return render_template("imports/done.html", record=record, run=run)
    plan = run["plan"] if run is not None and run["state"] == "refused" else record["plan"]
    page = request.args.get("page")
    rows = paginate_list(plan["rows"], page, ROWS_PER_PAGE) if not plan["problems"] else None
    problems = paginate_list(plan["problems"], page, PROBLEMS_PER_PAGE)
    if run is not None and (run["state"] in ("refused", "failed") or stale):
        status = 409
    form = ConfirmForm(formdata=None)
    return render_template(
        "imports/preview.html", record=record, plan=plan, run=run, stale=stale, rows=rows, problems=problems, form=form
    ), status


@bp.route("/<key>", methods=["POST"])
def confirm_import(key: str):
    record = staging.record(key)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("The page was out of date. Check the preview and import again.", "error")
        return redirect(url_for(".show_import", key=key))
    run = record.get("run")
    if run is not None and staging.is_stale(run):
        staging.release(key)
    if record["plan"]["problems"] or not staging.claim(key):
        # Problems: nothing can be imported; already started: its page shows how far it has got.
        return redirect(url_for(".show_import", key=key))
    staging.report(key, "waiting", 0, len(record["plan"]["rows"]))
    if current_app.config["IMPORT_IN_BACKGROUND"]:
        run_in_background(current_app._get_current_object(), key, current_user.id)
    else:
        run_import(key, current_user.id)
    return redirect(url_for(".show_import", key=key))


@bp.route("/<key>/progress.json")
def import_progress(key: str):
    record = staging.record(key)
    run = record.get("run") or {"state": "preview", "done": 0, "total": len(record["plan"]["rows"])}
    total = max(run.get("total") or 0, 1)
    finished = run["state"] not in staging.RUNNING or staging.is_stale(run)
    return jsonify(
        state=run["state"],
        done=run.get("done", 0),
        total=run.get("total", 0),
        percent=min(100, round(100 * run.get("done", 0) / total)),
        finished=finished,
    )


def run_import(key: str, actor_id: int) -> None:
    """Check the staged file again and import it in one transaction, reporting progress as it goes."""
    record = staging.record(key)
    data = staging.file_data(key)
    last = {"reported": -1}

    def progress(phase: str, done: int, total: int) -> None:
        # Checking counts the first half of the bar, writing the second.
        share = done if phase == "checking" else total + done
        if share != last["reported"]:
            last["reported"] = share
            staging.report(key, phase, share, 2 * max(total, 1))

    actor = db.session.get(User, actor_id)
    try:
        plan = transactions.run(
            lambda: import_people(actor, data, record["file_name"], today(), progress=progress), retries=1
        )
    except ImportRefused as refused:
        staging.report(key, "refused", plan=refused.plan.as_record())
        staging.release(key)
    except Conflict:
        staging.report(key, "failed", message=transactions.CLASH)
        staging.release(key)
    except Exception:
        log.exception("import %s stopped", key)
        staging.report(key, "failed", message="The import stopped before it finished. Nothing was saved.")
        staging.release(key)
    else:
        staging.report(key, "done", len(plan.rows), len(plan.rows), counts=plan.counts)


def run_in_background(app: Flask, key: str, actor_id: int) -> threading.Thread:
    """Import on a daemon thread with its own app context and session (the web request returns)."""

    def work() -> None:
        with app.app_context():
            try:
                run_import(key, actor_id)
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"import-{key[:8]}", daemon=True)
    thread.start()
    return thread


def _download(data: bytes, name: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/template.csv")
def download_template_csv():
    return _download(template_csv(), "vigtrain-people-template.csv", "text/csv; charset=utf-8")


@bp.route("/columns.csv")
def download_columns_csv():
    return _download(explanation_csv(), "vigtrain-people-columns.csv", "text/csv; charset=utf-8")


@bp.route("/template.xlsx")
def download_template_xlsx():
    return _download(
        template_xlsx(),
        "vigtrain-people-template.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
