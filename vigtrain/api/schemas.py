"""The API's request and response shapes as pydantic models: they validate requests and, through
spectree, are the OpenAPI document, so the two cannot drift apart.

Request bodies are strict JSON (a number is not a string, a date is "YYYY-MM-DD") and refuse
unknown fields, so a typing mistake in a client is reported rather than silently ignored.
Limits repeat the services' own constants, so the document states the rules the services apply.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from vigtrain.accounts.models import Role
from vigtrain.casework.models import AgeBand, CaseStatus, EndReason, Population, Relationship
from vigtrain.certificates.models import CertificateKind, CertificateStatus
from vigtrain.dcs.measures import library
from vigtrain.dcs.models import InvitationStatus, Timepoint
from vigtrain.dcs.outcomes import Classification
from vigtrain.extensions import MAX_ID
from vigtrain.organisations.regions import UK_REGIONS
from vigtrain.pagination import MAX_PAGE
from vigtrain.pathways.definitions import RequirementKind, principles
from vigtrain.pathways.models import EnrolmentStatus, StageState
from vigtrain.supervision import sessions as supervision
from vigtrain.supervision.models import SessionFormat, SessionMode, SessionStatus

MAX_PER_PAGE = 100


def _printable(value: str) -> str:
    """NUL and other control characters (except line breaks and tabs) are never meaningful in text."""
    if any(ord(char) < 32 and char not in "\t\n\r" for char in value):
        raise ValueError("must not contain control characters")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
RegionCode = Literal[tuple(code for code, _name, _nation in UK_REGIONS)]  # type: ignore[valid-type]
MeasureCode = Literal[tuple(library())]  # type: ignore[valid-type]
PrincipleCode = Literal[tuple(principles().codes)]  # type: ignore[valid-type]
ItemNumber = Annotated[str, Field(pattern=r"^[1-9][0-9]?$")]
Text = Annotated[str, Field(max_length=supervision.MAX_TEXT), AfterValidator(_printable)]
StartTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["14:00"])]
Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_printable)]
CaseCode = Annotated[str, Field(min_length=1, max_length=20, examples=["VC-7K2M-9QX4"]), AfterValidator(_printable)]


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- shared pieces --------------------------------------------------------------------------------


class Links(_Out):
    self: str


class PageLinks(_Out):
    """Links to this page and its neighbours; `prev` and `next` are null at either end."""

    self: str
    first: str
    last: str
    prev: str | None
    next: str | None


class _Page(_Out):
    total: int = Field(description="How many items there are on every page together.")
    page: int
    per_page: int
    links: PageLinks


class Paging(BaseModel):
    """Which page of a list: numbered from 1."""

    page: int = Field(1, ge=1, le=MAX_PAGE, description="Which page, counting from 1.")
    per_page: int = Field(25, ge=1, le=MAX_PER_PAGE, description="How many items a page holds.")


class PersonRef(_Out):
    id: int
    name: str


class ServiceRef(_Out):
    id: int
    name: str


class RegionRef(_Out):
    code: str
    name: str


# --- me -------------------------------------------------------------------------------------------


class PathwayRef(_Out):
    code: str
    version: str
    name: str


class EnrolmentLinks(_Out):
    progress: str


class EnrolmentRef(_Out):
    id: int
    pathway: PathwayRef
    status: EnrolmentStatus
    start_date: dt.date
    supervisor: PersonRef | None
    links: EnrolmentLinks


class Me(_Out):
    """The token's owner, the scopes the token grants, and their own training records."""

    id: int
    email: str
    name: str
    roles: list[Role]
    service: ServiceRef | None
    scopes: list[str] = Field(description="What this token may do.")
    enrolments: list[EnrolmentRef] = Field(
        description=(
            "Training records where this person is the trainee; empty unless the token may read"
            " enrolments or supervision."
        )
    )


# --- measures -------------------------------------------------------------------------------------


class MeasureSummary(_Out):
    code: str
    version: str
    name: str
    description: str
    direction: Literal["higher_is_better", "higher_is_worse"]
    item_count: int
    min_score: float
    max_score: float
    links: Links


class MeasurePage(_Page):
    items: list[MeasureSummary]


