"""Subject access (UK GDPR article 15): everything vigtrain holds about one person, as a zip of JSON and CSV.

The archive is built from one query per section, so its cost follows the number of sections, not the
person's history. What it leaves out is said in its README.txt, with the reason:

- secrets: the password hash, the second-factor secret, recovery code digests, API token digests, the
  session version and security stamp. They are about the account's security, not about the person, and
  a copy of them in a download would only be a risk;
- other people: a trainee's words in a session they logged with this person as supervisor, and the
  codes of that trainee's cases, belong to the trainee. Such sessions are listed with the trainee shown
  only as the enrolment's number. What this person wrote themselves (comments, assessments) is included;
- client outcome data (measure answers and scores): anonymised data about clients, not about the
  practitioner, who sees it on the case pages.

Every production is audited (`subject_access.exported`, with the counts of each section) in the same
transaction the caller commits; nothing else is written.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import textwrap
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import aliased, lazyload, noload

from vigtrain import audit, uploads
from vigtrain.accounts.models import RecoveryCode, User
from vigtrain.api_tokens.models import PersonalAccessToken
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import Case, Cycle
from vigtrain.certificates.models import Certificate, CredentialOffer, TrainingTranscript
from vigtrain.cohorts.models import Cohort
from vigtrain.dates import today, utcnow
from vigtrain.dcs.export import csv_cell
from vigtrain.errors import NotFound, PermissionDenied
from vigtrain.extensions import db
from vigtrain.notifications.inbox import preferences
from vigtrain.notifications.models import Notification, OutboxMessage
from vigtrain.pathways.models import Assessment, Enrolment, EnrolmentStatusChange, StageRecord, StageTransition
from vigtrain.security import can_export_personal_data
from vigtrain.supervision.models import SupervisionSession

ACTION = "subject_access.exported"
README = "README.txt"
EVERYTHING = "everything.json"
FILES = "files/"
YOU = "you"


# Each section's title and what it holds, in archive order: README.txt and the pages list them.
SECTION_TITLES: dict[str, tuple[str, str]] = {
    "account": (
        "Your account",
        "Your account as vigtrain holds it: name, email, roles, service, when it was made, invited and last "
        "signed in, when the password last changed, whether two-factor authentication is on, whether you "
        "chose to appear in the public register, and (for supervisors) how many trainees you take on.",
    ),
    "enrolments": (
        "Your training enrolments",
        "Each pathway you were enrolled on: its version, your personal supervisor, your service and cohort, "
        "the start date, status (with any reason) and the day it was completed.",
    ),
    "enrolment_status_history": (
        "The status history of your enrolments",
        "Each time an enrolment of yours was paused, resumed, withdrawn, reopened or completed, and when "
        "(the reasons are with the enrolment).",
    ),
    "stages": (
        "Your stages",
        "Every stage of every enrolment: its state and since when, start and end dates, when it was submitted, "
        "signed off, accredited and ratified, the accrediting supervisor, the meeting date and comments, and "
        "any exemption for prior learning.",
    ),
    "stage_history": (
        "The history of your stages",
        "Each step a stage of yours took (submitted, returned, signed off, accredited, ratified...), when, "
        "by whom and with what comments.",
    ),
    "assessments": (
        "Assessments",
        "Assessments against the Principles of Attuned Interaction and Guidance: of your stages (your own "
        "self-assessments and your supervisors'), and those you made of other trainees' stages, with the "
        "ratings and evidence. Another trainee is shown only by their enrolment number. The CSV has one "
        "line per principle rated.",
    ),
    "statements": (
        "Your reflective statements",
        f"The text of each reflective statement you wrote, and any file you uploaded; the files themselves "
        f"are in the {FILES} folder of this archive, named as the file_in_this_archive column says.",
    ),
    "supervision_log": (
        "Your supervision log",
        "Every supervision session logged on your enrolments: date, time, length, format, who supervised, "
        "the film reviewed (your case codes), your reflection and next steps, your supervisor's comments and "
        "whether it was confirmed.",
    ),
    "supervision_given": (
        "Supervision you gave",
        "Sessions you supervised (or logged for a trainee), and whether you confirmed them, with your own "
        "comments. The trainee is a third party, so they are shown only by their enrolment number, and their "
        "reflection, next steps and case codes are left out.",
    ),
    "others_training": (
        "Your part in other people's training",
        "Enrolments where you are the personal supervisor, and stages you were asked to accredit, signed off, "
        "accredited or ratified, with the date and your meeting comments. The trainee is shown only by their "
        "enrolment number.",
    ),
    "cases": (
        "Your casework",
        "The cases you keep, by their system-generated code: the kind of work, consents given and when, "
        "dates and status. This is your own work record; the clients' outcome measures are not included "
        "(see below).",
    ),
    "cycles": (
        "Your VIG cycles",
        "Each filming and shared review you recorded: the case code, the dates, how many clips, the principles "
        "you worked on and your note.",
    ),
    "certificates": (
        "Your certificates",
        "Each certificate issued to you: number, credential, the name on it, dates, status with any reason, "
        "and the certificate it replaced.",
    ),
    "transcripts": (
        "Your training transcripts",
        "Each signed record of your training made for you: its number, the name on it, when it was made and "
        "by whom, and the credential exactly as AVIGuk signed it (your stages, dates, supervision hours, ratings "
        "and certificates on that day), as a JSON file in files/.",
    ),
    "wallet_offers": (
        "Your certificates sent to digital wallets",
        "Each time you asked to add a certificate to a digital wallet: the certificate, when the offer was made "
        "and expired, when a wallet used it and collected the certificate, and the wallet's identifier (DID) "
        "the certificate was bound to. Never the code itself, which vigtrain does not keep.",
    ),
    "notifications": (
        "Notifications to you",
        "Every notification vigtrain showed you: what it said, when, whether you read it and how it was emailed.",
    ),
    "notification_preferences": (
        "How you chose to hear of things",
        "For each kind of notification and reminder: in the app and emailed at once, gathered into a weekly "
        "email, or in the app only (your choice, or the default where you made none).",
    ),
    "emails": (
        "Emails sent to you",
        "Each email vigtrain sent (or holds to send) to your current address: when, its subject and whether it "
        "went. The text of an email is not kept once sent, as it can carry a one-time link.",
    ),
    "api_tokens": (
        "Your API tokens",
        "Each API token you made: its name, what it may do, when it was made, last used, expires or was "
        "revoked. Never the token itself, which vigtrain does not keep.",
    ),
    "cohorts_led": (
        "Cohorts you lead",
        "Each cohort (course intake) you lead: its name, pathway, region, dates and how many trainees it holds "
        "(the trainees themselves are not listed).",
    ),
    "audit_events": (
        "The audit trail about you",
        "Every change you made in vigtrain, and every change anyone made to your account, enrolments, stages, "
        "assessments of your stages, supervision sessions, cases, cycles, certificates and API tokens: when, "
        "what, by whom, and what changed. For changes you made to other people's records only the action and "
        "the record's type and number are given, as what changed is their data; the network address is given "
        "only for your own actions.",
    ),
}


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Each CSV's columns, fixed so that a file with no rows still says what it would hold (a test checks
# that every row has exactly these).
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "account": _names(
        "id email name roles service status active created_at invited_at last_signed_in_at password_set "
        "password_changed_at second_factor_on second_factor_on_since unused_recovery_codes "
        "failed_sign_ins_since_last_success locked_until listed_in_public_register trainee_capacity"
    ),
    "enrolments": _names(
        "enrolment_id pathway pathway_code pathway_version personal_supervisor service cohort_id start_date "
        "status status_reason completed_on created_at last_activity_at"
    ),
    "stages": _names(
        "stage_record_id enrolment_id position stage_code stage state state_since is_current started_on "
        "ended_on course_sessions_attended submitted_at signed_off_at accrediting_supervisor meeting_date "
        "meeting_comments accredited_at ratified_at exemption_reason"
    ),
    "enrolment_status_history": _names("enrolment_id status occurred_at"),
    "stage_history": _names("enrolment_id stage_record_id stage_code from_state to_state occurred_at by comments"),
    "assessments": _names(
        "assessment_id enrolment_id stage_code about kind assessor principles_version updated_at principle "
        "rating evidence"
    ),
    "statements": _names(
        "stage_record_id enrolment_id stage_code statement_text file_name file_type file_size "
        "file_in_this_archive updated_at"
    ),
    "supervision_log": _names(
        "session_id enrolment_id session_date start_time duration_minutes format group_size mode "
        "clips_reviewed principles status logged_at confirmed_at corrects_session_id correction_reason "
        "supervisor logged_by film_reviewed reflection next_steps supervisor_comments"
    ),
    "supervision_given": _names(
        "session_id enrolment_id session_date start_time duration_minutes format group_size mode "
        "clips_reviewed principles status logged_at confirmed_at corrects_session_id correction_reason "
        "your_part logged_by supervisor_comments"
    ),
    "others_training": _names("enrolment_id stage_code your_part pathway status on your_comments"),
    "cases": _names(
        "case_code service region relationship child_age_band population stage_when_opened consent_filming "
        "consent_filming_on consent_supervision consent_supervision_on consent_dcs consent_dcs_on started_on "
        "ended_on status end_reason end_note created_at"
    ),
    "cycles": _names("cycle_id case_code filmed_on shared_review_on clips principles note created_at"),
    "certificates": _names(
        "number kind credential name_on_certificate pathway pathway_version stage enrolment_id issued_on "
        "valid_until status status_reason status_changed_at replaces replacement_reason renewal_requested_at "
        "suspension_reason suspended_until suspended_at"
    ),
    "transcripts": _names("number name_on_transcript issued_at issued_by credential_in_this_archive"),
    "wallet_offers": _names("certificate created_at expires_at redeemed_at delivered_at wallet_did"),
    "notifications": _names("kind title body link created_at read_at email emailed_at"),
    "notification_preferences": _names("kind about delivery"),
    "emails": _names("created_at subject status sent_at"),
    "api_tokens": _names("name scopes created_at expires_at last_used_at revoked_at status"),
    "cohorts_led": _names("cohort_id name pathway region starts_on ends_on members"),
    "audit_events": _names("event_id occurred_at action entity by about_you before after ip_address"),
}


@dataclass
class Section:
    """One part of the archive: its rows go in everything.json under `name` and in `name`.csv."""

    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    # A flatter copy for the CSV where a row holds a nested structure (an assessment's ratings).
    csv_rows: list[dict[str, Any]] | None = None

    @property
    def title(self) -> str:
        return SECTION_TITLES[self.name][0]

    @property
    def description(self) -> str:
        return SECTION_TITLES[self.name][1]

    @property
    def csv_name(self) -> str:
        return f"{self.name}.csv"


@dataclass(frozen=True)
class Archive:
    """The finished download: the zip's bytes, the name to save it under, and how much each section held."""

    data: bytes
    filename: str
    counts: dict[str, int]


