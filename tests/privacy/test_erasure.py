"""Erasure: what goes, what stays, what verification still answers, and that nothing is ever half-done.

One world (time frozen at 2 March 2026): Tara, a trainee in Stage 1 with a submitted statement and file,
assessments with comments, a supervision session, a case with cycles and DCS measures, a VERP
accreditation in the public register, notifications, mail, an API token and a second factor; she
changed her name once, and she supervised Una's finished enrolment. Sian supervises her; Owen's
reflection and Sian's notification mention her. Ada and Abe are administrators.
"""

from __future__ import annotations

import json
from datetime import date

import pyotp
import pytest
from sqlalchemy import JSON, String, Text, func, select

from tests.certificate_factories import issue, make_earned_record
from tests.factories import make_case, make_enrolment, make_service, make_supervision, make_user
from tests.races.helpers import at_once
from tests.report_factories import record_case
from vigtrain import audit, transactions
from vigtrain.accounts.models import Role, User
from vigtrain.accounts.services import invite_user, update_own_details
from vigtrain.api_tokens.models import PersonalAccessToken
from vigtrain.api_tokens.services import create_token
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import Case, Cycle
from vigtrain.certificates.models import Certificate, CertificateStatus
from vigtrain.dates import utcnow
from vigtrain.dcs.models import Administration, CaseOutcome
from vigtrain.encryption import EncryptedString
from vigtrain.errors import DomainError, NotFound
from vigtrain.extensions import db
from vigtrain.notifications.models import EmailState, Notification, NotificationKind, OutboxMessage
from vigtrain.notifications.services import send_email
from vigtrain.pathways.definitions import principles
from vigtrain.pathways.models import (
    Assessment,
    AssessmentKind,
    Enrolment,
    EnrolmentStatus,
    StageRecord,
    StageState,
    StageTransition,
)
from vigtrain.privacy import erasure
from vigtrain.privacy.models import Erasure
from vigtrain.supervision.models import SupervisionSession
from vigtrain.training.services import save_assessment
from vigtrain.uploads import store_bytes, upload_folder

PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EMAIL = "tara@example.org"
FORMER_NAME = "Tara Trainee"
NAME = "Tara Ashworth-Nowak"
FORMER_EMAIL = "tara.trainee@old-service.example.org"
IDENTIFIERS = (EMAIL, FORMER_EMAIL, FORMER_NAME, NAME)
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
REASON = "Erasure request by email of 1 March 2026; no retention duty applies."


