"""The bench's own arithmetic and its gunicorn handling, without a seeded database."""

from __future__ import annotations

import os
import sqlite3

import pytest

from bench import http, run


def test_percentile_is_nearest_rank():
    values = [float(n) for n in range(1, 21)]
    assert run.percentile(values, 0.95) == 19.0
    assert run.percentile(values, 0.5) == 10.0
    assert run.percentile([4.0], 0.95) == 4.0


def test_pages_without_seeded_data_are_left_out_and_said_so():
    ids = dict.fromkeys(
        ["enrolment", "user", "service", "region", "case", "bulk_service", "cohort", "pathway_version"], 7
    )
    chosen, left_out = run.pages_for({**ids, "certificate_holder": None})
    assert ("practitioner with certificates", "/certificates") not in {key for key, _email, _url in chosen}
    assert left_out == [
        {
            "page": "/certificates",
            "role": "practitioner with certificates",
            "reason": "the seed has no certificate_holder",
        }
    ]
    chosen, left_out = run.pages_for({**ids, "certificate_holder": "holder@bench.example"})
    assert not left_out
    assert (("practitioner with certificates", "/certificates"), "holder@bench.example", "/certificates") in chosen
    assert (("trainee", "/cases/{case}"), run.seed.TRAINEE, "/cases/7") in chosen


def test_each_page_is_judged_against_the_login_page_of_its_own_mode():
    def figures(p95: float, status: list[int] | None = None) -> dict:
        return {"p50_ms": p95 / 2, "p95_ms": p95, "status": status or [200]}

    measured = {
        "login": {"in_process": figures(10.0), "http": figures(20.0)},
        "pages": {
            ("trainee", "/fast"): {"in_process": figures(50.0), "http": figures(200.0)},
            ("trainee", "/slow over HTTP"): {"in_process": figures(50.0), "http": figures(201.0)},
            ("trainee", "/refused"): {"in_process": figures(5.0, [200, 403]), "http": figures(5.0)},
        },
    }
    run.judge(measured)
    fast, slow, refused = measured["pages"].values()
    assert (fast["in_process"]["x_login"], fast["http"]["x_login"], fast["verdict"]) == (5.0, 10.0, "PASS")
    assert (slow["http"]["x_login"], slow["verdict"]) == (10.05, "FAIL")
    assert refused["verdict"] == "FAIL"


def test_the_browser_keeps_and_forgets_cookies_as_told():
    browser = http.Browser(1)
    browser._keep("__Host-vigtrain_session=abc.def; Secure; HttpOnly; Path=/; SameSite=Lax")
    browser._keep("other=1; Path=/")
    browser._keep("other=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/")
    assert browser.cookies == {"__Host-vigtrain_session": "abc.def"}


def test_forgetting_second_factors_puts_accounts_back_as_seeded(tmp_path):
    path = tmp_path / "bench.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            'CREATE TABLE "user" (id INTEGER PRIMARY KEY, email TEXT, totp_secret TEXT, totp_enabled_at TEXT, '
            "totp_last_counter INTEGER)"
        )
        connection.execute("CREATE TABLE recovery_code (id INTEGER PRIMARY KEY, user_id INTEGER)")
        connection.execute("INSERT INTO \"user\" VALUES (1, 'admin@bench.example', 'gAAAAA', '2026-01-01', 5)")
        connection.execute("INSERT INTO \"user\" VALUES (2, 'other@bench.example', 'gAAAAA', '2026-01-01', 5)")
        connection.executemany("INSERT INTO recovery_code (user_id) VALUES (?)", [(1,), (1,), (2,)])
    connection.close()
    http.forget_second_factors(f"sqlite:///{path}", ["admin@bench.example"])
    with sqlite3.connect(path) as connection:
        users = connection.execute('SELECT id, totp_secret, totp_enabled_at, totp_last_counter FROM "user"').fetchall()
        codes = connection.execute("SELECT user_id FROM recovery_code").fetchall()
    connection.close()
    assert users == [(1, None, None, None), (2, "gAAAAA", "2026-01-01", 5)]
    assert codes == [(2,)]


def test_gunicorn_is_served_on_loopback_in_production_and_stopped_when_the_run_fails(tmp_path):
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(RuntimeError, match="the run failed"), http.serve(empty, workers=1) as server:
        browser = http.Browser(server.port)
        assert browser.get("/healthz") == 200
        assert browser.request("GET", "/login").status == 200
        assert "__Host-vigtrain_session" in browser.cookies
        os.killpg(server.pid, 0)  # the master and its worker are running
        raise RuntimeError("the run failed")
    with pytest.raises(ProcessLookupError):
        os.killpg(server.pid, 0)
