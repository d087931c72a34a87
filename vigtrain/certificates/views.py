"""Certificate pages: holders' certificates and downloads; administrators' issue queue, bulk issue,
search, and each certificate's lifecycle (renew, revoke, reissue for a change of name)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from vigtrain import transactions
from vigtrain.accounts.models import User
from vigtrain.certificates import bulk, services
from vigtrain.certificates.forms import (
    BulkIssueForm,
    CertificateSearchForm,
    ReinstateForm,
    RenewForm,
    RevokeForm,
    SuspendForm,
)
from vigtrain.certificates.models import BulkIssue, Certificate, CertificateStatus
from vigtrain.dates import add_months, today
from vigtrain.extensions import db
from vigtrain.forms import ActionForm, add_error, form_status
from vigtrain.pagination import paginate
from vigtrain.pathways.models import Enrolment, StageRecord, StageState
from vigtrain.security import (
    can_change_certificate,
    can_issue_certificate,
    can_manage_certificates,
    can_request_renewal,
    can_view_certificate,
    login_required,
    require,
)

bp = Blueprint("certificates", __name__, url_prefix="/certificates")
admin_bp = Blueprint("certificate_admin", __name__, url_prefix="/admin/certificates")


def _actor() -> User:
    return current_user._get_current_object()


def _load(number: str) -> Certificate:
    """The certificate, if this person may see it; otherwise 404 (whether it exists is private)."""
    certificate = services.find_certificate(number)
    require(certificate is not None and can_view_certificate(current_user, certificate), "not their certificate", 404)
    return certificate


@bp.app_template_global("certificate_status")
def certificate_status(certificate: Certificate) -> CertificateStatus:
    """The status to show today (templates and imported macros alike)."""
    return services.effective_status(certificate, today())


@dataclass(frozen=True)
class AfterRatifying:
    """The accreditation certificate of a ratified final stage: issued, or None while still to issue."""

    certificate: Certificate | None


@bp.app_template_global("after_ratifying")
def after_ratifying(record: StageRecord) -> AfterRatifying | None:
    """What the stage page tells an administrator who may issue the certificate once a final stage
    is ratified, so the accreditation never stops at ratification; None for anyone else."""
    if not (record.is_final and record.state is StageState.RATIFIED and can_issue_certificate(current_user, record)):
        return None
    return AfterRatifying(services.by_issue_key(services.stage_key(record.id)))


@bp.app_template_global("continuing_renewal")
def continuing_renewal(enrolment: Enrolment) -> services.RenewalProgress | None:
    """How far the accreditation a continuing record carries on from is toward renewal (the supervision
    log shows it); None while no current certificate was issued for it."""
    certificate = services.current_accreditation(enrolment)
    return services.renewal_progress(certificate, today()) if certificate is not None else None


# --- holders --------------------------------------------------------------------------------------


def _render_yours(refused: Certificate | None = None, form: ActionForm | None = None, status: int = 200):
    """The holder's certificates, each current accreditation with how far it is toward renewal."""
    on = today()
    certificates = services.certificates_held_by(current_user)
    renewals = {
        certificate.id: services.renewal_progress(certificate, on)
        for certificate in certificates
        if services.renewable(certificate, on)
    }
    return render_template(
        "certificates/list_certificates.html",
        certificates=certificates,
        renewals=renewals,
        form=form or ActionForm(),
        refused=refused,
        today=on,
    ), status


@bp.route("")
@login_required
def your_certificates():
    return _render_yours()


@bp.route("/<number>/renewal-request", methods=["POST"])
@login_required
def request_renewal(number: str):
    certificate = _load(number)
    require(can_request_renewal(current_user, certificate), "only the holder asks for a renewal")
    form = ActionForm()
    if form.validate_on_submit() and transactions.submit(
        form, lambda: services.request_renewal(_actor(), certificate, today())
    ):
        flash(
            "You asked AVIGuk to renew your accreditation. An administrator will check your supervision and "
            "renew it; vigtrain tells you when it is done.",
            "success",
        )
        return redirect(url_for("certificates.your_certificates"))
    return _render_yours(certificate, form, form_status(form))


