"""The people of one enrolment, shared by the stage tests (time frozen at 2 March 2026)."""

from __future__ import annotations

import pytest

from tests.factories import make_user
from vigtrain.accounts.models import Role


@pytest.fixture
def people(app, clock):
    """Trainee, personal supervisor, accrediting supervisor and administrator, and two who are not on it."""
    return {
        "trainee": make_user("trainee@example.org", roles=(Role.TRAINEE,), name="Tara Trainee"),
        "supervisor": make_user(
            "sup@example.org", roles=(Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR), name="Sue Supervisor"
        ),
        "accreditor": make_user(
            "acc@example.org", roles=(Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR), name="Al Accreditor"
        ),
        "admin": make_user("boss@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin"),
        "plain": make_user("plain@example.org", roles=(Role.SUPERVISOR,), name="Pat Plain"),
        "stranger": make_user("other@example.org", roles=(Role.TRAINEE, Role.SUPERVISOR), name="Olly Other"),
    }