@pytest.fixture
def world(app, clock):
    service = make_service("Riverside Family Service")
    ada = make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    abe = make_user("abe@example.org", roles=(Role.ADMINISTRATOR,), name="Abe Admin")
    sian = make_user("sian@example.org", roles=(Role.SUPERVISOR, Role.PRACTITIONER), name="Sian Supervisor")
    roles = (Role.TRAINEE, Role.SUPERVISOR, Role.SERVICE_LEAD)
    tara = make_user(EMAIL, roles=roles, name=FORMER_NAME, service_id=service.id)
    owen = make_user("owen@example.org", roles=(Role.TRAINEE,), name="Owen Other")
    una = make_user("una@example.org", roles=(Role.TRAINEE,), name="Una Unrelated")

    # Accredited in VERP under her former name (the register lists her), in training in VIG.
    certificate = issue(make_earned_record(tara, code="verp-practitioner", version="2024.1"), ada)
    tara.register_opt_in = True
    update_own_details(tara, NAME)
    # An address she held before (the trail remembers it), with mail to it still in the outbox.
    audit.record(ada, "user.updated", tara, before={"email": FORMER_EMAIL}, after={"email": EMAIL})
    send_email(FORMER_EMAIL, "Welcome", f"Dear {FORMER_NAME}, welcome to vigtrain.")
    db.session.commit()

    enrolment = make_enrolment(tara, sian, actor=ada)
    stage = enrolment.stages[1]
    stage.state, stage.started_on = StageState.IN_PROGRESS, date(2026, 1, 5)
    db.session.commit()
    codes = principles().codes
    save_assessment(tara, stage, AssessmentKind.SELF, dict.fromkeys(codes, (3, f"My own evidence, {NAME}")))
    save_assessment(sian, stage, AssessmentKind.SUPERVISOR, dict.fromkeys(codes, (4, f"{FORMER_NAME} receives well")))
    stage.statement_text = f"What I, {NAME}, learned about receiving initiatives."
    stage.statement_file_key = store_bytes(PDF_BYTES)
    stage.statement_file_name, stage.statement_file_type = "Tara statement.pdf", "application/pdf"
    stage.statement_file_size = len(PDF_BYTES)
    stage.state, stage.submitted_at = StageState.SUBMITTED, utcnow()
    db.session.add(
        StageTransition(
            stage_record=stage,
            from_state=StageState.IN_PROGRESS,
            to_state=StageState.SUBMITTED,
            actor_id=tara.id,
            comments="Ready for sign-off",
        )
    )
    session = make_supervision(enrolment, sian, 1.5, date(2026, 2, 9))
    session.reflection, session.supervisor_comments = "I froze at the pause.", f"Good, {NAME}."

    # Tara supervised Una's enrolment, now finished, and wrote comments on her session.
    una_enrolment = make_enrolment(una, tara, actor=ada)
    una_session = make_supervision(una_enrolment, tara, 1, date(2025, 11, 3))
    una_session.reflection = f"{NAME} showed me how to slow down."
    una_session.supervisor_comments = "Una was attuned throughout."
    una_enrolment.status = EnrolmentStatus.COMPLETED

    owen_enrolment = make_enrolment(owen, sian, actor=ada)
    owen_session = make_supervision(owen_enrolment, sian, 1, date(2026, 2, 10))
    owen_session.reflection = f"Watched {FORMER_NAME.upper()}'s film with Sian ({EMAIL})."
    owen_case = make_case(owen)

    case = record_case(tara, 15, 6, measure="GAD-7")
    cycle = Cycle(
        case=case,
        filmed_on=date(2026, 1, 12),
        shared_review_on=date(2026, 1, 19),
        clips_count=3,
        principles=[],
        note="I talked too much in the review.",
    )
    db.session.add(cycle)

    db.session.add_all(
        [
            Notification(
                recipient_id=tara.id,
                kind=NotificationKind.STAGE_UPDATE,
                subject=f"stage:{stage.id}",
                period="submitted",
                title="Your stage was submitted",
                body="Sian will sign it off.",
                email_state=EmailState.NONE,
            ),
            Notification(
                recipient_id=sian.id,
                kind=NotificationKind.STAGE_UPDATE,
                subject=f"stage:{stage.id}",
                period="to-sign-off",
                title=f"{NAME} submitted Stage 1",
                body=f"{NAME} ({EMAIL}) is waiting for your sign-off.",
                email_state=EmailState.NONE,
            ),
        ]
    )
    send_email(EMAIL, "Your stage", f"Dear {NAME}, your stage was submitted.")
    send_email("sian@example.org", "A stage to sign off", f"{NAME} submitted Stage 1.")
    token, _plaintext = create_token(tara, tara, "Records system", ["cases:read"], date(2026, 6, 1), date(2026, 3, 2))
    tara.totp_secret, tara.totp_enabled_at = TOTP_SECRET, utcnow()
    db.session.commit()
    return {
        "ada": ada,
        "abe": abe,
        "sian": sian,
        "tara": tara,
        "owen": owen,
        "una": una,
        "enrolment": enrolment,
        "una_enrolment": una_enrolment,
        "stage": stage,
        "case": case,
        "owen_case": owen_case,
        "certificate": certificate,
        "token": token,
    }


