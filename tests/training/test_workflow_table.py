"""The workflow table read row by row: each action is offered exactly when its row allows it, else refused.

For every row of `workflow.ACTIONS`, every stage state, an active and a paused enrolment, three
stages (one with course attendance, one without, and the final stage) and six kinds of person,
the test works out from the row's own fields whether the action is allowed, then checks the
service's `offered`, the stage page's forms and what posting the action does. Records are put
into each state directly, so no case walks the chain.
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import CSRF_INPUT, Client, running_app
from tests.factories import complete_assessments, make_cycles, make_enrolment, make_supervision, make_user
from vigtrain.accounts.models import Role, User
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.pathways.definitions import RequirementKind
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, StageRecord, StageState, StageTransition
from vigtrain.security import can_view_enrolment
from vigtrain.training import services as training
from vigtrain.training import workflow
from vigtrain.training.progress import stage_progress

ACTORS = ("trainee", "supervisor", "accreditor", "other_accreditor", "admin", "stranger")
# The ITC has course attendance and is not final; stage 1 has neither; stage 3 is the final stage.
STAGES = ("itc", "stage-1", "stage-3")
STATUSES = (EnrolmentStatus.ACTIVE, EnrolmentStatus.PAUSED)
# Stage windows (half-open) chosen so each stage's requirements are met by the work made below.
WINDOWS = {
    "itc": (date(2025, 1, 6), date(2025, 2, 1)),
    "stage-1": (date(2025, 2, 1), date(2025, 3, 1)),
    "stage-2": (date(2025, 3, 1), date(2025, 4, 1)),
    "stage-3": (date(2025, 4, 1), None),
}
CASES = list(itertools.product(STAGES, STATUSES, StageState, ACTORS))


@dataclass
class World:
    people: dict[str, User]
    enrolment: Enrolment
    clients: dict[str, Client]
    tokens: dict[str, str]

    def arrange(self, stage_code: str, state: StageState, status: EnrolmentStatus) -> StageRecord:
        """Put one stage in `state` (asked of the accrediting supervisor) and the enrolment in `status`."""
        target = None
        for record in self.enrolment.stages:
            wanted_state = state if record.stage_code == stage_code else StageState.NOT_STARTED
            wanted_accreditor = self.people["accreditor"].id if record.stage_code == stage_code else None
            if record.state is not wanted_state:
                record.state = wanted_state
            if record.accrediting_supervisor_id != wanted_accreditor:
                record.accrediting_supervisor_id = wanted_accreditor
            if record.stage_code == stage_code:
                target = record
        if self.enrolment.status is not status:
            self.enrolment.status = status
        db.session.commit()
        return target


@pytest.fixture(scope="module")
def table_app(database_url):
    """An app whose data lives for the whole module (the records are re-arranged by each test)."""
    with running_app(database_url) as app:
        yield app


@pytest.fixture(scope="module")
def world(table_app) -> World:
    """Six people, one enrolment whose stages each meet their requirements, and a signed-in client for each."""
    people = {
        "trainee": make_user("table-trainee@example.org", roles=(Role.TRAINEE,), name="Tess Trainee"),
        "supervisor": make_user(
            "table-sup@example.org", roles=(Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR), name="Sam Supervisor"
        ),
        "accreditor": make_user(
            "table-acc@example.org", roles=(Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR), name="Ana Accreditor"
        ),
        "other_accreditor": make_user(
            "table-other-acc@example.org", roles=(Role.ACCREDITING_SUPERVISOR,), name="Oli Otheracc"
        ),
        "admin": make_user("table-admin@example.org", roles=(Role.ADMINISTRATOR,), name="Ari Admin"),
        "stranger": make_user("table-stranger@example.org", roles=(Role.SUPERVISOR,), name="Uma Unrelated"),
    }
    enrolment = make_enrolment(people["trainee"], people["supervisor"], start=date(2025, 1, 6), actor=people["admin"])
    for record in enrolment.stages:
        record.started_on, record.ended_on = WINDOWS[record.stage_code]
        record.state = StageState.IN_PROGRESS
    enrolment.stage_record("itc").course_sessions_attended = 4
    db.session.commit()
    make_cycles(people["trainee"], 6, 2, date(2025, 2, 10))
    make_supervision(enrolment, people["supervisor"], 7, date(2025, 2, 10))
    make_cycles(people["trainee"], 12, 3, date(2025, 4, 10))
    make_supervision(enrolment, people["supervisor"], 8, date(2025, 4, 10))
    for code in ("stage-1", "stage-3"):
        record = enrolment.stage_record(code)
        training.save_statement_text(people["trainee"], record, "What I learned about receiving initiatives.")
        complete_assessments(record, people["trainee"], people["supervisor"])
    for code in STAGES:
        progress = stage_progress(enrolment.stage_record(code))
        assert progress.all_met, (code, [status.left for status in progress.unmet])
    clients, tokens = {}, {}
    for name, user in people.items():
        client = table_app.test_client()
        assert client.login(user.email).status_code == 302
        home = client.get("/", follow_redirects=True).get_data(as_text=True)
        clients[name], tokens[name] = client, CSRF_INPUT.search(home).group(1)
    return World(people, enrolment, clients, tokens)


# --- what the row says, worked out from its fields ---------------------------------------------------


def _row_refusal(action: workflow.Action, user: User, record: StageRecord) -> tuple[int, str | None] | None:
    """None if the row allows the action; else the status and message its refusal must show."""
    if not action.may(user, record):
        return 403, None
    status = record.enrolment.status
    if action.needs_active and status is not EnrolmentStatus.ACTIVE:
        return 422, f"This enrolment is {status.value}; stages cannot move until it is active again"
    if not action.applies(record):
        return 422, action.not_here
    if record.state not in action.starts_from:
        return 422, action.refused.format(state=record.state.label.lower())
    return None


def _address(record: StageRecord, action: workflow.Action) -> str:
    return f"/enrolments/{record.enrolment_id}/stages/{record.stage_code}/{action.path}"


def _plain(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(text))


def _snapshot(record: StageRecord) -> tuple:
    """What must not move when an action is refused: the stage, the enrolment and the audit trail."""
    counted = [select(func.count()).select_from(table).scalar_subquery() for table in (AuditEvent, StageTransition)]
    return db.session.execute(
        select(
            StageRecord.state,
            StageRecord.version,
            StageRecord.course_sessions_attended,
            Enrolment.status,
            Enrolment.version,
            *counted,
        )
        .join(Enrolment, Enrolment.id == StageRecord.enrolment_id)
        .where(StageRecord.id == record.id)
    ).one()


def _fields(world: World, action: workflow.Action) -> dict:
    """A form for the action that passes the form's own checks, so only the row can refuse it."""
    return {
        "submit": {},
        "sign_off": {"comments": "Well done."},
        "return": {"comments": "Please add more on guiding."},
        "attendance": {"sessions": "4"},
        "request_accreditor": {"accreditor": str(world.people["other_accreditor"].id)},
        "meeting": {"meeting_date": ["1", "5", "2025"], "outcome": "accredit"},
        "ratify": {},
        "exemption": {"reason": "Completed the equivalent VIG course in Utrecht."},
    }[action.name]


