"""`flask import people FILE [--dry-run]`: the same import as the page, for operators and scripts.

Every problem is printed as "row N, column C: message" on stderr and the command exits with status 1
having written nothing; a dry run checks the file and writes nothing even when it is clean.
"""

from __future__ import annotations

from pathlib import Path

import click

from vigtrain import transactions
from vigtrain.dates import today
from vigtrain.imports.reading import FileRefused
from vigtrain.imports.services import ImportRefused, Plan, check_file, import_people


@click.group("import")
def import_group() -> None:
    """Bulk import from a CSV or XLSX file."""


def _report(plan: Plan) -> None:
    counts = plan.counts
    click.echo(
        f"{plan.file_name}: {len(plan.rows)} rows; new people {counts['new person'] + counts['new person, enrolled']}, "
        f"new enrolments {counts['new person, enrolled'] + counts['enrolment added']}, "
        f"already present {counts['already present']}."
    )


def _fail(plan: Plan) -> None:
    for problem in plan.problems:
        click.echo(str(problem), err=True)
    count = len(plan.problems)
    raise click.ClickException(f"Nothing was imported: {count} problem{'s' if count != 1 else ''} in the file.")


@import_group.command("people")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and say what would happen; write nothing.")
def import_people_command(path: Path, dry_run: bool) -> None:
    """Import people (and their enrolments) from FILE: all of it, or nothing if any row has a problem."""
    data = path.read_bytes()
    try:
        if dry_run:
            plan = check_file(data, path.name, today())
            if not plan.ok:
                _fail(plan)
            _report(plan)
            click.echo("Dry run: nothing was written.")
            return
        plan = transactions.run(lambda: import_people(None, data, path.name, today(), progress=_progress), retries=1)
    except FileRefused as refused:
        raise click.ClickException(refused.message) from None
    except ImportRefused as refused:
        _fail(refused.plan)
    _report(plan)
    click.echo("Imported; invitation emails are queued.")


def _progress(phase: str, done: int, total: int) -> None:
    if total >= 2000 and (done == total or done % 2000 == 0):
        click.echo(f"{phase} {done:,} of {total:,}", err=True)
