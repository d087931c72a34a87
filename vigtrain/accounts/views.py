"""Signing in and out, passwords, second factor, own account, and account administration."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from vigtrain import transactions
from vigtrain.accounts import people, services
from vigtrain.accounts.forms import (
    ChangePasswordForm,
    ConfirmPasswordForm,
    DetailsForm,
    EditAccountForm,
    EnableSecondFactorForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    SecondFactorForm,
    ServiceLeadForm,
    SetPasswordForm,
    UserSearchForm,
)
from vigtrain.accounts.models import Role, User, UserRole
from vigtrain.accounts.queries import name_or_email_holds
from vigtrain.errors import DomainError
from vigtrain.extensions import db, limiter, login_manager
from vigtrain.forms import ActionForm, form_status
from vigtrain.links import public_url
from vigtrain.organisations.models import Service
from vigtrain.organisations.services import active_services, service_choices
from vigtrain.pagination import paginate
from vigtrain.qrcodes import qr_svg
from vigtrain.security import (
    administrator_required,
    can_change_account,
    can_manage_accounts,
    is_safe_next,
    login_required,
    needs_second_factor_enrolment,
    require,
)

bp = Blueprint("accounts", __name__)
admin_bp = Blueprint("users", __name__, url_prefix="/admin/users")

PENDING_LOGIN = "pending_login"
PENDING_TOTP = "pending_totp_secret"


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    """Accept the session only if its version still matches: logout elsewhere ends it."""
    user_id, _, version = identity.partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active_flag or user.session_version != int(version):
        return None
    return user


def _login_account_key() -> str:
    return "login-account:" + services.normalise_email(request.form.get("email", ""))


def _login_failed(response) -> bool:
    return bool(g.get("login_failed"))


def _safe_next(default_endpoint: str = "core.home") -> str:
    target = request.values.get("next")
    return target if is_safe_next(target) else url_for(default_endpoint)


def password_confirmed(form, user: User, password: str, field: str = "password") -> bool:
    """Re-authentication before a sensitive change, counted toward the sign-in lock (committed before
    the password is checked, like a sign-in); a wrong or refused attempt goes beside `field`."""
    return bool(
        transactions.submit(form, lambda: services.claim_attempt(user, field=field))
        and transactions.submit(form, lambda: services.check_password(user, password, field), keep_refused=True)
    )


def _finish_login(user: User, next_url: str):
    session.clear()  # nothing from before sign-in survives into the signed-in session
    login_user(user)
    session.permanent = True
    transactions.run(lambda: services.complete_login(user))
    return redirect(next_url)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_IP_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_LIMIT"],
    methods=["POST"],
    key_func=_login_account_key,
    deduct_when=_login_failed,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        # The attempt is counted and committed before the password is checked (so a burst cannot
        # outrun the lock), and a refusal keeps what it counted.
        signed_in = transactions.submit(form, lambda: services.begin_sign_in(form.email.data)) and transactions.submit(
            form, lambda: services.authenticate(form.email.data, form.password.data), keep_refused=True
        )
        if not signed_in:
            g.login_failed = True
        else:
            user, next_url = signed_in.value, _safe_next()
            if user.second_factor_enabled:
                session[PENDING_LOGIN] = {"id": user.get_id(), "at": time.time(), "next": next_url}
                return redirect(url_for("accounts.verify_second_factor"))
            return _finish_login(user, next_url)
    return render_template("accounts/login.html", form=form), form_status(form)


@bp.route("/login/security-code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_IP_LIMIT"], methods=["POST"])
def verify_second_factor():
    pending = session.get(PENDING_LOGIN)
    max_age = current_app.config["SECOND_FACTOR_PENDING_MAX_AGE"].total_seconds()
    user = load_user(pending["id"]) if pending else None
    if user is None or time.time() - pending["at"] > max_age:
        session.pop(PENDING_LOGIN, None)
        flash("Your sign-in timed out. Sign in again.", "info")
        return redirect(url_for("accounts.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        # Counted like a password (committed first, toward the same lock); a refusal keeps its count
        # and its record of the wrong code in the audit trail.
        verified = transactions.submit(
            form, lambda: services.claim_attempt(user, field="code")
        ) and transactions.submit(form, lambda: services.verify_second_factor(user, form.code.data), keep_refused=True)
        if verified:
            response = _finish_login(user, pending["next"])
            if verified.value == "recovery":
                left = services.remaining_recovery_codes(user)
                flash(f"You used a recovery code. You have {left} left.", "warning")
            return response
    return render_template("accounts/second_factor.html", form=form), form_status(form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("core.home"))
    transactions.run(lambda: services.end_all_sessions(current_user, "logout"))
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("accounts.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["TOKEN_REQUEST_LIMIT"], methods=["POST"])
def request_password_reset():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        transactions.run(
            lambda: services.request_password_reset(
                form.email.data, lambda token: public_url("accounts.reset_password", token=token)
            )
        )
        # The same answer whether or not the address has an account.
        return render_template("accounts/reset_requested.html", email=form.email.data)
    return render_template("accounts/forgot_password.html", form=form), form_status(form)


def _set_password_from_link(token: str, purpose: str, set_password, template: str, done: str):
    """The one page behind both one-time links: check the link, then set the password once."""
    try:
        user = services.user_for_token(token, purpose)
    except DomainError as exc:
        return render_template("accounts/token_problem.html", problem=exc.message), 400
    form = SetPasswordForm()
    if form.validate_on_submit() and transactions.submit(form, lambda: set_password(user, form.password.data)):
        flash(done, "success")
        return redirect(url_for("accounts.login"))
    return render_template(template, form=form, user=user), form_status(form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _set_password_from_link(
        token,
        services.PASSWORD_RESET,
        services.reset_password,
        "accounts/reset_password.html",
        "Your password has been changed. Sign in with your new password.",
    )


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return _set_password_from_link(
        token,
        services.INVITATION,
        services.accept_invitation,
        "accounts/accept_invitation.html",
        "Your password is set. Sign in to continue.",
    )


# --- own account --------------------------------------------------------------------------------


@bp.route("/account")
@login_required
def show_account():
    return render_template(
        "accounts/account.html",
        user=current_user,
        recovery_left=services.remaining_recovery_codes(current_user),
        action_form=ActionForm(),
    )


@bp.route("/account/details", methods=["GET", "POST"])
@login_required
def edit_details():
    form = DetailsForm(obj=current_user)
    if form.validate_on_submit():
        transactions.run(lambda: services.update_own_details(current_user, form.display_name.data))
        flash("Your details have been saved.", "success")
        return redirect(url_for("accounts.show_account"))
    return render_template("accounts/details.html", form=form), form_status(form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if password_confirmed(form, user, form.current_password.data, "current_password") and transactions.submit(
            form, lambda: services.change_password(user, form.current_password.data, form.password.data)
        ):
            login_user(user)  # this browser carries on; every other copy of the session ends
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(url_for("accounts.show_account"))
    return render_template("accounts/change_password.html", form=form), form_status(form)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def setup_second_factor():
    if current_user.second_factor_enabled:
        return redirect(url_for("accounts.show_account"))
    secret = session.get(PENDING_TOTP) or services.new_totp_secret()
    session[PENDING_TOTP] = secret
    form = EnableSecondFactorForm()
    if form.validate_on_submit() and (
        enabled := transactions.submit(
            form, lambda: services.enable_second_factor(current_user, secret, form.code.data)
        )
    ):
        session.pop(PENDING_TOTP, None)
        return render_template("accounts/recovery_codes.html", codes=enabled.value, first_time=True)
    uri = services.totp_uri(current_user, secret)
    return render_template("accounts/setup_second_factor.html", form=form, secret=secret, qr=qr_svg(uri)), form_status(
        form
    )


@bp.route("/account/two-factor/recovery-codes", methods=["GET", "POST"])
@login_required
def regenerate_recovery_codes():
    if not current_user.second_factor_enabled:
        return redirect(url_for("accounts.setup_second_factor"))
    form = ConfirmPasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit() and password_confirmed(form, user, form.password.data):
        codes = transactions.run(lambda: services.regenerate_recovery_codes(user))
        return render_template("accounts/recovery_codes.html", codes=codes, first_time=False)
    return render_template("accounts/regenerate_codes.html", form=form), form_status(form)


@bp.route("/account/two-factor/turn-off", methods=["GET", "POST"])
@login_required
def disable_second_factor():
    if not current_user.second_factor_enabled:
        return redirect(url_for("accounts.show_account"))
    form = ConfirmPasswordForm()
    mandatory = current_user.has_role(Role.ADMINISTRATOR) and current_app.config["REQUIRE_ADMIN_SECOND_FACTOR"]
    user = current_user._get_current_object()
    if form.validate_on_submit() and not mandatory and password_confirmed(form, user, form.password.data):
        transactions.run(lambda: services.disable_second_factor(user, user))
        login_user(user)
        flash("Two-factor authentication is off.", "success")
        return redirect(url_for("accounts.show_account"))
    return render_template("accounts/disable_second_factor.html", form=form, mandatory=mandatory), form_status(form)


# --- administration of accounts -----------------------------------------------------------------


def _accept_url(token: str) -> str:
    return public_url("accounts.accept_invitation", token=token)


def _service_from_form(form) -> object | None:
    return services_by_id().get(form.service.data) if form.service.data else None


def services_by_id() -> dict[str, object]:
    return {str(service.id): service for service in active_services()}


@admin_bp.route("/")
@administrator_required
def list_users():
    form = UserSearchForm(request.args)
    query = select(User).order_by(User.display_name, User.id)
    valid = form.validate()
    if valid and form.q.data:
        query = query.where(name_or_email_holds(form.q.data))
    if valid and form.role.data:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == form.role.data)))
    page = paginate(query, request.args.get("page"))
    return render_template("accounts/admin/list_users.html", page=page, form=form)


@admin_bp.route("/invite", methods=["GET", "POST"])
@administrator_required
def invite_user():
    form = InviteForm()
    form.service.choices = service_choices()
    if form.validate_on_submit() and transactions.submit(
        form,
        lambda: services.invite_user(
            current_user,
            form.email.data,
            form.display_name.data,
            {Role(value) for value in form.roles.data},
            _service_from_form(form),
            _accept_url,
        ),
    ):
        flash(f"Invitation sent to {form.email.data}.", "success")
        return redirect(url_for("users.list_users"))
    return render_template("accounts/admin/invite_user.html", form=form), form_status(form)


def _load_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    require(user is not None, "no such user", 404)
    return user


def _load_service(service_id: int) -> Service:
    service = db.session.get(Service, service_id)
    require(service is not None, "no such service", 404)
    return service


@admin_bp.route("/service-leads/<int:service_id>", methods=["GET", "POST"])
@administrator_required
def service_leads(service_id: int):
    """A service's leads, and making someone who works there one of them (found by search)."""
    service = _load_service(service_id)
    form = ServiceLeadForm()
    binding = people.bind(form, current_user._get_current_object(), service)
    if not binding.searching and form.validate_on_submit():
        person = people.chosen(form.person)
        if transactions.submit(form, lambda: services.appoint_service_lead(current_user, person, service)):
            flash(f"{person.display_name} is now a service lead for {service.name}.", "success")
            return redirect(url_for(".service_leads", service_id=service.id))
    return render_template(
        "accounts/admin/service_leads.html",
        service=service,
        leads=services.service_leads(service),
        form=form,
        action_form=ActionForm(),
    ), form_status(form)


