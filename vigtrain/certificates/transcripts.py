"""Training transcripts: a signed record of a holder's whole training, to replace signature pages.

A transcript lists, for each of the holder's enrolments, every stage with its dates (started,
submitted, signed off, accredited, ratified), the supervision hours confirmed in it, the ratings
against the attunement principles once the stage is signed off (when they can no longer change),
and the holder's certificates. Only confirmed facts: nothing about clients or cases, no free text,
and nobody else's name.

Making one fixes its contents: the credential is built, signed and stored as it was signed, and
every page, the PDF and the check of a pasted copy read that stored credential, never today's record.

The credential is an Open Badges 3.0 `OpenBadgeCredential` whose achievement has the extension type
`ext:TrainingTranscript`, not a CLR 2.0 `ClrCredential`: a ClrSubject must carry each achievement
as its own AchievementCredential, and 1EdTech's validator checks every embedded one's proof; vigtrain
signs only VC-JWTs, which cannot be embedded as JSON, so a ClrCredential would fail validation. Open
Badges 3.0 has what a transcript needs: `resultDescription` on the achievement, `result` on the
subject (statuses, dates and hours as `ext:` result types, ratings as rubric criterion levels), and
the certificates as `evidence`.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from flask import current_app
from sqlalchemy import select

from vigtrain import audit, codes
from vigtrain.accounts.models import User
from vigtrain.certificates import badges
from vigtrain.certificates.models import TRANSCRIPT_PREFIX, TrainingTranscript
from vigtrain.certificates.services import certificates_held_by, effective_status
from vigtrain.dates import UK, format_date, utcnow
from vigtrain.errors import DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.pathways.definitions import RequirementKind, principles
from vigtrain.pathways.models import (
    Assessment,
    AssessmentKind,
    Enrolment,
    EnrolmentStatus,
    StageRecord,
    StageState,
)
from vigtrain.security import can_create_transcript
from vigtrain.supervision.records import format_hours, totals

NUMBER_EXAMPLE = "TR-4F7K-2MXQ"
TRANSCRIPT_TYPE = "ext:TrainingTranscript"
# A transcript of several enrolments with every rating is tens of kilobytes; nothing of ours is larger.
MAX_PASTED_LENGTH = 400_000
# The JWT claims signing adds beside the credential (see badges.registered_claims).
JWT_CLAIMS = ("iss", "jti", "sub", "nbf", "exp")

# Ratings are kept once the supervisor has signed the stage off: before that either may still change.
RATED_STATES = frozenset(
    {
        StageState.SIGNED_OFF,
        StageState.WITH_ACCREDITOR,
        StageState.ACCREDITED,
        StageState.RATIFIED,
        StageState.COMPLETE,
    }
)
# Open Badges 3.0 ResultStatusType for each stage state (a stage not started has no status).
STAGE_RESULT_STATUS = {
    StageState.IN_PROGRESS: "InProgress",
    StageState.SUBMITTED: "InProgress",
    StageState.RETURNED: "InProgress",
    StageState.SIGNED_OFF: "InProgress",
    StageState.WITH_ACCREDITOR: "InProgress",
    StageState.ACCREDITED: "Completed",
    StageState.RATIFIED: "Completed",
    StageState.COMPLETE: "Completed",
    StageState.EXEMPT: "Completed",
}
ENROLMENT_RESULT_STATUS = {
    EnrolmentStatus.ACTIVE: "InProgress",
    EnrolmentStatus.PAUSED: "OnHold",
    EnrolmentStatus.WITHDRAWN: "Withdrew",
    EnrolmentStatus.COMPLETED: "Completed",
}
ENROLMENT_STATUS_LABELS = {
    EnrolmentStatus.ACTIVE: "In training",
    EnrolmentStatus.PAUSED: "Paused",
    EnrolmentStatus.WITHDRAWN: "Withdrawn",
    EnrolmentStatus.COMPLETED: "Completed",
}
# The dated steps of a stage, in order: (key, label, the state a transition into marks the step).
MILESTONES = (
    ("started", "Started", StageState.IN_PROGRESS),
    ("submitted", "Submitted to supervisor", StageState.SUBMITTED),
    ("signed_off", "Signed off by supervisor", StageState.SIGNED_OFF),
    ("accredited", "Accredited", StageState.ACCREDITED),
    ("ratified", "Ratified by AVIGuk", StageState.RATIFIED),
    ("completed", "Completed", StageState.COMPLETE),
)
MILESTONE_LABELS = {key: label for key, label, _ in MILESTONES}
KIND_LABELS = {AssessmentKind.SUPERVISOR: "Supervisor", AssessmentKind.SELF: "Self-assessment"}


# --- numbers --------------------------------------------------------------------------------------


def canonical_transcript_number(text: str | None) -> str | None:
    """The number as printed (for example TR-4F7K-2MXQ) if it is a well-formed transcript number, else None."""
    cleaned = codes.normalise(text or "")
    if len(cleaned) != len(TRANSCRIPT_PREFIX) + 8:
        return None
    return codes.canonical(cleaned, TRANSCRIPT_PREFIX)


def find_transcript(number: str | None) -> TrainingTranscript | None:
    canonical = canonical_transcript_number(number)
    if canonical is None:
        return None
    return db.session.scalar(select(TrainingTranscript).where(TrainingTranscript.number == canonical))


def transcripts_of(holder: User) -> list[TrainingTranscript]:
    """The holder's transcripts, newest first."""
    return list(
        db.session.scalars(
            select(TrainingTranscript)
            .where(TrainingTranscript.holder_id == holder.id)
            .order_by(TrainingTranscript.issued_at.desc(), TrainingTranscript.id.desc())
        )
    )


