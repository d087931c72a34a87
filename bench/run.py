"""Time vigtrain's pages at 1x and 10x AVIGuk's size on SQLite (DESIGN.md §5, "Performance").

    python -m bench.run [--reseed] [--scales 1,10] [--requests 30] [--no-http] [--out bench-results]

For each scale: build (or reuse) the seeded database, then time the signed-out login page and every
page in PAGES as its heaviest bench user, twice: in-process with the Flask test client (counting
each page's SQL statements), and over HTTP through gunicorn in the production configuration
(bench.http). The target is relative, so a slow or busy machine moves every figure together: each
page's p95 is at most 10x the login page's p95 measured in the same run, in each mode, and a page's
statements do not grow with the data. Prints the tables and writes bench.md and bench.json. Exits
non-zero only if something crashes: a FAIL is a finding, not an error (the machine is shared and
noisy, so read the ratios beside the p95s).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from string import Formatter

from sqlalchemy import event, func, make_url, select

from bench import http, imports, jobs, pdfs, seed
from vigtrain import create_app
from vigtrain.accounts.models import User
from vigtrain.casework.models import Case, Cycle
from vigtrain.certificates.models import Certificate
from vigtrain.cohorts.models import Cohort
from vigtrain.extensions import db
from vigtrain.organisations.models import Service
from vigtrain.pathways.models import Enrolment, PathwayVersion

LOGIN = "/login"
LOGIN_MULTIPLE = 10.0  # DESIGN.md §5: every page's p95 <= 10x the login page's, in the same run
# The login page is every verdict's yardstick, so it is timed this many times more than a page: with
# 15 requests a p95 is the slowest one, and one stall (146 ms against a p50 of 5 ms) passed every page.
LOGIN_SAMPLES = 4
WARM_UP = 3
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
MODES = ("in_process", "http")

# (role, sign-in email, path): each page as the bench user who makes it heaviest. {enrolment} is the
# known trainee's enrolment, {service} and {region} the known trainee's service and its region, {case}
# the known trainee's case with the most cycles, {user} the known trainee's account, {bulk_service} a
# service of the bulk data (its size grows with the scale like every other service's). An email may be
# a placeholder too: {certificate_holder} is whoever holds the most certificates. A page whose
# placeholder the seed cannot fill is left out, and the report says so.
PAGES = [
    ("trainee", seed.TRAINEE, "/home"),
    ("trainee", seed.TRAINEE, "/enrolments/{enrolment}"),
    ("trainee", seed.TRAINEE, "/enrolments/{enrolment}/stages/stage-1"),
    ("trainee", seed.TRAINEE, "/cases"),
    ("trainee", seed.TRAINEE, "/cases/new"),
    ("trainee", seed.TRAINEE, "/cases/{case}"),
    ("trainee", seed.TRAINEE, "/cases/{case}/cycles/new"),
    ("trainee", seed.TRAINEE, "/cases/{case}/measures/new"),
    ("trainee", seed.TRAINEE, "/cases/{case}/outcomes"),
    ("trainee", seed.TRAINEE, "/cycles/new"),
    ("trainee", seed.TRAINEE, "/measures/record"),
    ("trainee", seed.TRAINEE, "/supervision"),
    ("trainee", seed.TRAINEE, "/supervision/new"),
    ("trainee", seed.TRAINEE, "/reports/practitioner"),
    ("trainee", seed.TRAINEE, "/reports/service/{service}"),
    ("practitioner with certificates", "{certificate_holder}", "/certificates"),
    ("supervisor", seed.SUPERVISOR, "/home"),
    ("supervisor", seed.SUPERVISOR, "/supervisor/trainees"),
    ("supervisor", seed.SUPERVISOR, "/supervision/queue"),
    ("supervisor", seed.SUPERVISOR, "/supervision/trainees/{enrolment}"),
    ("supervisor", seed.SUPERVISOR, "/supervision/group/new"),
    ("supervisor", seed.SUPERVISOR, "/notifications"),
    ("supervisor", seed.SUPERVISOR, "/notifications/settings"),
    ("supervisor", seed.SUPERVISOR, "/people/search?for=enrol_trainee&q=person"),
    ("supervisor", seed.SUPERVISOR, "/enrolments/new"),
    ("accrediting supervisor", seed.ACCREDITOR, "/accreditation"),
    ("administrator", seed.ADMIN, "/home"),
    ("administrator", seed.ADMIN, "/account"),
    ("administrator", seed.ADMIN, "/admin/users/"),
    ("administrator", seed.ADMIN, "/admin/users/invite"),
    ("administrator", seed.ADMIN, "/admin/services/"),
    ("administrator", seed.ADMIN, "/admin/cohorts/"),
    ("administrator", seed.ADMIN, "/admin/cohorts/new"),
    ("administrator", seed.ADMIN, "/admin/outbox/"),
    ("administrator", seed.ADMIN, "/admin/certificates"),
    ("administrator", seed.ADMIN, "/admin/certificates/to-issue"),
    ("administrator", seed.ADMIN, "/admin/ratification"),
    ("administrator", seed.ADMIN, "/pathways"),
    ("administrator", seed.ADMIN, "/admin/audit"),
    ("administrator", seed.ADMIN, "/admin/audit?action=user.create"),
    ("administrator", seed.ADMIN, "/admin/audit?entity=user"),
    ("administrator", seed.ADMIN, "/admin/audit?entity=user:{user}"),
    ("administrator", seed.ADMIN, "/admin/audit?action=user&entity=user&page=40"),
    ("administrator", seed.ADMIN, "/admin/jobs"),
    ("administrator", seed.ADMIN, "/enrolments/{enrolment}/supervisor"),
    ("administrator", seed.ADMIN, "/enrolments/{enrolment}/status"),
    ("administrator", seed.ADMIN, "/reports/service/{bulk_service}"),
    ("administrator", seed.ADMIN, "/reports/region/{region}"),
    ("administrator", seed.ADMIN, "/reports/national"),
    ("administrator", seed.ADMIN, "/reports/national?by=population"),
    ("administrator", seed.ADMIN, "/reports/national?by=relationship"),
    ("administrator", seed.ADMIN, "/reports/national?by=stage"),
    ("administrator", seed.ADMIN, "/admin/records"),
    ("administrator", seed.ADMIN, "/admin/records?stage=stage-2&state=signed_off&waiting=14"),
    ("administrator", seed.ADMIN, "/admin/records?q=person+12&sort=name"),
    ("administrator", seed.ADMIN, "/admin/records?supervisor=supervisor+12&sort=waiting"),
    ("administrator", seed.ADMIN, "/admin/capacity"),
    ("administrator", seed.ADMIN, "/admin/capacity?sort=load&over=1"),
    ("administrator", seed.ADMIN, "/enrolments/new"),
    ("administrator", seed.ADMIN, "/people/search?for=enrol_trainee&q=person"),
    ("administrator", seed.ADMIN, "/people/search?for=enrol_supervisor&q=supervisor"),
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


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(timing: dict) -> dict:
    """p50 and p95 of a page's raw timings (ms), with its URL and every status it answered."""
    timings = timing["timings"]
    return {
        "url": timing["url"],
        "status": timing["status"],
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
    }