@admin_bp.route("/service-leads/<int:service_id>/<int:user_id>/stand-down", methods=["POST"])
@administrator_required
def stand_down_service_lead(service_id: int, user_id: int):
    service = _load_service(service_id)
    person = _load_user(user_id)
    require(person.service_id == service.id, "not this service's lead", 404)
    # A refusal (say, standing oneself down) is flashed on the page it returns to.
    if ActionForm().validate_on_submit() and transactions.submit(
        None, lambda: services.stand_down_service_lead(current_user, person)
    ):
        flash(f"{person.display_name} is no longer a service lead.", "success")
    return redirect(url_for(".service_leads", service_id=service.id))


@admin_bp.route("/<int:user_id>")
@administrator_required
def show_user(user_id: int):
    user = _load_user(user_id)
    return render_template(
        "accounts/admin/show_user.html",
        user=user,
        action_form=ActionForm(),
        can_change=can_change_account(current_user, user),
    )


@admin_bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@administrator_required
def edit_user(user_id: int):
    user = _load_user(user_id)
    require(can_change_account(current_user, user), "administrators do not edit their own roles")
    form = EditAccountForm(
        data={
            "display_name": user.display_name,
            "roles": [role.value for role in user.roles],
            "service": str(user.service_id or ""),
            "active": user.is_active_flag,
        }
    )
    form.service.choices = service_choices()
    if form.validate_on_submit() and transactions.submit(
        form,
        lambda: services.update_account(
            current_user,
            user,
            form.display_name.data,
            {Role(value) for value in form.roles.data},
            _service_from_form(form),
            form.active.data,
        ),
    ):
        flash(f"Changes to {user.display_name} saved.", "success")
        return redirect(url_for("users.show_user", user_id=user.id))
    return render_template("accounts/admin/edit_user.html", form=form, user=user), form_status(form)