def verification_url(number: str) -> str:
    return f"{current_app.config['BASE_URL']}/verify/{number}"


# --- what a transcript says -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rating:
    kind: str  # "Supervisor" or "Self-assessment"
    principle: str
    value: int
    label: str


@dataclass
class StageLine:
    name: str
    state: str
    status: str | None  # the Open Badges ResultStatusType
    achievement_url: str = ""  # the stage's public Achievement, which the stage's result aligns to
    dates: dict[str, date] = field(default_factory=dict)  # milestone key -> day
    hours: str | None = None  # confirmed supervision hours, as people read them
    target_hours: str | None = None
    ratings: list[Rating] = field(default_factory=list)

    @property
    def rating_rows(self) -> list[tuple[str, Rating | None, Rating | None]]:
        """Each principle once, with the supervisor's rating and the self-assessment beside it."""
        rows: dict[str, list[Rating | None]] = {}
        for rating in self.ratings:
            pair = rows.setdefault(rating.principle, [None, None])
            pair[0 if rating.kind == KIND_LABELS[AssessmentKind.SUPERVISOR] else 1] = rating
        return [(principle, supervisor, own) for principle, (supervisor, own) in rows.items()]

    @property
    def shows_hours(self) -> bool:
        """Hours are shown for a stage that asks for supervision, or had some confirmed."""
        return self.hours is not None and (self.target_hours is not None or float(self.hours) > 0)

    @property
    def dated(self) -> list[tuple[str, date]]:
        return [(MILESTONE_LABELS[key], self.dates[key]) for key, _, _ in MILESTONES if key in self.dates]


@dataclass
class EnrolmentLine:
    pathway: str  # "VIG Practitioner (version 2024.1)"
    status: str
    started_on: date | None
    result_status: str | None = None  # the Open Badges ResultStatusType
    stages: list[StageLine] = field(default_factory=list)
    continuing_hours: str | None = None  # supervision confirmed since accreditation

    @property
    def confirmed_hours(self) -> str:
        total = sum(float(stage.hours) for stage in self.stages if stage.hours)
        return format_hours(total)


@dataclass(frozen=True)
class CertificateLine:
    number: str
    kind: str
    credential: str
    status: str  # when the transcript was made


@dataclass
class TranscriptContents:
    """What a transcript says, read back from its signed credential (pages and the PDF show this)."""

    number: str
    holder_name: str
    issued_on: date
    enrolments: list[EnrolmentLine] = field(default_factory=list)
    certificates: list[CertificateLine] = field(default_factory=list)


def _uk_day(moment: datetime | None) -> date | None:
    return moment.astimezone(UK).date() if moment is not None else None


