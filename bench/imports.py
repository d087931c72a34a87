"""How long a bulk import of 10,000 people takes on SQLite (issue: under a minute on this machine).

    python -m bench.imports [--rows 10000] [--runs 3] [--out bench-results]

Each run starts from a fresh SQLite file holding only the reference data an import refers to (the
pathways, a service, a cohort, 50 supervisors already registered), then times, in-process:
- the preview: reading and checking every row of the file (`check_file`), writing nothing;
- the import: checking again inside the transaction, writing every person, invitation email,
  enrolment with its stage records and audit event, and committing;
- the same file again, which must add nobody (every row "already present").
The file is a workbook, the slower of the two formats to read. Reports medians over the runs.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import date
from pathlib import Path

from openpyxl import Workbook

from vigtrain import create_app, transactions
from vigtrain.accounts.models import Role, User
from vigtrain.cohorts.models import Cohort
from vigtrain.extensions import db
from vigtrain.imports.services import check_file, import_people
from vigtrain.organisations.models import Region, Service, ServiceKind
from vigtrain.organisations.services import ensure_regions
from vigtrain.pathways.models import PathwayVersion
from vigtrain.pathways.services import sync_pathways

LIMIT_SECONDS = 60.0
TODAY = date(2026, 12, 7)
HELD_SUPERVISORS = 50
HEADERS = ["name", "email", "roles", "service", "pathway", "version", "supervisor_email", "cohort", "start_date"]


def workbook(rows: int) -> bytes:
    """`rows` people: one in 20 a new supervisor, the rest trainees on the current VIG pathway with a
    supervisor from the file or already held, half of them in the cohort."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("People")
    sheet.append(HEADERS)
    for number in range(rows):
        if number % 20 == 0:
            sheet.append([f"Supervisor {number}", f"s{number}@bench.example", "supervisor", "Bench Service"])
            continue
        supervisor = (
            f"s{number - number % 20}@bench.example" if number % 2 else f"held{number % HELD_SUPERVISORS}@bench.example"
        )
        sheet.append(
            [
                f"Trainee {number}",
                f"t{number}@bench.example",
                "trainee",
                "Bench Service",
                "vig-practitioner",
                "2024.1",
                supervisor,
                "Bench Intake" if number % 2 else "",
                "2027-01-11",
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _prepare(app) -> None:
    db.create_all()
    ensure_regions()
    sync_pathways()
    region = db.session.query(Region).first()
    db.session.add(Service(name="Bench Service", kind=ServiceKind.NHS_TRUST, region=region))
    version = db.session.query(PathwayVersion).filter_by(code="vig-practitioner", version="2024.1").one()
    db.session.add(Cohort(name="Bench Intake", pathway_version=version, starts_on=date(2027, 1, 11)))
    for number in range(HELD_SUPERVISORS):
        person = User(email=f"held{number}@bench.example", display_name=f"Held {number}")
        person.set_roles({Role.SUPERVISOR})
        db.session.add(person)
    db.session.commit()


def measure(rows: int = 10_000, runs: int = 3, out: Path = Path("bench-results")) -> dict:
    data = workbook(rows)
    out.mkdir(parents=True, exist_ok=True)
    previews, imports, agains = [], [], []
    for run in range(runs):
        path = out / f"import-{run}.db"
        path.unlink(missing_ok=True)
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path.resolve()}")
        app.config["IMPORT_FOLDER"] = str(out / "imports")
        with app.app_context():
            _prepare(app)
            started = time.perf_counter()
            plan = check_file(data, "intake.xlsx", TODAY)
            previews.append(time.perf_counter() - started)
            assert plan.ok, plan.problems[:3]
            started = time.perf_counter()
            done = transactions.run(lambda: import_people(None, data, "intake.xlsx", TODAY))
            imports.append(time.perf_counter() - started)
            started = time.perf_counter()
            again = transactions.run(lambda: import_people(None, data, "intake.xlsx", TODAY))
            agains.append(time.perf_counter() - started)
            assert again.counts["already present"] == rows, again.counts
            counts = done.counts
            db.session.remove()
            db.engine.dispose()
        path.unlink(missing_ok=True)
    return {
        "rows": rows,
        "runs": runs,
        "file_bytes": len(data),
        "counts": counts,
        "preview_s": round(statistics.median(previews), 2),
        "import_s": round(statistics.median(imports), 2),
        "again_s": round(statistics.median(agains), 2),
        "limit_s": LIMIT_SECONDS,
        "verdict": "ok" if statistics.median(imports) <= LIMIT_SECONDS else "FAIL",
    }


def markdown(result: dict) -> str:
    return (
        f"\n## Bulk import of {result['rows']:,} people (SQLite, workbook of {result['file_bytes'] // 1024} KB, "
        f"median of {result['runs']} runs)\n\n"
        "| step | seconds |\n|---|--:|\n"
        f"| preview (read and check every row) | {result['preview_s']} |\n"
        f"| import (check again, write, commit) | {result['import_s']} |\n"
        f"| the same file again (adds nobody) | {result['again_s']} |\n\n"
        f"Limit: {result['limit_s']:.0f} s for the import: **{result['verdict']}**. "
        f"Outcome: {result['counts']}.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default="bench-results")
    args = parser.parse_args(argv)
    result = measure(args.rows, args.runs, Path(args.out))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
