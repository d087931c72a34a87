"""A trainee goes from Stage 1 to ratified accreditation: issue 3's journey, person by person.

Stage 1 is walked in full through the browser (a case, a cycle, a supervision session confirmed,
both assessments, the statement, a return with comments and a resubmission). The repetitive
casework and supervision of every stage is seeded with the factories; each stage's sign-off
chain (submit, sign off, ask an accrediting supervisor, accredit) is clicked in the browser, and
an administrator ratifies the final stage. Every page is screenshotted and scanned with axe.

Each person has their own browser context, signed in once. Meeting dates are in the past so
each stage has its own window: a cycle or session counts toward the stage current on its date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, DESKTOP, Browse
from tests.factories import (
    PASSWORD,
    complete_assessments,
    make_admin,
    make_cycles,
    make_enrolment,
    make_supervision,
    make_user,
)
from vigtrain.accounts.models import Role
from vigtrain.dates import format_date, today
from vigtrain.extensions import db
from vigtrain.pathways.definitions import principles
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, StageRecord, StageState
from vigtrain.supervision.models import SessionStatus, SupervisionSession
from vigtrain.training import services as training
from vigtrain.training import signoff

TRAINEE = ("tara.trainee@example.org", "Tara Trainee")
SUPERVISOR = ("sam.supervisor@example.org", "Sam Supervisor")
ACCREDITOR = ("alex.accreditor@example.org", "Alex Accreditor")
RETURN_COMMENTS = "Say more in your statement about how you received the father's initiatives in the second clip."


@pytest.fixture
def person(browser, live_server) -> Iterator[Callable[[str, str], Browse]]:
    """Sign someone in, in a browser context of their own; every context closes before the server stops.

    The sign-in page is scanned the first time only: it is the same page for everyone.
    """
    contexts = []

    def sign_in(name: str, email: str) -> Browse:
        context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London")
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        who = Browse(context.new_page(), live_server, f"accreditation-{name}")
        if contexts:
            who.page.goto(who.url("/login"))
        contexts.append(context)
        who.sign_in(email, PASSWORD)
        assert who.path() == "/home"
        return who

    yield sign_in
    for context in contexts:
        context.close()


def test_trainee_from_stage_one_to_ratified_accreditation(person):
    now = today()
    started = now - timedelta(days=400)
    trainee = make_user(TRAINEE[0], roles=(Role.TRAINEE,), name=TRAINEE[1])
    # The personal supervisor also accredits (for others): they must still not be offered for their own trainee.
    supervisor = make_user(SUPERVISOR[0], roles=(Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR), name=SUPERVISOR[1])
    accreditor = make_user(ACCREDITOR[0], roles=(Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR), name=ACCREDITOR[1])
    admin = make_admin()
    enrolment = make_enrolment(trainee, supervisor, start=started, actor=admin)
    itc = enrolment.stages[0]
    signoff.record_exemption(admin, itc, "Equivalent initial training completed elsewhere", started, itc.version)
    db.session.commit()
    assert _stage(enrolment.id, "stage-1").started_on == started

    # --- Stage 1, in full ------------------------------------------------------------------------
    tara = person("trainee", TRAINEE[0])
    page = tara.page
    expect(page.get_by_role("main")).to_contain_text("Stage 1")

    # A case and its first cycle.
    tara.act(lambda: page.get_by_role("main").get_by_role("link", name="Add a case").click())
    page.get_by_label("Who is the guidance for?").select_option(label="Parent and baby (under 2)")
    page.get_by_label("Age of the child or young person").select_option(label="Under 1 year")
    page.get_by_label("Area of work").select_option(label="Perinatal mental health")
    page.get_by_label("Region or nation").select_option(label="Yorkshire and The Humber")
    _fill_date(page, "When did the work with this client start?", now - timedelta(days=385))
    page.get_by_role("group", name="Consent to filming").get_by_label("Yes").check()
    page.get_by_role("group", name="Consent to clips being shown in your VIG supervision").get_by_label("Yes").check()
    page.get_by_role("group", name="Consent to sharing anonymised outcome data with AVIGuk").get_by_label("No").check()
    _fill_date(page, "Date consent was given", now - timedelta(days=385))
    tara.act(lambda: page.get_by_role("button", name="Add case").click())
    _banner(page, "added. Use this code whenever you refer to this client")
    case_code = tara.path().removeprefix("/cases/")
    tara.act(lambda: page.get_by_role("link", name="Add a cycle").click())
    _fill_date(page, "Date of filming", now - timedelta(days=380))
    _fill_date(page, "Date of the shared review", now - timedelta(days=375))
    page.get_by_label("Number of clips shown in the shared review").fill("3")
    page.get_by_label("Receiving initiatives").check()
    tara.act(lambda: page.get_by_role("button", name="Save cycle").click())
    _banner(page, f"Cycle added to case {case_code}.")
    expect(page.get_by_role("table")).to_contain_text(format_date(now - timedelta(days=375)))

    # A supervision session with the personal supervisor.
    session_day = now - timedelta(days=370)
    tara.visit("/supervision/new")
    # The personal supervisor is already chosen; someone else would be found by searching.
    expect(page.get_by_role("radio", name=SUPERVISOR[1])).to_be_checked()
    _fill_date(page, "Date of the session", session_day)
    page.get_by_label("1 hour", exact=True).check()
    tara.act(lambda: page.get_by_role("button", name="Save session").click())
    _banner(page, f"It counts once {SUPERVISOR[1]} confirms it.")

    # The rest of Stage 1's casework and supervision: five more cycles with a second client, six hours.
    make_cycles(trainee, 5, clients=1, on=now - timedelta(days=360))
    for week in range(6):
        make_supervision(enrolment, supervisor, 1, on=now - timedelta(days=365 - 7 * week))

    # The supervisor confirms the session from their home page.
    sam = person("supervisor", SUPERVISOR[0])
    sam_page = sam.page
    sam.act(lambda: sam_page.get_by_role("link", name="1 supervision session to confirm").click())
    awaiting = sam_page.get_by_role("row").filter(has_text=TRAINEE[1])
    sam.act(lambda: awaiting.get_by_role("link", name=format_date(session_day)).click())
    sam.act(lambda: sam_page.get_by_role("button", name="Confirm session").click())
    _banner(sam_page, f"Session confirmed. It now counts toward {TRAINEE[1]}'s supervision hours.")
    db.session.expire_all()
    assert {s.status for s in db.session.query(SupervisionSession)} == {SessionStatus.CONFIRMED}

    # The trainee assesses herself and writes her statement.
    stage_1 = f"/enrolments/{enrolment.id}/stages/stage-1"
    tara.visit(stage_1)
    _requirement(page, "Supervision", "7 h needed: 7 h confirmed, done")
    tara.act(lambda: page.get_by_role("link", name="Your self-assessment", exact=True).click())
    _rate_every_principle(page, "3: Developing")
    page.get_by_label("Evidence for receiving initiatives (optional)").fill("I named what the father did well.")
    tara.act(lambda: page.get_by_role("button", name="Save assessment").click())
    _banner(page, "Your self-assessment has been saved.")
    tara.act(lambda: page.get_by_role("link", name="Write or upload your statement").click())
    page.get_by_label("Write your statement").fill("Filming a father and baby taught me to wait.\n\nI wait longer now.")
    tara.act(lambda: page.get_by_role("button", name="Save statement").click())
    _banner(page, "Your reflective statement has been saved.")

    # The supervisor assesses her.
    sam.visit(stage_1)
    sam.act(lambda: sam_page.get_by_role("link", name=f"Your assessment of {TRAINEE[1]}").click())
    _rate_every_principle(sam_page, "4: Consistent")
    sam.act(lambda: sam_page.get_by_role("button", name="Save assessment").click())
    _banner(sam_page, "Your assessment has been saved.")

    # Submitted, then returned with comments.
    tara.visit(stage_1)
    tara.act(lambda: page.get_by_role("button", name="Submit stage for sign-off").click())
    _banner(page, "Stage submitted for sign-off.")
    _state_is(page, "Submitted to supervisor")

    sam.visit("/home")
    sam.act(lambda: sam_page.get_by_role("link", name=f"{TRAINEE[1]}: Stage 1").click())
    sam_page.get_by_label("What the trainee needs to do before submitting again").fill(RETURN_COMMENTS)
    sam.act(lambda: sam_page.get_by_role("button", name="Return to trainee").click())
    _banner(sam_page, "Stage returned to the trainee with your comments.")
    assert _stage(enrolment.id, "stage-1").state is StageState.RETURNED

    # The trainee reads the comments on her home page and the stage page, acts on them, resubmits.
    tara.visit("/home")
    training = page.get_by_role("region", name="Your training")
    expect(training).to_contain_text("Returned with comments")
    expect(training).to_contain_text(f"Returned by {SUPERVISOR[1]} on {format_date(now)}")
    expect(training).to_contain_text(RETURN_COMMENTS)
    tara.act(lambda: training.get_by_role("link", name="Stage 1", exact=True).click())
    returned = page.get_by_role("region", name="Returned with comments")
    expect(returned).to_contain_text("Your supervisor returned this stage")
    expect(returned).to_contain_text(RETURN_COMMENTS)
    tara.act(lambda: page.get_by_role("link", name="Change your statement").click())
    statement = page.get_by_label("Write your statement")
    statement.fill(statement.input_value() + "\n\nIn the second clip I received his initiative with a smile.")
    tara.act(lambda: page.get_by_role("button", name="Save statement").click())
    tara.act(lambda: page.get_by_role("button", name="Submit stage for sign-off").click())
    _banner(page, "Stage submitted for sign-off.")

    # Signed off, and an accrediting supervisor asked: never the personal supervisor.
    sam.visit(stage_1)
    sam_page.get_by_label("Comments for the trainee (optional)").fill("Ready for the transition meeting.")
    sam.act(lambda: sam_page.get_by_role("button", name="Sign off stage").click())
    _banner(sam_page, "Stage signed off. It is now signed off by supervisor.")
    _ask_accreditor(sam)

    # The accrediting supervisor holds the transition meeting and accredits Stage 1.
    alex = person("accreditor", ACCREDITOR[0])
    _accredit(alex, "Stage 1", now - timedelta(days=300))
    stage_2_record = _stage(enrolment.id, "stage-2")
    assert _stage(enrolment.id, "stage-1").accredited_by_id == accreditor.id
    assert stage_2_record.state is StageState.IN_PROGRESS
    assert stage_2_record.started_on == now - timedelta(days=300)

    # --- Stage 2: seeded work, the chain clicked; an administrator asks the accrediting supervisor --
    _seed_stage(stage_2_record, trainee, supervisor, cycles=9, clients=3, hours=8)
    stage_2 = f"/enrolments/{enrolment.id}/stages/stage-2"
    _submit(tara, stage_2)
    _sign_off(sam, stage_2)
    ada = person("administrator", "admin@example.org")
    ada_page = ada.page
    nav = ada_page.get_by_role("navigation", name="Main menu")
    ada.act(lambda: nav.get_by_role("link", name="Ratification").click())
    waiting = ada_page.get_by_role("region", name="Waiting for an accrediting supervisor")
    expect(waiting).to_contain_text("VIG Practitioner: Stage 2")
    ada.act(lambda: waiting.get_by_role("link", name=TRAINEE[1]).click())
    _ask_accreditor(ada)
    _accredit(alex, "Stage 2", now - timedelta(days=200))
    stage_3_record = _stage(enrolment.id, "stage-3")
    assert stage_3_record.state is StageState.IN_PROGRESS
    assert stage_3_record.started_on == now - timedelta(days=200)

    # --- Stage 3: the accrediting supervisor reads the statement before the accreditation meeting --
    _seed_stage(stage_3_record, trainee, supervisor, cycles=12, clients=3, hours=8)
    stage_3 = f"/enrolments/{enrolment.id}/stages/stage-3"
    _submit(tara, stage_3)
    _sign_off(sam, stage_3)
    _ask_accreditor(sam)
    _accredit(alex, "Stage 3", now - timedelta(days=100), statement="What I learned in Stage 3")
    assert _stage(enrolment.id, "stage-3").state is StageState.ACCREDITED

    # --- Ratification ------------------------------------------------------------------------------
    ada.visit("/home")
    expect(ada_page.get_by_role("main")).to_contain_text(re.compile(r"\b1\s*accredited final stage waiting"))
    ada.act(lambda: ada_page.get_by_role("link", name="Open the ratification queue").click())
    to_ratify = ada_page.get_by_role("region", name="Waiting for ratification")
    expect(to_ratify).to_contain_text("Accredited VIG Practitioner")
    expect(to_ratify).to_contain_text(ACCREDITOR[1])
    ada.act(lambda: to_ratify.get_by_role("link", name=TRAINEE[1]).click())
    ada.act(lambda: ada_page.get_by_role("button", name="Ratify accreditation").click())
    _banner(ada_page, f"Accreditation ratified. {TRAINEE[1]} has completed the pathway.")
    _state_is(ada_page, "Ratified by AVIGuk")
    ada.act(lambda: ada_page.get_by_role("link", name="Back to all stages").click())
    _enrolment_is_complete(ada_page, now)

    db.session.expire_all()
    finished = db.session.get(Enrolment, enrolment.id)
    assert finished.status is EnrolmentStatus.COMPLETED and finished.completed_on == now
    assert [record.state for record in finished.stages] == [
        StageState.EXEMPT,
        StageState.ACCREDITED,
        StageState.ACCREDITED,
        StageState.RATIFIED,
    ]
    assert all(record.accredited_by_id == accreditor.id for record in finished.stages[1:])
    assert finished.stages[-1].ratified_by_id == admin.id

    # The trainee sees it too.
    tara.visit("/home")
    expect(page.get_by_role("main")).not_to_contain_text("What is left for this stage")
    training = page.get_by_role("region", name="Your training")
    expect(training).to_contain_text("Accredited VIG Practitioner")
    expect(training).to_contain_text(f"ratified your accreditation on {now.day} {now:%B %Y}")
    expect(page.get_by_role("region", name="Your cases")).to_contain_text("You have 8 cases.")
    tara.visit(f"/enrolments/{enrolment.id}")
    _enrolment_is_complete(page, now)


# --- the steps each stage repeats ------------------------------------------------------------------


def _seed_stage(record: StageRecord, trainee, supervisor, *, cycles: int, clients: int, hours: int) -> None:
    """A stage's casework, confirmed supervision, both assessments and the statement, inside its window."""
    db.session.expire_all()
    begun = record.started_on
    for week in range(hours):
        make_supervision(record.enrolment, supervisor, 1, on=begun + timedelta(days=10 + 7 * week))
    make_cycles(trainee, cycles, clients=clients, on=begun + timedelta(days=40))
    complete_assessments(record, trainee, supervisor)
    training.save_statement_text(trainee, record, f"What I learned in {record.definition.name}: to slow down.")
    db.session.commit()


