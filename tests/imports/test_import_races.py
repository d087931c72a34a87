"""Two administrators import the same intake at the same moment: everyone once, never a 500."""

from __future__ import annotations

import io

from tests.factories import make_admin, make_user
from tests.imports.conftest import TODAY
from tests.imports.files import csv_bytes, intake_rows
from tests.imports.test_import_pages import _key
from tests.races.helpers import at_once, audit_count, row_count
from vigtrain.accounts.models import Role, User
from vigtrain.imports import staging
from vigtrain.notifications.models import OutboxMessage
from vigtrain.pathways.models import Enrolment


def test_the_same_file_confirmed_by_two_administrators_at_once_imports_everyone_once(app, intake):
    make_admin("abe@example.org")
    # Already held without an enrolment: both imports would add one, and only one may.
    make_user("trainee03@example.org", roles=(Role.TRAINEE,), name="Already Here")
    people = row_count(User)
    clients, keys = [], []
    for email in (intake.email, "abe@example.org"):
        client = app.test_client()
        client.login(email)
        upload = client.submit(
            "/admin/import/",
            {"file": (io.BytesIO(csv_bytes(intake_rows())), "intake.csv"), "upload": "Check the file"},
            content_type="multipart/form-data",
        )
        clients.append(client)
        keys.append(_key(upload))
    forms = [
        {**client.hidden_fields(f"/admin/import/{key}"), "confirm": "Import"}
        for client, key in zip(clients, keys, strict=True)
    ]
    answers = at_once(
        [
            lambda client=client, key=key, form=form: client.post(
                f"/admin/import/{key}", data=form, headers={"Referer": f"http://localhost/admin/import/{key}"}
            )
            for client, key, form in zip(clients, keys, forms, strict=True)
        ]
    )
    assert [answer.status_code for answer in answers] == [302, 302]
    assert (row_count(User) - people, row_count(Enrolment), row_count(OutboxMessage)) == (22, 20, 22)
    runs = sorted(staging.record(key)["run"]["counts"]["already present"] for key in keys)
    assert runs == [0, 23]
    assert audit_count("import.people") == 2


def test_two_imports_enrolling_the_same_held_person_checked_at_once_enrol_them_once(app, intake, monkeypatch):
    """Both imports check before either writes (held back at a barrier): the second must see the first's
    enrolment, so the person is held (locked) before their file is checked, not after."""
    import contextlib
    import threading

    import vigtrain.imports.services as services

    trainee = make_user("trainee03@example.org", roles=(Role.TRAINEE,), name="Already Here")
    data = csv_bytes([["Already Here", "trainee03@example.org", "trainee", "", "vig-practitioner", "", "", "", ""]])
    barrier = threading.Barrier(2, timeout=2)
    real_insert = services._insert_people

    def insert_after_both_checked(rows):
        # A broken barrier: the other import is held back until this one commits, as it should be.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return real_insert(rows)

    monkeypatch.setattr(services, "_insert_people", insert_after_both_checked)

    def run_import():
        from vigtrain import transactions
        from vigtrain.extensions import db

        with app.app_context():
            try:
                return transactions.run(lambda: services.import_people(None, data, "f.csv", TODAY), retries=1).counts
            finally:
                db.session.remove()

    outcomes = at_once([run_import, run_import])
    assert sorted(outcome["enrolment added"] for outcome in outcomes) == [0, 1]
    assert row_count(Enrolment) == 1 and trainee.id
