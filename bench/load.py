"""A bounded load test on loopback: gunicorn on the seeded database, simulated people from locust.

    python -m bench.load [--server URL] [--scale 10] [--users 200] [--seconds 120] [--workers 4]
                         [--verify-users 40] [--verify-seconds 30] [--out bench-results]

Two runs against one gunicorn (production configuration, sync workers, as `bench.http` serves it):

1. **Working day**: `--users` simulated trainees, supervisors and administrators (bench/locustfile.py
   says what each does; sign-in and sign-out included) for `--seconds`, started 20 a second.
   Target: no errors. Reports throughput, p50/p95 per journey step, and the database's connections
   (PostgreSQL: sampled from pg_stat_activity every half second).
2. **Verification alone**: `--verify-users` visitors with no pause between requests, each asking for a
   certificate's public page and its JSON, for `--verify-seconds`: the highest rate this machine
   sustains. Verification is rate-limited per address, as in production; each request comes from an
   address of its own (people checking certificates are many), so the figure is the server's.

The database is the bench's seed at `--scale` (`bench.seed`; PostgreSQL when `--server` or a
PostgreSQL DATABASE_URL is given, else the SQLite file). Locust runs in its own process, on the same
two cores as the server, so the figures are a floor. Writes load.md and load.json to `--out`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, make_url, select, text

from bench import http, seed
from vigtrain.accounts.models import Role, User, UserRole
from vigtrain.casework.models import Case
from vigtrain.certificates.models import Certificate, CertificateStatus
from vigtrain.pathways.models import Enrolment, EnrolmentStatus

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
VERIFY_LOCUSTFILE = Path(__file__).with_name("locustfile_verify.py")
TRAINEES, SUPERVISORS, CERTIFICATES = 300, 120, 200
SPAWN_RATE = 20


def accounts(database: str) -> dict:
    """Whom the simulated people sign in as: trainees in training with a case, supervisors with a
    trainee, every administrator; and valid certificates' numbers for the verification run."""
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            role = select(UserRole.user_id).where(UserRole.role == Role.TRAINEE)
            trainees = connection.execute(
                select(User.email, func.min(Enrolment.id), func.min(Case.code))
                .join(Enrolment, Enrolment.trainee_id == User.id)
                .join(Case, Case.practitioner_id == User.id)
                .where(User.id.in_(role), Enrolment.status == EnrolmentStatus.ACTIVE, User.is_active_flag.is_(True))
                .group_by(User.id, User.email)
                .order_by(User.id)
                .limit(TRAINEES)
            ).all()
            supervisors = connection.execute(
                select(User.email, func.min(Enrolment.id))
                .join(Enrolment, Enrolment.supervisor_id == User.id)
                .where(Enrolment.status == EnrolmentStatus.ACTIVE, User.is_active_flag.is_(True))
                .group_by(User.id, User.email)
                .order_by(User.id)
                .limit(SUPERVISORS)
            ).all()
            administrators = connection.scalars(
                select(User.email)
                .join(UserRole, UserRole.user_id == User.id)
                .where(UserRole.role == Role.ADMINISTRATOR, User.is_active_flag.is_(True))
                .order_by(User.id)
            ).all()
            numbers = connection.scalars(
                select(Certificate.number)
                .where(Certificate.status == CertificateStatus.VALID)
                .order_by(Certificate.id)
                .limit(CERTIFICATES)
            ).all()
    finally:
        engine.dispose()
    return {
        "password": seed.PASSWORD,
        "trainee": [{"email": email, "enrolment": enrolment, "case": case} for email, enrolment, case in trainees],
        "supervisor": [{"email": email, "enrolment": enrolment} for email, enrolment in supervisors],
        "administrator": [{"email": email} for email in administrators],
        "certificates": list(numbers),
    }