def bench_app(database: str):
    """The in-process app: the test configuration (fast hashing, no second factor) on the seeded database."""
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database,
        LOGIN_ACCOUNT_LIMIT="10000 per minute",
        LOGIN_IP_LIMIT="10000 per minute",
        RATELIMIT_ENABLED=False,
    )


def lookup_ids(app) -> dict:
    """The ids PAGES' placeholders stand for, read from the seeded database (None where it has none)."""
    with app.app_context():
        trainee = db.session.scalar(select(User).where(User.email == seed.TRAINEE))
        ids = {
            "enrolment": db.session.scalar(select(Enrolment.id).where(Enrolment.trainee_id == trainee.id)),
            "user": trainee.id,
            "service": trainee.service_id,
            "region": trainee.service.region_id,
            "case": db.session.scalar(
                select(Case.code)
                .outerjoin(Cycle, Cycle.case_id == Case.id)
                .where(Case.practitioner_id == trainee.id)
                .group_by(Case.id)
                .order_by(func.count(Cycle.id).desc(), Case.id)
                .limit(1)
            ),
            "bulk_service": db.session.scalar(select(Service.id).where(Service.name == "Bench service 0")),
            "cohort": db.session.scalar(select(Cohort.id).where(Cohort.name == seed.COHORTS[0])),
            "pathway_version": db.session.scalar(select(PathwayVersion.id).order_by(PathwayVersion.id).limit(1)),
            "certificate_holder": db.session.scalar(
                select(User.email)
                .join(Certificate, Certificate.holder_id == User.id)
                .group_by(User.id)
                .order_by(func.count(Certificate.id).desc(), User.id)
                .limit(1)
            ),
        }
        db.session.remove()
    return ids


