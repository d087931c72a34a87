"""Training transcript pages: a holder makes and downloads their own; an administrator makes one for
anyone from their training record. The routes join the certificate blueprints."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from vigtrain import transactions
from vigtrain.accounts.models import User
from vigtrain.certificates import transcripts
from vigtrain.certificates.models import TrainingTranscript
from vigtrain.certificates.transcript_pdf import TranscriptDocument, TranscriptPDF
from vigtrain.certificates.views import admin_bp, bp
from vigtrain.dates import today
from vigtrain.extensions import db
from vigtrain.forms import ActionForm, form_status
from vigtrain.security import (
    can_create_transcript,
    can_manage_certificates,
    can_view_transcript,
    login_required,
    require,
)


def _actor() -> User:
    return current_user._get_current_object()


def _load(number: str) -> TrainingTranscript:
    """The transcript, if this person may see it; otherwise 404 (whether it exists is private)."""
    transcript = transcripts.find_transcript(number)
    require(transcript is not None and can_view_transcript(current_user, transcript), "not their transcript", 404)
    return transcript


def _attachment(body: bytes | str, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.app_template_global("transcripts_to_manage")
def transcripts_to_manage(holder: User) -> list[TrainingTranscript] | None:
    """A trainee's transcripts for the administrator on their training record; None for anyone else."""
    if not can_manage_certificates(current_user):
        return None
    return transcripts.transcripts_of(holder)


def transcript_pdf(transcript: TrainingTranscript) -> bytes:
    facts = transcripts.public_facts(transcript)
    document = TranscriptDocument(
        contents=facts["contents"],
        holder_name=facts["holder"] or facts["holder_note"],
        issuer_name=current_app.config["CERTIFICATE_ISSUER_NAME"],
        verify_url=facts["verification_url"],
    )
    return TranscriptPDF(document).render()


def _render_yours(form: ActionForm, status: int = 200):
    return render_template(
        "certificates/transcripts.html", transcripts=transcripts.transcripts_of(current_user), form=form
    ), status


@bp.route("/transcripts")
@login_required
def your_transcripts():
    return _render_yours(ActionForm())


def _create(holder: User, form: ActionForm):
    """Make the transcript and open it; a refusal (nothing to record) goes above the form."""
    made = form.validate_on_submit() and transactions.submit(
        form, lambda: transcripts.create_transcript(_actor(), holder, today())
    )
    if made:
        transcript = made.value
        flash(f"Training transcript {transcript.number} made. Its contents are fixed as of today.", "success")
        return redirect(url_for("certificates.show_transcript", number=transcript.number))
    return None


@bp.route("/transcripts", methods=["POST"])
@login_required
def create_transcript():
    form = ActionForm()
    return _create(_actor(), form) or _render_yours(form, form_status(form) if form.errors else 400)


@bp.route("/transcripts/<number>")
@login_required
def show_transcript(number: str):
    transcript = _load(number)
    return render_template(
        "certificates/transcript.html", transcript=transcript, facts=transcripts.public_facts(transcript)
    )


@bp.route("/transcripts/<number>.pdf")
@login_required
def download_transcript_pdf(number: str):
    transcript = _load(number)
    return _attachment(transcript_pdf(transcript), "application/pdf", f"transcript-{transcript.number}.pdf")


@bp.route("/transcripts/<number>/credential.jwt")
@login_required
def download_transcript_credential(number: str):
    transcript = _load(number)
    return _attachment(
        transcripts.transcript_jwt(transcript), "application/vc+jwt", f"transcript-{transcript.number}.jwt"
    )


@admin_bp.route("/people/<int:user_id>/transcripts", methods=["POST"])
def create_transcript_for(user_id: int):
    """An administrator makes a transcript for a trainee, from the trainee's training record."""
    holder = db.session.get(User, user_id)
    require(holder is not None, "no such person", 404)
    require(can_create_transcript(current_user, holder), "cannot make this transcript")
    form = ActionForm()
    answer = _create(holder, form)
    if answer is not None:
        return answer
    return render_template("certificates/transcript_refused.html", holder=holder, form=form), (
        form_status(form) if form.errors else 400
    )
