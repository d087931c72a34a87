"""Command-line tasks: `flask create-admin`, `flask users create|list|deactivate`, `flask demo`,
`flask mail deliver`, `flask certificates run-bulk`, `flask scheduler run`, `flask jobs list|run`,
`flask data-keys rotate`, `flask import people`."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app

from vigtrain import audit, transactions
from vigtrain.accounts.cli import users
from vigtrain.accounts.models import Role, User
from vigtrain.accounts.passwords import hash_password, password_problem
from vigtrain.accounts.services import find_user_by_email, normalise_email
from vigtrain.api_tokens.models import SCOPES
from vigtrain.dates import today, utcnow
from vigtrain.extensions import db
from vigtrain.imports.cli import import_group
from vigtrain.jobs.cli import jobs
from vigtrain.privacy.cli import privacy


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(mail)
    app.cli.add_command(pathways)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(certificates)
    app.cli.add_command(keys)
    app.cli.add_command(scheduler)
    app.cli.add_command(tokens)
    app.cli.add_command(data_keys)
    app.cli.add_command(jobs)
    app.cli.add_command(import_group)
    app.cli.add_command(privacy)


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

    def make_administrator() -> None:
        user = find_user_by_email(email)
        if user is None:
            user = User(email=email, display_name=name.strip())
            db.session.add(user)
        before = audit.snapshot(user, "roles") if user.id else None
        user.password_hash = hash_password(password)
        user.password_changed_at = utcnow()
        user.set_roles(set(user.roles) | {Role.ADMINISTRATOR})
        db.session.flush()
        after = audit.snapshot(user, "email", "roles")
        audit.record(None, "user.admin_created_from_cli", user, before=before, after=after)

    transactions.command(make_administrator)
    click.echo(f"Administrator {email} is ready. They will set up two-factor authentication at first sign-in.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only load when the database has no users yet.")
def demo(if_empty: bool) -> None:
    """Load the deterministic demo data and print the demo sign-ins."""
    from vigtrain.demo import DEMO_PASSWORD, DEMO_PEOPLE, database_is_empty, demo_is_loaded, load_demo

    if current_app.config["ENV_NAME"] == "production":
        # Demo accounts share one published password: never in a live system.
        raise click.ClickException("Demo data is not loaded in production: its accounts share a published password.")

    if demo_is_loaded():
        click.echo("Demo data is already loaded.")
    elif if_empty and not database_is_empty():
        click.echo("The database already has users; demo data not loaded.")
        return
    else:
        base = os.environ.get("VIGTRAIN_BASE_URL", "http://127.0.0.1:5000")
        with current_app.test_request_context(base_url=base):
            transactions.command(load_demo)
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
    from vigtrain.notifications.services import deliver_outbox, email_sender, held_count

    if not email_sender().configured:
        click.echo(f"No SMTP server configured (MAIL_SERVER); {held_count()} messages are held in the outbox.")
        return
    sent = transactions.command(lambda: deliver_outbox(limit=500))
    click.echo(f"Sent {sent} messages.")


@click.group("pathways")
def pathways() -> None:
    """Training pathway definitions."""


@pathways.command("sync")
@click.option("--directory", type=click.Path(exists=True, file_okay=False), help="Read pathway files from here.")
def sync(directory: str | None) -> None:
    """Load new pathway versions from the data files; a loaded version never changes."""
    from pathlib import Path

    from vigtrain.pathways.definitions import DATA_DIR, DefinitionError, load_pathway_files
    from vigtrain.pathways.services import sync_pathways

    added, unchanged = transactions.command(
        lambda: sync_pathways(load_pathway_files(Path(directory) if directory else DATA_DIR)),
        prefix="Nothing was loaded.\n",
        refuse=(DefinitionError,),
    )
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


@click.group("certificates")
def certificates() -> None:
    """Certificate tasks: resume bulk issues, apply expiry."""


@certificates.command("run-bulk")
@click.argument("job_id", type=int, required=False)
def run_bulk(job_id: int | None) -> None:
    """Finish bulk issue JOB_ID (or every unfinished one); safe to run again after a crash."""
    from vigtrain.certificates import bulk
    from vigtrain.certificates.models import BulkIssue

    if job_id is not None and db.session.get(BulkIssue, job_id) is None:
        raise click.ClickException(f"There is no bulk issue {job_id}.")
    jobs = [job_id] if job_id is not None else bulk.unfinished_jobs()
    for job in jobs:
        settled = bulk.process(job)
        summary = db.session.get(BulkIssue, job)
        click.echo(
            f"Bulk issue {job}: {settled} settled now; {summary.issued_count} issued, "
            f"{summary.failed_count} failed of {summary.total} ({summary.state.value})."
        )
    if not jobs:
        click.echo("No unfinished bulk issues.")


@certificates.command("expire")
def expire() -> None:
    """Mark certificates past their valid-until date as expired (the scheduler does this daily)."""
    from vigtrain.certificates.services import expire_certificates

    click.echo(f"{transactions.run(lambda: expire_certificates(today()))} certificates expired.")


@click.group("keys")
def keys() -> None:
    """AVIGuk's signing keys: list, rotate, revoke."""


