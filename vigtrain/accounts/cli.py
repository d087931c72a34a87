"""`flask users`: create, list and deactivate accounts from the command line.

For operators: before anyone can use the administration pages, or where a script is easier than
a page. Every refusal prints its reason on stderr and exits with status 1, and nothing is saved.
"""

from __future__ import annotations

import click
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from vigtrain import audit, transactions
from vigtrain.accounts.models import Role, User, UserRole
from vigtrain.accounts.passwords import hash_password, password_problem
from vigtrain.accounts.services import find_user_by_email, normalise_email, set_active, user_snapshot
from vigtrain.dates import utcnow
from vigtrain.errors import DomainError
from vigtrain.extensions import db
from vigtrain.organisations.models import Service

# How many people `users list` holds in memory at once, however many there are.
LIST_BATCH = 500
ROLE_VALUES = ", ".join(role.value for role in Role)


@click.group("users")
def users() -> None:
    """People's accounts: create, list, deactivate."""


def _role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise click.ClickException(f"There is no role '{value}'. Roles are: {ROLE_VALUES}.") from None


def _service(value: str) -> Service:
    """An active service named exactly (ignoring case), or by its number."""
    text = value.strip()
    found = None
    if text.isascii() and text.isdigit() and len(text) <= 12:
        found = db.session.get(Service, int(text))
    if found is None:
        found = db.session.scalar(select(Service).where(func.lower(Service.name) == text.lower()))
    if found is None or not found.is_active:
        raise click.ClickException(
            f"There is no active service '{text}'. Give its exact name or its number (the Services page lists them)."
        )
    return found


def _email(value: str) -> str:
    email = normalise_email(value)
    if len(email) > 254:
        raise click.ClickException("The email address must be 254 characters or fewer.")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise click.ClickException(
            f"'{value.strip()}' is not an email address in the correct format, like name@example.org."
        ) from None
    return email


def _account(email: str) -> User:
    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"There is no account with the email address {normalise_email(email)}.")
    return user


@users.command("create")
@click.option("--email", required=True, help="Their email address: they sign in with it.")
@click.option("--name", required=True, help="Their full name.")
@click.option("--role", "role_values", multiple=True, required=True, help=f"One of: {ROLE_VALUES}. Repeat for several.")
@click.option("--service", "service_value", help="Their employing service: its exact name or its number.")
@click.option("--password", help="Prompted for (hidden, twice) if not given.")
def create_user(
    email: str, name: str, role_values: tuple[str, ...], service_value: str | None, password: str | None
) -> None:
    """Create an account that can sign in at once with the password given."""
    email = _email(email)
    name = name.strip()
    if not name:
        raise click.ClickException("Give the person's full name.")
    if len(name) > 120:
        raise click.ClickException("The name must be 120 characters or fewer.")
    roles = {_role(value) for value in role_values}
    service = _service(service_value) if service_value else None
    if Role.SERVICE_LEAD in roles and service is None:
        raise click.ClickException("A service lead needs --service: the service whose reports they read.")
    if find_user_by_email(email) is not None:
        raise click.ClickException(f"There is already an account with the email address {email}.")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, email)
    if problem:
        raise click.ClickException(problem)

    def create() -> User:
        # Checked again inside the transaction: someone may have taken the address meanwhile.
        if find_user_by_email(email) is not None:
            raise DomainError(f"There is already an account with the email address {email}.")
        user = User(
            email=email,
            display_name=name,
            service=service,
            password_hash=hash_password(password),
            password_changed_at=utcnow(),
        )
        user.set_roles(roles)
        db.session.add(user)
        db.session.flush()
        audit.record(None, "user.created_from_cli", user, after=user_snapshot(user))
        return user

    # Two operators taking one address at once: the loser's second run finds it taken and says so.
    user = transactions.command(create, retries=1)
    where = f" at {user.service.name}" if user.service else ""
    click.echo(f"Created {user.email} ({user.display_name}{where}): {', '.join(sorted(user.roles))}.")
    if user.has_role(Role.ADMINISTRATOR):
        click.echo("As an administrator they will set up two-factor authentication at first sign-in.")


@users.command("list")
@click.option("--role", "role_value", help=f"Only holders of this role: {ROLE_VALUES}.")
@click.option("--active", "which", flag_value="active", default=True, help="Only active accounts (the default).")
@click.option("--inactive", "which", flag_value="inactive", help="Only deactivated accounts.")
@click.option("--all", "which", flag_value="all", help="Active and deactivated accounts.")
def list_users(role_value: str | None, which: str) -> None:
    """One line per person, by email: email, name, roles, service and status, separated by tabs."""
    query = select(User).order_by(User.email)
    if role_value:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == _role(role_value))))
    if which != "all":
        query = query.where(User.is_active_flag.is_(which == "active"))
    shown = 0
    for batch in db.session.scalars(query.execution_options(yield_per=LIST_BATCH)).partitions():
        for user in batch:
            service = user.service.name if user.service else "no service"
            click.echo(
                f"{user.email}\t{user.display_name}\t{','.join(sorted(user.roles))}\t{service}\t{user.status_label}"
            )
            db.session.expunge(user)  # with their roles, so memory stays flat however many people there are
        shown += len(batch)
    click.echo(f"{shown} {'person' if shown == 1 else 'people'}.", err=True)


@users.command("deactivate")
@click.option("--email", required=True, help="Whose account to deactivate.")
def deactivate_user(email: str) -> None:
    """Stop an account signing in, and sign it out everywhere at once."""
    user = _account(email)
    if not user.is_active_flag:
        click.echo(f"{user.email} is already deactivated.")
        return

    def deactivate() -> None:
        before = user_snapshot(user)
        set_active(user, False)
        audit.record(None, "user.deactivated_from_cli", user, before=before, after=user_snapshot(user))

    transactions.command(deactivate)
    click.echo(f"{user.email} ({user.display_name}) is deactivated and signed out everywhere.")