class OptionOut(_Out):
    position: int = Field(description="What to send in `responses` to choose this answer.")
    label: str
    score: int


class ItemOut(_Out):
    number: str
    text: str | None = Field(description="The item's wording, where the licence allows it.")
    label: str | None
    options: list[OptionOut] = Field(description="The answers in the order the measure presents them.")


class ScoringOut(_Out):
    method: Literal["sum", "mean"]
    min_score: float
    max_score: float
    converted: bool = Field(description="True where the raw sum is converted (SWEMWBS: raw to metric).")


class MissingOut(_Out):
    rule: Literal["refuse", "prorate", "skip"]
    max_missing: int
    min_answered: int
    required: list[str]
    note: str


class SubscaleOut(_Out):
    code: str
    name: str
    items: list[str]


class BandOut(_Out):
    label: str
    min: int
    max: int


class CasenessOut(_Out):
    threshold: float
    direction: Literal["at_or_above", "at_or_below"]
    label: str


class ReliableChangeOut(_Out):
    points: float
    status: Literal["published", "derived", "provisional"]


class RiskOut(_Out):
    code: str
    item: str | None
    subscale: str | None
    at_or_above: float
    message: str


class MeasureDetail(_Out):
    """Everything a client needs to present the measure and read its scores."""

    code: str
    version: str
    name: str
    description: str
    completed_by: str
    recall_period: str
    stem: str
    direction: Literal["higher_is_better", "higher_is_worse"]
    licence: str
    item_text_allowed: bool
    items: list[ItemOut]
    scoring: ScoringOut
    missing: MissingOut
    subscales: list[SubscaleOut]
    bands: list[BandOut]
    caseness: CasenessOut | None
    reliable_change: ReliableChangeOut
    risks: list[RiskOut]


# --- cases ----------------------------------------------------------------------------------------


class ConsentDates(_Body):
    """Each consent the client gave, as the date it was given; null (or left out) if not given."""

    filming: dt.date | None = None
    supervision: dt.date | None = None
    dcs: dt.date | None = Field(None, description="Without it, the case never appears in DCS reports.")


class CaseCreate(_Body):
    """A new case: its context and consents. vigtrain gives it a code; the client is never named."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "relationship": "parent_infant",
                    "age_band": "0-11m",
                    "population": "perinatal",
                    "region": "E12000007",
                    "started_on": "2025-10-06",
                    "consents": {"filming": "2025-10-06", "supervision": "2025-10-06", "dcs": "2025-10-06"},
                }
            ]
        }
    )

    relationship: Relationship
    age_band: AgeBand = Field(description="The child's age band (`n/a` where there is no child).")
    population: Population
    region: RegionCode = Field(description="The ONS code of the UK region or nation where the work happens.")
    started_on: dt.date | None = Field(None, description="Defaults to today (UK).")
    consents: ConsentDates = Field(default_factory=ConsentDates)


class CaseQuery(Paging):
    status: CaseStatus | None = Field(None, description="Only cases with this status.")


class CaseContext(_Out):
    relationship: Relationship
    age_band: AgeBand
    population: Population
    region: RegionRef
    service: ServiceRef | None
    stage_number: int | None = Field(description="The practitioner's training stage when the case opened.")


class ConsentsOut(_Out):
    filming: dt.date | None
    supervision: dt.date | None
    dcs: dt.date | None


class CaseLinks(_Out):
    self: str
    outcomes: str
    administrations: str = Field(description="POST a completed outcome measure here.")


class CaseOut(_Out):
    code: str
    practitioner: PersonRef
    status: CaseStatus
    started_on: dt.date
    ended_on: dt.date | None
    end_reason: EndReason | None
    context: CaseContext
    consents: ConsentsOut
    cycle_count: int
    links: CaseLinks


class CasePage(_Page):
    items: list[CaseOut]


# --- outcome measures -----------------------------------------------------------------------------


class AdministrationCreate(_Body):
    """One completed measure; each response is the 0-based position of the answer chosen."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "measure": "PHQ-9",
                    "timepoint": "pre",
                    "date": "2025-10-06",
                    "responses": {"1": 1, "2": 2, "3": 0, "4": 1, "5": 3, "6": 0, "7": 1, "8": 0, "9": 0},
                }
            ]
        }
    )

    measure: MeasureCode
    timepoint: Timepoint
    date: dt.date = Field(description="When the measure was completed: within the case, in timepoint order.")
    responses: dict[ItemNumber, Annotated[int, Field(ge=0, le=11)] | None] = Field(
        description='Item number to answer position, e.g. {"1": 0, "2": 3}. Leave out (or null) an item not '
        "answered; the measure's missing-item rule decides whether it can still be scored."
    )


