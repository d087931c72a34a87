"""How long each daily reminder job takes over the whole seeded country, and how many SQL statements.

    python -m bench.jobs [--scales 1,10] [--out bench-results] [--runs 3]

For each seeded database (built by `bench.run`), run every daily job as if on `DAY` — after the seeded
work, so many trainees have lapsed, sessions wait and certificates near expiry: a heavy first day —
`runs` times, each in a transaction that is rolled back, so every run does the same work. Reports the
median time, the notifications a run makes and its statement count. A job's statements should not
grow with the data (it selects candidates in SQL, then tells each person with one insert).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import event, func, select

from bench import seed
from vigtrain import create_app
from vigtrain.extensions import db
from vigtrain.jobs.registry import JOBS, Cadence
from vigtrain.notifications.models import Notification

DAY = seed.TODAY  # a Monday, just after the seeded work ends (seed.MEASURED_UP_TO)
# A daily job over the whole country should finish well inside a minute on SQLite at 10x.
LIMIT_SECONDS = 60.0


def measure(database: str, runs: int) -> list[dict]:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database)
    statements = [0]

    def count(*_args, **_kwargs) -> None:
        statements[0] += 1

    rows = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        for job in JOBS:
            if job.cadence is not Cadence.DAILY:
                continue
            timings, made, used = [], 0, 0
            for _ in range(runs):
                before = db.session.scalar(select(func.count()).select_from(Notification))
                statements[0] = 0
                started = time.perf_counter()
                job.function(DAY)
                db.session.flush()
                timings.append(time.perf_counter() - started)
                used = statements[0]
                made = db.session.scalar(select(func.count()).select_from(Notification)) - before
                db.session.rollback()
            rows.append(
                {
                    "job": job.name,
                    "median_s": round(statistics.median(timings), 3),
                    "notifications": made,
                    "statements": used,
                }
            )
        db.session.remove()
    return rows


def markdown(results: dict[int, list[dict]], dialect: str = "SQLite") -> str:
    scales = sorted(results)
    lines = [
        "",
        f"## Daily jobs over the whole seeded country, as if on {DAY:%-d %B %Y} ({dialect}, rolled back)",
        "",
        f"Target: each well inside {LIMIT_SECONDS:.0f} s at every scale. Statements include one per notification.",
        "",
        "| Job | " + " | ".join(f"{s}x median s | {s}x told | {s}x SQL" for s in scales) + " |",
        "|---|" + "--:|--:|--:|" * len(scales),
    ]
    for index, row in enumerate(results[scales[0]]):
        cells = []
        for scale in scales:
            other = results[scale][index]
            cells.append(f"{other['median_s']:.2f} | {other['notifications']} | {other['statements']}")
        lines.append(f"| {row['job']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--out", default="bench-results")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--server", default=None, help="a PostgreSQL URL to seed and measure on (default SQLite)")
    args = parser.parse_args(argv)
    results = {}
    for scale in sorted({int(part) for part in args.scales.split(",")}):
        database = seed.database_url(Path(args.out), scale, args.server)
        if seed.exists(database):
            seed.upgrade(database)
        else:
            print(f"Seeding {scale}x into {database} ...", flush=True)
            seed.build(database, scale)
        results[scale] = measure(database, args.runs)
    print(markdown(results, "PostgreSQL" if args.server else "SQLite"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
