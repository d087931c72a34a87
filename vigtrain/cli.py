"""Command-line tasks: `flask create-admin`, `flask demo`, `flask mail deliver`."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from sqlalchemy import select

from vigtrain import audit
from vigtrain.accounts.models import Role, User
from vigtrain.accounts.passwords import hash_password, password_problem
from vigtrain.accounts.services import find_user_by_email, normalise_email
from vigtrain.dates import utcnow
from vigtrain.extensions import db


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(demo)
    app.cli.add_command(mail)
    app.cli.add_command(pathways)
    app.cli.add_command(backup)
    app.cli.add_command(restore)


@click.command("create-admin")
@click.option("--email", prompt="Email address")
@click.option("--name", prompt="Full name")
@click.option(
    "--password",
    envvar="VIGTRAIN_ADMIN_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for if not given (or set VIGTRAIN_ADMIN_PASSWORD).",
)
def create_admin(email: str, name: str, password: str) -> None:
    """Create an administrator account (or give an existing account the role)."""
    email = normalise_email(email)
    if "@" not in email or not name.strip():
        raise click.UsageError("Give an email address and a full name")
    problem = password_problem(password, email)
    if problem:
        raise click.UsageError(problem)
    user = find_user_by_email(email)
    if user is None:
        user = User(email=email, display_name=name.strip())
        db.session.add(user)
    before = audit.snapshot(user, "roles") if user.id else None
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.set_roles(set(user.roles) | {Role.ADMINISTRATOR})
    db.session.flush()
    audit.record(None, "user.admin_created_from_cli", user, before=before, after=audit.snapshot(user, "email", "roles"))
    db.session.commit()
    click.echo(f"Administrator {email} is ready. They will set up two-factor authentication at first sign-in.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only load when the database has no users yet.")
def demo(if_empty: bool) -> None:
    """Load the deterministic demo data and print the demo sign-ins."""
    from vigtrain.demo import DEMO_PASSWORD, DEMO_PEOPLE, database_is_empty, demo_is_loaded, load_demo

    if demo_is_loaded():
        click.echo("Demo data is already loaded.")
    elif if_empty and not database_is_empty():
        click.echo("The database already has users; demo data not loaded.")
        return
    else:
        base = os.environ.get("VIGTRAIN_BASE_URL", "http://127.0.0.1:5000")
        with current_app.test_request_context(base_url=base):
            load_demo()
            db.session.commit()
        click.echo("Demo data loaded.")
    click.echo(f"\nDemo sign-ins (password for all: {DEMO_PASSWORD}):")
    for person in DEMO_PEOPLE:
        click.echo(f"  {person.email:<28} {person.note}")


@click.group("mail")
def mail() -> None:
    """Email outbox tasks."""


@mail.command("deliver")
def deliver() -> None:
    """Send queued outbox messages over SMTP."""
    from vigtrain.notifications.models import OutboxMessage, OutboxStatus
    from vigtrain.notifications.services import deliver_outbox, email_sender

    if not email_sender().configured:
        held = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.HELD)).all()
        click.echo(f"No SMTP server configured (MAIL_SERVER); {len(held)} messages are held in the outbox.")
        return
    sent = deliver_outbox(limit=500)
    db.session.commit()
    click.echo(f"Sent {sent} messages.")


@click.group("pathways")
def pathways() -> None:
    """Training pathway definitions."""


@pathways.command("sync")
@click.option("--directory", type=click.Path(exists=True, file_okay=False), help="Read pathway files from here.")
def sync(directory: str | None) -> None:
    """Load new pathway versions from the data files; a loaded version never changes."""
    from pathlib import Path

    from vigtrain.errors import DomainError
    from vigtrain.pathways.definitions import DATA_DIR, DefinitionError, load_pathway_files
    from vigtrain.pathways.services import sync_pathways

    try:
        definitions = load_pathway_files(Path(directory) if directory else DATA_DIR)
        added, unchanged = sync_pathways(definitions)
    except (DefinitionError, DomainError) as exc:
        db.session.rollback()
        raise click.ClickException(f"Nothing was loaded.\n{exc}") from None
    db.session.commit()
    for version in added:
        click.echo(f"Loaded {version.code} version {version.version}{' (provisional)' if version.provisional else ''}")
    click.echo(f"{len(added)} new, {len(unchanged)} already loaded.")


@click.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False))
def backup(destination: str) -> None:
    """Make a consistent copy of the live SQLite database while the app runs."""
    from pathlib import Path

    from vigtrain.backup import BackupError, backup_sqlite

    try:
        size = backup_sqlite(current_app.config["SQLALCHEMY_DATABASE_URI"], Path(destination))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backed up to {destination} ({size:,} bytes), integrity checked.")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(source: str, yes: bool) -> None:
    """Replace the SQLite database with a backup made by `flask backup`."""
    from pathlib import Path

    from vigtrain.backup import BackupError, restore_sqlite

    if not yes:
        click.confirm("This replaces everything in the database with the backup. Continue?", abort=True)
    try:
        db.session.remove()
        db.engine.dispose()
        restore_sqlite(current_app.config["SQLALCHEMY_DATABASE_URI"], Path(source))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored from {source}.")