def _submit(trainee: Browse, stage_path: str) -> None:
    trainee.visit(stage_path)
    expect(trainee.page.get_by_role("main")).to_contain_text("Everything you need is in place.")
    trainee.act(lambda: trainee.page.get_by_role("button", name="Submit stage for sign-off").click())
    _banner(trainee.page, "Stage submitted for sign-off.")


def _sign_off(supervisor: Browse, stage_path: str) -> None:
    supervisor.visit(stage_path)
    supervisor.act(lambda: supervisor.page.get_by_role("button", name="Sign off stage").click())
    _banner(supervisor.page, "Stage signed off. It is now signed off by supervisor.")


def _ask_accreditor(who: Browse) -> None:
    """On a signed-off stage's page: a search finds accrediting supervisors, never the personal supervisor."""
    page = who.page
    search = page.get_by_role("combobox", name="Search for the accrediting supervisor")
    search.fill(SUPERVISOR[1][:3])
    expect(page.get_by_role("listbox")).to_contain_text("Nobody found")
    search.fill(ACCREDITOR[1][:4])
    options = page.get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text(ACCREDITOR[1])
    options.first.click()
    expect(page.get_by_role("radio", name=ACCREDITOR[1])).to_be_checked()
    who.act(lambda: page.get_by_role("button", name="Ask this accrediting supervisor").click())
    _banner(page, f"{ACCREDITOR[1]} has been asked to hold the")
    _state_is(page, "With accrediting supervisor")


