"""The client's side of self-completion: answer the measures a link asks for, one per screen, without signing in.

Nothing here asks who the client is, and nothing shows a score. The link's token is in the address,
so the pages are never cached, indexed or sent on as a referrer. Every request counts against a limit
per address, and a link that matches nothing counts against a much smaller one, so nobody can try
tokens until one works. Answers given so far wait in the session (and in the browser's storage, by
the entry script) until the last screen sends them all at once.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.exceptions import Gone

from vigtrain import transactions
from vigtrain.dates import today, utcnow
from vigtrain.dcs import invitations
from vigtrain.dcs.forms import answers_form, item_field_name
from vigtrain.dcs.invitations import AnswerRefused, InvitationUnavailable
from vigtrain.dcs.measures import Measure
from vigtrain.dcs.models import InvitationStatus, MeasureInvitation
from vigtrain.errors import DomainError
from vigtrain.extensions import csrf, limiter
from vigtrain.forms import add_error, form_status
from vigtrain.links import public_url

bp = Blueprint("respond", __name__, url_prefix="/respond")
# These pages send no Referer (the address holds the token), and CSRFProtect's HTTPS check insists on
# one; so the blueprint is exempt from that check and each form checks its own CSRF token against the
# session instead (FlaskForm does so whenever the blueprint-wide check has not run).
csrf.exempt(bp)
limiter.shared_limit(lambda: current_app.config["RESPOND_RATE_LIMIT"], scope="respond")(bp)
limiter.shared_limit(
    lambda: current_app.config["RESPOND_MISS_LIMIT"],
    scope="respond-misses",
    deduct_when=lambda response: response.status_code == 404,
)(bp)

# {"invitation": id, "answers": {measure code: {item number: position}}}: the answers given so far.
PROGRESS = "respond_progress"
# {"invitation": id, "codes": [...], "risk": bool}: what the thank-you page needs once they are sent.
SENT = "respond_sent"


def client_link(token: str) -> str:
    """The public address of a link: from BASE_URL, never from the Host header of whoever asked."""
    return public_url("respond.start", token=token)


def storage_key(invitation_id: int, code: str) -> str:
    """Where the entry script keeps answers on the phone: by invitation id, never by token."""
    return f"respond:{invitation_id}:{code}"


def signposting() -> list[str]:
    return [line.strip() for line in current_app.config["CRISIS_SIGNPOSTING"].splitlines() if line.strip()]


class LinkGone(Gone):
    """A link that worked once but no longer does: 410, with a page saying why and what to do."""

    def __init__(self, invitation: MeasureInvitation, problem: InvitationUnavailable) -> None:
        super().__init__(problem.message)
        self.invitation = invitation
        self.problem = problem


@bp.after_request
def private_page(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(404)
def unknown_link(error):
    return render_template("dcs/respond/not_found.html"), 404


@bp.errorhandler(LinkGone)
def link_gone(error: LinkGone):
    return render_template(
        "dcs/respond/unavailable.html",
        problem=error.problem,
        status=error.problem.status,
        statuses=InvitationStatus,
        last_day=invitations.last_day(error.invitation),
    ), 410


def _open(token: str) -> tuple[MeasureInvitation, list[Measure]]:
    """The link's invitation and the measures it still asks for: 404 if unknown, 410 if no longer usable."""
    invitation = invitations.find_by_token(token)
    if invitation is None:
        abort(404)
    try:
        return invitation, invitations.check_usable(invitation, utcnow())
    except InvitationUnavailable as problem:
        raise LinkGone(invitation, problem) from None


def _progress(invitation: MeasureInvitation) -> dict:
    progress = session.get(PROGRESS)
    if not isinstance(progress, dict) or progress.get("invitation") != invitation.id:
        progress = {"invitation": invitation.id, "answers": {}}
        session[PROGRESS] = progress
    return progress


@bp.route("/<token>")
def start(token: str):
    invitation, measures = _open(token)
    return render_template(
        "dcs/respond/start.html",
        token=token,
        measures=measures,
        last_day=invitations.last_day(invitation),
        signposting=signposting(),
    )


@bp.route("/<token>/<measure>", methods=["GET", "POST"])
def answer(token: str, measure: str):
    invitation, measures = _open(token)
    codes = [item.code for item in measures]
    if measure not in codes:
        abort(404)
    position = codes.index(measure)
    definition = measures[position]
    progress = _progress(invitation)
    # Answers given before (coming back a screen) are shown again; a submission shows what it sent.
    given = {} if request.method == "POST" else progress["answers"].get(definition.code) or {}
    form = answers_form(
        definition, data={item_field_name(number): str(value) for number, value in given.items() if value is not None}
    )
    last = position == len(measures) - 1
    form.submit.label.text = "Send answers" if last else "Continue"
    if form.validate_on_submit():
        responses = form.responses()
        try:
            invitations.check_answers(definition, responses)
        except AnswerRefused as error:
            add_error(form, error.message, _item_field(definition, error.field))
        else:
            progress["answers"][definition.code] = responses
            session.modified = True
            if not last:
                return redirect(url_for(".answer", token=token, measure=codes[position + 1]))
            return _send(token, invitation, measures, progress)
    elif request.method == "POST" and form.csrf_token.errors:
        return render_template("errors/csrf.html"), 400
    return render_template(
        "dcs/respond/measure.html",
        form=form,
        measure=definition,
        number=position + 1,
        total=len(measures),
        storage_key=storage_key(invitation.id, definition.code),
        back=url_for(".answer", token=token, measure=codes[position - 1])
        if position
        else url_for(".start", token=token),
    ), form_status(form)


def _item_field(measure: Measure, field: str | None) -> str | None:
    return item_field_name(field) if field and field in measure.item_numbers else None


def _send(token: str, invitation: MeasureInvitation, measures: list[Measure], progress: dict):
    """Record every measure's answers at once and use the link up; then the thank-you page."""
    answers = progress["answers"]
    unanswered = next((measure for measure in measures if measure.code not in answers), None)
    if unanswered is not None:
        return redirect(url_for(".answer", token=token, measure=unanswered.code))
    try:
        recorded = transactions.run(lambda: invitations.submit_answers(invitation, answers, today()))
    except InvitationUnavailable as problem:
        raise LinkGone(invitation, problem) from None
    except AnswerRefused as error:
        answers.pop(error.measure, None)
        session.modified = True
        flash(f"{error.message} Answer these questions again, please.", "error")
        return redirect(url_for(".answer", token=token, measure=error.measure))
    except DomainError:
        return render_template("dcs/respond/not_saved.html"), 409
    session.pop(PROGRESS, None)
    session[SENT] = {
        "invitation": invitation.id,
        "codes": [measure.code for measure in measures],
        "risk": any(row.flags for row in recorded),
    }
    return redirect(url_for(".thank_you"))


@bp.route("/thank-you")
def thank_you():
    sent = session.get(SENT)
    if not isinstance(sent, dict):
        abort(404)
    return render_template(
        "dcs/respond/thank_you.html",
        risk=bool(sent.get("risk")),
        signposting=signposting(),
        saved_keys=" ".join(storage_key(sent["invitation"], code) for code in sent.get("codes", [])),
    )
