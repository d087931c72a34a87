"""The practitioner's side of self-completion: make a link (QR code) for the client, list and revoke links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from vigtrain import transactions
from vigtrain.casework import signals
from vigtrain.casework.models import Case
from vigtrain.casework.views import load_case
from vigtrain.dates import utcnow
from vigtrain.dcs import invitations, services
from vigtrain.dcs.forms import InvitationForm
from vigtrain.dcs.models import INVITATION_STATUS_LABELS, InvitationStatus, MeasureInvitation, Timepoint
from vigtrain.dcs.queries import post_measures_to_invite
from vigtrain.dcs.respond_views import client_link
from vigtrain.extensions import db
from vigtrain.forms import ActionForm, form_status
from vigtrain.qrcodes import qr_svg
from vigtrain.security import can_invite_client, login_required, require

bp = Blueprint("invitations", __name__)

STATUS_TAGS = {
    InvitationStatus.PENDING: "govuk-tag--blue",
    InvitationStatus.USED: "govuk-tag--green",
    InvitationStatus.EXPIRED: "govuk-tag--grey",
    InvitationStatus.REVOKED: "govuk-tag--grey",
}


@dataclass(frozen=True)
class InvitationRow:
    """One link as the case page lists it."""

    invitation: MeasureInvitation
    status: InvitationStatus
    last_day: date
    measures: list[str]

    @property
    def label(self) -> str:
        return INVITATION_STATUS_LABELS[self.status]

    @property
    def tag(self) -> str:
        return STATUS_TAGS[self.status]


@signals.case_page.connect
def case_page_invitations(case: Case) -> dict:
    """The case page lists the client's links, and offers a new one to the practitioner while allowed."""
    now = utcnow()
    rows = [
        InvitationRow(invitation, invitation.status(now), invitations.last_day(invitation), invitation.measure_codes)
        for invitation in invitations.case_invitations(case)
    ]
    allowed = can_invite_client(current_user, case)
    return {
        "invitations": rows,
        "can_invite": allowed and invitations.case_refusal(case) is None,
        # A pending link stops working while the case is closed or without consent (and works again after).
        "invitations_on_hold": invitations.case_refusal(case) is not None,
        "can_revoke_invitations": allowed,
        "invitation_action_form": ActionForm(),
    }


def _load_case_to_invite(code: str) -> Case:
    case = load_case(code)
    require(can_invite_client(current_user, case), "only the practitioner invites the client")
    return case


def _created(case: Case, invitation: MeasureInvitation, token: str):
    """The link and its QR code, shown in this response only: never in the session, a flash message or a URL."""
    link = client_link(token)
    return render_template(
        "dcs/invitation_created.html",
        case=case,
        invitation=invitation,
        link=link,
        qr=qr_svg(link, title=f"QR code for the client's link (case {case.code})"),
        last_day=invitations.last_day(invitation),
        measures=invitations.measure_names(invitation.measure_codes),
    )


@bp.route("/cases/<code>/invitations/new", methods=["GET", "POST"])
@login_required
def invite_client(code: str):
    case = _load_case_to_invite(code)
    form = InvitationForm()
    measures = invitations.client_measures(case)
    form.measures.choices = [(measure.code, measure.name) for measure in measures]
    if form.validate_on_submit():
        created = transactions.submit(
            form,
            lambda: invitations.create_invitation(
                current_user, case, form.measures.data or [], Timepoint(form.timepoint.data)
            ),
        )
        if created:
            invitation, token = created.value
            return _created(case, invitation, token)
    return render_template(
        "dcs/invite_client.html",
        form=form,
        case=case,
        refusal=invitations.case_refusal(case),
        measures=measures,
        withheld=invitations.withheld_measures(case),
        withheld_reason=invitations.WITHHELD_REASON,
        recorded=services.recorded_timepoints(case),
    ), form_status(form)


@bp.route("/cases/<code>/invitations/post", methods=["POST"])
@login_required
def invite_for_post(code: str):
    """The home page's one click: a post link for every measure with a pre and no post that a client may answer."""
    case = _load_case_to_invite(code)
    form = ActionForm()
    if form.validate_on_submit():
        created = transactions.submit(
            None,
            lambda: invitations.create_invitation(
                current_user, case, [measure.code for measure in post_measures_to_invite(case)], Timepoint.POST
            ),
        )
        if created:
            invitation, token = created.value
            return _created(case, invitation, token)
    return redirect(url_for("core.home"))


@bp.route("/cases/<code>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke_invitation(code: str, invitation_id: int):
    case = load_case(code)
    invitation = db.session.get(MeasureInvitation, invitation_id)
    require(invitation is not None and invitation.case_id == case.id, "no such invitation on this case", 404)
    require(can_invite_client(current_user, case), "only the practitioner revokes the client's links")
    form = ActionForm()
    if form.validate_on_submit() and transactions.submit(
        None, lambda: invitations.revoke_invitation(current_user, invitation)
    ):
        flash("The link was revoked: it no longer works, and the client is told so if they open it.", "success")
    return redirect(url_for("casework.show_case", code=case.code, _anchor="client-links"))