def _accredit(accreditor: Browse, stage_name: str, meeting: date, statement: str | None = None) -> None:
    """From their home page, the accrediting supervisor opens the stage, records the meeting, accredits."""
    page = accreditor.page
    if accreditor.path() != "/home":
        accreditor.visit("/home")
    asked = page.get_by_role("region", name="Stages to accredit")
    accreditor.act(lambda: asked.get_by_role("link", name=f"{TRAINEE[1]}: VIG Practitioner, {stage_name}").click())
    if statement is not None:
        expect(page.locator("#statement ~ .govuk-details")).to_contain_text(statement)
    _fill_date(page, "Date of the meeting", meeting)
    page.get_by_label("Accredit the stage").check()
    page.get_by_label("Comments for the trainee", exact=True).fill(f"{stage_name}: a thoughtful, attuned guider.")
    accreditor.act(lambda: page.get_by_role("button", name="Record the meeting").click())
    _banner(page, "Meeting recorded: the stage is accredited.")
    if stage_name == "Stage 3":
        # The final stage waits for AVIGuk to ratify it, so the accreditor can still see it.
        _state_is(page, "Accredited")
    else:
        # An intermediate stage is finished: their part is over and they are back at their queue.
        assert accreditor.path() == "/accreditation"


# --- small helpers -------------------------------------------------------------------------------