def filename_for(person: User, on: date) -> str:
    return f"vigtrain-data-{person.id}-{on.isoformat()}.zip"


def export_personal_data(actor: User, person: User, reason: str | None = None) -> Archive:
    """Build `person`'s archive for `actor` and audit it; flushes, the caller commits.

    `reason` is an administrator's note of the request they are answering (kept in the audit event).
    """
    if not can_export_personal_data(actor, person):
        raise PermissionDenied("You cannot download this person's data")
    made_at = utcnow()
    sections = collect_sections(person)
    files = statement_files(person) + transcript_files(person)
    data = _zip(person, actor, made_at, sections, files)
    counts = {section.name: len(section.rows) for section in sections} | {"files": len(files)}
    after: dict[str, Any] = {"counts": counts, "bytes": len(data)}
    if reason:
        after["reason"] = reason
    audit.record(actor, ACTION, person, after=after)
    return Archive(data=data, filename=filename_for(person, today()), counts=counts)


# --- values --------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """JSON-safe and ISO 8601: datetimes in UTC with their offset, dates as YYYY-MM-DD, enums as their value."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="minutes")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return value


def _row(**values: Any) -> dict[str, Any]:
    return {key: _plain(value) for key, value in values.items()}


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        if all(not isinstance(item, dict | list) for item in value):
            return "; ".join(str(item) for item in value)
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def csv_text(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A CSV with a byte order mark (so spreadsheets read UTF-8), every cell guarded against formulas."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(_csv_value(row.get(column))) for column in columns])
    return "\ufeff" + out.getvalue()


# --- sections ------------------------------------------------------------------------------------


def collect_sections(person: User) -> list[Section]:
    """Every section of the archive, in README order; one or two queries each."""
    enrolments = list(
        db.session.scalars(select(Enrolment).where(Enrolment.trainee_id == person.id).order_by(Enrolment.id))
    )
    return [
        _account(person),
        _enrolments(enrolments),
        _enrolment_status_history(enrolments),
        _stages(enrolments),
        _stage_history(person),
        _assessments(person),
        _statements(enrolments),
        _supervision_as_trainee(person),
        _supervision_given(person),
        _others_training(person),
        _cases(person),
        _cycles(person),
        _certificates(person),
        _transcripts(person),
        _wallet_offers(person),
        _notifications(person),
        _notification_preferences(person),
        _emails(person),
        _api_tokens(person),
        _cohorts_led(person),
        _audit_events(person),
    ]


def _name(user: User | None, person: User) -> str | None:
    if user is None:
        return None
    return YOU if user.id == person.id else user.display_name


def _account(person: User) -> Section:
    unused_codes = db.session.scalar(
        select(func.count()).where(RecoveryCode.user_id == person.id, RecoveryCode.used_at.is_(None))
    )
    row = _row(
        id=person.id,
        email=person.email,
        name=person.display_name,
        roles=sorted(role.value for role in person.roles),
        service=person.service.name if person.service else None,
        status=person.status_label,
        active=person.is_active_flag,
        created_at=person.created_at,
        invited_at=person.invited_at,
        last_signed_in_at=person.last_login_at,
        password_set=person.has_password,
        password_changed_at=person.password_changed_at,
        second_factor_on=person.second_factor_enabled,
        second_factor_on_since=person.totp_enabled_at,
        unused_recovery_codes=unused_codes if person.second_factor_enabled else 0,
        failed_sign_ins_since_last_success=person.failed_login_count,
        locked_until=person.locked_until,
        listed_in_public_register=person.register_opt_in,
        trainee_capacity=person.trainee_capacity,
    )
    return Section("account", [row])


def _stage_name(enrolment: Enrolment, code: str) -> str:
    try:
        return enrolment.pathway.stage(code).name
    except KeyError:
        return code


def _enrolments(enrolments: list[Enrolment]) -> Section:
    rows = [
        _row(
            enrolment_id=enrolment.id,
            pathway=enrolment.pathway_version.name,
            pathway_code=enrolment.pathway_version.code,
            pathway_version=enrolment.pathway_version.version,
            personal_supervisor=enrolment.supervisor.display_name if enrolment.supervisor else None,
            service=enrolment.service.name if enrolment.service else None,
            cohort_id=enrolment.cohort_id,
            start_date=enrolment.start_date,
            status=enrolment.status,
            status_reason=enrolment.status_reason,
            completed_on=enrolment.completed_on,
            created_at=enrolment.created_at,
            last_activity_at=enrolment.last_activity_at,
        )
        for enrolment in enrolments
    ]
    return Section("enrolments", rows)


def _enrolment_status_history(enrolments: list[Enrolment]) -> Section:
    ids = [enrolment.id for enrolment in enrolments]
    changes = db.session.scalars(
        select(EnrolmentStatusChange)
        .where(EnrolmentStatusChange.enrolment_id.in_(ids))
        .order_by(EnrolmentStatusChange.enrolment_id, EnrolmentStatusChange.id)
    )
    rows = [
        _row(enrolment_id=change.enrolment_id, status=change.status, occurred_at=change.occurred_at)
        for change in changes
    ]
    return Section("enrolment_status_history", rows)


def _stages(enrolments: list[Enrolment]) -> Section:
    accreditor_ids = {
        record.accrediting_supervisor_id
        for enrolment in enrolments
        for record in enrolment.stages
        if record.accrediting_supervisor_id is not None
    }
    accreditors = (
        dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(accreditor_ids))).all())
        if accreditor_ids
        else {}
    )
    rows = []
    for enrolment in enrolments:
        for record in enrolment.stages:
            rows.append(
                _row(
                    stage_record_id=record.id,
                    enrolment_id=enrolment.id,
                    position=record.position,
                    stage_code=record.stage_code,
                    stage=_stage_name(enrolment, record.stage_code),
                    state=record.state,
                    state_since=record.state_since,
                    is_current=record.is_current,
                    started_on=record.started_on,
                    ended_on=record.ended_on,
                    course_sessions_attended=record.course_sessions_attended,
                    submitted_at=record.submitted_at,
                    signed_off_at=record.signed_off_at,
                    accrediting_supervisor=accreditors.get(record.accrediting_supervisor_id),
                    meeting_date=record.meeting_date,
                    meeting_comments=record.meeting_comments,
                    accredited_at=record.accredited_at,
                    ratified_at=record.ratified_at,
                    exemption_reason=record.exemption_reason,
                )
            )
    return Section("stages", rows)


