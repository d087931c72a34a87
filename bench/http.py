"""Time pages over HTTP through gunicorn, served as production serves them (DESIGN.md §5, "Performance").

`bench.run` calls `measure` once per scale. It starts gunicorn on a free loopback port (two sync
workers, `wsgi:app`, the production configuration) with the seeded SQLite file as its database,
signs each bench user in through the real sign-in pages, and times each page sequentially.

Production serves HTTPS only: its session cookie is `__Host-` and Secure, and CSRF checks the
Referer strictly. The bench therefore stands where the TLS-terminating proxy stands: gunicorn
trusts one proxy (PROXY_FIX_X_FOR=1, the supported setting) and every request carries the headers
that proxy would add (X-Forwarded-Proto: https, X-Forwarded-For). Nothing in the production
configuration is loosened.

The client is `http.client`, with its own cookie store: a browser behind that proxy sends its Secure
cookie, but a cookie jar (requests' included) rightly refuses to send one over plain HTTP. It also
keeps the client's own cost small beside the server's, and gunicorn's sync workers close every
connection anyway, so a pooled client would gain nothing.

Administrators must have a second factor in production, and the seeded administrator has none:
the bench enrols one through the real pages (reading the key the setup page shows, as a person
who cannot scan the QR code would), then takes it off again in the database afterwards, so every
run, in-process or over HTTP, starts from the seeded state.
"""

from __future__ import annotations

import gc
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode, urlsplit

import pyotp
from sqlalchemy import create_engine, text

from vigtrain.config import PROJECT_ROOT, TestConfig

WORKERS = 2
HOST = "127.0.0.1"
STARTUP_SECONDS = 60.0
STOP_SECONDS = 10.0
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SETUP_KEY = re.compile(r'class="govuk-body app-code">([A-Z2-7]+)<')


class Server(NamedTuple):
    port: int
    pid: int  # gunicorn's master, which leads its own process group


class Answer(NamedTuple):
    status: int
    location: str
    body: str


class Browser:
    """One person's browser, seen by gunicorn through a TLS-terminating proxy on the same machine."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"https://{HOST}:{port}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, fields: dict[str, str] | None = None, referer: str = "") -> Answer:
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": HOST}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if referer:
            headers["Referer"] = self.origin + referer
        body = None
        if fields is not None:
            body = urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(HOST, self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                self._keep(header)
            return Answer(response.status, urlsplit(response.getheader("Location") or "").path, text)
        finally:
            connection.close()

    def get(self, path: str) -> int:
        return self.request("GET", path).status

    def _keep(self, header: str) -> None:
        pair, *attributes = (part.strip() for part in header.split(";"))
        name, _, value = pair.partition("=")
        expired = any(attribute.lower() == "max-age=0" for attribute in attributes)
        if expired or not value:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def post_form(self, path: str, page: Answer, fields: dict[str, str]) -> Answer:
        """Send the form on `page` (already fetched from `path`) with its CSRF token, as a browser would."""
        token = CSRF_INPUT.search(page.body)
        if not token:
            raise RuntimeError(f"no CSRF token on {path} (status {page.status})")
        return self.request("POST", path, {"csrf_token": token.group(1), **fields}, referer=path)


def sign_in(port: int, email: str, password: str) -> Browser:
    """Sign in through /login; an administrator also sets up the second factor production requires."""
    return sign_in_keeping_key(port, email, password)[0]


def sign_in_keeping_key(port: int, email: str, password: str) -> tuple[Browser, str | None]:
    """`sign_in`, also returning the second factor's key where it set one up (None where it did not)."""
    browser = Browser(port)
    answer = browser.post_form("/login", browser.request("GET", "/login"), {"email": email, "password": password})
    if answer.status != 302 or answer.location == "/login/security-code":
        raise RuntimeError(
            f"signing in as {email} over HTTP answered {answer.status} ({answer.location or 'no redirect'})"
        )
    landing = browser.request("GET", answer.location or "/home")
    if landing.status != 302 or landing.location != "/account/two-factor":
        return browser, None
    setup = browser.request("GET", "/account/two-factor")
    key = SETUP_KEY.search(setup.body)
    if not key:
        raise RuntimeError(f"no key on the two-factor setup page for {email} (status {setup.status})")
    enabled = browser.post_form("/account/two-factor", setup, {"code": pyotp.TOTP(key.group(1)).now()})
    if enabled.status != 200 or "recovery" not in enabled.body.lower():
        raise RuntimeError(f"setting up the second factor for {email} answered {enabled.status}")
    return browser, key.group(1)