def _stage(enrolment_id: int, code: str) -> StageRecord:
    db.session.expire_all()
    return db.session.get(Enrolment, enrolment_id).stage_record(code)


def _banner(page: Page, text: str) -> None:
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(text)


def _state_is(page: Page, label: str) -> None:
    expect(page.get_by_role("main").locator(".govuk-tag").first).to_have_text(label)


def _requirement(page: Page, title: str, figure: str) -> None:
    expect(page.locator(".govuk-summary-list__row").filter(has_text=title)).to_contain_text(figure)


def _fill_date(page: Page, legend: str, day: date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def _rate_every_principle(page: Page, rating: str) -> None:
    for principle in principles().principles:
        page.get_by_role("group", name=principle.name, exact=True).get_by_label(rating).check()


def _enrolment_is_complete(page: Page, on: date) -> None:
    stages = page.locator(".govuk-task-list__item")
    for name, state in [
        ("Initial Training Course", "Exempt"),
        ("Stage 1", "Accredited"),
        ("Stage 2", "Accredited"),
        ("Stage 3", "Ratified by AVIGuk"),
    ]:
        expect(stages.filter(has_text=name)).to_contain_text(state)
    status = page.locator(".govuk-summary-list__row").filter(has_text="Status")
    expect(status).to_contain_text(f"Completed on {format_date(on)}")
    expect(page.get_by_role("main")).to_contain_text(
        "Nothing: every stage is finished and the accreditation has been ratified."
    )