def _milestones(record: StageRecord) -> dict[str, date]:
    """The day of each step the stage has taken: the record's own field, else the last move into it."""
    recorded = {
        "started": record.started_on,
        "submitted": _uk_day(record.submitted_at),
        "signed_off": _uk_day(record.signed_off_at),
        "accredited": _uk_day(record.accredited_at),
        "ratified": _uk_day(record.ratified_at),
    }
    moves: dict[StageState, date] = {}
    for transition in record.transitions:
        moves[transition.to_state] = _uk_day(transition.occurred_at)
    days = {}
    for key, _, state in MILESTONES:
        day = recorded.get(key) or moves.get(state)
        if key == "completed" and record.state is StageState.COMPLETE:
            day = day or record.ended_on
        if day is not None:
            days[key] = day
    return days


def _assessments(enrolment: Enrolment) -> dict[tuple[int, AssessmentKind], Assessment]:
    ids = [record.id for record in enrolment.stages]
    rows = db.session.scalars(select(Assessment).where(Assessment.stage_record_id.in_(ids))) if ids else []
    return {(row.stage_record_id, row.kind): row for row in rows}


def _ratings(record: StageRecord, found: dict[tuple[int, AssessmentKind], Assessment]) -> list[Rating]:
    if record.state not in RATED_STATES:
        return []
    definitions = principles()
    ratings = []
    for kind in (AssessmentKind.SUPERVISOR, AssessmentKind.SELF):
        assessment = found.get((record.id, kind))
        if assessment is None:
            continue
        for principle in definitions.principles:
            value = (assessment.ratings.get(principle.code) or {}).get("rating")
            if isinstance(value, int):
                ratings.append(Rating(KIND_LABELS[kind], principle.name, value, definitions.scale_label(value)))
    return ratings


def _enrolment_line(enrolment: Enrolment) -> EnrolmentLine:
    log = totals(enrolment)
    by_record = {total.record.id: total for total in log.stages if total.record is not None}
    found = _assessments(enrolment)
    line = EnrolmentLine(
        pathway=enrolment.pathway_version.label,
        status=ENROLMENT_STATUS_LABELS[enrolment.status],
        started_on=enrolment.start_date,
        result_status=ENROLMENT_RESULT_STATUS[enrolment.status],
    )
    version = enrolment.pathway_version
    achievements = f"{current_app.config['BASE_URL']}/achievements/{version.code}/{version.version}/stages"
    for number, record in enumerate(enrolment.stages, start=1):
        total = by_record.get(record.id)
        target = next(
            (r.target for r in record.definition.active_requirements if r.kind is RequirementKind.SUPERVISION_HOURS),
            None,
        )
        line.stages.append(
            StageLine(
                name=record.definition.name,
                state=record.state.label,
                status=STAGE_RESULT_STATUS.get(record.state),
                achievement_url=f"{achievements}/{number}",
                dates=_milestones(record),
                hours=format_hours(total.confirmed_hours) if total is not None else None,
                target_hours=format_hours(target) if target else None,
                ratings=_ratings(record, found),
            )
        )
    continuing = next((t for t in log.stages if t.record is None and t.started_on is not None), None)
    if continuing is not None and enrolment.accredited_on is not None:
        line.continuing_hours = format_hours(continuing.confirmed_hours)
    return line


def current_contents(holder: User, number: str, today: date) -> TranscriptContents:
    """The holder's training as it stands: every enrolment, oldest first, and their certificates."""
    enrolments = db.session.scalars(
        select(Enrolment).where(Enrolment.trainee_id == holder.id).order_by(Enrolment.start_date, Enrolment.id)
    ).all()
    return TranscriptContents(
        number=number,
        holder_name=holder.display_name,
        issued_on=today,
        enrolments=[_enrolment_line(enrolment) for enrolment in enrolments],
        certificates=[
            CertificateLine(
                number=certificate.number,
                kind=certificate.kind.label,
                credential=certificate.credential,
                status=effective_status(certificate, today).label,
            )
            for certificate in certificates_held_by(holder)
        ],
    )


# --- the credential -------------------------------------------------------------------------------


def _start_of(day: date) -> str:
    """A UK calendar day's first moment as an ISO 8601 UTC timestamp, as certificates' validFrom is."""
    return datetime.combine(day, time.min, tzinfo=UK).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rd(transcript_id: str, path: str, name: str, result_type: str, **extra: Any) -> dict[str, Any]:
    description = {"id": f"{transcript_id}#{path}", "type": ["ResultDescription"], "name": name}
    return description | {"resultType": result_type} | extra