def _erase(actor: User | None, person: User, reason: str = REASON) -> Erasure:
    return transactions.run(lambda: erasure.erase_person(actor, person, reason))


def _admin_client(app, email="ada@example.org"):
    client = app.test_client()
    client.login(email)
    return client


# --- everything that names her is gone ------------------------------------------------------------


def _text_values() -> list[tuple[str, str, str]]:
    """(table, column, text) for every text and JSON value in every table, decrypted where encrypted."""
    found = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON | EncryptedString)]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                found.append((table.name, column.name, text))
    return found


def _mentions_her() -> list[tuple[str, str, str]]:
    db.session.expire_all()
    return [
        (table, column, text)
        for table, column, text in _text_values()
        if any(identifier.lower() in text.lower() for identifier in IDENTIFIERS)
    ]


def test_the_scan_finds_her_everywhere_before_erasure(world):
    """The scan below sees every table and decrypts the outbox, so its silence after erasure means something."""
    places = {(table, column) for table, column, _ in _mentions_her()}
    for place in [
        ("user", "email"),
        ("user", "display_name"),
        ("certificate", "holder_name"),
        ("stage_record", "statement_text"),
        ("assessment", "ratings"),
        ("supervision_session", "reflection"),
        ("notification", "body"),
        ("outbox_message", "to_address"),
        ("outbox_message", "body"),
        ("audit_event", "actor_label"),
        ("audit_event", "before"),
        ("audit_event", "after"),
    ]:
        assert place in places


def test_nothing_anywhere_names_her_after_erasure(world):
    record = _erase(world["ada"], world["tara"])
    assert _mentions_her() == []
    tara = db.session.get(User, world["tara"].id)
    label = f"Erased person {record.pseudonym}"
    assert record.pseudonym.startswith("P-") and len(record.pseudonym) == 8
    assert (tara.email, tara.display_name) == (f"erased-{record.pseudonym.lower()}@erased.invalid", label)
    assert tara.is_erased and tara.status_label == "Erased" and not tara.is_active_flag
    assert (tara.password_hash, tara.totp_secret, tara.totp_enabled_at, tara.service_id) == (None, None, None, None)
    assert tara.roles == frozenset() and not tara.register_opt_in and tara.recovery_codes == []
    # Others' text that named her now names the pseudonym, and says nothing else different.
    owen_reflection = db.session.scalar(
        select(SupervisionSession.reflection).join(Enrolment).where(Enrolment.trainee_id == world["owen"].id)
    )
    assert owen_reflection == f"Watched {label}'s film with Sian ({label})."
    sian_mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "sian@example.org"))
    assert sian_mail.body == f"{label} submitted Stage 1."


def test_what_is_hers_alone_is_removed(world):
    tara, stage = world["tara"], world["stage"]
    file_path = upload_folder() / stage.statement_file_key
    assert file_path.exists()
    _erase(world["ada"], tara)
    assert not file_path.exists()  # deleted once the erasure committed
    stage = db.session.get(StageRecord, stage.id)
    assert (stage.statement_text, stage.statement_file_key, stage.statement_file_name) == (None, None, None)
    assert stage.state is StageState.SUBMITTED  # the dated structure stays
    for assessment in db.session.scalars(select(Assessment).where(Assessment.stage_record_id == stage.id)):
        assert all(value["evidence"] is None for value in assessment.ratings.values())
        assert {value["rating"] for value in assessment.ratings.values()} == (
            {3} if assessment.kind is AssessmentKind.SELF else {4}
        )
    assert (
        db.session.scalar(select(StageTransition.comments).where(StageTransition.stage_record_id == stage.id)) is None
    )
    sessions = db.session.scalars(
        select(SupervisionSession).where(
            (SupervisionSession.enrolment_id == world["enrolment"].id) | (SupervisionSession.supervisor_id == tara.id)
        )
    ).all()
    assert len(sessions) == 2
    mine = next(s for s in sessions if s.enrolment_id == world["enrolment"].id)
    assert (mine.reflection, mine.supervisor_comments, mine.duration_minutes) == (None, None, 90)
    una_session = next(s for s in sessions if s.supervisor_id == tara.id)
    assert una_session.supervisor_comments is None  # written by her
    assert db.session.scalar(select(Cycle.note).where(Cycle.case_id == world["case"].id)) is None
    assert db.session.scalar(select(func.count()).select_from(PersonalAccessToken)) == 0
    assert db.session.scalars(select(Notification.recipient_id)).all() == [world["sian"].id]
    assert db.session.scalars(select(OutboxMessage.to_address)).all() == ["sian@example.org"]
    assert db.session.get(Enrolment, world["enrolment"].id).status is EnrolmentStatus.WITHDRAWN


