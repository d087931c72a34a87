"""Verification alone, for locust (run by `bench.load`): as many requests as the server will take.

Each visitor asks for a valid certificate's public page and then its JSON, with no pause. Every
request comes from an address of its own: verification is rate-limited per address, and the people
checking certificates are many, so the figure measured is the server's rate, not the limit's.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from locust import HttpUser, constant, task

ACCOUNTS = json.loads(Path(os.environ["VIGTRAIN_LOAD_ACCOUNTS"]).read_text())
NUMBERS = ACCOUNTS["certificates"]


class Verifier(HttpUser):
    wait_time = constant(0)

    def address(self) -> dict[str, str]:
        """A different visitor's address for each request (drawn, not secret)."""
        octets = [random.randint(1, 254) for _ in range(3)]  # noqa: S311
        return {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10." + ".".join(map(str, octets))}

    @task
    def verify(self) -> None:
        number = random.choice(NUMBERS)  # noqa: S311
        for path, name in ((f"/verify/{number}", "verify: page"), (f"/verify/{number}.json", "verify: JSON")):
            with self.client.get(
                path, name=name, headers=self.address(), catch_response=True, allow_redirects=False
            ) as answer:
                if answer.status_code != 200:
                    answer.failure(f"{path} answered {answer.status_code}")