def _result(transcript_id: str, path: str, **values: Any) -> dict[str, Any]:
    return {"type": ["Result"], "resultDescription": f"{transcript_id}#{path}"} | values


def _scale_levels(transcript_id: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{transcript_id}#scale-{point.value}",
            "type": ["RubricCriterionLevel"],
            "name": point.label,
            "level": str(point.value),
        }
        for point in principles().scale
    ]


def credential_json(contents: TranscriptContents, base_url: str) -> dict[str, Any]:
    """The transcript as an Open Badges 3.0 credential (unsigned); `parse_credential` reads it back."""
    transcript_id = f"{base_url}/verify/{contents.number}"
    issuer = badges.issuer_profile(base_url)
    issuer = {key: issuer[key] for key in ("id", "type", "name", "url")}
    descriptions: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    levels = _scale_levels(transcript_id)
    for e, enrolment in enumerate(contents.enrolments, start=1):
        path = f"e{e}"
        descriptions.append(_rd(transcript_id, path, enrolment.pathway, "Status"))
        results.append(_result(transcript_id, path, status=enrolment.result_status, value=enrolment.status))
        if enrolment.started_on:
            descriptions.append(_rd(transcript_id, f"{path}-started", f"{enrolment.pathway}: enrolled", "ext:Date"))
            results.append(_result(transcript_id, f"{path}-started", value=enrolment.started_on.isoformat()))
        if enrolment.continuing_hours is not None:
            name = f"{enrolment.pathway}: supervision confirmed since accreditation (hours)"
            descriptions.append(_rd(transcript_id, f"{path}-continuing", name, "ext:SupervisionHours"))
            results.append(_result(transcript_id, f"{path}-continuing", value=enrolment.continuing_hours))
        for s, stage in enumerate(enrolment.stages):
            stage_path = f"{path}s{s}"
            alignment = [
                {
                    "type": ["Alignment"],
                    "targetName": stage.name,
                    "targetUrl": stage.achievement_url,
                    "targetFramework": enrolment.pathway,
                    "targetType": "ext:PathwayStage",
                }
            ]
            descriptions.append(
                _rd(transcript_id, stage_path, f"{enrolment.pathway}: {stage.name}", "Status", alignment=alignment)
            )
            stage_result = _result(transcript_id, stage_path, value=stage.state)
            if stage.status:
                stage_result["status"] = stage.status
            results.append(stage_result)
            for key, label, _ in MILESTONES:
                if key in stage.dates:
                    descriptions.append(_rd(transcript_id, f"{stage_path}-{key}", f"{stage.name}: {label}", "ext:Date"))
                    results.append(_result(transcript_id, f"{stage_path}-{key}", value=stage.dates[key].isoformat()))
            if stage.hours is not None:
                extra = {"requiredValue": stage.target_hours} if stage.target_hours else {}
                name = f"{stage.name}: supervision confirmed (hours)"
                descriptions.append(_rd(transcript_id, f"{stage_path}-hours", name, "ext:SupervisionHours", **extra))
                results.append(_result(transcript_id, f"{stage_path}-hours", value=stage.hours))
            for r, rating in enumerate(stage.ratings):
                rating_path = f"{stage_path}-r{r}"
                name = f"{stage.name}: {rating.principle} ({rating.kind})"
                descriptions.append(
                    _rd(transcript_id, rating_path, name, "RubricCriterionLevel", rubricCriterionLevel=levels)
                )
                results.append(
                    _result(
                        transcript_id,
                        rating_path,
                        achievedLevel=f"{transcript_id}#scale-{rating.value}",
                        value=rating.label,
                    )
                )
    evidence = [
        {
            "id": f"{base_url}/verify/{line.number}",
            "type": ["Evidence"],
            "name": f"Certificate {line.number}",
            "description": line.credential,
            "genre": line.kind,
            "narrative": line.status,
        }
        for line in contents.certificates
    ]
    holder_id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{transcript_id}#holder')}"
    credential: dict[str, Any] = {
        "@context": badges.CONTEXTS,
        "id": transcript_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "validFrom": _start_of(contents.issued_on),
        "name": f"Training transcript {contents.number}",
        "credentialSubject": {
            "id": holder_id,
            "type": ["AchievementSubject"],
            "name": contents.holder_name,
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": contents.holder_name,
                }
            ],
            "achievement": {
                "id": f"{transcript_id}#achievement",
                "type": ["Achievement"],
                "achievementType": TRANSCRIPT_TYPE,
                "name": "Training transcript",
                "description": (
                    "A record of the holder's Video Interaction Guidance training with AVIGuk as it stood on the day "
                    "it was issued: each stage with its dates, the supervision confirmed in it and the ratings "
                    "against the attunement principles, and the holder's certificates."
                ),
                "criteria": {
                    "narrative": (
                        "Issued by AVIGuk from its training records. Only confirmed facts are included: supervision "
                        "confirmed by the supervisor, ratings once the stage was signed off."
                    )
                },
                "creator": issuer,
                "resultDescription": descriptions,
            },
            "result": results,
        },
    }
    if evidence:
        credential["evidence"] = evidence
    return credential