def _stage_history(person: User) -> Section:
    statement = (
        select(StageTransition, StageRecord.enrolment_id, StageRecord.stage_code)
        .join(StageRecord, StageTransition.stage_record_id == StageRecord.id)
        .join(Enrolment, StageRecord.enrolment_id == Enrolment.id)
        .where(Enrolment.trainee_id == person.id)
        .order_by(StageTransition.occurred_at, StageTransition.id)
    )
    rows = [
        _row(
            enrolment_id=enrolment_id,
            stage_record_id=transition.stage_record_id,
            stage_code=stage_code,
            from_state=transition.from_state,
            to_state=transition.to_state,
            occurred_at=transition.occurred_at,
            by=_name(transition.actor, person),
            comments=transition.comments,
        )
        for transition, enrolment_id, stage_code in db.session.execute(statement)
    ]
    return Section("stage_history", rows)


def _assessments(person: User) -> Section:
    statement = (
        select(Assessment, StageRecord.enrolment_id, StageRecord.stage_code, Enrolment.trainee_id)
        .join(StageRecord, Assessment.stage_record_id == StageRecord.id)
        .join(Enrolment, StageRecord.enrolment_id == Enrolment.id)
        .where(or_(Enrolment.trainee_id == person.id, Assessment.assessor_id == person.id))
        .order_by(Assessment.updated_at, Assessment.id)
    )
    rows, flat = [], []
    for assessment, enrolment_id, stage_code, trainee_id in db.session.execute(statement):
        common = _row(
            assessment_id=assessment.id,
            enrolment_id=enrolment_id,
            stage_code=stage_code,
            about=YOU if trainee_id == person.id else "a trainee you assessed (shown by enrolment number)",
            kind=assessment.kind,
            assessor=_name(assessment.assessor, person),
            principles_version=assessment.principles_version,
            updated_at=assessment.updated_at,
        )
        rows.append(common | {"ratings": _plain(assessment.ratings)})
        for principle, given in sorted((assessment.ratings or {}).items()):
            given = given if isinstance(given, dict) else {"rating": given}
            flat.append(
                common | {"principle": principle, "rating": given.get("rating"), "evidence": given.get("evidence")}
            )
    return Section("assessments", rows, flat)


