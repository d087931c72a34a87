"""The load test's reading of locust's statistics and its report (no server, no locust run)."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace

import pytest

from bench import load

HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
    "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
    "99.99%,100%\n"
)


def fake_locust(folder, stem: str, rows: list[str], failures: list[str]):
    def run(command, **_kwargs):
        prefix = command[command.index("--csv") + 1]
        (folder / f"{prefix.rsplit('/', 1)[1]}_stats.csv").write_text(HEADER + "".join(rows))
        if failures:
            (folder / f"{prefix.rsplit('/', 1)[1]}_failures.csv").write_text(
                "Method,Name,Error,Occurrences\n" + "".join(failures)
            )
        return SimpleNamespace(returncode=1 if failures else 0, stderr="")

    return run


def test_steps_and_failures_are_read_from_locusts_files(tmp_path, monkeypatch):
    rows = [
        "GET,trainee: home,120,0,40,52.1,20,900,30000,4.0,0.0,40,50,60,70,90,160,300,500,900,900,900\n",
        "POST,trainee: sign in,30,2,210,250.0,90,1800,0,1.0,0.1,210,260,300,400,800,1200,1500,1800,1800,1800,1800\n",
        ",Aggregated,150,2,45,90.0,20,1800,24000,5.0,0.1,45,60,80,90,200,700,1200,1500,1800,1800,1800\n",
    ]
    failures = ["POST,trainee: sign in,\"CatchResponseError('POST /login answered 429 to nowhere')\",2\n"]
    monkeypatch.setattr(subprocess, "run", fake_locust(tmp_path, "locustfile", rows, failures))
    result = load.run_locust(load.LOCUSTFILE, 8000, 200, 120, tmp_path / "accounts.json", tmp_path)
    assert result["steps"][0] == {
        "step": "trainee: home",
        "method": "GET",
        "requests": 120,
        "failures": 0,
        "p50_ms": 40.0,
        "p95_ms": 160.0,
        "per_second": 4.0,
    }
    assert result["steps"][-1]["step"] == "all requests" and result["steps"][-1]["failures"] == 2
    assert result["failures"] == [
        {
            "step": "trainee: sign in",
            "error": "CatchResponseError('POST /login answered 429 to nowhere')",
            "occurrences": 2,
        }
    ]
    report = load.markdown(
        {
            "database": "PostgreSQL",
            "scale": 10,
            "workers": 4,
            "cpu_count": 2,
            "date": "2026-12-08",
            "working_day": result
            | {"connections": {"samples": 3, "open_max": 4, "open_median": 4, "busy_max": 2, "busy_median": 1}},
            "verification": result,
        }
    )
    assert "150 requests, 2 failed; 5.0 requests a second; p50 45 ms, p95 700 ms." in report
    assert "| trainee: sign in (POST) | 30 | 2 | 210 | 1200 | 1.0 |" in report
    assert "Failed: trainee: sign in: CatchResponseError('POST /login answered 429 to nowhere') (2 times)" in report
    assert "at most 4 open (median 4), at most 2 running a statement (median 1)" in report


def test_a_run_that_wrote_nothing_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(subprocess, "run", lambda *_a, **_k: SimpleNamespace(returncode=2, stderr="no locustfile"))
    with pytest.raises(RuntimeError, match="no locustfile"):
        load.run_locust(load.LOCUSTFILE, 8000, 1, 1, tmp_path / "accounts.json", tmp_path)