@keys.command("list")
def list_keys() -> None:
    """Every signing key, oldest first, with its state."""
    from vigtrain.certificates.keys import known_keys

    for key in known_keys():
        line = f"{key.kid}  {key.state.value}"
        if key.revoked:
            line += f"  (revoked: {key.revoked_reason})"
        click.echo(line)


@keys.command("rotate")
def rotate_keys() -> None:
    """Make a new signing key for new credentials; earlier keys keep verifying what they signed."""
    from vigtrain.certificates.keys import rotate_keys as rotate

    key = transactions.command(rotate, retries=1)
    click.echo(f"New signing key {key.kid}: new credentials are signed with it.")


@keys.command("revoke")
@click.option("--reason", required=True, help="Why the key is no longer trusted; verifiers are told.")
@click.argument("kid")
def revoke_key(kid: str, reason: str) -> None:
    """Stop trusting key KID (it may have been compromised): what it signed no longer verifies.

    A key id may start with "-": put "--" before it (flask keys revoke --reason "..." -- KID).
    """
    from vigtrain.certificates.keys import revoke_key as revoke
    from vigtrain.certificates.keys import signing_key

    transactions.command(lambda: revoke(kid, reason))
    click.echo(f"Key {kid} is revoked. New credentials are signed with {signing_key().kid}.")


@click.group("scheduler")
def scheduler() -> None:
    """The scheduler process."""


@scheduler.command("run")
def run_scheduler() -> None:
    """Run the scheduled jobs (see `flask jobs list`) until stopped; one process is enough."""
    from vigtrain import scheduler as jobs

    click.echo("Scheduler running; press Ctrl+C to stop. A second scheduler waits while this one holds the lease.")
    jobs.run(current_app._get_current_object())


@click.group("tokens")
def tokens() -> None:
    """Personal access tokens for the JSON API."""


def _token_owner(email: str) -> User:
    owner = find_user_by_email(email)
    if owner is None:
        raise click.ClickException(f"There is no account with the email address {normalise_email(email)}.")
    return owner


@tokens.command("create")
@click.option("--email", required=True, help="Whose token it is: it acts as this person.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(list(SCOPES)),
    help="What it may do; repeat for several.",
)
@click.option("--name", default="Made at the command line", show_default=True, help="So the owner can recognise it.")
@click.option("--days", default=90, show_default=True, type=int, help="How many days it works (at most 366).")
def create_token(email: str, scopes: tuple[str, ...], name: str, days: int) -> None:
    """Create a token and print it; it is never shown again (only a digest is kept)."""
    from datetime import timedelta

    from vigtrain.api_tokens import services
    from vigtrain.dates import format_date, today

    owner = _token_owner(email)
    on = today()
    token, plaintext = transactions.command(
        lambda: services.create_token(None, owner, name, scopes, on + timedelta(days=days), on)
    )
    click.echo(
        f"Token {token.id} '{token.name}' for {owner.email} may {', '.join(token.scopes)} and works until the end "
        f"of {format_date(services.expiry_date(token))}. Copy it now: it is not shown again.",
        err=True,
    )
    click.echo(plaintext)


@tokens.command("revoke")
@click.argument("token_id", type=int)
def revoke_token(token_id: int) -> None:
    """Stop token TOKEN_ID working at once (the owner is emailed)."""
    from vigtrain.api_tokens import services
    from vigtrain.api_tokens.models import PersonalAccessToken

    token = db.session.get(PersonalAccessToken, token_id)
    if token is None:
        raise click.ClickException(f"There is no token {token_id}.")
    transactions.command(lambda: services.revoke_token(None, token))
    click.echo(
        f"Token {token.id} '{token.name}' ({services.MARKER}{token.token_prefix}…) of {token.user.email} revoked."
    )


@tokens.command("list")
@click.option("--email", required=True, help="Whose tokens to list.")
def list_tokens(email: str) -> None:
    """One line per token: id, status, the characters it starts with, expiry, last use, scopes and name."""
    from vigtrain.api_tokens import services
    from vigtrain.dates import format_date, format_datetime

    owner = _token_owner(email)
    rows = db.session.scalars(services.tokens_query(owner)).all()
    if not rows:
        click.echo(f"{owner.email} has no tokens.")
    for token in rows:
        used = format_datetime(token.last_used_at) if token.last_used_at else "never used"
        click.echo(
            f"{token.id:>6}  {services.status(token).value:<8} {services.MARKER}{token.token_prefix}…  "
            f"until {format_date(services.expiry_date(token))}  {used}  {','.join(token.scopes)}  {token.name}"
        )


@click.group("data-keys")
def data_keys() -> None:
    """The keys that encrypt the secrets the database holds (VIGTRAIN_DATA_KEYS or instance/data-keys)."""


@data_keys.command("rotate")
def rotate_data_keys() -> None:
    """Encrypt every stored secret again with the first data key, so that older keys can be removed."""
    from vigtrain.encryption import DecryptionError, reencrypt_all

    count = transactions.command(reencrypt_all, prefix="Nothing was changed. ", refuse=(DecryptionError,))
    click.echo(
        f"Encrypted {count} stored secrets again with the first data key. "
        "Older keys can be removed once every host lists this one first."
    )