_PATH = re.compile(r"^e(\d+)(?:s(\d+))?(?:-(.+))?$")


def parse_credential(credential: dict[str, Any], number: str) -> TranscriptContents:
    """Read a stored transcript credential back into what pages and the PDF show."""
    subject = credential["credentialSubject"]
    achievement = subject["achievement"]
    prefix = f"{credential['id']}#"
    values = {result["resultDescription"]: result for result in subject.get("result", [])}
    contents = TranscriptContents(
        number=number,
        holder_name=subject.get("name", ""),
        issued_on=datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00")).astimezone(UK).date(),
    )
    enrolment: EnrolmentLine | None = None
    stage: StageLine | None = None
    for description in achievement.get("resultDescription", []):
        result = values.get(description["id"], {})
        value = result.get("value")
        matched = _PATH.match(description["id"].removeprefix(prefix))
        if matched is None:
            continue
        _, stage_index, part = matched.groups()
        if stage_index is None and part is None:
            enrolment = EnrolmentLine(
                pathway=description["name"], status=value, started_on=None, result_status=result.get("status")
            )
            contents.enrolments.append(enrolment)
        elif enrolment is None:
            continue
        elif stage_index is None:
            if part == "started":
                enrolment.started_on = date.fromisoformat(value)
            elif part == "continuing":
                enrolment.continuing_hours = value
        elif part is None:
            aligned = description["alignment"][0]
            stage = StageLine(
                name=aligned["targetName"],
                state=value,
                status=result.get("status"),
                achievement_url=aligned.get("targetUrl", ""),
            )
            enrolment.stages.append(stage)
        elif stage is None:
            continue
        elif part == "hours":
            stage.hours, stage.target_hours = value, description.get("requiredValue")
        elif part in MILESTONE_LABELS:
            stage.dates[part] = date.fromisoformat(value)
        elif part.startswith("r"):
            name = description["name"].removeprefix(f"{stage.name}: ")
            principle, _, kind = name.rpartition(" (")
            level = result.get("achievedLevel", "").rpartition("-")[2]
            stage.ratings.append(Rating(kind.rstrip(")"), principle, int(level) if level.isdigit() else 0, value))
    for evidence in credential.get("evidence", []):
        contents.certificates.append(
            CertificateLine(
                number=evidence["name"].removeprefix("Certificate "),
                kind=evidence.get("genre", ""),
                credential=evidence.get("description", ""),
                status=evidence.get("narrative", ""),
            )
        )
    return contents


def stored_credential(transcript: TrainingTranscript) -> dict[str, Any]:
    return json.loads(transcript.credential_json)


def contents_of(transcript: TrainingTranscript) -> TranscriptContents:
    return parse_credential(stored_credential(transcript), transcript.number)


def transcript_jwt(transcript: TrainingTranscript) -> str:
    """The stored credential, signed with the key that signs now (its contents never change)."""
    return badges.sign_credential(stored_credential(transcript))


# --- making one -----------------------------------------------------------------------------------


