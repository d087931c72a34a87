"""The one way a change is run and committed: `transactions.run`, `submit` and `command`.

Each test changes `Service` rows and then looks at what was committed through a connection of its
own, so it sees only what the helper committed; where nothing may be saved, it also commits the
session afterwards, so a change that was neither committed nor rolled back is caught as well.
"""

from __future__ import annotations

import click
import pytest
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from wtforms import StringField

from tests.factories import make_service
from vigtrain import transactions
from vigtrain.errors import Conflict, DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.organisations.models import Service


class NameForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name")


def committed_names() -> list[str]:
    with db.engine.connect() as connection:
        return list(connection.scalars(select(Service.name).order_by(Service.name)))


def assert_saved(*names: str) -> None:
    """Exactly `names` are committed, and nothing is left over that a later commit would add."""
    assert committed_names() == sorted(names)
    db.session.commit()
    assert committed_names() == sorted(names)


def refuse_after_adding(name: str, error: Exception):
    def change() -> None:
        make_service(name)
        raise error

    return change


# --- run ------------------------------------------------------------------------------------------


def test_run_commits_and_returns_what_the_change_returned(app):
    service = transactions.run(lambda: make_service("Leeds"))
    assert service.name == "Leeds"
    assert committed_names() == ["Leeds"]


def test_run_rolls_back_a_broken_rule_and_raises_it(app):
    with pytest.raises(DomainError, match="not allowed"):
        transactions.run(refuse_after_adding("Leeds", DomainError("not allowed", field="name")))
    assert_saved()


def test_run_keeps_what_was_flushed_before_a_refusal_when_asked(app):
    with pytest.raises(DomainError, match="not allowed"):
        transactions.run(refuse_after_adding("Leeds", DomainError("not allowed")), keep_refused=True)
    assert committed_names() == ["Leeds"]


def test_run_turns_a_refusal_into_the_callers_exception(app):
    with pytest.raises(LookupError, match="mapped: not allowed"):
        transactions.run(
            refuse_after_adding("Leeds", DomainError("not allowed")),
            refusal=lambda error: LookupError(f"mapped: {error.message}"),
        )
    assert_saved()


def test_run_lets_a_refused_permission_escape_as_itself_even_with_a_refusal_mapping(app):
    with pytest.raises(PermissionDenied):
        transactions.run(
            refuse_after_adding("Leeds", PermissionDenied("not yours")), refusal=lambda error: LookupError()
        )
    assert_saved()


def test_run_turns_stale_data_into_a_conflict_and_rolls_back(app):
    service = transactions.run(lambda: make_service("Original"))

    def rename_a_deleted_row() -> None:
        make_service("Extra")
        # Gone from the table but not from the session, as when someone else deleted it meanwhile:
        # the UPDATE matches no row and the flush raises StaleDataError.
        db.session.execute(delete(Service).where(Service.id == service.id).execution_options(synchronize_session=False))
        service.name = "Renamed"
        db.session.flush()

    with pytest.raises(Conflict) as raised:
        transactions.run(rename_a_deleted_row)
    assert raised.value.message == transactions.STALE
    assert_saved("Original")


def test_run_rolls_back_an_unexpected_error_and_raises_it(app):
    with pytest.raises(RuntimeError, match="disk on fire"):
        transactions.run(refuse_after_adding("Leeds", RuntimeError("disk on fire")))
    assert_saved()


def _clashing(attempts: list[int], names: list[str]):
    """A change adding a service named by the next of `names` on each attempt; `attempts` counts them."""

    def change() -> Service:
        attempts.append(1)
        return make_service(names[min(len(attempts), len(names)) - 1])

    return change


def test_run_does_not_retry_unless_asked(app):
    transactions.run(lambda: make_service("Taken"))
    attempts: list[int] = []
    with pytest.raises(Conflict) as lost:
        transactions.run(_clashing(attempts, ["Taken", "Fresh"]))
    assert isinstance(lost.value.__cause__, IntegrityError)
    assert "Someone else saved the same thing at the same moment" in lost.value.message
    assert len(attempts) == 1
    assert_saved("Taken")