def _statement_file_path(record: StageRecord) -> str | None:
    if record.statement_file_key is None:
        return None
    extension = uploads.EXTENSIONS.get(record.statement_file_type or "", "")
    return f"{FILES}statement-stage-{record.id}{extension}"


def _statements(enrolments: list[Enrolment]) -> Section:
    rows = [
        _row(
            stage_record_id=record.id,
            enrolment_id=enrolment.id,
            stage_code=record.stage_code,
            statement_text=record.statement_text,
            file_name=record.statement_file_name,
            file_type=record.statement_file_type,
            file_size=record.statement_file_size,
            file_in_this_archive=_statement_file_path(record),
            updated_at=record.statement_updated_at,
        )
        for enrolment in enrolments
        for record in enrolment.stages
        if record.has_statement
    ]
    return Section("statements", rows)


def statement_files(person: User) -> list[tuple[str, bytes]]:
    """(path in the archive, bytes) of each statement file the person uploaded and storage still holds."""
    statement = (
        select(StageRecord)
        .join(Enrolment, StageRecord.enrolment_id == Enrolment.id)
        .where(Enrolment.trainee_id == person.id, StageRecord.statement_file_key.is_not(None))
        .order_by(StageRecord.id)
    )
    found = []
    for record in db.session.scalars(statement):
        try:
            found.append((_statement_file_path(record), uploads.upload_path(record.statement_file_key).read_bytes()))
        except NotFound:
            continue  # listed in statements.csv all the same; README.txt says a file can be missing
    return found