def _counts() -> dict[str, int]:
    models = (Case, Cycle, Administration, CaseOutcome, Enrolment, StageRecord, SupervisionSession, Certificate)
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in models}


def test_what_avigukn_must_keep_is_kept(world):
    before = _counts()
    scores = db.session.execute(select(Administration.id, Administration.total, Administration.responses)).all()
    _erase(world["ada"], world["tara"])
    assert _counts() == before
    assert db.session.execute(select(Administration.id, Administration.total, Administration.responses)).all() == scores
    case = db.session.get(Case, world["case"].id)
    assert case.practitioner_id == world["tara"].id  # the tombstone
    certificate = db.session.get(Certificate, world["certificate"].id)
    assert (certificate.number, certificate.credential, certificate.status.value) == (
        world["certificate"].number,
        world["certificate"].credential,
        "valid",
    )


def test_the_audit_trail_names_the_pseudonym_only(world):
    tara = world["tara"]
    events_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    theirs = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_id == tara.id))
    assert theirs > 0
    record = _erase(world["ada"], tara)
    label = f"Erased person {record.pseudonym}"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events_before + 1
    labels = set(db.session.scalars(select(AuditEvent.actor_label).where(AuditEvent.actor_id == tara.id)))
    assert labels == {label}
    assert set(db.session.scalars(select(AuditEvent.ip_address).where(AuditEvent.actor_id == tara.id))) <= {None}
    renamed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.details_changed"))
    assert renamed.before["display_name"] == label and renamed.after["display_name"] == label
    erased = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.erased"))
    assert (erased.actor_id, erased.entity_id) == (world["ada"].id, str(tara.id))
    assert erased.after == {"pseudonym": record.pseudonym, "reason": REASON}


# --- verification, the register, signing in, a new account --------------------------------------