def placeholders(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conversion in Formatter().parse(text) if name}


def pages_for(ids: dict) -> tuple[list[tuple[tuple[str, str], str, str]], list[dict]]:
    """(key, email, url) for every page the seed can fill in, and what was left out and why."""
    chosen, left_out = [], []
    for role, email, template in PAGES:
        missing = sorted(name for name in placeholders(email + template) if ids.get(name) is None)
        if missing:
            left_out.append({"page": template, "role": role, "reason": f"the seed has no {', '.join(missing)}"})
        else:
            chosen.append(((role, template), email.format(**ids), template.format(**ids)))
    return chosen, left_out


def sign_in(app, email: str):
    client = app.test_client()
    page = client.get(LOGIN)
    token = CSRF_INPUT.search(page.get_data(as_text=True))
    if not token:
        raise RuntimeError(f"no CSRF token on /login (status {page.status_code})")
    scheme = app.config["PREFERRED_URL_SCHEME"]
    response = client.post(
        LOGIN,
        data={"csrf_token": token.group(1), "email": email, "password": seed.PASSWORD},
        headers={"Referer": f"{scheme}://localhost/login"},
    )
    if response.status_code != 302:
        raise RuntimeError(f"signing in as {email} answered {response.status_code}, not a redirect")
    return client