def _session_common(session: SupervisionSession) -> dict[str, Any]:
    return _row(
        session_id=session.id,
        enrolment_id=session.enrolment_id,
        session_date=session.session_date,
        start_time=session.start_time,
        duration_minutes=session.duration_minutes,
        format=session.format,
        group_size=session.group_size,
        mode=session.mode,
        clips_reviewed=session.clips_reviewed,
        principles=session.principles,
        status=session.status,
        logged_at=session.logged_at,
        confirmed_at=session.confirmed_at,
        corrects_session_id=session.amends_id,
        correction_reason=session.amendment_reason,
    )


def _logged_by(session: SupervisionSession, person: User) -> str:
    if session.logged_by_id == person.id:
        return YOU
    return "your supervisor" if session.logged_by_id == session.supervisor_id else "someone else"


def _supervision_as_trainee(person: User) -> Section:
    statement = (
        select(SupervisionSession)
        .options(lazyload(SupervisionSession.enrolment))  # only its id is shown; joining it would copy it per row
        .join(Enrolment, SupervisionSession.enrolment_id == Enrolment.id)
        .where(Enrolment.trainee_id == person.id)
        .order_by(SupervisionSession.session_date, SupervisionSession.id)
    )
    rows = [
        _session_common(session)
        | _row(
            supervisor=_name(session.supervisor, person),
            logged_by=_logged_by(session, person),
            film_reviewed=[review.label for review in session.reviews],
            reflection=session.reflection,
            next_steps=session.next_steps,
            supervisor_comments=session.supervisor_comments,
        )
        for session in db.session.scalars(statement)
    ]
    return Section("supervision_log", rows)


def _supervision_given(person: User) -> Section:
    statement = (
        select(SupervisionSession)
        .options(lazyload(SupervisionSession.enrolment), noload(SupervisionSession.reviews))
        .join(Enrolment, SupervisionSession.enrolment_id == Enrolment.id)
        .where(
            Enrolment.trainee_id != person.id,
            or_(SupervisionSession.supervisor_id == person.id, SupervisionSession.logged_by_id == person.id),
        )
        .order_by(SupervisionSession.session_date, SupervisionSession.id)
    )
    rows = [
        _session_common(session)
        | _row(
            your_part="supervisor" if session.supervisor_id == person.id else "logged it",
            logged_by=YOU if session.logged_by_id == person.id else "the trainee",
            supervisor_comments=session.supervisor_comments if session.supervisor_id == person.id else None,
            # A correction's reason is written by whoever logged it: the trainee's words are theirs.
            correction_reason=session.amendment_reason if session.logged_by_id == person.id else None,
        )
        for session in db.session.scalars(statement)
    ]
    return Section("supervision_given", rows)


def _others_training(person: User) -> Section:
    """Where this person holds a part in someone else's training: supervisor, accreditor, sign-offs."""
    supervised = select(Enrolment).where(Enrolment.supervisor_id == person.id).order_by(Enrolment.id)
    rows = [
        _row(
            enrolment_id=enrolment.id,
            stage_code=None,
            your_part="personal supervisor",
            pathway=enrolment.pathway_version.label,
            status=enrolment.status,
            on=enrolment.start_date,
            your_comments=None,
        )
        for enrolment in db.session.scalars(supervised)
    ]
    roles = (
        select(StageRecord)
        .join(Enrolment, StageRecord.enrolment_id == Enrolment.id)
        .where(
            Enrolment.trainee_id != person.id,
            or_(
                StageRecord.accrediting_supervisor_id == person.id,
                StageRecord.signed_off_by_id == person.id,
                StageRecord.accredited_by_id == person.id,
                StageRecord.ratified_by_id == person.id,
            ),
        )
        .order_by(StageRecord.enrolment_id, StageRecord.position)
    )
    for record in db.session.scalars(roles):
        parts = [
            ("accrediting supervisor", record.accrediting_supervisor_id, record.meeting_date, record.meeting_comments),
            ("signed off", record.signed_off_by_id, record.signed_off_at, None),
            ("accredited", record.accredited_by_id, record.accredited_at, None),
            ("ratified", record.ratified_by_id, record.ratified_at, None),
        ]
        for part, who, when, comments in parts:
            if who == person.id:
                rows.append(
                    _row(
                        enrolment_id=record.enrolment_id,
                        stage_code=record.stage_code,
                        your_part=part,
                        pathway=None,
                        status=record.state,
                        on=when,
                        your_comments=comments,
                    )
                )
    return Section("others_training", rows)


