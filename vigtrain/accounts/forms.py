"""Forms for signing in, passwords, second factor and account administration."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovPasswordInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, ValidationError

from vigtrain.accounts.models import Role
from vigtrain.forms import Form, PersonField, strip

EMAIL_VALIDATORS = [
    DataRequired("Enter your email address"),
    Length(max=254, message="Email address must be 254 characters or fewer"),
    Email("Enter an email address in the correct format, like name@example.org", check_deliverability=False),
]


class LoginForm(Form):
    email = StringField("Email address", filters=[strip], validators=EMAIL_VALIDATORS, widget=GovTextInput())
    password = PasswordField("Password", validators=[InputRequired("Enter your password")], widget=GovPasswordInput())
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class SecondFactorForm(Form):
    code = StringField(
        "Security code",
        description="The 6-digit code from your authenticator app, or one of your recovery codes.",
        filters=[strip],
        validators=[
            DataRequired("Enter the security code"),
            Length(max=20, message="Enter a code of 20 characters or fewer"),
        ],
        widget=GovTextInput(),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ForgotPasswordForm(Form):
    email = StringField("Email address", filters=[strip], validators=EMAIL_VALIDATORS, widget=GovTextInput())
    submit = SubmitField("Send a reset link", widget=GovSubmitInput())


class SetPasswordForm(Form):
    password = PasswordField(
        "New password",
        description="At least 12 characters. A few random words together are strong and easy to remember.",
        validators=[InputRequired("Enter a new password")],
        widget=GovPasswordInput(),
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[InputRequired("Confirm your new password"), EqualTo("password", "Passwords do not match")],
        widget=GovPasswordInput(),
    )
    submit = SubmitField("Save password", widget=GovSubmitInput())


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password")], widget=GovPasswordInput()
    )


class EnableSecondFactorForm(Form):
    code = StringField(
        "Code from your authenticator app",
        filters=[strip],
        validators=[
            DataRequired("Enter the 6-digit code from your app"),
            Length(max=10, message="Enter the 6-digit code"),
        ],
        widget=GovTextInput(),
    )
    submit = SubmitField("Turn on two-factor authentication", widget=GovSubmitInput())


class ConfirmPasswordForm(Form):
    password = PasswordField(
        "Your password", validators=[InputRequired("Enter your password")], widget=GovPasswordInput()
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class DetailsForm(Form):
    display_name = StringField(
        "Full name",
        filters=[strip],
        validators=[
            DataRequired("Enter your full name"),
            Length(max=120, message="Name must be 120 characters or fewer"),
        ],
        widget=GovTextInput(),
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


ROLE_CHOICES = [(role.value, role.label) for role in Role]


class RolesField(SelectMultipleField):
    def pre_validate(self, form) -> None:
        valid = {value for value, _ in self.choices}
        for value in self.data or []:
            if value not in valid:
                raise ValidationError("Select roles from the list")


class AccountForm(Form):
    display_name = StringField(
        "Full name",
        filters=[strip],
        validators=[
            DataRequired("Enter the person's full name"),
            Length(max=120, message="Name must be 120 characters or fewer"),
        ],
        widget=GovTextInput(),
    )
    roles = RolesField(
        "Roles",
        description="Select all that apply. Roles combine: a practitioner training as a supervisor holds both.",
        choices=ROLE_CHOICES,
        validators=[DataRequired("Select at least one role")],
        widget=GovCheckboxesInput(),
    )
    service = SelectField("Employing service", choices=[], default="", widget=GovSelect())


class InviteForm(AccountForm):
    email = StringField(
        "Email address",
        description="We will send an invitation link to this address.",
        filters=[strip],
        validators=[
            DataRequired("Enter the person's email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Email("Enter an email address in the correct format, like name@example.org", check_deliverability=False),
        ],
        widget=GovTextInput(),
    )
    submit = SubmitField("Send invitation", widget=GovSubmitInput())


class EditAccountForm(AccountForm):
    active = BooleanField(
        "Account is active",
        description="A deactivated account cannot sign in and is signed out everywhere at once.",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class UserSearchForm(Form):
    class Meta:
        csrf = False

    q = StringField("Search by name or email", filters=[strip], validators=[Length(max=100)], widget=GovTextInput())
    role = SelectField("Role", choices=[("", "Any role"), *ROLE_CHOICES], default="", widget=GovSelect())


class ServiceLeadForm(Form):
    person = PersonField(
        "Add a service lead",
        purpose="service_lead",
        noun="person",
        description=(
            "Someone who works at this service. Service leads read its outcome report and its staff's "
            "training progress."
        ),
    )
    submit = SubmitField("Make service lead", widget=GovSubmitInput())