@admin_bp.route("/<int:user_id>/resend-invitation", methods=["POST"])
@administrator_required
def resend_invitation(user_id: int):
    user = _load_user(user_id)
    require(can_manage_accounts(current_user), "cannot manage accounts")
    if ActionForm().validate_on_submit() and transactions.submit(
        None, lambda: services.resend_invitation(current_user, user, _accept_url)
    ):
        flash(f"A new invitation has been sent to {user.email}. The previous link no longer works.", "success")
    return redirect(url_for("users.show_user", user_id=user.id))


@admin_bp.route("/<int:user_id>/unlock", methods=["POST"])
@administrator_required
def unlock_user(user_id: int):
    user = _load_user(user_id)
    if ActionForm().validate_on_submit():
        transactions.run(lambda: services.unlock_account(current_user, user))
        flash(f"{user.display_name} can sign in again.", "success")
    return redirect(url_for("users.show_user", user_id=user.id))


@admin_bp.route("/<int:user_id>/reset-two-factor", methods=["POST"])
@administrator_required
def reset_second_factor(user_id: int):
    user = _load_user(user_id)
    require(
        can_change_account(current_user, user), "administrators reset their own second factor from the account page"
    )
    if ActionForm().validate_on_submit():
        transactions.run(lambda: services.disable_second_factor(current_user, user))
        flash(f"Two-factor authentication removed for {user.display_name}. They will set it up again.", "success")
    return redirect(url_for("users.show_user", user_id=user.id))


def enforce_second_factor_enrolment():
    """Administrators without a second factor may only set one up (where it is required)."""
    allowed = {"accounts.setup_second_factor", "accounts.logout", "static", "core.health"}
    if request.endpoint in allowed or not current_user.is_authenticated:
        return None
    if needs_second_factor_enrolment(current_user):
        flash("Administrators must set up two-factor authentication before continuing.", "info")
        return redirect(url_for("accounts.setup_second_factor"))
    return None