def _cases(person: User) -> Section:
    statement = select(Case).where(Case.practitioner_id == person.id).order_by(Case.started_on, Case.id)
    rows = [
        _row(
            case_code=case.code,
            service=case.service.name if case.service else None,
            region=case.region.name,
            relationship=case.relationship_type,
            child_age_band=case.child_age_band,
            population=case.population,
            stage_when_opened=case.stage_number,
            consent_filming=case.consent_filming,
            consent_filming_on=case.consent_filming_on,
            consent_supervision=case.consent_supervision,
            consent_supervision_on=case.consent_supervision_on,
            consent_dcs=case.consent_dcs,
            consent_dcs_on=case.consent_dcs_on,
            started_on=case.started_on,
            ended_on=case.ended_on,
            status=case.status,
            end_reason=case.end_reason,
            end_note=case.end_note,
            created_at=case.created_at,
        )
        for case in db.session.scalars(statement)
    ]
    return Section("cases", rows)


def _cycles(person: User) -> Section:
    statement = (
        select(Cycle, Case.code)
        .join(Case, Cycle.case_id == Case.id)
        .where(Case.practitioner_id == person.id)
        .order_by(Cycle.shared_review_on, Cycle.id)
    )
    rows = [
        _row(
            cycle_id=cycle.id,
            case_code=code,
            filmed_on=cycle.filmed_on,
            shared_review_on=cycle.shared_review_on,
            clips=cycle.clips_count,
            principles=cycle.principles,
            note=cycle.note,
            created_at=cycle.created_at,
        )
        for cycle, code in db.session.execute(statement)
    ]
    return Section("cycles", rows)


def _certificates(person: User) -> Section:
    earlier = aliased(Certificate)
    statement = (
        select(Certificate, earlier.number)
        .outerjoin(earlier, Certificate.replaces_id == earlier.id)
        .where(Certificate.holder_id == person.id)
        .order_by(Certificate.issued_on, Certificate.id)
    )
    rows = [
        _row(
            number=certificate.number,
            kind=certificate.kind,
            credential=certificate.credential,
            name_on_certificate=certificate.holder_name,
            pathway=certificate.pathway_title,
            pathway_version=certificate.pathway_version,
            stage=certificate.stage_name,
            enrolment_id=certificate.enrolment_id,
            issued_on=certificate.issued_on,
            valid_until=certificate.valid_until,
            status=certificate.status,
            status_reason=certificate.status_reason,
            status_changed_at=certificate.status_changed_at,
            replaces=replaced_number,
            replacement_reason=certificate.replacement_reason,
            renewal_requested_at=certificate.renewal_requested_at,
            suspension_reason=certificate.suspension_reason,
            suspended_until=certificate.suspended_until,
            suspended_at=certificate.suspended_at,
        )
        for certificate, replaced_number in db.session.execute(statement)
    ]
    return Section("certificates", rows)


def _transcript_file_path(transcript: TrainingTranscript) -> str:
    return f"{FILES}transcript-{transcript.number}.json"


def _person_transcripts(person: User):
    """The person's transcripts, oldest first, each with who made it."""
    return db.session.execute(
        select(TrainingTranscript, User)
        .join(User, TrainingTranscript.issued_by_id == User.id)
        .where(TrainingTranscript.holder_id == person.id)
        .order_by(TrainingTranscript.issued_at, TrainingTranscript.id)
    )


def _transcripts(person: User) -> Section:
    """Each transcript and, in everything.json, its credential; the CSV points to the credential's file."""
    flat = []
    rows = []
    for transcript, issuer in _person_transcripts(person):
        row = _row(
            number=transcript.number,
            name_on_transcript=transcript.holder_name,
            issued_at=transcript.issued_at,
            issued_by=_name(issuer, person),
            credential_in_this_archive=_transcript_file_path(transcript),
        )
        flat.append(row)
        rows.append(row | {"credential": json.loads(transcript.credential_json)})
    return Section("transcripts", rows, flat)


def transcript_files(person: User) -> list[tuple[str, bytes]]:
    """(path in the archive, bytes) of each transcript's credential, exactly as it was signed."""
    return [
        (_transcript_file_path(transcript), transcript.credential_json.encode("utf-8"))
        for transcript, _ in _person_transcripts(person)
    ]


