"""Time vigtrain's main pages at 1x and 10x AVIGuk's size on SQLite (DESIGN.md §5, "Performance").

    python -m bench.run [--reseed] [--scales 1,10] [--requests 30] [--out bench-results]

For each scale: build (or reuse) the seeded database, sign in as each known user with the Flask
test client, warm each page up, then time it and count its SQL statements. Prints a table and
writes bench.md and bench.json. Exits non-zero only if something crashes: a FAIL is a finding,
not an error (the machine is shared and noisy, so read medians and ratios).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import re
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import event, select

from bench import imports, jobs, pdfs, seed
from vigtrain import create_app
from vigtrain.accounts.models import User
from vigtrain.casework.models import Case
from vigtrain.cohorts.models import Cohort
from vigtrain.extensions import db
from vigtrain.organisations.models import Service
from vigtrain.pathways.models import Enrolment, PathwayVersion

P95_LIMIT_MS = 50.0
WARM_UP = 3
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# (role, sign-in email, path); {enrolment} is the known trainee's enrolment, {service} and {region} the
# known trainee's service and its region, {case} the known trainee's first case, {bulk_service} a service
# of the bulk data (its size grows with the scale like every other service's).
PAGES = [
    ("trainee", seed.TRAINEE, "/home"),
    ("trainee", seed.TRAINEE, "/enrolments/{enrolment}"),
    ("trainee", seed.TRAINEE, "/enrolments/{enrolment}/stages/stage-1"),
    ("trainee", seed.TRAINEE, "/cases"),
    ("trainee", seed.TRAINEE, "/supervision"),
    ("supervisor", seed.SUPERVISOR, "/home"),
    ("supervisor", seed.SUPERVISOR, "/supervisor/trainees"),
    ("supervisor", seed.SUPERVISOR, "/supervision/queue"),
    ("supervisor", seed.SUPERVISOR, "/notifications"),
    ("supervisor", seed.SUPERVISOR, "/notifications/settings"),
    ("accrediting supervisor", seed.ACCREDITOR, "/accreditation"),
    ("administrator", seed.ADMIN, "/home"),
    ("administrator", seed.ADMIN, "/admin/users/"),
    ("administrator", seed.ADMIN, "/admin/ratification"),
    ("administrator", seed.ADMIN, "/pathways"),
    ("administrator", seed.ADMIN, "/admin/audit"),
    ("administrator", seed.ADMIN, "/admin/jobs"),
    ("trainee", seed.TRAINEE, "/cases/{case}/outcomes"),
    ("trainee", seed.TRAINEE, "/reports/practitioner"),
    ("trainee", seed.TRAINEE, "/reports/service/{service}"),
    ("administrator", seed.ADMIN, "/reports/service/{bulk_service}"),
    ("administrator", seed.ADMIN, "/reports/region/{region}"),
    ("administrator", seed.ADMIN, "/reports/national"),
    ("administrator", seed.ADMIN, "/admin/records"),
    ("administrator", seed.ADMIN, "/admin/records?stage=stage-2&state=signed_off&waiting=14"),
    ("administrator", seed.ADMIN, "/admin/records?q=person+12&sort=name"),
    ("administrator", seed.ADMIN, "/admin/records?supervisor=supervisor+12&sort=waiting"),
    ("administrator", seed.ADMIN, "/admin/capacity"),
    ("administrator", seed.ADMIN, "/admin/capacity?sort=load&over=1"),
    ("administrator", seed.ADMIN, "/enrolments/new"),
    ("administrator", seed.ADMIN, "/people/search?for=enrol_trainee&q=person"),
    ("administrator", seed.ADMIN, "/people/search?for=enrol_supervisor&q=supervisor"),
    ("supervisor", seed.SUPERVISOR, "/people/search?for=enrol_trainee&q=person"),
    ("supervisor", seed.SUPERVISOR, "/enrolments/new"),
    ("administrator", seed.ADMIN, "/training-flow/?scope=all"),
    ("administrator", seed.ADMIN, "/training-flow/?scope=service:{bulk_service}"),
    ("administrator", seed.ADMIN, "/training-flow/?scope=cohort:{cohort}"),
    ("administrator", seed.ADMIN, "/training-flow/stuck?scope=all"),
    ("administrator", seed.ADMIN, "/training-flow/stuck?scope=all&weeks=4&page=3"),
    ("administrator", seed.ADMIN, "/training-flow/rates/{pathway_version}"),
    ("service lead", seed.SERVICE_LEAD, "/training-flow/"),
    ("service lead", seed.SERVICE_LEAD, "/training-flow/stuck"),
    ("course lead", seed.SUPERVISOR, "/training-flow/?scope=cohort:{cohort}"),
]
# Pages with their own target (DESIGN.md §5): the national DCS report aggregates every consenting case.
# The DCS reports and the training-flow pages (the target for analytics at 10x) may take 300 ms.
ANALYTICS = [template for _role, _email, template in PAGES if template.startswith("/training-flow/")]
P95_LIMITS_MS = {"/reports/national": 300.0, "/reports/region/{region}": 300.0} | {
    template: 300.0 for template in ANALYTICS if "/rates/" not in template
}


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def sign_in(app, email: str):
    client = app.test_client()
    page = client.get("/login")
    token = CSRF_INPUT.search(page.get_data(as_text=True))
    if not token:
        raise RuntimeError(f"no CSRF token on /login (status {page.status_code})")
    scheme = app.config["PREFERRED_URL_SCHEME"]
    response = client.post(
        "/login",
        data={"csrf_token": token.group(1), "email": email, "password": seed.PASSWORD},
        headers={"Referer": f"{scheme}://localhost/login"},
    )
    if response.status_code != 302:
        raise RuntimeError(f"signing in as {email} answered {response.status_code}, not a redirect")
    return client


def measure_scale(path: Path, requests: int) -> dict[tuple[str, str], dict]:
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{path.resolve()}",
        LOGIN_ACCOUNT_LIMIT="10000 per minute",
        LOGIN_IP_LIMIT="10000 per minute",
        RATELIMIT_ENABLED=False,
    )
    statements = [0]

    def count(*_args, **_kwargs) -> None:
        statements[0] += 1

    with app.app_context():
        engine = db.engine
        enrolment_id = db.session.scalar(
            select(Enrolment.id).join(User, Enrolment.trainee_id == User.id).where(User.email == seed.TRAINEE)
        )
        trainee = db.session.scalar(select(User).where(User.email == seed.TRAINEE))
        ids = {
            "enrolment": enrolment_id,
            "service": trainee.service_id,
            "region": trainee.service.region_id,
            "case": db.session.scalar(
                select(Case.code).where(Case.practitioner_id == trainee.id).order_by(Case.id).limit(1)
            ),
            "bulk_service": db.session.scalar(select(Service.id).where(Service.name == "Bench service 0")),
            "cohort": db.session.scalar(select(Cohort.id).where(Cohort.name == seed.COHORTS[0])),
            "pathway_version": db.session.scalar(select(PathwayVersion.id).order_by(PathwayVersion.id).limit(1)),
        }
        db.session.remove()
    event.listen(engine, "before_cursor_execute", count)

    results: dict[tuple[str, str], dict] = {}
    clients: dict[str, object] = {}
    for role, email, template in PAGES:
        client = clients.get(email) or clients.setdefault(email, sign_in(app, email))
        url = template.format(**ids)
        statuses = set()
        for _ in range(WARM_UP):
            statuses.add(client.get(url).status_code)
        timings, counts = [], []
        gc.collect()
        for _ in range(requests):
            statements[0] = 0
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            counts.append(statements[0])
            statuses.add(response.status_code)
        results[(role, template)] = {
            "url": url,
            "status": sorted(statuses),
            "median_ms": round(statistics.median(timings), 2),
            "p95_ms": round(percentile(timings, 0.95), 2),
            "statements": max(counts),
            "statements_varied": min(counts) != max(counts),
        }
    event.remove(engine, "before_cursor_execute", count)
    engine.dispose()
    return results


def verdicts(row: dict, scales: list[int]) -> dict:
    top, bottom = max(scales), min(scales)
    big, small = row[top], row[bottom]
    ok_status = all(row[scale]["status"] == [200] for scale in scales)
    return {
        "ratio": round(big["median_ms"] / small["median_ms"], 2) if small["median_ms"] else None,
        "p95": "PASS" if ok_status and all(row[s]["p95_ms"] <= row["limit_ms"] for s in scales) else "FAIL",
        "statements": "PASS" if ok_status and big["statements"] == small["statements"] else "FAIL",
    }


def render(table: list[dict], scales: list[int], seeding: dict) -> str:
    top, bottom = max(scales), min(scales)
    lines = [
        f"# vigtrain bench: main pages at {bottom}x and {top}x (SQLite, in-process)",
        "",
        f"Target (DESIGN.md §5): p95 <= {P95_LIMIT_MS:.0f} ms at every scale (the national and regional DCS reports: "
        f"<= {P95_LIMITS_MS['/reports/national']:.0f} ms); statements at {top}x == at {bottom}x.",
        "",
        f"| Page | Role | {bottom}x median ms | {bottom}x p95 ms | {bottom}x SQL | {top}x median ms | "
        f"{top}x p95 ms | {top}x SQL | {top}x/{bottom}x median | p95 | SQL |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for row in table:
        small, big, verdict = row[bottom], row[top], row["verdict"]
        status = (
            ""
            if all(row[s]["status"] == [200] for s in scales)
            else (" (HTTP " + ", ".join(str(c) for s in scales for c in row[s]["status"] if c != 200) + ")")
        )
        lines.append(
            f"| {row['page']}{status} | {row['role']} | {small['median_ms']:.1f} | {small['p95_ms']:.1f} | "
            f"{small['statements']} | {big['median_ms']:.1f} | {big['p95_ms']:.1f} | {big['statements']} | "
            f"{verdict['ratio']} | {verdict['p95']} | {verdict['statements']} |"
        )
    lines += ["", "Seeding:"]
    for scale, info in seeding.items():
        lines.append(f"- {scale}x: {info}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reseed", action="store_true", help="rebuild the databases even if cached")
    parser.add_argument("--scales", default="1,10", help="comma-separated scale factors (default 1,10)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument("--out", default="bench-results", help="folder for databases and results")
    args = parser.parse_args(argv)
    scales = sorted({int(part) for part in args.scales.split(",")})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    seeding, measured, job_times = {}, {}, {}
    for scale in scales:
        path = seed.database_path(out, scale)
        if args.reseed or not path.exists():
            print(f"Seeding {scale}x into {path} ...", flush=True)
            seeding[scale] = seed.build(path, scale)
            print(f"  {seeding[scale]}", flush=True)
        else:
            seeding[scale] = {"scale": scale, "cached": str(path)}
        print(f"Measuring {scale}x ...", flush=True)
        measured[scale] = measure_scale(path, args.requests)
        print(f"Timing the daily jobs at {scale}x ...", flush=True)
        job_times[scale] = jobs.measure(path, runs=3)

    table = []
    for role, _email, template in PAGES:
        row = {"page": template, "role": role, **{scale: measured[scale][(role, template)] for scale in scales}}
        row["limit_ms"] = P95_LIMITS_MS.get(template, P95_LIMIT_MS)
        row["verdict"] = verdicts(row, scales)
        table.append(row)

    certificate_pdfs = pdfs.measure()
    print("Timing a bulk import of 10,000 people ...", flush=True)
    bulk_import = imports.measure(out=out)
    report = (
        render(table, scales, seeding)
        + pdfs.markdown(certificate_pdfs)
        + jobs.markdown(job_times)
        + imports.markdown(bulk_import)
    )
    print()
    print(report)
    (out / "bench.md").write_text(report)
    as_json = {
        "p95_limit_ms": P95_LIMIT_MS,
        "scales": scales,
        "seeding": {str(k): v for k, v in seeding.items()},
        "certificate_pdfs": certificate_pdfs,
        "bulk_import": bulk_import,
        "daily_jobs": {str(scale): rows for scale, rows in job_times.items()},
        "pages": [
            {
                **{k: v for k, v in row.items() if not isinstance(k, int)},
                **{f"{scale}x": row[scale] for scale in scales},
            }
            for row in table
        ],
    }
    (out / "bench.json").write_text(json.dumps(as_json, indent=2) + "\n")
    print(f"Written {out / 'bench.md'} and {out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
