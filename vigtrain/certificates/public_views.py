"""Public pages (no sign-in): certificate verification, the signed documents verifiers fetch, the register.

Everything here is rate-limited per address. The pages people read share one limit; the small
documents verifiers' software fetches (key set, status lists, issuer profile) share a higher one.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from vigtrain import transactions
from vigtrain.certificates import badges, register, transcripts
from vigtrain.certificates.keys import did_document, jwk_set
from vigtrain.certificates.models import CertificateStatus
from vigtrain.certificates.public_forms import CredentialForm, ListingForm, NumberForm, RegisterSearchForm
from vigtrain.certificates.services import canonical_number, find_certificate
from vigtrain.dates import today
from vigtrain.extensions import db, limiter
from vigtrain.forms import add_error, form_status
from vigtrain.organisations.services import regions
from vigtrain.pagination import paginate
from vigtrain.pathways.definitions import principles
from vigtrain.pathways.models import PathwayVersion
from vigtrain.security import can_choose_register_listing, login_required, require

bp = Blueprint("verify", __name__)

_pages = limiter.shared_limit(lambda: current_app.config["VERIFY_RATE_LIMIT"], scope="verify-pages")
_documents = limiter.shared_limit(lambda: current_app.config["VERIFY_DOCUMENT_RATE_LIMIT"], scope="verify-documents")


# How long a shared cache may keep a certificate's public facts: a revocation shows within it.
SHAREABLE_SECONDS = 60


def _shareable() -> None:
    """The answer is the same for every visitor without a session: it may be cached that long."""
    g.shareable_seconds = SHAREABLE_SECONDS


def _base_url() -> str:
    return current_app.config["BASE_URL"]


def _json(data: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=2), status=status, mimetype=mimetype)


@bp.context_processor
def certificate_labels() -> dict[str, Any]:
    return {"status_tags": {status.value: status.tag_class for status in CertificateStatus}}


# --- verification pages -------------------------------------------------------------------------


@bp.route("/verify")
@_pages
def verify_number():
    """Ask for a number; a well-formed one goes to its page, a mistyped one is explained beside the field."""
    asked = "number" in request.args
    form = NumberForm(request.args if asked else None)
    if asked and form.validate():
        number = canonical_number(form.number.data) or transcripts.canonical_transcript_number(form.number.data)
        return redirect(url_for("verify.show_certificate", number=number))
    return render_template("certificates/public/verify.html", form=form), form_status(form)


@bp.route("/verify/<number>")
@_pages
def show_certificate(number: str):
    if transcripts.canonical_transcript_number(number) is not None:
        return _show_transcript(number)
    canonical = canonical_number(number)
    if canonical is None:
        # A mistyped address (a hand-typed link): explain the number as the form would.
        form = NumberForm(MultiDict({"number": number}))
        form.validate()
        return render_template("certificates/public/verify.html", form=form), 404
    if canonical != number:
        return redirect(url_for("verify.show_certificate", number=canonical))
    certificate = find_certificate(canonical)
    if certificate is None:
        return render_template("certificates/public/not_found.html", number=canonical), 404
    facts = badges.certificate_facts(certificate, today(), _base_url())
    _shareable()
    return render_template("certificates/public/show.html", certificate=certificate, facts=facts)


def _show_transcript(number: str):
    """A training transcript's public page: what it records and whether a newer one exists."""
    canonical = transcripts.canonical_transcript_number(number)
    if canonical != number:
        return redirect(url_for("verify.show_certificate", number=canonical))
    transcript = transcripts.find_transcript(canonical)
    if transcript is None:
        return render_template("certificates/public/transcript_not_found.html", number=canonical), 404
    facts = transcripts.public_facts(transcript)
    return render_template("certificates/public/transcript.html", transcript=transcript, facts=facts)


@bp.route("/verify/<number>.json")
@_pages
def certificate_json(number: str):
    """The verification page's facts, for software (a certificate's, or a training transcript's)."""
    transcript_number = transcripts.canonical_transcript_number(number)
    if transcript_number is not None:
        transcript = transcripts.find_transcript(transcript_number)
        if transcript is None:
            return _json({"error": f"No training transcript has the number {transcript_number}"}, 404)
        return _json(transcripts.public_json(transcript))
    canonical = canonical_number(number)
    certificate = find_certificate(canonical) if canonical else None
    if certificate is None:
        message = f"No certificate has the number {canonical}" if canonical else "This is not a certificate number"
        return _json({"error": message}, 404)
    _shareable()
    return _json(badges.certificate_facts(certificate, today(), _base_url()))


def _transcript_check(form: CredentialForm):
    """A pasted training transcript: genuine only if AVIGuk signed it and it matches the one on record."""
    check = transcripts.check_transcript(form.credential.data)
    facts = transcripts.public_facts(check.transcript) if check.genuine else None
    return render_template("certificates/public/transcript_credential.html", form=form, check=check, facts=facts)


