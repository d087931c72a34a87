"""The world the form fuzzer works in, built once per module, and who signs in to each form.

Every form gets records of its own where a successful submission would change what another
form needs (a stage that moves on, a case that closes, an account whose sessions end), so the
forms can be fuzzed in any order and each still meets the state its page was read in. Records
are dated relative to today, because the app's own date rules (nothing in the future, renewal
windows) read the real clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pyotp

from tests.certificate_factories import insert_certificate, make_earned_record
from tests.factories import (
    PASSWORD,
    complete_assessments,
    load_pathways,
    make_admin,
    make_case,
    make_cycles,
    make_enrolment,
    make_service,
    make_supervision,
    make_user,
    pathway_version,
    place_on_stage,
)
from vigtrain.accounts import services as accounts
from vigtrain.accounts.models import Role, User
from vigtrain.api_tokens.services import create_token
from vigtrain.casework.models import CaseStatus
from vigtrain.casework.services import Consents, close_case, find_case
from vigtrain.certificates.models import CertificateStatus
from vigtrain.certificates.services import find_certificate
from vigtrain.cohorts import services as cohorts
from vigtrain.dates import utcnow
from vigtrain.dcs import wording
from vigtrain.dcs.invitations import create_invitation
from vigtrain.dcs.models import Timepoint
from vigtrain.dcs.services import record_administration
from vigtrain.extensions import db
from vigtrain.imports import staging
from vigtrain.imports.services import check_file
from vigtrain.notifications import inbox
from vigtrain.notifications.models import NotificationKind
from vigtrain.pathways.models import StageState, StageTransition
from vigtrain.training.services import save_statement_text

GAD7_ANSWERS = dict.fromkeys("1234567", 1)
# One case for each form that changes a case (or needs one in a state of its own).
CASES = ("edit", "close", "closed", "cycle", "cycle_delete", "choose", "enter", "measure", "invite", "post")
CASES += ("revoke", "respond")
SWEMWBS_WORDING = {str(number): f"Licensed SWEMWBS statement number {number}" for number in range(1, 8)}


@dataclass
class Person:
    email: str
    password: str = PASSWORD
    recovery_codes: list[str] = field(default_factory=list)  # set for people with a second factor


@dataclass
class World:
    """What the targets' addresses are filled with, and the people who sign in."""

    people: dict[str, Person] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    user_ids: list[str] = field(default_factory=list)  # offered to "choose a person" fields
    emails: list[str] = field(default_factory=list)  # offered to email fields

    def __getitem__(self, key: str) -> str:
        return self.ids[key]


def _person(world: World, key: str, roles: tuple[Role, ...], **fields) -> User:
    user = make_user(
        f"{key.replace('_', '.')}@example.org", roles=roles, name=f"{key.replace('_', ' ').title()}", **fields
    )
    world.people[key] = Person(user.email)
    return user


def _second_factor(world: World, key: str, user: User) -> None:
    secret = pyotp.random_base32()
    codes = accounts.enable_second_factor(user, secret, pyotp.TOTP(secret).now())
    db.session.commit()
    world.people[key].recovery_codes = codes


def _trainee_on(world: World, key: str, supervisor: User, admin: User, stage: str, state: StageState, **kwargs):
    """A trainee of their own whose record sits on `stage` in `state`."""
    trainee = _person(world, key, (Role.TRAINEE,), service_id=supervisor.service_id)
    enrolment = make_enrolment(trainee, supervisor, start=date.today() - timedelta(days=200), actor=admin)
    place_on_stage(enrolment, stage, state, 5, **kwargs)
    world.ids[f"{key}_enrolment"] = str(enrolment.id)
    return trainee, enrolment


def _ready(trainee: User, enrolment, supervisor: User, on: date) -> None:
    """Stage 1's work done: cycles with two clients, supervision, a statement, both assessments."""
    record = enrolment.stage_record("stage-1")
    record.started_on = on - timedelta(days=100)
    make_cycles(trainee, 6, 2, on - timedelta(days=50))
    make_supervision(enrolment, supervisor, 7, on - timedelta(days=40))
    save_statement_text(trainee, record, "What I learned about receiving initiatives.")
    complete_assessments(record, trainee, supervisor)


