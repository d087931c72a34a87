"""`flask privacy ...`: data-protection tasks at the command line (erasure; the retention schedule may add more)."""

from __future__ import annotations

import click

from vigtrain import transactions
from vigtrain.accounts.services import find_user_by_email, normalise_email


@click.group("privacy")
def privacy() -> None:
    """UK GDPR requests and the retention schedule."""


@privacy.command("erase")
@click.argument("email")
@click.option("--reason", required=True, help="Why the law allows it (kept in the register of erasures).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(email: str, reason: str, yes: bool) -> None:
    """Erase the person with EMAIL, keeping what AVIGuk must keep under a pseudonym (cannot be undone)."""
    from vigtrain.privacy import erasure

    person = find_user_by_email(email)
    if person is None:
        raise click.ClickException(f"There is no account with the email address {normalise_email(email)}.")
    if not yes:
        click.confirm(f"Erase {person.email}? This cannot be undone", abort=True)
    record = transactions.command(lambda: erasure.erase_person(None, person, reason))
    click.echo(f"Erased: the person is now known as {record.pseudonym}.")