class FlagOut(_Out):
    code: str
    message: str
    item: str | None


class Scores(_Out):
    total: float = Field(description="The reported score (SWEMWBS: the metric score; GBO: the mean rating).")
    raw: float | None = Field(description="The raw sum, where the measure converts it (SWEMWBS).")
    subscales: dict[str, float] = Field(description="Subscale scores; for GBO each goal, `goal_1` to `goal_3`.")


class AdministrationOut(_Out):
    id: int
    case: str
    measure: str
    measure_version: str
    timepoint: Timepoint
    date: dt.date
    scores: Scores
    band: str | None
    flags: list[FlagOut] = Field(description="Risk answers to act on now, following the service's safeguarding.")
    prorated: bool


class TimepointScore(_Out):
    id: int
    timepoint: Timepoint
    date: dt.date
    total: float
    band: str | None
    flags: list[FlagOut]


class MeasureOutcome(_Out):
    measure: str
    name: str
    direction: Literal["higher_is_better", "higher_is_worse"]
    pre: float | None
    post: float | None
    change: float | None = Field(description="Post minus pre, in the measure's own units.")
    classification: Classification | None
    recovery: bool | None = Field(description="Null where the measure has no caseness cut-off or no pre and post.")
    reliable_recovery: bool | None
    consider_further_input: bool = Field(description="The post score is still at or above the clinical cut-off.")
    administrations: list[TimepointScore]


class CaseOutcomes(_Out):
    case: str
    measures: list[MeasureOutcome]


# --- links for the client -------------------------------------------------------------------------


class InvitationCreate(_Body):
    """Measures for the client to answer on their own phone, at one timepoint of the work."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"measures": ["PHQ-9", "GAD-7"], "timepoint": "post"}]})

    measures: list[MeasureCode] = Field(
        min_length=1,
        max_length=len(library()),
        description="Measure codes, each once. Only measures whose wording may be shown (`item_text_allowed`, "
        "or licensed wording the case's service holds) can be sent to a client; the client answers them in "
        "the library's order.",
    )
    timepoint: Timepoint = Field(description="The answers are dated the day the client sends them.")


class InvitationOut(_Out):
    id: int
    measures: list[str]
    timepoint: Timepoint
    status: InvitationStatus = Field(
        description="`pending` (waiting for the client), `used` (answered), `expired` or `revoked`."
    )
    created_at: dt.datetime
    expires_at: dt.datetime = Field(description="The link works until then: the end of its last day, UK time.")
    used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class InvitationCreated(InvitationOut):
    url: str = Field(
        description="The link for the client (show it as a QR code, or send it yourself: vigtrain sends nothing). "
        "Returned in this answer only: vigtrain keeps just a digest of it, so no later request can return it."
    )


class InvitationPage(_Page):
    items: list[InvitationOut]


# --- supervision ----------------------------------------------------------------------------------


class SessionCreate(_Body):
    """A supervision session the token's owner (the trainee) had; it counts once the supervisor confirms it.

    Name the supervisor by `supervisor_id` or `supervisor_email`, or leave both out for your
    personal supervisor.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "supervisor_email": "sian@example.org",
                    "session_date": "2025-10-06",
                    "start_time": "14:00",
                    "duration_minutes": 60,
                    "clips_reviewed": 3,
                    "principles": ["attentive", "receiving"],
                    "reflection": "Noticed more of the child's initiatives in the second clip.",
                }
            ]
        }
    )

    enrolment_id: Id | None = Field(None, description="Your training record; needed only if you have several.")
    supervisor_id: Id | None = None
    supervisor_email: Email | None = None
    session_date: dt.date | None = Field(None, description="Defaults to today (UK).")
    start_time: StartTime | None = Field(None, description="HH:MM, UK time; tells apart two sessions on one day.")
    duration_minutes: int = Field(60, ge=supervision.MIN_MINUTES, le=supervision.MAX_MINUTES)
    format: SessionFormat = SessionFormat.INDIVIDUAL
    group_size: int | None = Field(None, ge=supervision.MIN_GROUP, le=supervision.MAX_GROUP)
    mode: SessionMode = SessionMode.IN_PERSON
    clips_reviewed: int = Field(0, ge=0, le=supervision.MAX_CLIPS)
    cycle_ids: list[Id] = Field(
        default_factory=list,
        max_length=supervision.MAX_CASES,
        description="The cycles whose film was reviewed: your own, with the client's consent to supervision.",
    )
    case_codes: list[CaseCode] = Field(
        default_factory=list,
        max_length=supervision.MAX_CASES,
        description="Cases reviewed without naming the cycle. Prefer `cycle_ids`.",
    )
    principles: list[PrincipleCode] = Field(default_factory=list)
    reflection: Text | None = None
    next_steps: Text | None = None