def forget_second_factors(database: str, emails: list[str]) -> None:
    """Put these accounts back as seeded: no second factor, no recovery codes."""
    engine = create_engine(database)
    try:
        with engine.begin() as connection:
            for email in emails:
                connection.execute(
                    text('DELETE FROM recovery_code WHERE user_id IN (SELECT id FROM "user" WHERE email = :email)'),
                    {"email": email},
                )
                connection.execute(
                    text(
                        'UPDATE "user" SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_counter = NULL '
                        "WHERE email = :email"
                    ),
                    {"email": email},
                )
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def server_environment(database: str, instance: Path, port: int) -> dict[str, str]:
    """The production configuration, pointed at the seeded database (a URL) and a throwaway instance folder."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("VIGTRAIN_", "FLASK_", "DATABASE_"))
    }
    environment.update(
        {
            "VIGTRAIN_CONFIG": "production",
            "DATABASE_URL": database,
            "VIGTRAIN_INSTANCE_DIR": str(instance),
            "SECRET_KEY": secrets.token_urlsafe(48),
            # The seed encrypted its secrets (notification bodies) with the test keys.
            "VIGTRAIN_DATA_KEYS": ",".join(TestConfig().DATA_KEYS),
            "VIGTRAIN_BASE_URL": f"https://{HOST}:{port}",
            "PROXY_FIX_X_FOR": "1",
            # Each worker counts in its own memory, and a fresh server per scale starts at nought: the
            # bench signs in a handful of accounts once each, far inside the sign-in limits.
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    return environment


@contextmanager
def serve(database: str, workers: int = WORKERS) -> Iterator[Server]:
    """Run gunicorn on a free loopback port until the block ends, however it ends."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="vigtrain-bench-") as folder:
        instance, log = Path(folder) / "instance", Path(folder) / "gunicorn.log"
        instance.mkdir()
        command = [
            str(gunicorn),
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--chdir",
            str(PROJECT_ROOT),
            "--log-level",
            "info",
            "wsgi:app",
        ]
        with log.open("w") as output:
            # A session of its own, so the master and its workers can be stopped together.
            server = subprocess.Popen(  # noqa: S603 (a fixed command: the venv's gunicorn)
                command,
                env=server_environment(database, instance, port),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                _wait_until_ready(server, port, log, workers)
                yield Server(port, server.pid)
            finally:
                _stop(server)


def _wait_until_ready(server: subprocess.Popen, port: int, log: Path, workers: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        booted = log.read_text().count("Booting worker")
        try:
            if booted >= workers and Browser(port).get("/healthz") == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {STARTUP_SECONDS:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(server: subprocess.Popen) -> None:
    """Ask gunicorn to stop (SIGTERM lets workers finish); kill its whole group if it will not."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def time_page(get, url: str, requests: int, warm_up: int) -> dict:
    """Warm up, then time `requests` sequential GETs of `url`; `get` returns the status code."""
    statuses = {get(url) for _ in range(warm_up)}
    timings = []
    gc.collect()
    for _ in range(requests):
        started = time.perf_counter()
        statuses.add(get(url))
        timings.append((time.perf_counter() - started) * 1000)
    return {"url": url, "status": sorted(statuses), "timings": timings}


def measure(
    database: str,
    pages: list[tuple[tuple[str, str], str, str]],
    login_url: str,
    password: str,
    requests: int,
    warm_up: int,
    login_requests: int | None = None,
) -> dict:
    """Time the signed-out login page, then each (key, email, url) page as its user, over HTTP.

    Returns {"login": timing, "pages": {key: timing}} with raw timings in milliseconds.
    """
    emails = sorted({email for _key, email, _url in pages})
    forget_second_factors(database, emails)
    try:
        with serve(database) as (port, _pid):
            signed_out = Browser(port)
            login = time_page(signed_out.get, login_url, login_requests or requests, warm_up)
            browsers = {email: sign_in(port, email, password) for email in emails}
            if not any(name.startswith("__Host-") for name in signed_out.cookies):
                raise RuntimeError("gunicorn did not answer as production does (no __Host- session cookie)")
            timed = {key: time_page(browsers[email].get, url, requests, warm_up) for key, email, url in pages}
    finally:
        forget_second_factors(database, emails)
    return {"login": login, "pages": timed}
