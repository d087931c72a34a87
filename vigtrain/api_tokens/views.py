"""API token pages: your own tokens on the account page, and every account's for administrators."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from vigtrain import transactions
from vigtrain.accounts.models import User
from vigtrain.accounts.views import password_confirmed
from vigtrain.api_tokens import services
from vigtrain.api_tokens.forms import CreateTokenForm
from vigtrain.api_tokens.models import PersonalAccessToken, TokenStatus
from vigtrain.dates import today
from vigtrain.errors import DomainError
from vigtrain.extensions import db, limiter
from vigtrain.forms import ActionForm, form_status
from vigtrain.pagination import paginate
from vigtrain.security import (
    administrator_required,
    can_create_api_token,
    can_revoke_api_token,
    can_view_api_tokens,
    login_required,
    require,
)

bp = Blueprint("api_tokens", __name__)

STATUS_LABELS = {TokenStatus.ACTIVE: "Active", TokenStatus.EXPIRED: "Expired", TokenStatus.REVOKED: "Revoked"}
STATUS_TAGS = {
    TokenStatus.ACTIVE: "govuk-tag--green",
    TokenStatus.EXPIRED: "govuk-tag--grey",
    TokenStatus.REVOKED: "govuk-tag--red",
}


@bp.context_processor
def token_labels() -> dict:
    return {
        "SCOPES": services.SCOPES,
        "MARKER": services.MARKER,
        "STATUS_LABELS": STATUS_LABELS,
        "STATUS_TAGS": STATUS_TAGS,
        "token_status": services.status,
        "expiry_date": services.expiry_date,
    }


@bp.url_defaults
def keep_owner(endpoint: str, values: dict) -> None:
    """Page links on an administrator's list of someone's tokens keep the person in the path."""
    if endpoint == "api_tokens.user_tokens" and "user_id" not in values:
        values["user_id"] = (request.view_args or {}).get("user_id")


def _actor() -> User:
    return current_user._get_current_object()


def _render_list(owner: User, template: str):
    require(can_view_api_tokens(current_user, owner), "not their tokens", 404)
    page = paginate(services.tokens_query(owner), request.args.get("page"))
    return render_template(template, owner=owner, page=page, active=services.count_active(owner))


@bp.route("/account/tokens")
@login_required
def list_tokens():
    return _render_list(_actor(), "api_tokens/list_tokens.html")


def _password_failed(response) -> bool:
    return bool(g.get("token_password_failed"))


@bp.route("/account/tokens/new", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_LIMIT"],
    methods=["POST"],
    key_func=lambda: f"token-password:{current_user.get_id()}",
    deduct_when=_password_failed,
)
@login_required
def create_token():
    owner = _actor()
    require(can_create_api_token(current_user, owner), "cannot create tokens")
    on = today()
    form = CreateTokenForm()
    if form.is_submitted():
        valid = form.validate()
        # Checked even when other answers need fixing, so every mistake is listed at once; counted
        # toward the sign-in lock like a sign-in.
        if form.password.data and not password_confirmed(form, owner, form.password.data):
            g.token_password_failed = True
            valid = False
        if valid and (
            created := transactions.submit(
                form,
                lambda: services.create_token(
                    owner, owner, form.name.data, form.scopes.data, on + timedelta(days=int(form.expiry.data)), on
                ),
            )
        ):
            token, plaintext = created.value
            # Shown in this response only: never put in the session, a flash message or a URL.
            return render_template("api_tokens/created.html", token=token, plaintext=plaintext)
    ends = {value: on + timedelta(days=int(value)) for value, _ in form.expiry.choices}
    return render_template("api_tokens/create_token.html", form=form, ends=ends), form_status(form)


def _load_token(token_id: int) -> PersonalAccessToken:
    """The token if the current user may revoke it; 404 whether it is missing or someone else's."""
    token = db.session.get(PersonalAccessToken, token_id)
    require(token is not None and can_revoke_api_token(current_user, token), "no such token, or not theirs", 404)
    return token


def _back_to(token: PersonalAccessToken) -> str:
    if token.user_id == current_user.id:
        return url_for("api_tokens.list_tokens")
    return url_for("api_tokens.user_tokens", user_id=token.user_id)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_token(token_id: int):
    token = _load_token(token_id)
    form = ActionForm()
    if token.revoked_at is not None:
        flash(f"The token \u2018{token.name}\u2019 is already revoked.", "info")
        return redirect(_back_to(token))
    if form.validate_on_submit():
        try:
            transactions.run(lambda: services.revoke_token(_actor(), token))
        except DomainError as exc:
            # Revoked by someone else since this page was shown: news, not a mistake to correct.
            flash(exc.message, "info")
        else:
            flash(f"Token \u2018{token.name}\u2019 revoked. Anything still using it is now refused.", "success")
        return redirect(_back_to(token))
    return render_template("api_tokens/revoke_token.html", token=token, form=form, back=_back_to(token))


@bp.route("/admin/users/<int:user_id>/tokens")
@administrator_required
def user_tokens(user_id: int):
    owner = db.session.get(User, user_id)
    require(owner is not None, "no such user", 404)
    if owner.id == current_user.id:
        return redirect(url_for("api_tokens.list_tokens"))
    return _render_list(owner, "api_tokens/user_tokens.html")