def _wallet_offers(person: User) -> Section:
    statement = (
        select(CredentialOffer, Certificate.number)
        .join(Certificate, CredentialOffer.certificate_id == Certificate.id)
        .where(CredentialOffer.created_by_id == person.id)
        .order_by(CredentialOffer.created_at, CredentialOffer.id)
    )
    rows = [
        _row(
            certificate=number,
            created_at=offer.created_at,
            expires_at=offer.expires_at,
            redeemed_at=offer.redeemed_at,
            delivered_at=offer.delivered_at,
            wallet_did=offer.subject_did,
        )
        for offer, number in db.session.execute(statement)
    ]
    return Section("wallet_offers", rows)


def _notifications(person: User) -> Section:
    statement = (
        select(Notification)
        .where(Notification.recipient_id == person.id)
        .order_by(Notification.created_at, Notification.id)
    )
    rows = [
        _row(
            kind=notification.kind,
            title=notification.title,
            body=notification.body,
            link=notification.link,
            created_at=notification.created_at,
            read_at=notification.read_at,
            email=notification.email_state,
            emailed_at=notification.emailed_at,
        )
        for notification in db.session.scalars(statement)
    ]
    return Section("notifications", rows)


def _notification_preferences(person: User) -> Section:
    rows = [_row(kind=kind, about=kind.label, delivery=delivery) for kind, delivery in preferences(person).items()]
    return Section("notification_preferences", rows)


def _emails(person: User) -> Section:
    statement = (
        select(OutboxMessage.created_at, OutboxMessage.subject, OutboxMessage.status, OutboxMessage.sent_at)
        .where(OutboxMessage.to_address == person.email)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    )
    rows = [
        _row(created_at=created_at, subject=subject, status=status, sent_at=sent_at)
        for created_at, subject, status, sent_at in db.session.execute(statement)
    ]
    return Section("emails", rows)


def _api_tokens(person: User) -> Section:
    now = utcnow()
    statement = (
        select(PersonalAccessToken)
        .where(PersonalAccessToken.user_id == person.id)
        .order_by(PersonalAccessToken.created_at, PersonalAccessToken.id)
    )
    rows = [
        _row(
            name=token.name,
            scopes=list(token.scopes or []),
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
            status=token.status(now),
        )
        for token in db.session.scalars(statement)
    ]
    return Section("api_tokens", rows)


def _cohorts_led(person: User) -> Section:
    members = (
        select(func.count(Enrolment.id)).where(Enrolment.cohort_id == Cohort.id).correlate(Cohort).scalar_subquery()
    )
    statement = select(Cohort, members).where(Cohort.lead_id == person.id).order_by(Cohort.starts_on, Cohort.id)
    rows = [
        _row(
            cohort_id=cohort.id,
            name=cohort.name,
            pathway=cohort.pathway_version.label,
            region=cohort.region.name if cohort.region else None,
            starts_on=cohort.starts_on,
            ends_on=cohort.ends_on,
            members=count,
        )
        for cohort, count in db.session.execute(statement)
    ]
    return Section("cohorts_led", rows)