class SessionConfirm(_Body):
    """The session's supervisor confirms it; `version` is the one read, so a change in between is caught."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"version": 1, "comments": "Confirmed: good use of clips."}]}
    )

    version: Id
    comments: Text | None = None


class SessionQuery(Paging):
    enrolment: Id | None = Field(None, description="One training record's whole log (trainee, supervisors, admins).")
    status: SessionStatus | None = Field(None, description="Only sessions with this status (`logged`: awaiting).")


class ReviewOut(_Out):
    case_code: str
    cycle_id: int | None
    filmed_on: dt.date | None


class SessionOut(_Out):
    id: int
    enrolment_id: int
    trainee: PersonRef
    supervisor: PersonRef
    session_date: dt.date
    start_time: str | None
    duration_minutes: int
    format: SessionFormat
    group_size: int | None
    mode: SessionMode
    clips_reviewed: int
    case_codes: list[str] = Field(description="The cases whose film was reviewed.")
    reviewed: list[ReviewOut] = Field(description="The film reviewed: each cycle (`cycle_id` null if not named).")
    principles: list[str]
    reflection: str | None
    next_steps: str | None
    supervisor_comments: str | None
    status: SessionStatus
    logged_by_id: int
    logged_at: dt.datetime
    confirmed_at: dt.datetime | None
    amends_id: int | None = Field(description="The confirmed session this one corrects.")
    amendment_reason: str | None
    version: int = Field(description="Send it back when confirming.")


class SessionPage(_Page):
    items: list[SessionOut]


# --- progress -------------------------------------------------------------------------------------


class RequirementOut(_Out):
    kind: RequirementKind
    title: str
    value: float
    target: float | None = Field(description="Null for requirements that are done or not done.")
    met: bool
    exempt: bool
    percent: int
    figure: str = Field(description="As the task list shows it, e.g. '4 of 6 cycles'.")
    left: str | None = Field(description="What is still to do, in words; null when met.")


class StageOut(_Out):
    code: str
    name: str
    position: int
    state: StageState
    state_label: str
    started_on: dt.date | None
    ended_on: dt.date | None
    percent: int
    all_met: bool
    requirements: list[RequirementOut]


class Progress(_Out):
    enrolment: EnrolmentRef
    trainee: PersonRef
    overall_percent: int
    current_stage: str | None = Field(description="The code of the first stage not yet finished.")
    stages: list[StageOut]


# --- certificates ---------------------------------------------------------------------------------


class CredentialStatus(_Out):
    status_list: str
    suspension_list: str
    index: int


class SupersededBy(_Out):
    number: str
    verification_url: str


class CertificateFacts(_Out):
    """What anyone may learn about a certificate from its number: the verification page's facts."""

    number: str
    holder: str
    credential: str
    kind: CertificateKind
    status: CertificateStatus
    status_label: str
    issued_on: dt.date
    valid_until: dt.date | None
    verification_url: str
    credential_status: CredentialStatus
    revocation_reason: str | None = None
    suspension_reason: str | None = None
    suspended_until: dt.date | None = None
    superseded_by: SupersededBy | None = None