@bp.route("/verify/credential", methods=["GET", "POST"])
@_pages
def check_credential():
    """Paste a credential: is it well formed, signed by AVIGuk, and is the certificate still good?"""
    form = CredentialForm()
    result, facts = None, None
    if form.validate_on_submit():
        if transcripts.is_transcript_token(form.credential.data):
            return _transcript_check(form)
        result = badges.check_credential(form.credential.data)
        if not result.well_formed:
            add_error(form, result.problem, "credential")
            result = None
        elif result.certificate is not None:
            facts = badges.certificate_facts(result.certificate, today(), _base_url())
    page = render_template("certificates/public/credential.html", form=form, result=result, facts=facts)
    return page, form_status(form)


# --- documents for verifiers' software ----------------------------------------------------------


@bp.route("/.well-known/jwks.json")
@_documents
def key_set():
    return _json(jwk_set(), mimetype="application/jwk-set+json")


@bp.route("/.well-known/did.json")
@bp.route("/did.json")  # did:web's place for the document when BASE_URL has a path (the app sees it from there)
@_documents
def did_web():
    """The issuer's did:web DID document: every key a credential may be signed with, as a Multikey."""
    return _json(did_document(_base_url()), mimetype="application/did+json")


@bp.route("/issuer")
@_documents
def issuer():
    return _json(badges.issuer_profile(_base_url()), mimetype="application/ld+json")


@bp.route(badges.STATUS_LIST_PATH)
@_documents
def revocation_list():
    return Response(badges.status_list_jwt(), mimetype=badges.MEDIA_TYPE)


@bp.route(badges.SUSPENSION_LIST_PATH)
@_documents
def suspension_list():
    return Response(badges.status_list_jwt("suspension"), mimetype=badges.MEDIA_TYPE)


def _pathway_version(code: str, version: str) -> PathwayVersion | None:
    return db.session.scalar(
        select(PathwayVersion).where(PathwayVersion.code == code, PathwayVersion.version == version)
    )


@bp.route("/achievements/<code>/<version>")
@bp.route("/achievements/<code>/<version>/stages/<int:stage_number>")
@_documents
def achievement(code: str, version: str, stage_number: int | None = None):
    """What a credential's achievement id resolves to: the same achievement every holder earned."""
    found = _pathway_version(code, version)
    pathway = found.definition if found else None
    if pathway is None or (stage_number is not None and not 1 <= stage_number <= len(pathway.stages)):
        return _json({"error": "No such achievement"}, 404)
    stage = pathway.stages[stage_number - 1] if stage_number is not None else None
    data = {"@context": badges.CONTEXTS, **badges.achievement_json(pathway, stage, _base_url())}
    return _json(data, mimetype="application/ld+json")


@bp.route("/principles/<code>")
@_documents
def principle(code: str):
    """What an achievement's alignment to an attunement principle resolves to: its name and descriptors."""
    definitions = principles()
    found = next((each for each in definitions.principles if each.code == code), None)
    if found is None:
        return _json({"error": "No such principle"}, 404)
    return _json(
        {
            "id": f"{_base_url()}/principles/{found.code}",
            "framework": badges.PRINCIPLES_FRAMEWORK,
            "version": definitions.version,
            "code": found.code,
            "name": found.name,
            "descriptors": list(found.descriptors),
        }
    )


# --- the public register ------------------------------------------------------------------------


@bp.route("/register")
@_pages
def show_register():
    all_regions = {str(region.id): region for region in regions()}
    form = RegisterSearchForm(request.args)
    form.region.choices = [
        ("", "All regions and nations"),
        *((key, region.name) for key, region in all_regions.items()),
    ]
    region = all_regions.get(form.region.data or "")
    page = paginate(
        register.register_entries(today(), form.name.data or "", region.id if region else None),
        request.args.get("page"),
    )
    searched = bool(form.name.data or region)
    return render_template("certificates/public/register.html", form=form, page=page, searched=searched)


@bp.route("/register/you", methods=["GET", "POST"])
@login_required
def choose_listing():
    """The signed-in practitioner chooses whether the register lists them."""
    user = current_user._get_current_object()
    require(can_choose_register_listing(user, user), "only practitioners choose their own listing")
    form = ListingForm()
    if request.method == "GET":  # a submission without a choice must not fall back to the current one
        form.listed.data = "yes" if user.register_opt_in else "no"
    if form.validate_on_submit():
        listed = form.listed.data == "yes"
        transactions.run(lambda: register.set_register_opt_in(user, user, listed))
        if listed:
            flash("You have chosen to appear in the public register.", "success")
        else:
            flash("You will not appear in the public register.", "success")
        return redirect(url_for("verify.choose_listing"))
    return render_template(
        "certificates/public/listing.html",
        form=form,
        eligible=register.holds_current_accreditation(user, today()),
    ), form_status(form)