def create_transcript(actor: User, holder: User, today: date, *, number: str | None = None) -> TrainingTranscript:
    """Fix the holder's training as it stands today in a new transcript. Flushes.

    `number` fixes the number (demo data, which the README lists); normally it is drawn at random.
    """
    if not can_create_transcript(actor, holder):
        raise PermissionDenied("Only the holder or an administrator makes a transcript")
    if holder.erased_at is not None:
        raise DomainError("This person's details were erased: no transcript can be made for them")
    if db.session.scalar(select(Enrolment.id).where(Enrolment.trainee_id == holder.id).limit(1)) is None:
        raise DomainError("There is no training on record yet, so there is nothing for a transcript to show")
    number = number or codes.generate(TRANSCRIPT_PREFIX)
    contents = current_contents(holder, number, today)
    credential = credential_json(contents, current_app.config["BASE_URL"])
    transcript = TrainingTranscript(
        number=number,
        holder_id=holder.id,
        holder_name=holder.display_name,
        issued_at=utcnow(),
        issued_by_id=actor.id,
        credential_json=json.dumps(credential, ensure_ascii=False, separators=(",", ":")),
    )
    db.session.add(transcript)
    db.session.flush()
    audit.record(actor, "transcript.issued", transcript, after={"number": number, "holder_id": holder.id})
    return transcript


# --- what verifiers see ---------------------------------------------------------------------------


def later_transcript(transcript: TrainingTranscript) -> TrainingTranscript | None:
    """The holder's newest transcript, if it is newer than this one."""
    newest = transcripts_of(transcript.holder)[0]
    return newest if newest.id != transcript.id else None


def public_facts(transcript: TrainingTranscript) -> dict[str, Any]:
    """What anyone may learn from a transcript's number: the holder (unless erased), when it was
    issued, what it records, and whether a newer one exists."""
    contents = contents_of(transcript)
    facts: dict[str, Any] = {
        "number": transcript.number,
        "holder": transcript.holder_name,
        "issued_on": contents.issued_on,
        "contents": contents,
        "later": later_transcript(transcript),
        "verification_url": verification_url(transcript.number),
    }
    if transcript.holder.erased_at is not None:
        removed_on = transcript.holder.erased_at.astimezone(UK).date()
        facts["holder"] = None
        facts["holder_note"] = f"The holder's name was removed from AVIGuk's records on {format_date(removed_on)}"
    return facts


def _stage_json(stage: StageLine) -> dict[str, Any]:
    return {
        "name": stage.name,
        "state": stage.state,
        "result_status": stage.status,
        "achievement": stage.achievement_url or None,
        "dates": {key: day.isoformat() for key, day in stage.dates.items()},
        "supervision_hours": stage.hours,
        "supervision_hours_required": stage.target_hours,
        "ratings": [
            {"by": rating.kind, "principle": rating.principle, "value": rating.value, "label": rating.label}
            for rating in stage.ratings
        ],
    }


def public_json(transcript: TrainingTranscript) -> dict[str, Any]:
    """The public facts as JSON for software: what the verification page shows, nothing more.

    A newer transcript is said to exist but not named, as on the page (its number is the holder's to give).
    """
    facts = public_facts(transcript)
    contents: TranscriptContents = facts["contents"]
    data: dict[str, Any] = {
        "number": transcript.number,
        "holder": facts["holder"],
        "issued_on": contents.issued_on.isoformat(),
        "verification_url": facts["verification_url"],
        "newer_transcript_issued": facts["later"] is not None,
        "enrolments": [
            {
                "pathway": enrolment.pathway,
                "status": enrolment.status,
                "result_status": enrolment.result_status,
                "started_on": enrolment.started_on.isoformat() if enrolment.started_on else None,
                "supervision_hours_after_accreditation": enrolment.continuing_hours,
                "stages": [_stage_json(stage) for stage in enrolment.stages],
            }
            for enrolment in contents.enrolments
        ],
        "certificates": [
            {
                "number": line.number,
                "kind": line.kind,
                "credential": line.credential,
                "status_when_issued": line.status,
                "verification_url": verification_url(line.number),
            }
            for line in contents.certificates
        ],
    }
    if transcript.holder.erased_at is not None:
        data["holder_removed_on"] = transcript.holder.erased_at.astimezone(UK).date().isoformat()
        data["holder_note"] = facts["holder_note"]
    return data


# --- checking a pasted transcript -----------------------------------------------------------------