class ConnectionSampler(threading.Thread):
    """Counts the database's connections (and those running a statement) every half second."""

    def __init__(self, database: str) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.samples: list[tuple[int, int]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        engine = create_engine(self.database, isolation_level="AUTOCOMMIT")
        name = make_url(self.database).database
        query = text(
            "SELECT count(*), count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"
        )
        try:
            with engine.connect() as connection:
                while not self.stopping.wait(0.5):
                    self.samples.append(tuple(connection.execute(query, {"name": name}).one()))
        finally:
            engine.dispose()

    def summary(self) -> dict | None:
        if not self.samples:
            return None
        opened = [sample[0] for sample in self.samples]
        busy = [sample[1] for sample in self.samples]
        return {
            "samples": len(self.samples),
            "open_max": max(opened),
            "open_median": statistics.median(opened),
            "busy_max": max(busy),
            "busy_median": statistics.median(busy),
        }


def run_locust(locustfile: Path, port: int, users: int, seconds: int, accounts_file: Path, folder: Path) -> dict:
    """Run locust headless; returns its per-step statistics read from its CSV files."""
    prefix = folder / locustfile.stem
    command = [
        str(Path(sys.executable).with_name("locust")),
        "--locustfile",
        str(locustfile),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(min(users, SPAWN_RATE)),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--host",
        f"http://{http.HOST}:{port}",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    environment = {**os.environ, "VIGTRAIN_LOAD_ACCOUNTS": str(accounts_file)}
    finished = subprocess.run(  # noqa: S603 (a fixed command: the venv's locust)
        command, env=environment, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.exists():
        raise RuntimeError(f"locust wrote no statistics (exit {finished.returncode}):\n{finished.stderr[-3000:]}")
    steps = []
    with stats_file.open() as handle:
        for row in csv.DictReader(handle):
            steps.append(
                {
                    "step": row["Name"] if row["Name"] != "Aggregated" else "all requests",
                    "method": row["Type"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "p50_ms": float(row["50%"]),
                    "p95_ms": float(row["95%"]),
                    "per_second": round(float(row["Requests/s"]), 1),
                }
            )
    failures = []
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.exists():
        with failures_file.open() as handle:
            failures = [
                {"step": row["Name"], "error": row["Error"], "occurrences": int(row["Occurrences"])}
                for row in csv.DictReader(handle)
            ]
    return {"users": users, "seconds": seconds, "steps": steps, "failures": failures}


def markdown(result: dict) -> str:
    lines = [
        f"# vigtrain load test ({result['database']} at {result['scale']}x)",
        "",
        f"gunicorn, production configuration, {result['workers']} sync workers, on {result['cpu_count']} cores shared "
        f"with locust and the database; run {result['date']}.",
    ]
    for title, run in (("Working day", result["working_day"]), ("Verification alone", result["verification"])):
        total = next(step for step in run["steps"] if step["step"] == "all requests")
        lines += [
            "",
            f"## {title}: {run['users']} users for {run['seconds']} s",
            "",
            f"{total['requests']} requests, {total['failures']} failed; {total['per_second']} requests a second; "
            f"p50 {total['p50_ms']:.0f} ms, p95 {total['p95_ms']:.0f} ms.",
            "",
            "| Step | Requests | Failed | p50 ms | p95 ms | per second |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for step in run["steps"]:
            if step["step"] != "all requests":
                lines.append(
                    f"| {step['step']} ({step['method']}) | {step['requests']} | {step['failures']} | "
                    f"{step['p50_ms']:.0f} | {step['p95_ms']:.0f} | {step['per_second']} |"
                )
        for failure in run["failures"]:
            lines.append(f"\nFailed: {failure['step']}: {failure['error']} ({failure['occurrences']} times)")
        connections = run.get("connections")
        if connections:
            lines.append(
                f"\nDatabase connections: at most {connections['open_max']} open "
                f"(median {connections['open_median']}), at most {connections['busy_max']} running a statement "
                f"(median {connections['busy_median']}), from {connections['samples']} samples."
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=None, help="a PostgreSQL URL (default: DATABASE_URL if it is one)")
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--verify-users", type=int, default=40)
    parser.add_argument("--verify-seconds", type=int, default=30)
    parser.add_argument("--out", default="bench-results")
    args = parser.parse_args(argv)
    server = args.server or os.environ.get("DATABASE_URL")
    if server and not seed.is_postgresql(server):
        server = None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    database = seed.database_url(out, args.scale, server)
    if seed.exists(database):
        seed.upgrade(database)
    else:
        print(f"Seeding {args.scale}x ...", flush=True)
        seed.build(database, args.scale)
    people = accounts(database)
    administrators = [account["email"] for account in people["administrator"]]
    result = {
        "database": "PostgreSQL" if server else "SQLite",
        "scale": args.scale,
        "workers": args.workers,
        "cpu_count": os.cpu_count(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    http.forget_second_factors(database, administrators)
    try:
        with http.serve(database, workers=args.workers) as (port, _pid), tempfile.TemporaryDirectory() as folder:
            # Each administrator sets up the second factor production requires, through the pages.
            for account in people["administrator"]:
                account["key"] = http.sign_in_keeping_key(port, account["email"], seed.PASSWORD)[1]
            accounts_file = Path(folder) / "accounts.json"
            accounts_file.write_text(json.dumps(people))
            print(f"Working day: {args.users} users for {args.seconds} s ...", flush=True)
            sampler = ConnectionSampler(database) if server else None
            if sampler:
                sampler.start()
            result["working_day"] = run_locust(LOCUSTFILE, port, args.users, args.seconds, accounts_file, Path(folder))
            if sampler:
                sampler.stopping.set()
                sampler.join()
                result["working_day"]["connections"] = sampler.summary()
            print(f"Verification alone: {args.verify_users} users for {args.verify_seconds} s ...", flush=True)
            result["verification"] = run_locust(
                VERIFY_LOCUSTFILE, port, args.verify_users, args.verify_seconds, accounts_file, Path(folder)
            )
    finally:
        http.forget_second_factors(database, administrators)
    report = markdown(result)
    print(report)
    (out / "load.md").write_text(report)
    (out / "load.json").write_text(json.dumps(result, indent=2) + "\n")
    failed = sum(run["steps"][-1]["failures"] for run in (result["working_day"], result["verification"]))
    return 1 if failed else 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"{time.perf_counter() - started:.0f} s")
    sys.exit(code)