def _attachment(body: bytes | str, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _downloadable(certificate: Certificate) -> bool:
    """Administrators download any certificate; a holder any but a revoked one (see `_revoked`)."""
    return can_manage_certificates(current_user) or certificate.status is not CertificateStatus.REVOKED


def _revoked(certificate: Certificate):
    """A revoked certificate's holder keeps its record, with the reason, but not a document that would
    present it as valid: 410, saying so and where anyone checking it is told it was revoked."""
    return render_template("certificates/revoked_download.html", certificate=certificate), 410


@bp.route("/<number>.pdf")
@login_required
def download_pdf(number: str):
    certificate = _load(number)
    if not _downloadable(certificate):
        return _revoked(certificate)
    return _attachment(
        services.certificate_pdf(certificate), "application/pdf", f"certificate-{certificate.number}.pdf"
    )


@bp.route("/<number>/credential.jwt")
@login_required
def download_credential(number: str):
    from vigtrain.certificates.badges import credential_jwt

    certificate = _load(number)
    if not _downloadable(certificate):
        return _revoked(certificate)
    return _attachment(credential_jwt(certificate), "application/vc+jwt", f"certificate-{certificate.number}.jwt")


@bp.route("/<number>/credential.json")
@login_required
def download_credential_json(number: str):
    """The same credential secured with a Data Integrity proof instead: for wallets that read JSON-LD."""
    from vigtrain.certificates.badges import credential_with_proof
    from vigtrain.certificates.integrity import MEDIA_TYPE

    certificate = _load(number)
    if not _downloadable(certificate):
        return _revoked(certificate)
    body = json.dumps(credential_with_proof(certificate), ensure_ascii=False, indent=2)
    return _attachment(body, MEDIA_TYPE, f"certificate-{certificate.number}.json")


# --- administrators: the issue queue and bulk issue -----------------------------------------------


def _require_admin() -> None:
    require(can_manage_certificates(current_user), "not a certificate administrator")


@admin_bp.before_request
@login_required
def admin_only():
    _require_admin()


def _render_queue(form: BulkIssueForm, status: int = 200):
    page = paginate(services.awaiting_issue_query(), request.args.get("page"))
    jobs = db.session.scalars(select(BulkIssue).order_by(BulkIssue.id.desc()).limit(5)).all()
    return render_template("certificates/to_issue.html", page=page, form=form, jobs=jobs), status


@admin_bp.route("/to-issue")
def to_issue():
    return _render_queue(BulkIssueForm())


@admin_bp.route("/to-issue", methods=["POST"])
def start_bulk_issue():
    form = BulkIssueForm()
    if not form.validate_on_submit():
        return _render_queue(form, 400)
    ids = services.awaiting_issue_ids() if form.issue_all.data else form.record_ids()
    started = transactions.submit(form, lambda: bulk.start_bulk_issue(_actor(), ids))
    if not started:
        return _render_queue(form, 422)
    job = started.value
    if current_app.config["BULK_ISSUE_IN_BACKGROUND"]:
        bulk.run_in_background(current_app._get_current_object(), job.id)
    else:
        bulk.process(job.id)
    return redirect(url_for("certificate_admin.show_bulk_issue", job_id=job.id))


def _load_job(job_id: int) -> BulkIssue:
    job = db.session.get(BulkIssue, job_id)
    require(job is not None, "no such bulk issue", 404)
    return job


@admin_bp.route("/bulk/<int:job_id>")
def show_bulk_issue(job_id: int):
    job = _load_job(job_id)
    failures = paginate(bulk.failed_items_query(job), request.args.get("page")) if job.finished else None
    return render_template("certificates/bulk_issue.html", job=job, failures=failures)


@admin_bp.route("/bulk/<int:job_id>/progress.json")
def bulk_progress(job_id: int):
    return jsonify(bulk.progress(_load_job(job_id)))


def _load_record(record_id: int) -> StageRecord:
    record = db.session.get(StageRecord, record_id)
    require(record is not None, "no such stage record", 404)
    return record


@admin_bp.route("/issue/<int:record_id>", methods=["GET", "POST"])
def issue_one(record_id: int):
    record = _load_record(record_id)
    existing = services.by_issue_key(services.stage_key(record.id))
    if existing is not None:
        flash(f"Certificate {existing.number} was issued already.", "info")
        return redirect(url_for("certificate_admin.show_certificate", number=existing.number))
    require(can_issue_certificate(current_user, record), "cannot issue this certificate")
    form = ActionForm()
    kind = services.kind_earned(record)
    if form.validate_on_submit():
        issued = transactions.submit(
            form, lambda: services.issue_certificate(_actor(), record, today()), retries=services.ISSUE_RETRIES
        )
        if issued:
            certificate = issued.value
            flash(f"Certificate {certificate.number} issued to {certificate.holder_name}.", "success")
            return redirect(url_for("certificate_admin.show_certificate", number=certificate.number))
    elif kind is None:
        add_error(form, f"This stage has not earned a certificate: it is {record.state.label.lower()}")
    return render_template("certificates/issue_one.html", record=record, kind=kind, form=form), form_status(form)


# --- administrators: every certificate ------------------------------------------------------------


@admin_bp.route("")
def list_certificates():
    form = CertificateSearchForm(request.args)
    form.validate()
    search = "" if form.q.errors else (form.q.data or "")
    query = services.admin_query(search, form.status_value, renewal_requested=bool(form.requested.data))
    page = paginate(query, request.args.get("page"))
    return render_template("certificates/admin_list.html", form=form, page=page), form_status(form)


@admin_bp.route("/<number>")
def show_certificate(number: str):
    certificate = _load(number)
    on = today()
    return render_template(
        "certificates/admin_show.html",
        certificate=certificate,
        chain=services.lineage(certificate),
        can_change=can_change_certificate(current_user, certificate),
        renewal_problem=services.renewal_problem(certificate, on),
        renewal=services.renewal_progress(certificate, on) if services.renewable(certificate, on) else None,
        name_changed=certificate.holder.display_name != certificate.holder_name,
        verify_url=services.verification_url(certificate.number),
        today=on,
    )


def _changeable(number: str) -> Certificate:
    certificate = _load(number)
    require(can_change_certificate(current_user, certificate), "cannot change this certificate")
    return certificate


@admin_bp.route("/<number>/revoke", methods=["GET", "POST"])
def revoke_certificate(number: str):
    certificate = _changeable(number)
    form = RevokeForm()
    if form.validate_on_submit() and transactions.submit(
        form, lambda: services.revoke_certificate(_actor(), certificate, form.reason.data)
    ):
        flash(
            f"Certificate {certificate.number} revoked. Verifiers now see it as revoked, with your reason.",
            "success",
        )
        return redirect(url_for("certificate_admin.show_certificate", number=certificate.number))
    return render_template("certificates/revoke.html", certificate=certificate, form=form), form_status(form)


@admin_bp.route("/<number>/suspend", methods=["GET", "POST"])
def suspend_certificate(number: str):
    certificate = _changeable(number)
    on = today()
    form = SuspendForm()
    if form.validate_on_submit() and transactions.submit(
        form,
        lambda: services.suspend_certificate(_actor(), certificate, form.reason.data, form.suspended_until.data, on),
    ):
        flash(
            f"Certificate {certificate.number} suspended. Verifiers now see it as suspended, with your reason.",
            "success",
        )
        return redirect(url_for("certificate_admin.show_certificate", number=certificate.number))
    return render_template(
        "certificates/suspend.html",
        certificate=certificate,
        form=form,
        problem=services.suspend_problem(certificate, on),
        latest=add_months(on, services.MAX_SUSPENSION_MONTHS),
    ), form_status(form)


@admin_bp.route("/<number>/reinstate", methods=["GET", "POST"])
def reinstate_certificate(number: str):
    certificate = _changeable(number)
    form = ReinstateForm()
    if form.validate_on_submit() and transactions.submit(
        form, lambda: services.reinstate_certificate(_actor(), certificate, form.note.data, today())
    ):
        flash(
            f"Certificate {certificate.number} reinstated. Verifiers now see it as {certificate.status.label.lower()}.",
            "success",
        )
        return redirect(url_for("certificate_admin.show_certificate", number=certificate.number))
    suspended = certificate.status is CertificateStatus.SUSPENDED
    return render_template(
        "certificates/reinstate.html", certificate=certificate, form=form, suspended=suspended
    ), form_status(form)


@admin_bp.route("/<number>/renew", methods=["GET", "POST"])
def renew_certificate(number: str):
    certificate = _changeable(number)
    on = today()
    form = RenewForm()
    if form.validate_on_submit() and (
        renewed := transactions.submit(
            form,
            lambda: services.renew_certificate(_actor(), certificate, on, form.evidence_note.data),
            retries=services.ISSUE_RETRIES,
        )
    ):
        new = renewed.value
        flash(f"Renewed: certificate {new.number} replaces {certificate.number}.", "success")
        return redirect(url_for("certificate_admin.show_certificate", number=new.number))
    problem = services.renewal_problem(certificate, on)
    progress = services.renewal_progress(certificate, on) if problem is None else None
    return render_template(
        "certificates/renew.html", certificate=certificate, form=form, problem=problem, progress=progress
    ), form_status(form)


@admin_bp.route("/<number>/reissue", methods=["GET", "POST"])
def reissue_certificate(number: str):
    certificate = _changeable(number)
    form = ActionForm()
    if form.validate_on_submit() and (
        reissued := transactions.submit(
            form,
            lambda: services.reissue_for_name_change(_actor(), certificate, today()),
            retries=services.ISSUE_RETRIES,
        )
    ):
        new = reissued.value
        flash(f"Reissued: certificate {new.number} in the name {new.holder_name}.", "success")
        return redirect(url_for("certificate_admin.show_certificate", number=new.number))
    return render_template("certificates/reissue.html", certificate=certificate, form=form), form_status(form)