def build_world() -> World:
    """Write the world (committed) and describe it."""
    world = World()
    on = date.today()
    load_pathways()
    home = make_service("Riverside Family Service", region_code="E12000003")
    away = make_service("Hillside Parenting Team", region_code="E12000007")
    admin = make_admin("admin@example.org")
    world.people["admin"] = Person(admin.email)
    here = {"service_id": home.id}

    sup = _person(world, "sup", (Role.SUPERVISOR, Role.PRACTITIONER), **here)
    review_sup = _person(world, "review_sup", (Role.SUPERVISOR,), **here)
    queue_sup = _person(world, "queue_sup", (Role.SUPERVISOR,), **here)
    acc = _person(world, "acc", (Role.ACCREDITING_SUPERVISOR,))
    prac = _person(world, "prac", (Role.PRACTITIONER,), **here)

    # The trainee's own record: assessments, statement, supervision log.
    tara, enrolment = _trainee_on(world, "tr", sup, admin, "stage-1", StageState.IN_PROGRESS)
    world.ids["tr_user"] = str(tara.id)  # the administrator makes her a training transcript
    logged = make_supervision(enrolment, sup, 1, on - timedelta(days=20), confirmed=False)
    confirmed = make_supervision(enrolment, sup, 1, on - timedelta(days=40), confirmed=True)
    world.ids.update(logged_session=str(logged.id), confirmed_session=str(confirmed.id))
    # A notification of hers, unread, so the list shows its "mark as read" and "mark all" buttons.
    told = inbox.notify(
        accounts.find_user_by_email(world.people["tr"].email),
        NotificationKind.SESSION_UNCONFIRMED,
        f"session:{logged.id}",
        "fuzz",
        "A session is waiting for confirmation",
        "Your supervisor has not confirmed it yet.",
        link=f"/supervision/{logged.id}",
    )
    db.session.commit()
    world.ids["notification"] = str(told.id)

    # A record for each action of the sign-off chain, in the state that action starts from.
    # Submitting and signing off are offered once the stage's work is done, so theirs is.
    for key, state in (("t_submit", StageState.IN_PROGRESS), ("t_signoff", StageState.SUBMITTED)):
        trainee, enrolment = _trainee_on(world, key, sup, admin, "stage-1", StageState.IN_PROGRESS)
        _ready(trainee, enrolment, sup, on)
        place_on_stage(enrolment, "stage-1", state, 5)
    _trainee_on(world, "t_return", sup, admin, "stage-1", StageState.SUBMITTED)
    _trainee_on(world, "t_attendance", sup, admin, "itc", StageState.IN_PROGRESS)
    _trainee_on(world, "t_accreditor", sup, admin, "stage-1", StageState.SIGNED_OFF)
    _trainee_on(world, "t_meeting", sup, admin, "stage-1", StageState.WITH_ACCREDITOR, accreditor=acc)
    _trainee_on(world, "t_ratify", sup, admin, "stage-3", StageState.ACCREDITED)
    _trainee_on(world, "t_exemption", sup, admin, "stage-2", StageState.IN_PROGRESS)
    _trainee_on(world, "t_supervisor", sup, admin, "stage-1", StageState.IN_PROGRESS)
    _trainee_on(world, "t_status", sup, admin, "stage-1", StageState.IN_PROGRESS)
    # Signed off, with the submission before it never recorded: the training-flow refresh reads its history.
    _, partial = _trainee_on(world, "t_flow", sup, admin, "stage-1", StageState.SIGNED_OFF)
    signed_off = partial.stage_record("stage-1")
    signed_off.started_on = on - timedelta(days=60)
    db.session.add(
        StageTransition(
            stage_record_id=signed_off.id,
            from_state=StageState.SUBMITTED,
            to_state=StageState.SIGNED_OFF,
            actor_id=sup.id,
            occurred_at=utcnow() - timedelta(days=5),
        )
    )
    db.session.commit()

    # Sessions awaiting confirmation: one reviewed on its own page, two confirmed from a queue.
    _, reviewed = _trainee_on(world, "t_review", review_sup, admin, "stage-1", StageState.IN_PROGRESS)
    world.ids["review_session"] = str(make_supervision(reviewed, review_sup, 1, on - timedelta(days=10), False).id)
    _, queued = _trainee_on(world, "t_queue", queue_sup, admin, "stage-1", StageState.IN_PROGRESS)
    for days in (10, 17):
        make_supervision(queued, queue_sup, 1, on - timedelta(days=days), confirmed=False)

    # The practitioner's cases, one for each form that changes a case.
    started = on - timedelta(days=120)
    with_dcs = Consents(filming=started, supervision=started, dcs=started)
    for key in CASES:
        world.ids[f"case_{key}"] = make_case(prac, started_on=started, consents=with_dcs).code
    cases = {key: find_case(world[f"case_{key}"]) for key in CASES}
    (case,) = make_cycles(prac, 1, 1, on - timedelta(days=30), case_list=[cases["cycle_delete"]])
    world.ids["cycle"] = str(case.cycles[0].id)
    close_case(prac, cases["closed"], CaseStatus.COMPLETED, on - timedelta(days=2), None, None, on)
    measured = record_administration(
        prac, cases["measure"], "GAD-7", Timepoint.PRE, started + timedelta(days=3), GAD7_ANSWERS, on
    )
    world.ids["administration"] = str(measured.id)
    record_administration(prac, cases["post"], "GAD-7", Timepoint.PRE, started + timedelta(days=3), GAD7_ANSWERS, on)
    revocable, _ = create_invitation(prac, cases["revoke"], ["GAD-7"], Timepoint.PRE)
    world.ids["invitation"] = str(revocable.id)
    _, world.ids["respond_token"] = create_invitation(prac, cases["respond"], ["GAD-7"], Timepoint.PRE)
    db.session.commit()

    # People whose own account pages are fuzzed: each is theirs alone, as a success may end sessions.
    for key in ("details", "password", "setup_2fa", "tokens", "logout", "login_victim", "reset_victim"):
        _person(world, key, (Role.PRACTITIONER,), **here)
    for key in ("codes_2fa", "off_2fa", "login_2fa", "reset_2fa_target"):
        user = _person(world, key, (Role.PRACTITIONER,), **here)
        _second_factor(world, key, user)
    world.ids["reset_2fa_target"] = str(user.id)
    owner = accounts.find_user_by_email(world.people["tokens"].email)
    token, _ = create_token(None, owner, "Fuzzed token", ["cases:read"], on + timedelta(days=30), on)
    db.session.commit()
    world.ids["token"] = str(token.id)

    # Accounts an administrator acts on.
    world.ids["edit_target"] = str(_person(world, "edit_target", (Role.TRAINEE,), **here).id)
    world.ids["capacity_target"] = str(_person(world, "capacity_target", (Role.SUPERVISOR,), **here).id)
    locked = _person(world, "unlock_target", (Role.TRAINEE,), **here)
    locked.locked_until = utcnow() + timedelta(hours=1)
    world.ids["unlock_target"] = str(locked.id)
    tokens: list[str] = []

    def accept_url(token: str) -> str:
        tokens.append(token)
        return f"http://localhost/invitation/{token}"

    for key in ("invitee", "resend_target"):
        accounts.invite_user(admin, f"{key}@example.org", key.title(), {Role.TRAINEE}, home, accept_url)
    db.session.commit()
    world.ids["invitation_token"] = tokens[0]
    world.ids["resend_target"] = str(accounts.find_user_by_email("resend_target@example.org").id)
    victim = accounts.find_user_by_email(world.people["reset_victim"].email)
    world.ids["reset_token"] = accounts.make_token(victim, accounts.PASSWORD_RESET)

    # Services: one to edit, one whose leads are chosen, one whose lead stands down, one with wording.
    world.ids["service_edit"] = str(make_service("Service To Edit").id)
    leads = make_service("Service Choosing Leads")
    world.ids["service_leads"] = str(leads.id)
    _person(world, "lead_candidate", (Role.SUPERVISOR,), service_id=leads.id)
    standing = make_service("Service Losing A Lead")
    world.ids["service_standing"] = str(standing.id)
    world.ids["lead"] = str(_person(world, "lead", (Role.SERVICE_LEAD,), service_id=standing.id).id)
    _person(world, "other_lead", (Role.SERVICE_LEAD,), service_id=standing.id)
    world.ids["service_wording"] = str(away.id)
    licensed = wording.add_wording(admin, away, "SWEMWBS", SWEMWBS_WORDING, None, "Licence WMS-1234")
    world.ids["wording"] = str(licensed.id)
    world.ids["wording_code"] = next(m.code for m in wording.measures_needing_wording() if m.code != "SWEMWBS")

    # Cohorts: one to edit and add to, one whose member is removed.
    details = {
        "pathway_version": pathway_version(),
        "region": None,
        "starts_on": on - timedelta(days=30),
        "ends_on": None,
    }
    edited = cohorts.create_cohort(admin, cohorts.CohortDetails(name="Autumn intake", lead=None, **details))
    shrinking = cohorts.create_cohort(admin, cohorts.CohortDetails(name="Spring intake", lead=None, **details))
    _, member = _trainee_on(world, "t_member", sup, admin, "stage-1", StageState.IN_PROGRESS)
    cohorts.add_members(admin, shrinking, [member.id])
    db.session.commit()
    world.ids.update(cohort=str(edited.id), cohort_shrinking=str(shrinking.id), member=str(member.id))
    # The pathway version whose cost rates are set (the training-flow pages read them).
    world.ids["pathway_version"] = str(details["pathway_version"].id)

    # Certificates: records earned but not issued, and one certificate for each change.
    world.ids["earned_record"] = str(make_earned_record().id)
    make_earned_record()  # a second row in the issue queue
    for key in ("revoke", "renew", "reissue", "suspend", "reinstate"):
        holder = _person(world, f"holder_{key}", (Role.TRAINEE, Role.PRACTITIONER), service_id=home.id)
        certificate = insert_certificate(
            holder, issued_on=on - timedelta(days=1000), valid_until=on + timedelta(days=60)
        )
        world.ids[f"certificate_{key}"] = certificate.number
    # The one to reinstate is suspended until an administrator reinstates it.
    suspended = find_certificate(world.ids["certificate_reinstate"])
    suspended.status = CertificateStatus.SUSPENDED
    suspended.suspension_reason = "Suspended while a complaint is looked into"
    suspended.suspended_at = suspended.status_changed_at = utcnow()
    db.session.commit()
    # A holder inside the renewal window whose confirmed supervision meets the rule: they may ask.
    asking = _person(world, "holder_ask", (Role.TRAINEE, Role.PRACTITIONER), service_id=home.id)
    certificate = insert_certificate(asking, issued_on=on - timedelta(days=1000), valid_until=on + timedelta(days=60))
    make_supervision(certificate.enrolment, sup, 7, on - timedelta(days=500))
    world.ids["certificate_ask"] = certificate.number
    renamed = accounts.find_user_by_email(world.people["holder_reissue"].email)
    renamed.display_name = "Holder Reissue Married Name"
    db.session.commit()

    # Someone an administrator may erase (nothing of theirs stands in the way).
    world.ids["erase_target"] = str(_person(world, "erase_target", (Role.TRAINEE,), service_id=home.id).id)

    # A staged import of one newcomer: the first confirmation imports them, and any later one nobody.
    staged = b"name,email,roles\nImported Newcomer,imported.newcomer@example.org,trainee\n"
    plan = check_file(staged, "intake.csv", on)
    world.ids["import"] = staging.stage(
        staged, {"actor_id": admin.id, "file_name": "intake.csv", "plan": plan.as_record()}
    )

    world.user_ids = [str(user_id) for user_id in db.session.scalars(db.select(User.id).order_by(User.id))]
    world.emails = [person.email for person in world.people.values()] + ["nobody@example.org"]
    return world