# --- the tests ---------------------------------------------------------------------------------------


def test_every_row_is_both_offered_and_refused_somewhere(world):
    """The matrix below is not vacuous: each row is allowed in some case and refused in others."""
    allowed = {action.name: set() for action in workflow.ACTIONS}
    refused = {action.name: set() for action in workflow.ACTIONS}
    try:
        for stage_code, status, state, actor in CASES:
            record = world.enrolment.stage_record(stage_code)
            record.state, world.enrolment.status = state, status
            record.accrediting_supervisor_id = world.people["accreditor"].id
            for action in workflow.ACTIONS:
                found = allowed if _row_refusal(action, world.people[actor], record) is None else refused
                found[action.name].add(actor)
    finally:
        db.session.rollback()
    assert all(allowed.values()), allowed
    assert all(refused.values()), refused
    # Each action is someone's to take, and nobody else's: the permission column matters.
    assert allowed["submit"] == {"trainee"}
    assert allowed["meeting"] == {"accreditor"}
    assert {"stranger", "other_accreditor"}.isdisjoint(set().union(*allowed.values()))


@pytest.mark.parametrize(
    ("stage_code", "status", "state", "actor"),
    CASES,
    ids=[f"{stage}-{status}-{state}-{actor}" for stage, status, state, actor in CASES],
)
def test_each_action_is_offered_exactly_when_its_row_allows_it(world, stage_code, status, state, actor):
    """Offered by the service and shown on the page exactly when allowed; refused and unchanged otherwise."""
    record = world.arrange(stage_code, state, status)
    user = world.people[actor]
    refusals = {action.name: _row_refusal(action, user, record) for action in workflow.ACTIONS}
    expected = [action.name for action in workflow.ACTIONS if refusals[action.name] is None]

    # (a) the service offers exactly the actions the rows allow, in the table's order
    assert [action.name for action in workflow.offered(user, record)] == expected

    # (b) the stage page shows a form for exactly those actions
    client = world.clients[actor]
    visible = can_view_enrolment(user, record.enrolment)
    page = client.get(f"/enrolments/{record.enrolment_id}/stages/{record.stage_code}")
    if not visible:
        assert page.status_code == 404
        assert expected == [], "an action is allowed to someone who cannot see the stage"
    else:
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        shown = [action.name for action in workflow.ACTIONS if f'action="{_address(record, action)}"' in text]
        assert shown == expected

    # (c) posting an action the row refuses is refused with its message, and nothing changes. A refusal
    # on permission (403, or 404 for someone who cannot see the stage) comes before the enrolment's status
    # is looked at, so those are posted against the active enrolment only, keeping the run short.
    before = _snapshot(record)
    for action in workflow.ACTIONS:
        refusal = refusals[action.name]
        if refusal is None or (status is EnrolmentStatus.PAUSED and (not visible or refusal[0] == 403)):
            continue
        data = {"csrf_token": world.tokens[actor], "version": str(before[1]), **_fields(world, action)}
        response = client.post(_address(record, action), data=data)
        status_code, message = (404, None) if not visible else refusal
        assert response.status_code == status_code, (action.name, response.status_code)
        if message is not None:
            assert message in _plain(response), action.name
        assert tuple(_snapshot(record)) == tuple(before), f"{action.name} changed something when refused"


def test_attendance_applies_only_where_the_stage_counts_course_sessions(world):
    """The stages chosen above differ where the rows' `applies` looks: course attendance and finality."""
    kinds = {
        code: {r.kind for r in world.enrolment.stage_record(code).definition.active_requirements} for code in STAGES
    }
    assert RequirementKind.COURSE_ATTENDANCE in kinds["itc"]
    assert RequirementKind.COURSE_ATTENDANCE not in kinds["stage-1"] | kinds["stage-3"]
    finals = {code: world.enrolment.stage_record(code).is_final for code in STAGES}
    assert finals == {"itc": False, "stage-1": False, "stage-3": True}