def _read(token: str) -> tuple[Any, dict[str, Any] | None]:
    """The header and payload of a pasted token (the payload None unless it reads as a JSON object)."""
    parts = badges.read_compact_jws(token) if len(token) <= MAX_PASTED_LENGTH else None
    header, payload = parts or (None, None)
    return header, payload if isinstance(payload, dict) else None


def is_transcript_token(text: str | None) -> bool:
    """Whether pasted text reads as one of our transcripts (so the transcript check answers it)."""
    _, payload = _read("".join((text or "").split()))
    identifier = payload.get("id") if payload else None
    prefix = f"{current_app.config['BASE_URL']}/verify/{TRANSCRIPT_PREFIX}-"
    return isinstance(identifier, str) and identifier.startswith(prefix)


@dataclass(frozen=True)
class TranscriptCheck:
    """The answer to "did AVIGuk issue this transcript, unchanged?"; `problem` says why not, plainly."""

    signature_valid: bool
    problem: str | None = None
    transcript: TrainingTranscript | None = None

    @property
    def genuine(self) -> bool:
        return self.signature_valid and self.problem is None and self.transcript is not None


def _without_name(credential: dict[str, Any]) -> dict[str, Any]:
    subject = {k: v for k, v in credential.get("credentialSubject", {}).items() if k not in ("name", "identifier")}
    return {**credential, "credentialSubject": subject}


def _differences(pasted: dict[str, Any], stored: dict[str, Any]) -> list[str]:
    """Which parts of a signed copy differ from the transcript on record, in words."""
    names = {
        "credentialSubject": "the holder, stages, dates, hours or ratings",
        "evidence": "the certificates",
        "validFrom": "the date it was issued",
        "issuer": "the issuer",
    }
    changed = [
        names.get(key, "its other details")
        for key in sorted(set(pasted) | set(stored))
        if pasted.get(key) != stored.get(key)
    ]
    return list(dict.fromkeys(changed))


def check_transcript(text: str) -> TranscriptCheck:
    """A pasted transcript is genuine if one of AVIGuk's trusted keys signed it and it says exactly
    what the transcript on record says (the holder's name aside once it has been erased)."""
    token = "".join((text or "").split())
    header, payload = _read(token)
    if payload is None:
        return TranscriptCheck(False, "This is not a transcript vigtrain issued: part of it could not be read.")
    number = str(payload.get("id", "")).rpartition("/")[2]
    transcript = find_transcript(number)
    signature, key = badges.check_signature(token, header) if isinstance(header, dict) else (None, None)
    if signature in (None, badges.Signature.WRONG_ALGORITHM):
        return TranscriptCheck(False, "The transcript is not signed the way AVIGuk signs credentials.", transcript)
    if signature is badges.Signature.UNKNOWN_KEY:
        return TranscriptCheck(False, "The transcript was not signed with AVIGuk's key.", transcript)
    if signature is badges.Signature.CHANGED:
        changed = "The signature does not match: the transcript has been changed since AVIGuk signed it."
        return TranscriptCheck(False, changed, transcript)
    if signature is badges.Signature.UNREADABLE:
        return TranscriptCheck(False, "This is not a transcript vigtrain issued: its signature could not be read.")
    if signature is badges.Signature.KEY_REVOKED:
        problem = (
            "AVIGuk revoked the key this transcript was signed with, so it can no longer be trusted: "
            f"{key.revoked_reason}. Ask the holder for a new copy."
        )
        return TranscriptCheck(False, problem, transcript)
    if transcript is None:
        return TranscriptCheck(True, f"The signature is good, but AVIGuk has no transcript {number} on record.")
    pasted = {k: v for k, v in payload.items() if k not in JWT_CLAIMS}
    stored = stored_credential(transcript)
    if transcript.holder.erased_at is not None:
        pasted, stored = _without_name(pasted), _without_name(stored)
    differences = _differences(pasted, stored)
    if differences:
        problem = (
            "The signature is good, but what it says does not match the transcript on record ("
            + ", ".join(differences)
            + "), so it cannot be trusted."
        )
        return TranscriptCheck(True, problem, transcript)
    mismatched = badges.claim_mismatches(payload)
    if mismatched:
        problem = f"The signature is good, but its JWT claims ({', '.join(mismatched)}) do not match what it says."
        return TranscriptCheck(True, problem, transcript)
    return TranscriptCheck(True, None, transcript)
