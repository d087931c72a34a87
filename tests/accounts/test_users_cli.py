"""`flask users create|list|deactivate`: each success, and each refusal saving nothing with exit status 1."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import PASSWORD, make_service, make_user
from vigtrain.accounts.models import Role, User
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.organisations.models import Service

STRONG = "seven purple otters sing loudly"


def users_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def run(app, *args, **kwargs):
    result = app.test_cli_runner().invoke(args=["users", *args], **kwargs)
    db.session.expire_all()  # the command committed through the same session; read afresh
    return result


def stored(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


# --- create ---------------------------------------------------------------------------------------


def test_create_makes_an_account_that_can_sign_in(app):
    service = make_service("Riverside Family Service")
    db.session.commit()
    result = run(
        app,
        "create",
        "--email",
        " Sam.Lead@Example.org ",
        "--name",
        "Sam Lead",
        "--role",
        "service_lead",
        "--role",
        "practitioner",
        "--service",
        "riverside family service",
        "--password",
        STRONG,
    )
    assert result.exit_code == 0, result.output
    user = stored("sam.lead@example.org")
    assert user.display_name == "Sam Lead"
    assert user.roles == {Role.SERVICE_LEAD, Role.PRACTITIONER}
    assert user.service_id == service.id
    assert "Created sam.lead@example.org (Sam Lead at Riverside Family Service)" in result.output
    assert "practitioner, service_lead" in result.output
    assert audit_actions() == ["user.created_from_cli"]
    event = db.session.scalar(select(AuditEvent))
    assert event.actor_label == "system" and event.entity_id == str(user.id)
    assert event.after["roles"] == ["practitioner", "service_lead"]
    assert app.test_client().login("sam.lead@example.org", STRONG).status_code == 302


def test_create_takes_a_service_by_its_number(app):
    service = make_service("Hillside Trust")
    db.session.commit()
    result = run(
        app,
        "create",
        "--email",
        "tia@example.org",
        "--name",
        "Tia Trainee",
        "--role",
        "trainee",
        "--service",
        str(service.id),
        "--password",
        STRONG,
    )
    assert result.exit_code == 0, result.output
    assert stored("tia@example.org").service_id == service.id


def test_create_prompts_for_the_password_twice_without_showing_it(app):
    result = run(
        app,
        "create",
        "--email",
        "ada@example.org",
        "--name",
        "Ada Admin",
        "--role",
        "administrator",
        input=f"{STRONG}\n{STRONG}\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1 and "Repeat for confirmation" in result.output
    assert STRONG not in result.output
    assert "two-factor authentication at first sign-in" in result.output
    assert stored("ada@example.org").has_role(Role.ADMINISTRATOR)


def test_a_prompted_password_that_is_not_repeated_exactly_is_asked_again(app):
    result = run(
        app,
        "create",
        "--email",
        "ada@example.org",
        "--name",
        "Ada Admin",
        "--role",
        "trainee",
        input=f"{STRONG}\nsomething else entirely\n{STRONG}\n{STRONG}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert stored("ada@example.org") is not None


def _refused(app, args, message, input=None):
    before = users_count()
    result = run(app, "create", *args, input=input)
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert users_count() == before
    assert "user.created_from_cli" not in audit_actions()
    return result


BASE = ("--email", "new@example.org", "--name", "New Person")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "12 characters or more"),
        ("password1234", "too common or too easy to guess"),
        ("new.person@example.org", "must not contain your email address"),
    ],
)
def test_create_refuses_a_weak_password(app, password, message):
    _refused(app, (*BASE, "--role", "trainee", "--password", password), message)


def test_create_refuses_a_weak_prompted_password(app):
    _refused(app, (*BASE, "--role", "trainee"), "12 characters or more", input="short\nshort\n")


def test_create_refuses_an_email_already_in_use_whatever_its_case(app):
    make_user("taken@example.org")
    result = _refused(
        app,
        ("--email", " TAKEN@Example.ORG", "--name", "Someone", "--role", "trainee", "--password", STRONG),
        "There is already an account with the email address taken@example.org",
    )
    assert "Password" not in result.output  # refused before asking for anything more


def test_create_refuses_an_unknown_role_naming_the_valid_ones(app):
    result = _refused(app, (*BASE, "--role", "trainee", "--role", "wizard", "--password", STRONG), "no role 'wizard'")
    for role in Role:
        assert role.value in result.stderr


def test_create_refuses_an_unknown_or_inactive_service(app):
    closed = make_service("Closed Service")
    closed.is_active = False
    db.session.commit()
    for value in ("Nowhere Trust", "Closed Service", "99999"):
        _refused(
            app, (*BASE, "--role", "trainee", "--service", value, "--password", STRONG), "There is no active service"
        )
    assert db.session.scalar(select(func.count()).select_from(Service)) == 1


def test_create_refuses_a_service_lead_without_a_service(app):
    _refused(app, (*BASE, "--role", "service_lead", "--password", STRONG), "A service lead needs --service")


def test_create_refuses_a_malformed_email_or_a_blank_name(app):
    _refused(
        app, ("--email", "not-an-email", "--name", "X", "--role", "trainee", "--password", STRONG), "correct format"
    )
    _refused(app, ("--email", "x@example.org", "--name", "  ", "--role", "trainee", "--password", STRONG), "full name")


# --- list -----------------------------------------------------------------------------------------


@pytest.fixture
def people(app):
    service = make_service("Riverside Family Service")
    return {
        "zoe": make_user("zoe@example.org", roles=(Role.SUPERVISOR, Role.PRACTITIONER), name="Zoe Z", service=service),
        "amy": make_user("amy@example.org", roles=(Role.TRAINEE,), name="Amy A"),
        "ben": make_user("ben@example.org", roles=(Role.TRAINEE,), name="Ben B", password=None),
        "gone": make_user("gone@example.org", roles=(Role.SUPERVISOR,), name="Gail Gone", is_active_flag=False),
    }


def _lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line]


def test_list_prints_active_people_by_email(app, people):
    result = run(app, "list")
    assert result.exit_code == 0, result.output
    assert _lines(result) == [
        "amy@example.org\tAmy A\ttrainee\tno service\tActive",
        "ben@example.org\tBen B\ttrainee\tno service\tInvited",
        "zoe@example.org\tZoe Z\tpractitioner,supervisor\tRiverside Family Service\tActive",
    ]
    assert "3 people." in result.stderr


def test_list_filters_by_role_and_status(app, people):
    assert [line.split("\t")[0] for line in _lines(run(app, "list", "--role", "supervisor"))] == ["zoe@example.org"]
    everyone = run(app, "list", "--role", "Supervisor", "--all")
    assert [line.split("\t")[0] for line in _lines(everyone)] == ["gone@example.org", "zoe@example.org"]
    assert _lines(run(app, "list", "--inactive")) == [
        "gone@example.org\tGail Gone\tsupervisor\tno service\tDeactivated"
    ]
    assert "0 people." in run(app, "list", "--role", "administrator").stderr


def test_list_refuses_an_unknown_role(app, people):
    result = run(app, "list", "--role", "wizard")
    assert result.exit_code == 1
    assert "no role 'wizard'" in result.stderr and result.stdout == ""


def test_list_streams_in_batches(app, monkeypatch):
    from vigtrain.accounts import cli

    monkeypatch.setattr(cli, "LIST_BATCH", 2)
    for number in range(5):
        make_user(f"p{number}@example.org", password=None)
    result = run(app, "list")
    assert result.exit_code == 0, result.output
    assert [line.split("\t")[0] for line in _lines(result)] == [f"p{number}@example.org" for number in range(5)]
    assert "5 people." in result.stderr


# --- deactivate -----------------------------------------------------------------------------------


def test_deactivate_ends_every_session_and_is_audited(app):
    user = make_user("leaver@example.org")
    client = app.test_client()
    assert client.login("leaver@example.org", PASSWORD).status_code == 302
    assert client.get("/account").status_code == 200
    version = user.session_version

    result = run(app, "deactivate", "--email", "Leaver@Example.org")
    assert result.exit_code == 0, result.output
    assert "leaver@example.org" in result.output and "deactivated" in result.output
    user = stored("leaver@example.org")
    assert not user.is_active_flag and user.session_version == version + 1
    assert user.status_label == "Deactivated"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.deactivated_from_cli"))
    assert event.before["is_active_flag"] is True and event.after["is_active_flag"] is False
    assert client.get("/account").status_code == 302  # the session that was open has ended
    assert client.login("leaver@example.org", PASSWORD).status_code != 302


def test_deactivating_an_unknown_email_is_refused(app):
    make_user("someone@example.org")
    result = run(app, "deactivate", "--email", "nobody@example.org")
    assert result.exit_code == 1
    assert "There is no account with the email address nobody@example.org" in result.stderr
    assert audit_actions() == []


def test_deactivating_twice_says_so_and_changes_nothing(app):
    user = make_user("gone@example.org", is_active_flag=False)
    version = user.session_version
    result = run(app, "deactivate", "--email", "gone@example.org")
    assert result.exit_code == 0
    assert "already deactivated" in result.output
    assert stored("gone@example.org").session_version == version
    assert audit_actions() == []


def test_an_address_taken_while_the_command_runs_is_refused_with_a_message(app, monkeypatch):
    """The other operator's account is committed after both checks looked: the insert fails in the
    database, the change runs again, and this time the check says the address is taken."""
    from vigtrain.accounts import cli

    make_user("race@example.org", name="First Operator's Person")
    real = cli.find_user_by_email
    looks = iter([None, None])  # the check before the transaction, and the first check inside it
    monkeypatch.setattr(cli, "find_user_by_email", lambda email: next(looks, real(email)))
    before = users_count()
    result = run(
        app, "create", "--email", "race@example.org", "--name", "Second", "--role", "trainee", "--password", STRONG
    )
    assert result.exit_code == 1
    assert "There is already an account with the email address race@example.org" in result.output
    assert "Traceback" not in result.output
    assert users_count() == before