def test_keep_refused_rolls_back_when_keeping_fails(app, monkeypatch):
    """If committing what a refusal kept fails too, nothing is left half-done: rolled back, then raised."""
    real_commit = db.session.commit

    def failing_commit() -> None:
        raise IntegrityError("COMMIT", {}, Exception("the database said no"))

    monkeypatch.setattr(db.session, "commit", failing_commit)
    with pytest.raises(IntegrityError):
        transactions.run(refuse_after_adding("Leeds", DomainError("No")), keep_refused=True)
    monkeypatch.setattr(db.session, "commit", real_commit)
    assert_saved()


def test_run_retries_a_change_that_lost_a_race_and_commits_the_next_attempt(app):
    transactions.run(lambda: make_service("Taken"))
    attempts: list[int] = []
    service = transactions.run(_clashing(attempts, ["Taken", "Fresh"]), retries=2)
    assert service.name == "Fresh" and len(attempts) == 2
    assert_saved("Fresh", "Taken")


def test_run_gives_up_after_the_retries_it_was_given(app):
    transactions.run(lambda: make_service("Taken"))
    attempts: list[int] = []
    with pytest.raises(Conflict):
        transactions.run(_clashing(attempts, ["Taken"]), retries=2)
    assert len(attempts) == 3
    assert_saved("Taken")


# --- submit ---------------------------------------------------------------------------------------


def test_submit_returns_a_truthy_outcome_with_the_value_and_commits(app):
    with app.test_request_context(method="POST", data={"name": "Leeds"}):
        form = NameForm()
        outcome = transactions.submit(form, lambda: make_service(form.name.data))
        assert outcome and outcome.ok and outcome.value.name == "Leeds"
        assert not form.errors
    assert committed_names() == ["Leeds"]


def test_submit_puts_a_broken_rule_beside_its_field_and_saves_nothing(app):
    with app.test_request_context(method="POST", data={"name": "Leeds"}):
        form = NameForm()
        outcome = transactions.submit(form, refuse_after_adding("Leeds", DomainError("Name taken", field="name")))
        assert not outcome and outcome.value is None
        assert form.name.errors == ["Name taken"]
        assert get_flashed_messages() == []
    assert_saved()


def test_submit_without_a_form_flashes_the_broken_rule(app):
    with app.test_request_context(method="POST"):
        outcome = transactions.submit(None, refuse_after_adding("Leeds", DomainError("Already open")))
        assert not outcome
        assert get_flashed_messages(with_categories=True) == [("error", "Already open")]
    assert_saved()


def test_submit_lets_a_conflict_escape_to_the_409_page(app):
    with app.test_request_context(method="POST", data={"name": "Leeds"}):
        form = NameForm()
        with pytest.raises(Conflict):
            transactions.submit(form, refuse_after_adding("Leeds", Conflict("changed meanwhile")))
        assert not form.errors
    assert_saved()


# --- command --------------------------------------------------------------------------------------


def test_command_stops_with_the_broken_rule_as_its_message(app):
    with pytest.raises(click.ClickException) as raised:
        transactions.command(refuse_after_adding("Leeds", DomainError("No such pathway")), prefix="Nothing loaded.\n")
    assert raised.value.message == "Nothing loaded.\nNo such pathway"
    assert_saved()


def test_command_stops_with_the_message_of_an_error_it_was_told_to_refuse(app):
    with pytest.raises(click.ClickException) as raised:
        transactions.command(refuse_after_adding("Leeds", ValueError("bad file")), refuse=(ValueError,))
    assert raised.value.message == "bad file"
    assert_saved()


def test_command_commits_and_returns_the_value(app):
    assert transactions.command(lambda: make_service("Leeds").name) == "Leeds"
    assert committed_names() == ["Leeds"]