def test_verification_still_answers_without_her_name(app, client, world):
    number = world["certificate"].number
    assert FORMER_NAME in client.get(f"/verify/{number}").get_data(as_text=True)
    record = _erase(world["ada"], world["tara"])
    page = client.get(f"/verify/{number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "This certificate was issued by AVIGuk and is valid." in html
    assert "The holder&#39;s name was removed from AVIGuk&#39;s records on 2 March 2026" in html
    assert world["certificate"].credential in html
    assert FORMER_NAME not in html and record.pseudonym not in html
    facts = client.get(f"/verify/{number}.json").get_json()
    assert facts["holder"] is None
    assert facts["holder_note"] == "The holder's name was removed from AVIGuk's records on 2 March 2026"
    assert facts["holder_removed_on"] == "2026-03-02"
    assert (facts["status"], facts["credential"], facts["issued_on"]) == (
        "valid",
        world["certificate"].credential,
        world["certificate"].issued_on.isoformat(),
    )
    assert record.pseudonym not in json.dumps(facts)


def test_the_register_no_longer_lists_her(client, world):
    assert FORMER_NAME in client.get("/register").get_data(as_text=True)
    record = _erase(world["ada"], world["tara"])
    html = client.get("/register").get_data(as_text=True)
    assert FORMER_NAME not in html and record.pseudonym not in html
    searched = client.get(f"/register?name={record.pseudonym}").get_data(as_text=True)
    assert "Erased person" not in searched  # the search box echoes the pseudonym; no entry carries it


def test_she_cannot_sign_in_and_her_address_can_be_invited_again(app, world):
    signed_in = app.test_client()
    assert signed_in.login(EMAIL).headers["Location"] == "/login/security-code"
    signed_in.submit("/login/security-code", {"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert signed_in.get("/account").status_code == 200
    record = _erase(world["ada"], world["tara"])
    assert signed_in.get("/account").status_code == 302  # her session ended with the erasure
    for email in (EMAIL, f"erased-{record.pseudonym.lower()}@erased.invalid"):
        response = app.test_client().login(email)
        assert response.status_code == 422
    invite_user(world["ada"], EMAIL, "Tara Again", {Role.TRAINEE}, None, lambda token: f"/i/{token}")
    db.session.commit()
    newcomer = db.session.scalar(select(User).where(User.email == EMAIL))
    assert newcomer.id != world["tara"].id and newcomer.display_name == "Tara Again"


# --- never half-done -----------------------------------------------------------------------------


def _dump() -> dict[str, list]:
    db.session.expire_all()
    return {
        table.name: sorted((tuple(repr(value) for value in row) for row in db.session.execute(select(table))), key=repr)
        for table in db.metadata.sorted_tables
    }


@pytest.mark.parametrize("step", ["_replace_in_outbox", "_rewrite_audit_trail"])
def test_a_failure_part_way_leaves_everything_as_it_was(world, monkeypatch, step):
    file_path = upload_folder() / world["stage"].statement_file_key
    before = _dump()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(erasure, step, broken)
    with pytest.raises(RuntimeError):
        _erase(world["ada"], world["tara"])
    assert _dump() == before
    assert file_path.exists()


def test_a_failure_in_the_last_step_leaves_everything_as_it_was(world, monkeypatch):
    """The final audit event fails after every rewrite was flushed: all of it rolls back."""
    before = _dump()
    real_record = erasure.audit.record

    def failing_record(actor, action, *args, **kwargs):
        if action == "person.erased":
            raise RuntimeError("audit store unavailable")
        return real_record(actor, action, *args, **kwargs)

    monkeypatch.setattr(erasure.audit, "record", failing_record)
    with pytest.raises(RuntimeError):
        _erase(world["ada"], world["tara"])
    assert _dump() == before


# --- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Enter the reason for erasing this person's data"),
        ("   ", "Enter the reason for erasing this person's data"),
        ("Asked to", "The reason must be at least 10 characters"),
        ("x" * 2001, "The reason must be 2,000 characters or fewer"),
    ],
)
def test_a_reason_is_required(world, reason, message):
    before = _dump()
    with pytest.raises(DomainError) as refused:
        _erase(world["ada"], world["tara"], reason)
    assert (refused.value.message, refused.value.field) == (message, "reason")
    assert _dump() == before


def test_refusals_for_the_person(world):
    ada, abe, sian, tara = world["ada"], world["abe"], world["sian"], world["tara"]
    with pytest.raises(DomainError, match="your own account"):
        _erase(ada, ada)
    with pytest.raises(DomainError, match=r"personal supervisor of 2 trainees in training\. Change their supervisor"):
        _erase(ada, sian)
    # Asked to accredit a stage not yet decided.
    alma = make_user("alma@example.org", roles=(Role.ACCREDITING_SUPERVISOR,), name="Alma Accreditor")
    owen_stage = db.session.scalars(
        select(StageRecord).join(Enrolment).where(Enrolment.trainee_id == world["owen"].id, StageRecord.position == 1)
    ).one()
    owen_stage.state, owen_stage.accrediting_supervisor_id = StageState.WITH_ACCREDITOR, alma.id
    db.session.commit()
    with pytest.raises(DomainError, match=r"accredit 1 stage not yet decided"):
        _erase(ada, alma)
    _erase(ada, tara)
    with pytest.raises(DomainError, match="already been erased"):
        _erase(ada, db.session.get(User, tara.id))
    # The last active administrator (the enrolling administrators the factories made are turned off).
    for admin in db.session.scalars(select(User).where(User.id.not_in([ada.id, abe.id]))):
        admin.is_active_flag = not admin.has_role(Role.ADMINISTRATOR) and admin.is_active_flag
    db.session.commit()
    _erase(ada, abe)
    with pytest.raises(DomainError, match="last active administrator"):
        _erase(None, db.session.get(User, ada.id))
    assert db.session.scalar(select(func.count()).select_from(Erasure)) == 2


def test_only_an_administrator_erases_even_through_the_service(world):
    from vigtrain.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        _erase(world["sian"], world["una"])
    assert db.session.get(User, world["una"].id).erased_at is None


def test_staged_imports_that_name_her_go_with_the_erasure_and_others_stay(app, world, tmp_path):
    from vigtrain.imports import staging

    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
    naming_her = staging.stage(f"name,email,roles\nTara,{EMAIL.upper()},trainee\n".encode(), {"plan": {}})
    not_her = staging.stage(b"name,email,roles\nSomeone,someone@example.org,trainee\n", {"plan": {}})
    _erase(world["ada"], world["tara"])
    with pytest.raises(NotFound):
        staging.record(naming_her)
    assert staging.file_data(not_her)


def test_the_retention_schedule_erases_as_the_system(world):
    record = _erase(None, world["tara"], "Account deactivated more than six years ago.")
    assert record.erased_by_id is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.erased"))
    assert (event.actor_id, event.actor_label) == (None, "system")


# --- the pages ---------------------------------------------------------------------------------------


def test_the_page_says_what_goes_and_what_stays_then_erases(app, world):
    client = _admin_client(app)
    tara = world["tara"]
    url = f"/admin/erasure/{tara.id}"
    assert "Erase this person’s data" in client.get(f"/admin/users/{tara.id}").get_data(as_text=True)
    html = client.get(url).get_data(as_text=True)
    assert "What will be erased" in html and "What will be kept" in html
    assert "Reflective statements (text and uploaded files): 1" in html
    assert "Outcome measures recorded on those cases: 2" in html
    response = client.submit(url, {"reason": REASON, "confirm_email": EMAIL.upper()})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/erasure/"
    register = client.get("/admin/erasure/").get_data(as_text=True)
    record = db.session.scalar(select(Erasure))
    assert record.pseudonym in register and REASON in register and "Ada Admin" in register
    assert NAME not in register and EMAIL not in register
    assert "nothing more to erase" in client.get(url).get_data(as_text=True)
    assert client.submit(url, {"reason": REASON, "confirm_email": record.user.email}).status_code == 422


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": REASON, "confirm_email": ""}, "Type the person&#39;s email address to confirm"),
        ({"reason": REASON, "confirm_email": "owen@example.org"}, "The email address does not match"),
        ({"reason": "short", "confirm_email": EMAIL}, "The reason must be at least 10 characters"),
    ],
)
def test_bad_input_is_refused_beside_the_field(app, world, data, message):
    client = _admin_client(app)
    before = _dump()
    response = client.submit(f"/admin/erasure/{world['tara'].id}", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _dump() == before


def test_a_blocked_erasure_is_explained(app, world):
    client = _admin_client(app)
    url = f"/admin/erasure/{world['sian'].id}"
    assert "Change their supervisor first" in client.get(url).get_data(as_text=True)
    response = client.submit(url, {"reason": REASON, "confirm_email": "sian@example.org"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Erasure)) == 0


def test_administrators_cannot_erase_themselves_from_the_page(app, world):
    client = _admin_client(app)
    assert client.get(f"/admin/erasure/{world['ada'].id}").status_code == 403
    assert "Erase this person" not in client.get(f"/admin/users/{world['ada'].id}").get_data(as_text=True)


def test_two_erasures_of_the_same_person_at_once_one_wins(app, world):
    url = f"/admin/erasure/{world['tara'].id}"
    clients = [_admin_client(app, "ada@example.org"), _admin_client(app, "abe@example.org")]
    forms = [{**client.hidden_fields(url), "reason": REASON, "confirm_email": EMAIL} for client in clients]
    answers = at_once([lambda c=c, f=f: c.post(url, data=f) for c, f in zip(clients, forms, strict=True)])
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses[0] == 302 and statuses[1] in (409, 422), statuses
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Erasure)) == 1
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "person.erased")) == 1
    )


