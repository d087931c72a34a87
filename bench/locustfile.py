"""The load test's simulated people, for locust (run by `bench.load`, which says who they are).

Three kinds of user, each signing in through the real pages and then reading what that person reads
in a working day, with a pause of one to four seconds between pages as a person takes:

- a trainee (most users): signs in, then round after round of home, their cases, their busiest
  case, their enrolment, their supervision log, the log-a-session form and their outcome report,
  signing out and in again after every third round;
- a supervisor: the same with home, their trainees, the confirmation queue, one trainee's
  supervision and notifications;
- an administrator (one per administrator account, since each needs a second factor): signs in once
  with a time-based code, then goes round the training records (a search too), the people list, the
  audit trail, the national report, capacity, training flow and certificates to issue.

Each simulated person has an account of their own and an address of their own, as 200 people in
different places would, and is seen by gunicorn through the TLS-terminating proxy as in `bench.http`
(X-Forwarded-Proto: https). The session cookie is Secure, and a cookie jar rightly keeps a Secure
cookie off plain HTTP; each cookie is therefore kept unmarked, so it is sent over the loopback
connection where the proxy would send it on.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from pathlib import Path

import pyotp
from locust import HttpUser, between, task

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ACCOUNTS = json.loads(Path(os.environ["VIGTRAIN_LOAD_ACCOUNTS"]).read_text())
PASSWORD = ACCOUNTS["password"]
_numbers = itertools.count()  # each simulated person's address
_accounts = {kind: itertools.count() for kind in ("trainee", "supervisor", "administrator")}
ROUNDS_PER_SIGN_IN = 3  # a person signs out and in again after every third round of their pages


class Person(HttpUser):
    abstract = True
    wait_time = between(1, 4)
    kind = ""

    def on_start(self) -> None:
        number = next(_numbers)
        pool = ACCOUNTS[self.kind]
        # An account of their own: two people sharing one would sign each other out.
        self.account = pool[next(_accounts[self.kind]) % len(pool)]
        self.rounds = 0
        self.client.headers.update(
            {"X-Forwarded-Proto": "https", "X-Forwarded-For": f"10.{number // 250 % 250}.{number % 250}.7"}
        )

    def page(self, step: str, path: str) -> str:
        """GET a page the person reads; anything but a 200 is a failure of that step."""
        with self.client.get(path, name=f"{self.kind}: {step}", catch_response=True, allow_redirects=False) as answer:
            if answer.status_code != 200:
                answer.failure(f"{path} answered {answer.status_code}")
        self.keep_cookies()
        return answer.text

    def keep_cookies(self) -> None:
        for cookie in self.client.cookies:
            cookie.secure = False

    def send(self, step: str, path: str, form: str, fields: dict[str, str], expect: str) -> None:
        """POST the form on `form` (its page's HTML) as a browser would; it must redirect to `expect`."""
        token = CSRF_INPUT.search(form)
        referer = f"https://{self.host.split('://', 1)[1]}{path}"
        with self.client.post(
            path,
            data={"csrf_token": token.group(1) if token else "", **fields},
            headers={"Referer": referer},
            name=f"{self.kind}: {step}",
            catch_response=True,
            allow_redirects=False,
        ) as answer:
            location = answer.headers.get("Location", "")
            if answer.status_code != 302 or not location.endswith(expect):
                answer.failure(f"POST {path} answered {answer.status_code} to {location or 'nowhere'}")
        self.keep_cookies()

    def sign_in(self) -> None:
        self.client.cookies.clear()
        form = self.page("sign-in page", "/login")
        self.send("sign in", "/login", form, {"email": self.account["email"], "password": PASSWORD}, "/home")

    def sign_out(self, form: str) -> None:
        self.send("sign out", "/logout", form, {}, "/login")

    def journey(self, steps: list[tuple[str, str]]) -> str:
        html = ""
        for step, path in steps:
            self.wait()
            html = self.page(step, path)
        return html

    def round_of_pages(self, steps: list[tuple[str, str]]) -> None:
        """Sign in (on the first round and after each sign-out), read the pages, and sign out after
        every ROUNDS_PER_SIGN_IN rounds: people sign in far less often than they open pages."""
        if self.rounds % ROUNDS_PER_SIGN_IN == 0:
            self.sign_in()
        last = self.journey(steps)
        self.rounds += 1
        if self.rounds % ROUNDS_PER_SIGN_IN == 0:
            self.sign_out(last)


class Trainee(Person):
    weight = 7
    kind = "trainee"

    @task
    def working_day(self) -> None:
        account = self.account
        self.round_of_pages(
            [
                ("home", "/home"),
                ("cases", "/cases"),
                ("a case", f"/cases/{account['case']}"),
                ("enrolment", f"/enrolments/{account['enrolment']}"),
                ("supervision log", "/supervision"),
                ("log-a-session form", "/supervision/new"),
                ("outcome report", "/reports/practitioner"),
            ]
        )


class Supervisor(Person):
    weight = 3
    kind = "supervisor"

    @task
    def working_day(self) -> None:
        self.round_of_pages(
            [
                ("home", "/home"),
                ("trainees", "/supervisor/trainees"),
                ("confirmation queue", "/supervision/queue"),
                ("a trainee's supervision", f"/supervision/trainees/{self.account['enrolment']}"),
                ("notifications", "/notifications"),
            ]
        )


class Administrator(Person):
    fixed_count = len(ACCOUNTS["administrator"])
    kind = "administrator"

    def on_start(self) -> None:
        super().on_start()
        form = self.page("sign-in page", "/login")
        self.send(
            "sign in", "/login", form, {"email": self.account["email"], "password": PASSWORD}, "/login/security-code"
        )
        form = self.page("security code page", "/login/security-code")
        # The code of the next time-step (within the one step of drift allowed): the step now was used
        # when bench.load set the second factor up, and a code is never accepted twice.
        code = pyotp.TOTP(self.account["key"]).at(time.time() + 30)
        self.send("security code", "/login/security-code", form, {"code": code}, "/home")

    @task
    def round_of_the_office(self) -> None:
        self.journey(
            [
                ("home", "/home"),
                ("training records", "/admin/records"),
                ("training records search", "/admin/records?q=person+12&sort=name"),
                ("people", "/admin/users/"),
                ("audit trail", "/admin/audit"),
                ("national report", "/reports/national"),
                ("capacity", "/admin/capacity"),
                ("training flow", "/training-flow/?scope=all"),
                ("certificates to issue", "/admin/certificates/to-issue"),
            ]
        )