def _audit_events(person: User) -> Section:
    """Events this person performed, and events about their own things (one query, by subqueries)."""
    own_entities = {
        "Enrolment": select(cast(Enrolment.id, String)).where(Enrolment.trainee_id == person.id),
        "StageRecord": select(cast(StageRecord.id, String))
        .join(Enrolment, StageRecord.enrolment_id == Enrolment.id)
        .where(Enrolment.trainee_id == person.id),
        "SupervisionSession": select(cast(SupervisionSession.id, String))
        .join(Enrolment, SupervisionSession.enrolment_id == Enrolment.id)
        .where(Enrolment.trainee_id == person.id),
        "Case": select(cast(Case.id, String)).where(Case.practitioner_id == person.id),
        "Cycle": select(cast(Cycle.id, String))
        .join(Case, Cycle.case_id == Case.id)
        .where(Case.practitioner_id == person.id),
        "Assessment": select(cast(Assessment.id, String))
        .join(StageRecord, Assessment.stage_record_id == StageRecord.id)
        .join(Enrolment, StageRecord.enrolment_id == Enrolment.id)
        .where(Enrolment.trainee_id == person.id),
        "Certificate": select(cast(Certificate.id, String)).where(Certificate.holder_id == person.id),
        "TrainingTranscript": select(cast(TrainingTranscript.id, String)).where(
            TrainingTranscript.holder_id == person.id
        ),
        "PersonalAccessToken": select(cast(PersonalAccessToken.id, String)).where(
            PersonalAccessToken.user_id == person.id
        ),
        "CredentialOffer": select(cast(CredentialOffer.id, String)).where(CredentialOffer.created_by_id == person.id),
    }
    about_them = or_(
        and_(AuditEvent.entity_type == "User", AuditEvent.entity_id == str(person.id)),
        *(
            and_(AuditEvent.entity_type == entity_type, AuditEvent.entity_id.in_(ids))
            for entity_type, ids in own_entities.items()
        ),
    )
    # Columns, not mapped objects, and before/after read (and decoded) only where they are shown: the
    # heaviest person has hundreds of thousands of events.
    statement = (
        select(
            AuditEvent.id,
            AuditEvent.occurred_at,
            AuditEvent.actor_id,
            AuditEvent.actor_label,
            AuditEvent.action,
            AuditEvent.entity_type,
            AuditEvent.entity_id,
            # Before/after of someone else's record are that person's data.
            case((about_them, AuditEvent.before)).label("before"),
            case((about_them, AuditEvent.after)).label("after"),
            AuditEvent.ip_address,
            about_them.label("about_them"),
        )
        .where(or_(AuditEvent.actor_id == person.id, about_them))
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    rows = []
    for event in db.session.execute(statement):
        by_them = event.actor_id == person.id
        rows.append(
            {
                "event_id": event.id,
                "occurred_at": event.occurred_at.isoformat(),
                "action": event.action,
                "entity": f"{event.entity_type}:{event.entity_id}" if event.entity_id else event.entity_type,
                "by": YOU if by_them else event.actor_label,
                "about_you": bool(event.about_them),
                "before": event.before,
                "after": event.after,
                # The address is the actor's: shown for this person's own actions only.
                "ip_address": event.ip_address if by_them else None,
            }
        )
    return Section("audit_events", rows)


# --- the archive ---------------------------------------------------------------------------------

LEFT_OUT = """\
What is left out, and why
-------------------------
- Secrets: your password (vigtrain keeps only a one-way hash of it), your two-factor secret, your
  recovery codes, your API tokens and the keys that keep your sessions signed in. They protect your
  account; they are not information about you, and a copy of them would only be a risk. The account
  section says whether each is set.
- Client outcome data: the measures your clients answered (for example PHQ-9 or GAD-7) and their
  scores, and the links you sent clients to answer them. This is anonymised data about clients, not
  about you, the practitioner; you can see it on each case's pages in vigtrain.
- Other people: where a trainee logged a session with you as supervisor, or you assessed, signed off
  or accredited their stage, the trainee is a third party. They are shown only by their enrolment
  number, and their own words (reflections, next steps, statements) and their case codes are left out.
  What you wrote yourself (your comments, ratings and evidence) is included.
- Changes you made to other people's records (as a supervisor or an administrator, for example): the
  audit_events file lists when and what you did, but not the before and after of their records.
- What you did to other people's records, beyond the parts listed in others_training: certificates you
  issued or revoked, API tokens you revoked, bulk certificate runs you started, licensed measure wording
  you entered or removed, people you erased, as an administrator. Each is one of your own actions in
  audit_events.
- Technical records: the one-time keys that stop a form being saved twice (kept a few days, holding only
  the page's address).
- Emails to an address you no longer use: emails are found by your current address.
- A statement file that storage no longer holds is listed in statements.csv but cannot be included.
"""


def readme(person: User, actor: User, made_at: datetime, sections: Iterable[Section], file_count: int) -> str:
    made_by = "at your own request" if actor.id == person.id else "by an AVIGuk administrator"
    lines = [
        "Your data held by vigtrain",
        "==========================",
        "",
        f"Everything vigtrain holds about {person.display_name} (account {person.id}), made {made_by}",
        f"at {made_at.isoformat()} (UTC).",
        "",
        "Dates are ISO 8601: days as YYYY-MM-DD, times in UTC with their offset. In the CSV files yes/no",
        "stands for true/false, lists are separated by '; ', and a cell that a spreadsheet would run as a",
        "formula (starting with = + - @) starts with an apostrophe, so it shows as text.",
        "",
        f"{EVERYTHING}: every section below, in one file.",
        "",
        "Files",
        "-----",
    ]
    for section in sections:
        lines.append(f"{section.csv_name} ({len(section.rows)}): {section.title}.")
        lines.append(textwrap.fill(section.description, width=100, initial_indent="    ", subsequent_indent="    "))
    lines.append(f"{FILES} ({file_count}): the statement files you uploaded and your transcripts' credentials.")
    lines += [
        "",
        LEFT_OUT,
        "This download itself is recorded in the audit trail (after it was made, so it is not in it).",
    ]
    return "\n".join(lines) + "\n"


def _zip(
    person: User, actor: User, made_at: datetime, sections: list[Section], files: list[tuple[str, bytes]]
) -> bytes:
    stamp = made_at.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, data: str | bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)

        add(README, readme(person, actor, made_at, sections, len(files)))
        everything = {"made_at": made_at.isoformat(), "person_id": person.id}
        everything |= {
            section.name: section.rows[0] if section.name == "account" else section.rows for section in sections
        }
        add(EVERYTHING, json.dumps(everything, ensure_ascii=False, indent=2, sort_keys=False))
        for section in sections:
            rows = section.csv_rows if section.csv_rows is not None else section.rows
            add(section.csv_name, csv_text(rows, list(CSV_COLUMNS[section.name])))
        for path, data in files:
            add(path, data)
    return buffer.getvalue()