def test_the_command_line_erases_too(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["privacy", "erase", EMAIL, "--reason", "short", "--yes"])
    assert result.exit_code == 1 and "at least 10 characters" in result.output
    result = runner.invoke(args=["privacy", "erase", "nobody@example.org", "--reason", REASON, "--yes"])
    assert result.exit_code == 1 and "no account" in result.output
    result = runner.invoke(args=["privacy", "erase", EMAIL, "--reason", REASON, "--yes"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    record = db.session.scalar(select(Erasure))
    assert record.pseudonym in result.output and record.erased_by_id is None


def test_an_erased_account_cannot_be_turned_back_on(app, world):
    tara = world["tara"]
    _erase(world["ada"], tara)
    client = _admin_client(app)
    page = client.get(f"/admin/users/{tara.id}").get_data(as_text=True)
    assert "Erased" in page and "Erase this person" not in page and f"/admin/users/{tara.id}/edit" not in page
    assert client.get(f"/admin/users/{tara.id}/edit").status_code == 403
    before = _dump()
    response = client.submit(f"/admin/users/{tara.id}/resend-invitation", page=f"/admin/users/{tara.id}")
    assert response.status_code == 302
    assert _dump() == before  # no invitation to the tombstone's address, no new link


def test_a_revocation_reason_names_the_holder_not_the_pseudonym(client, world):
    certificate = world["certificate"]
    certificate.status, certificate.status_reason = CertificateStatus.REVOKED, f"{NAME} asked AVIGuk to revoke it."
    db.session.commit()
    record = _erase(world["ada"], world["tara"])
    facts = client.get(f"/verify/{certificate.number}.json").get_json()
    assert facts["status"] == "revoked" and facts["revocation_reason"] == "the holder asked AVIGuk to revoke it."
    html = client.get(f"/verify/{certificate.number}").get_data(as_text=True)
    assert "the holder asked AVIGuk to revoke it." in html and record.pseudonym not in html


def test_free_text_in_the_trail_goes_only_where_it_is_hers(world):
    tara, una = world["tara"], world["una"]
    una_session = db.session.scalar(select(SupervisionSession).where(SupervisionSession.supervisor_id == tara.id))
    own_session = db.session.scalar(
        select(SupervisionSession).where(SupervisionSession.enrolment_id == world["enrolment"].id)
    )
    una_words = audit.record(una, "supervision.logged", una_session, after={"reflection": "I slowed down."})
    tara_words = audit.record(tara, "supervision.confirmed", una_session, after={"supervisor_comments": "Well done."})
    about_her = audit.record(world["sian"], "supervision.logged", own_session, after={"reflection": "I froze."})
    db.session.commit()
    ids = (una_words.id, tara_words.id, about_her.id)
    _erase(world["ada"], tara)
    after = dict(db.session.execute(select(AuditEvent.id, AuditEvent.after).where(AuditEvent.id.in_(ids))).all())
    assert after[una_words.id] == {"reflection": "I slowed down."}
    assert after[tara_words.id] == {"supervisor_comments": erasure.REMOVED}
    assert after[about_her.id] == {"reflection": erasure.REMOVED}