def measure_in_process(app, pages: list, requests: int) -> dict:
    """The login page (signed out) and each page, timed with the test client, with SQL statement counts."""
    statements = [0]

    def count(*_args, **_kwargs) -> None:
        statements[0] += 1

    def timed(client, url: str, samples: int = requests) -> dict:
        counts = []

        def get(path: str) -> int:
            statements[0] = 0
            status = client.get(path).status_code
            counts.append(statements[0])
            return status

        result = summary(http.time_page(get, url, samples, WARM_UP))
        timed_counts = counts[WARM_UP:]
        return {**result, "statements": max(timed_counts), "statements_varied": min(timed_counts) != max(timed_counts)}

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        login = timed(app.test_client(), LOGIN, requests * LOGIN_SAMPLES)
        clients: dict[str, object] = {}
        results = {}
        for key, email, url in pages:
            client = clients.get(email) or clients.setdefault(email, sign_in(app, email))
            results[key] = timed(client, url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        engine.dispose()
    return {"login": login, "pages": results}


def measure_over_http(database: str, pages: list, requests: int) -> dict:
    raw = http.measure(
        database, pages, LOGIN, seed.PASSWORD, requests, WARM_UP, login_requests=requests * LOGIN_SAMPLES
    )
    return {"login": summary(raw["login"]), "pages": {key: summary(timing) for key, timing in raw["pages"].items()}}


def measure_scale(database: str, requests: int, over_http: bool) -> dict:
    """Both modes at one scale: {"login": {mode: figures}, "pages": {key: {mode: figures}}, "left_out": [...]}."""
    app = bench_app(database)
    ids = lookup_ids(app)
    pages, left_out = pages_for(ids)
    # A run that stopped half way may have left the administrator with the second factor bench.http set up.
    http.forget_second_factors(database, sorted({email for _key, email, _url in pages}))
    modes = {"in_process": measure_in_process(app, pages, requests)}
    if over_http:
        print("  over HTTP through gunicorn ...", flush=True)
        modes["http"] = measure_over_http(database, pages, requests)
    measured = {"login": {mode: figures["login"] for mode, figures in modes.items()}, "pages": {}, "left_out": left_out}
    for key, _email, _url in pages:
        measured["pages"][key] = {mode: figures["pages"][key] for mode, figures in modes.items()}
    return measured


def judge(measured: dict) -> None:
    """Add each page's p95 as a multiple of the login page's ("x login") and its verdict, in place."""
    for row in measured["pages"].values():
        passed = True
        for mode, figures in row.items():
            if mode not in MODES:
                continue
            login_p95 = measured["login"][mode]["p95_ms"]
            figures["x_login"] = round(figures["p95_ms"] / login_p95, 2) if login_p95 else None
            passed = passed and figures["status"] == [200] and figures["x_login"] is not None
            passed = passed and figures["x_login"] <= LOGIN_MULTIPLE
        row["verdict"] = "PASS" if passed else "FAIL"


def comparison(measured: dict[int, dict], scales: list[int]) -> list[dict]:
    """Each page at the largest scale against the smallest: time ratios, and whether statements stayed equal."""
    top, bottom = max(scales), min(scales)
    rows = []
    for key, big in measured[top]["pages"].items():
        small = measured[bottom]["pages"].get(key)
        if small is None:
            continue
        row = {"page": key[1], "role": key[0]}
        for mode in MODES:
            if mode in big and mode in small:
                ratio = big[mode]["p50_ms"] / small[mode]["p50_ms"] if small[mode]["p50_ms"] else None
                row[f"{mode}_p50_ratio"] = round(ratio, 2) if ratio is not None else None
        before, after = small["in_process"]["statements"], big["in_process"]["statements"]
        row["statements"] = {f"{bottom}x": before, f"{top}x": after}
        row["statements_verdict"] = "PASS" if before == after else "FAIL"
        rows.append(row)
    return rows


def _figures(figures: dict | None) -> tuple[str, str]:
    """'p50 / p95' and 'x login' cells, with any status that was not 200."""
    if figures is None:
        return "not run", ""
    status = "" if figures["status"] == [200] else " (HTTP " + ", ".join(str(c) for c in figures["status"]) + ")"
    multiple = figures.get("x_login")
    return f"{figures['p50_ms']:.1f} / {figures['p95_ms']:.1f}{status}", "" if multiple is None else f"{multiple:.1f}"


def render(measured: dict[int, dict], scales: list[int], seeding: dict, environment: dict) -> str:
    lines = [
        f"# vigtrain bench: pages at {', '.join(f'{scale}x' for scale in scales)} ({environment['database']})",
        "",
        f"Target (DESIGN.md §5): every page's p95 <= {LOGIN_MULTIPLE:.0f}x the login page's p95 in the same run, "
        "in-process and over HTTP through gunicorn (production configuration, 2 sync workers), at 10x; "
        "a page's SQL statements the same at every scale. Times in ms; each page timed as its heaviest bench user, "
        f"{WARM_UP} warm-up requests then {environment['requests']} sequential ones "
        f"(the login page {LOGIN_SAMPLES} times as many).",
        "",
        f"Machine: {environment['cpu_count']} cores; run {environment['date']}."
        + ("" if environment.get("http", True) else " Not timed over HTTP (--no-http): verdicts are in-process only."),
        "",
        "The login page (signed out, GET /login):",
        "",
        "| Scale | in-process p50 / p95 | SQL | HTTP p50 / p95 |",
        "|---|--:|--:|--:|",
    ]
    for scale in scales:
        login = measured[scale]["login"]
        in_process, _ = _figures(login["in_process"])
        over_http, _ = _figures(login.get("http"))
        lines.append(f"| {scale}x | {in_process} | {login['in_process']['statements']} | {over_http} |")
    for scale in scales:
        pages = measured[scale]["pages"]
        failed = sum(row["verdict"] == "FAIL" for row in pages.values())
        lines += [
            "",
            f"## {scale}x: {len(pages) - failed} of {len(pages)} pages within {LOGIN_MULTIPLE:.0f}x the login page",
            "",
            "| Page | User | in-process p50 / p95 | x login | HTTP p50 / p95 | x login | SQL | Verdict |",
            "|---|---|--:|--:|--:|--:|--:|---|",
        ]
        for (role, template), row in pages.items():
            in_process, in_multiple = _figures(row["in_process"])
            over_http, http_multiple = _figures(row.get("http"))
            statements = row["in_process"]["statements"]
            varied = " (varied)" if row["in_process"]["statements_varied"] else ""
            lines.append(
                f"| {template} | {role} | {in_process} | {in_multiple} | {over_http} | {http_multiple} | "
                f"{statements}{varied} | {row['verdict']} |"
            )
        for gap in measured[scale]["left_out"]:
            lines.append(f"\nLeft out: {gap['page']} ({gap['role']}): {gap['reason']}.")
    if len(scales) > 1:
        top, bottom = max(scales), min(scales)
        lines += [
            "",
            f"## {top}x against {bottom}x",
            "",
            f"| Page | User | in-process p50 {top}x/{bottom}x | HTTP p50 {top}x/{bottom}x | "
            f"SQL {bottom}x | SQL {top}x | SQL equal |",
            "|---|---|--:|--:|--:|--:|---|",
        ]
        for row in comparison(measured, scales):
            http_ratio = row.get("http_p50_ratio")
            lines.append(
                f"| {row['page']} | {row['role']} | {row.get('in_process_p50_ratio')} | "
                f"{'' if http_ratio is None else http_ratio} | {row['statements'][f'{bottom}x']} | "
                f"{row['statements'][f'{top}x']} | {row['statements_verdict']} |"
            )
    lines += ["", "Seeding:"]
    for scale, info in seeding.items():
        lines.append(f"- {scale}x: {info}")
    return "\n".join(lines) + "\n"


def as_json(measured: dict[int, dict], scales: list[int], seeding: dict, environment: dict) -> dict:
    return {
        **environment,
        "login_multiple_limit": LOGIN_MULTIPLE,
        "scales": scales,
        "seeding": {str(k): v for k, v in seeding.items()},
        "login": {f"{scale}x": measured[scale]["login"] for scale in scales},
        "pages": [
            {
                "page": template,
                "role": role,
                **{f"{scale}x": measured[scale]["pages"].get((role, template)) for scale in scales},
            }
            for role, _email, template in PAGES
        ],
        "left_out": {f"{scale}x": measured[scale]["left_out"] for scale in scales},
        "comparison": comparison(measured, scales) if len(scales) > 1 else [],
    }


def _stop_on_sigterm(_signum, _frame) -> None:
    # Raised, so every `finally` (gunicorn's among them) runs as it would on Ctrl+C.
    sys.exit(128 + signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reseed", action="store_true", help="rebuild the databases even if cached")
    parser.add_argument(
        "--scales", default=None, help="comma-separated scale factors (default 1,10 on SQLite, 10,100 on PostgreSQL)"
    )
    parser.add_argument(
        "--server",
        default=None,
        help="a PostgreSQL URL: seed and time there, one database per scale (default: DATABASE_URL if it is one)",
    )
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument("--no-http", action="store_true", help="time in-process only (no gunicorn)")
    parser.add_argument(
        "--no-jobs", action="store_true", help="leave out the daily jobs (over the whole country, slow at 100x)"
    )
    parser.add_argument("--out", default="bench-results", help="folder for databases and results")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    server = args.server or os.environ.get("DATABASE_URL")
    if server and not seed.is_postgresql(server):
        server = None  # a SQLite DATABASE_URL is the app's own database, not a bench server
    scales = sorted({int(part) for part in (args.scales or ("10,100" if server else "1,10")).split(",")})
    stem = "bench-postgresql" if server else "bench"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    environment = {
        "cpu_count": os.cpu_count(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "requests": args.requests,
        "warm_up": WARM_UP,
        "http": not args.no_http,
        "http_workers": http.WORKERS,
        "database": "PostgreSQL" if server else "SQLite",
    }

    seeding, measured, job_times = {}, {}, {}
    for scale in scales:
        database = seed.database_url(out, scale, server)
        shown = make_url(database).render_as_string(hide_password=True)
        if args.reseed or not seed.exists(database):
            print(f"Seeding {scale}x into {shown} ...", flush=True)
            seeding[scale] = seed.build(database, scale)
            print(f"  {seeding[scale]}", flush=True)
        else:
            seed.upgrade(database)
            seeding[scale] = {"scale": scale, "cached": shown}
        print(f"Measuring {scale}x ...", flush=True)
        started = time.perf_counter()
        measured[scale] = measure_scale(database, args.requests, over_http=not args.no_http)
        judge(measured[scale])
        print(f"  {time.perf_counter() - started:.0f} s", flush=True)
        if not args.no_jobs:
            print(f"Timing the daily jobs at {scale}x ...", flush=True)
            job_times[scale] = jobs.measure(database, runs=3)

    certificate_pdfs = pdfs.measure()
    print("Timing a bulk import of 10,000 people ...", flush=True)
    bulk_import = imports.measure(out=out)
    report = (
        render(measured, scales, seeding, environment)
        + pdfs.markdown(certificate_pdfs)
        + (jobs.markdown(job_times, environment["database"]) if job_times else "")
        + imports.markdown(bulk_import)
    )
    print()
    print(report)
    (out / f"{stem}.md").write_text(report)
    result = as_json(measured, scales, seeding, environment) | {
        "certificate_pdfs": certificate_pdfs,
        "bulk_import": bulk_import,
        "daily_jobs": {str(scale): rows for scale, rows in job_times.items()},
    }
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"Written {out / (stem + '.md')} and {out / (stem + '.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
